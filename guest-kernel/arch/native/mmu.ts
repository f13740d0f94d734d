// arch/native memory management: page-table entries are plain stores, the address space is
// CR3, single translations are dropped with INVLPG. The first address-space switch turns paging
// on (with supervisor write-protect). Page-table frames need no registration on bare hardware,
// entries name physical frames as they are, and there is nothing to batch.
// Guest code (the TypeScript subset); runs at ring 0.

import { store32, readCr, writeCr, invlpg } from 'xl32';

const enum Cr0 {
  PG = 1,
  WP = 2,
}

let pagingOn = false;

export function nativeSetPte(entry: number, value: number): void {
  store32(entry, value);
}

export function nativeSwitchAddressSpace(pdPhys: number): void {
  writeCr(3, pdPhys);
  if (!pagingOn) {
    writeCr(0, Cr0.PG | Cr0.WP);
    pagingOn = true;
  }
}

/** A secondary CPU's first step: load the kernel's page directory and turn paging on. */
export function nativePagingOnHere(pdPhys: number): void {
  writeCr(3, pdPhys);
  writeCr(0, Cr0.PG | Cr0.WP);
}

export function nativeInvalidatePage(va: number): void {
  invlpg(va);
}

export function nativeFlushTlb(): void {
  writeCr(3, readCr(3));
}

export function nativeFaultAddress(): number {
  return readCr(2);
}

export function nativePageTableAlloc(_phys: number, _level: number): void {
  // bare hardware: any frame can be a page table
}

export function nativePageTableRelease(_phys: number, _level: number): void {
  // bare hardware: nothing to undo
}

/** Physical addresses are what the MMU reads: an entry is the address and its flags. */
export function nativePteMake(value: number): number {
  return value;
}

export function nativePteValue(e: number): number {
  return e;
}

export function nativeSetPteVa(entry: number, value: number, va: number): void {
  store32(entry, value);
  invlpg(va);
}

/** Lazy MMU mode: every write is already as cheap as it gets (Linux's paravirt_nop). */
export function nativeLazyMmu(): void {
  // nothing deferred, nothing to send
}
