// runHvmMode: boot one image (a bare image, or a kernel with its initrd and command line) in a
// hardware-assisted domain on a fresh hypervisor and run it to the end - the `--mode hvm` entry
// point. Host code; builds its own Hypervisor.

import type { Image } from '../../machine/image.ts';
import type { BootSpec } from '../core/mode.ts';
import { runSingleGuest, type GuestRunOptions, type GuestRunResult } from '../run.ts';
import { RESERVED_TABLES, type ShadowKind } from '../trap/shadow.ts';
import { HYPERVISOR_RESERVE_BYTES } from '../trap/index.ts';
import { eptFramesFor } from './ept.ts';
import { HvmMode } from './mode.ts';

export { HvmMode, hvmMmuFor, PLE_DEFAULTS, type HvmModeOptions, type PleControl } from './mode.ts';
export { Ept, eptFramesFor } from './ept.ts';
export { HVM_MMUS, HvmDomainState, HvmShadow, HvmVcpu, hvmControls, hvmDomain, hvmVcpu, shadowControls, type HvmMmu } from './state.ts';
export { formatHvmStats, hvmExitCounts, HVM_EXIT_NAMES } from './stats.ts';

/**
 * Machine memory beyond the guest's that an hvm domain needs: frame 0 and the second-stage table,
 * or the shadow directory and its reserved tables of each vCPU, whichever is larger. A traced
 * shadow (a shadow kept per address space) gets the trap mode's reserve, as under trap: with only
 * the reserved tables it would recycle its spaces all the time.
 */
export function hvmReserveBytes(guestMemoryBytes: number, shadow: ShadowKind = 'flush', vcpus = 1): number {
  if (shadow === 'traced') return HYPERVISOR_RESERVE_BYTES;
  return (1 + Math.max(eptFramesFor(guestMemoryBytes), vcpus * (1 + RESERVED_TABLES))) * 4096;
}

/** Run one guest under hardware assist until it stops (or maxCycles go by). */
export function runHvmMode(boot: BootSpec | Image, opts: GuestRunOptions = {}): GuestRunResult {
  const mode = new HvmMode({
    ...(opts.hvm?.mmu !== undefined ? { mmu: opts.hvm.mmu } : {}),
    ...(opts.hvm?.shadow !== undefined ? { shadow: opts.hvm.shadow } : {}),
    ...(opts.hvm?.ple !== undefined ? { ple: opts.hvm.ple } : {}),
  });
  return runSingleGuest(mode, boot, opts, (bytes, vcpus) => hvmReserveBytes(bytes, mode.shadowKind, vcpus), 'the second-stage (EPT) table or shadow page tables');
}
