// Helpers for the small PV test guests: console output through console_io, numbers in decimal,
// the start_info fields they need, and the machine frame of one of their pages.
// Guest code (the TypeScript subset); imports 'xl32' and hypercalls/ only.

import { load8, load32, store8, staticBuffer, divu, remu, geu } from 'xl32';
import { consoleWrite } from '../../../hypercalls/guest.ts';
import { BootLayout, StartInfo } from '../../../hypercalls/structs.ts';

const digits = staticBuffer(12);

export function strlen(s: number): number {
  let n = 0;
  while (load8(s + n) !== 0) n = n + 1;
  return n;
}

export function print(s: number): void {
  consoleWrite(s, strlen(s));
}

export function printNum(n: number): void {
  let v = n;
  let neg = false;
  if (v < 0) {
    neg = true;
    v = -v | 0;
  }
  let k = 11;
  store8(digits + k, 0);
  do {
    k = k - 1;
    store8(digits + k, 48 + remu(v, 10));
    v = divu(v, 10);
  } while (geu(v, 1));
  if (neg) {
    k = k - 1;
    store8(digits + k, 45);
  }
  print(digits + k);
}

export function startInfo(field: number): number {
  return load32(BootLayout.START_INFO + field);
}

/** Machine frame of the page at (pseudo-physical = virtual in the bootstrap map) address va. */
export function mfnOf(va: number): number {
  return load32(startInfo(StartInfo.MFN_LIST) + (va >>> 12) * 4);
}

export function domid(): number {
  return startInfo(StartInfo.DOMID);
}
