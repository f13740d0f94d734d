// The balloon driver (XenoLinux's balloon in small): the toolstack sets a target in the
// shared-info page (SharedInfo.MEMORY_TARGET, pages) and raises VIRQ_CONTROL; at the scheduler's
// next safe point (no kernel work half done, events off) the driver moves the domain's
// reservation toward it. Giving a frame back: take a free page from the allocator (it stays
// allocated: the balloon holds it), drop the kernel's mappings of it, memory_op
// DECREASE_RESERVATION, and mark its p2m entry -1. Taking one: memory_op INCREASE_RESERVATION,
// the p2m and m2p entries, the kernel's mappings, and the page goes back to the allocator.
// A target above the domain's memory at boot is clamped to it (the hypervisor's quota).
// Guest code (the TypeScript subset); runs at ring 1.

import { load32, store32, staticBuffer } from 'xl32';
import { MemoryCmd, DomId } from '../../../hypercalls/numbers.ts';
import { SharedInfo, StartInfo, MemoryReservation } from '../../../hypercalls/structs.ts';
import { hcMemoryOp } from '../../../hypercalls/guest.ts';
import { kalloc, kfree } from '../../kernel/kalloc.ts';
import { Xen, startInfo, pfnToMfn, setPfnMfn } from './xen.ts';
import { pvKernelMap, pvKernelUnmap, pvUsableFrames } from './mmu.ts';

/** a target arrived and is not met yet */
let wanted = false;
/** frames given back now */
let ballooned = 0;
/** where the next search for a given-back pfn starts */
let cursor = 0;
const reservation = staticBuffer(MemoryReservation.BYTES, 4);
const extent = staticBuffer(4, 4);

/** VIRQ_CONTROL brought a memory target: work on it at the next safe point. */
export function balloonTargetChanged(): void {
  wanted = true;
}

function memoryOp(cmd: number): number {
  store32(reservation + MemoryReservation.EXTENT_START, extent);
  store32(reservation + MemoryReservation.NR_EXTENTS, 1);
  store32(reservation + MemoryReservation.EXTENT_ORDER, 0);
  store32(reservation + MemoryReservation.DOMID, DomId.SELF);
  return hcMemoryOp(cmd, reservation);
}

/**
 * Give the machine frame behind pfn back to the hypervisor: the kernel's mappings go, then
 * memory_op DECREASE_RESERVATION, and the p2m entry becomes `mark` (-1 for the balloon, which
 * takes only such pfns back; the network front end's page flipping marks its own otherwise). False
 * (mappings restored) if the hypervisor refuses.
 */
export function releaseFrame(pfn: number, mark: number): boolean {
  const mfn = pfnToMfn(pfn);
  pvKernelUnmap(pfn);
  store32(extent, mfn);
  if (memoryOp(MemoryCmd.DECREASE_RESERVATION) !== 1) {
    pvKernelMap(pfn, mfn);
    return false;
  }
  setPfnMfn(pfn, mark);
  return true;
}

/** Give one free page back; false when the allocator has none or the hypervisor refuses. */
function deflateOne(): boolean {
  const pa = kalloc();
  if (pa === 0) return false;
  if (!releaseFrame(pa >>> 12, -1)) {
    kfree(pa);
    return false;
  }
  ballooned = ballooned + 1;
  return true;
}

/** Take one page back into the allocator; false when none is given back or the hypervisor has none. */
function inflateOne(): boolean {
  const n = pvUsableFrames(startInfo(StartInfo.NR_PAGES));
  let k = 0;
  while (k < n && pfnToMfn(cursor) !== -1) {
    cursor = cursor + 1;
    if (cursor >= n) cursor = 0;
    k = k + 1;
  }
  if (k === n) return false;
  if (memoryOp(MemoryCmd.INCREASE_RESERVATION) !== 1) return false;
  const mfn = load32(extent);
  setPfnMfn(cursor, mfn);
  pvKernelMap(cursor, mfn);
  ballooned = ballooned - 1;
  kfree(cursor << 12);
  return true;
}

/** At a safe point (the scheduler, events off): move toward the target. */
export function balloonWork(): void {
  if (!wanted) return;
  wanted = false;
  const total = pvUsableFrames(startInfo(StartInfo.NR_PAGES));
  let target = load32(Xen.SHARED + SharedInfo.MEMORY_TARGET);
  if (target <= 0 || target > total) target = total;
  while (total - ballooned > target) if (!deflateOne()) return;
  while (total - ballooned < target) if (!inflateOne()) return;
}
