// The initial ramdisk: a flat archive of user program images that the boot loader places in
// memory next to the kernel (format: docs/kernel.md "Initrd format", written by
// toolchain/initrd.ts). exec finds programs here by name. Guest code (the TypeScript subset).

import { load32, cstr } from 'xl32';
import { Initrd } from './formats.ts';
import { strncmp } from './string.ts';
import { p2v } from './vm.ts';
import { kputs, kputd } from './console.ts';

/** physical address and size of the archive; count 0 when there is none (or it is malformed) */
let base = 0;
let bytes = 0;
let count = 0;

/** Adopt the archive the loader placed at physical address pa. Prints a line about it. */
export function initrdInit(pa: number, n: number): void {
  base = pa;
  bytes = n;
  count = 0;
  if (n === 0) {
    kputs(cstr('initrd: none\n'));
    return;
  }
  const a = p2v(pa);
  const c = load32(a + Initrd.COUNT);
  if (n < Initrd.ENTRIES || load32(a + Initrd.MAGIC) !== Initrd.MAGIC_VALUE || load32(a + Initrd.VERSION) !== Initrd.VERSION_VALUE ||
      c < 0 || c > (n - Initrd.ENTRIES) / Initrd.ENTRY_BYTES) {
    kputs(cstr('initrd: not an initrd archive (bad magic, version or size); ignored\n'));
    return;
  }
  count = c;
  kputs(cstr('initrd: '));
  kputd(count);
  kputs(cstr(' programs, '));
  kputd(n);
  kputs(cstr(' bytes\n'));
}

export function initrdCount(): number {
  return count;
}

function entry(k: number): number {
  return p2v(base) + Initrd.ENTRIES + k * Initrd.ENTRY_BYTES;
}

/** The index of the program called name (a kernel string), or -1. */
export function initrdFind(name: number): number {
  let k = 0;
  while (k < count) {
    if (strncmp(entry(k) + Initrd.ENTRY_NAME, name, Initrd.NAME_BYTES) === 0) return k;
    k = k + 1;
  }
  return -1;
}

/** Kernel address of program k's bytes, or 0 if its extent lies outside the archive. */
export function initrdData(k: number): number {
  const off = load32(entry(k) + Initrd.ENTRY_OFFSET);
  const size = load32(entry(k) + Initrd.ENTRY_SIZE);
  if (off < Initrd.ENTRIES || size < 0 || off > bytes || size > bytes - off) return 0;
  return p2v(base) + off;
}

export function initrdSize(k: number): number {
  return load32(entry(k) + Initrd.ENTRY_SIZE);
}

/** Kernel address of program k's name. */
export function initrdName(k: number): number {
  return entry(k) + Initrd.ENTRY_NAME;
}
