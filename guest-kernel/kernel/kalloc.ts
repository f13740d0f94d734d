// The physical page allocator: a free list of 4 KiB frames threaded through the frames
// themselves, and a reference count per frame (copy-on-write pages are shared by several
// address spaces; a frame returns to the free list when its count drops to zero).
// Guest code (the TypeScript subset); reaches frames through the direct map (vm.ts p2v).

import { load32, store32, load16, store16, cstr } from 'xl32';
import { Layout } from './memlayout.ts';
import { p2v } from './vm.ts';
import { memset } from './string.ts';
import { panicValue } from './panic.ts';

/** physical address of the first free frame (0: none); each free frame's first word links on */
let freeList = 0;
let freePages = 0;
let totalPages = 0;
/** physical address of the u16 reference-count table, one entry per frame of memory */
let refTable = 0;
let memFrames = 0;

function refAddr(pa: number): number {
  return p2v(refTable) + (pa >>> Layout.PAGE_SHIFT) * 2;
}

/** a range of low memory an architecture hands over before kinit (kaddLow), or 0..0 */
let lowStart = 0;
let lowEnd = 0;

/**
 * Before kinit: the frames of [start, end) (page-aligned, below the kernel image) are free too.
 * The pv architecture gives the pages between its boot pages and the kernel's link address; on
 * bare hardware that range is left alone. They go at the bottom of the free list, so the frames
 * the allocator hands out first are the same with or without them.
 */
export function kaddLow(start: number, end: number): void {
  lowStart = start;
  lowEnd = end;
}

function freeRange(start: number, end: number): void {
  let pa = start;
  while (pa + Layout.PAGE <= end) {
    store32(p2v(pa), freeList);
    freeList = pa;
    freePages = freePages + 1;
    pa = pa + Layout.PAGE;
  }
}

/**
 * Take over [start, end) of physical memory (and the low range of kaddLow). The reference-count
 * table is carved from its start; every frame after it goes on the free list.
 */
export function kinit(start: number, end: number, memBytes: number): void {
  memFrames = memBytes >>> Layout.PAGE_SHIFT;
  refTable = start;
  memset(p2v(refTable), 0, memFrames * 2);
  if (lowEnd > lowStart) freeRange(lowStart, lowEnd);
  freeRange((start + memFrames * 2 + Layout.PAGE - 1) & ~(Layout.PAGE - 1), end);
  totalPages = freePages;
}

/** A zeroed frame with reference count 1 (its physical address), or 0 when memory is exhausted. */
export function kalloc(): number {
  const pa = freeList;
  if (pa === 0) return 0;
  freeList = load32(p2v(pa));
  freePages = freePages - 1;
  store16(refAddr(pa), 1);
  memset(p2v(pa), 0, Layout.PAGE);
  return pa;
}

/** Drop one reference to the frame at pa; the last one frees it. */
export function kfree(pa: number): void {
  const r = load16(refAddr(pa));
  if ((pa & (Layout.PAGE - 1)) !== 0 || r === 0) panicValue(cstr('kfree: not an allocated frame'), pa);
  store16(refAddr(pa), r - 1);
  if (r > 1) return;
  store32(p2v(pa), freeList);
  freeList = pa;
  freePages = freePages + 1;
}

/** Take another reference to an allocated frame. */
export function kref(pa: number): void {
  store16(refAddr(pa), load16(refAddr(pa)) + 1);
}

export function krefs(pa: number): number {
  return load16(refAddr(pa));
}

export function kfreePages(): number {
  return freePages;
}

export function ktotalPages(): number {
  return totalPages;
}
