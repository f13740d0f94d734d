// The experiment's guest: a minimal PV kernel that fills a buffer, then checksums the first n
// bytes of it for several n, once in the guest and once with the checksum hypercall, reporting
// the cycles each took (RDTSC is not privileged) and whether the answers agree.
// Guest code (the TypeScript subset), compiled with --arch pv.

import { load8, load32, store8, store32, staticBuffer, cstr, rdtsc, divu, remu, geu } from 'xl32';
import { consoleWrite, schedShutdown } from '../../hypercalls/guest.ts';
import { hcChecksum, checksumWords } from './checksum.ts';

const buffer = staticBuffer(16384, 4096);
const digits = staticBuffer(12);

function print(s: number): void {
  let n = 0;
  while (load8(s + n) !== 0) n = n + 1;
  consoleWrite(s, n);
}

function printNum(v: number): void {
  let k = 11;
  store8(digits + k, 0);
  let x = v;
  do {
    k = k - 1;
    store8(digits + k, 48 + remu(x, 10));
    x = divu(x, 10);
  } while (geu(x, 1));
  print(digits + k);
}

function inGuest(bytes: number): number {
  let s = 0;
  let k = 0;
  while (k < bytes) {
    s = checksumWords(s, load32(buffer + k));
    k = k + 4;
  }
  return s;
}

export function main(): void {
  let k = 0;
  while (k < 16384) {
    store32(buffer + k, Math.imul(k, 2654435761) ^ 0x5a5a5a5a);
    k = k + 4;
  }
  let bytes = 16;
  let failures = 0;
  while (bytes <= 16384) {
    const t0 = rdtsc();
    const a = inGuest(bytes);
    const t1 = rdtsc();
    const b = hcChecksum(buffer, bytes);
    const t2 = rdtsc();
    print(cstr('checksum '));
    printNum(bytes);
    print(cstr(' bytes: guest '));
    printNum(t1 - t0);
    print(cstr(' cycles, hypercall '));
    printNum(t2 - t1);
    print(cstr(' cycles'));
    if (a !== b) {
      print(cstr(' MISMATCH'));
      failures = failures + 1;
    }
    print(cstr('\n'));
    bytes = bytes * 4;
  }
  // and the checks: a size the interface refuses, memory the guest does not have
  print(cstr('odd size: '));
  printNum(-hcChecksum(buffer, 3));
  print(cstr(', unmapped: '));
  printNum(-hcChecksum(0x7ff00000, 16));
  print(cstr(' (negated error codes)\n'));
  schedShutdown(failures);
}
