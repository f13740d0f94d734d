// The experiment's one definition: the number of the new hypercall and its typed guest stub.
// A permanent hypercall would get its number in hypercalls/numbers.ts (Hc) and its stub in
// hypercalls/guest.ts; an experiment takes a number from Hc's EXPERIMENT range instead.
// Guest-subset code (imported by the guest and, for the number, by the handler).

import { hypercall } from 'xl32';

export const enum Checksum {
  /** Hc.EXPERIMENT_FIRST */
  HYPERCALL = 40,
  /** the most bytes one call checks */
  MAX_BYTES = 65536,
}

/**
 * checksum(va, bytes): the hypervisor's checksum of guest memory [va, va + bytes), or an HcErr.
 * Results are kept non-negative (31 bits), because a negative result means an error.
 */
export function hcChecksum(va: number, bytes: number): number {
  return hypercall(Checksum.HYPERCALL, va, bytes);
}

/** One step of the checksum, in the guest: s = (s * 31 + word) mod 2^31, over 32-bit words. */
export function checksumWords(s: number, word: number): number {
  return (Math.imul(s, 31) + word) & 0x7fffffff;
}
