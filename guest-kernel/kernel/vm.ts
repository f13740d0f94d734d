// Virtual memory: the kernel's page tables (built once at boot, shared by every address space),
// user address spaces (create, copy-on-write fork, free, grow), page-fault resolution
// (demand-zero and copy-on-write) and the only safe way to touch user memory: copyin/copyout,
// which walk the tables in software, so a bad user pointer is an error code, never a kernel
// fault. Guest code (the TypeScript subset). A table in use is written only through
// pvops.setPte; a fresh one is filled with plain stores before pageTableAlloc announces it
// (as a PV guest may write a frame it has not yet pinned as a page table).
//
// Entries hold what the MMU reads, which under a PV hypervisor names machine frames, not the
// kernel's (pseudo-)physical ones: an entry is built with pteMake(pa, flags) and its frame read
// back with pteValue(e) & Pte.FRAME (XenoLinux's __pte / pte_val). The flag bits are the same in
// both forms, so flags are tested and changed on the raw entry.

import { load8, store8, load32, store32, ltu, leu, geu, gtu, staticBuffer } from 'xl32';
import { Smp, cpuId, takeTlbStale, tlbShootdown, waitLazyLeave } from './smp.ts';
import { Layout, Pte } from './memlayout.ts';
import { UserLayout, Err } from './abi.ts';
import { kalloc, kfree, kref, krefs } from './kalloc.ts';
import { memcpy } from './string.ts';
import {
  setPte, setPteVa, switchAddressSpace, flushTlb, pageTableAlloc, pageTableRelease, pteMake, pteValue, readPte, lazyMmuBegin, lazyMmuEnd,
} from './pvops.ts';
import { myproc, Proc } from './proc.ts';

/** added to a physical address to reach it: 0 until paging is on, then Layout.DIRECT_MAP */
let directBase = 0;
/** the kernel's own page directory (physical) */
let kpd = 0;
/** the page directory loaded now (physical) */
/** per CPU: the page directory it has loaded */
const loadedPd = staticBuffer(Smp.MAX_CPUS * 4);

/** The kernel virtual address of physical address pa. */
export function p2v(pa: number): number {
  return pa + directBase;
}

export function kernelPd(): number {
  return kpd;
}

function pageDown(a: number): number {
  return a & ~(Layout.PAGE - 1);
}

function pageUp(a: number): number {
  return (a + Layout.PAGE - 1) & ~(Layout.PAGE - 1);
}

/** Build a page table mapping the 4 MiB at `first` (physical) with `perm`; page 0 stays unmapped. */
function kernelTable(first: number, limit: number): number {
  const pt = kalloc();
  let k = 0;
  while (k < 1024) {
    const pa = first + k * Layout.PAGE;
    if (pa !== 0 && ltu(pa, limit)) store32(p2v(pt) + k * 4, pteMake(pa, Pte.P | Pte.W));
    k = k + 1;
  }
  return pt;
}

/**
 * Build the kernel page directory (identity map of the first 4 MiB or less, direct map of all memory)
 * and turn paging on. Called once, with paging off, after kinit.
 */
export function kvminit(memBytes: number): void {
  kpd = kalloc();
  // the identity range maps only installed memory: a pv domain smaller than 4 MiB has no frame
  // to name above its end (and on bare hardware there is nothing there)
  const low = kernelTable(0, ltu(memBytes, Layout.KERNEL_IDENTITY_TOP) ? memBytes : Layout.KERNEL_IDENTITY_TOP);
  pageTableAlloc(low, 1);
  store32(p2v(kpd), pteMake(low, Pte.P | Pte.W));
  let pa = 0;
  while (ltu(pa, memBytes)) {
    const pt = kernelTable(pa, memBytes);
    pageTableAlloc(pt, 1);
    store32(p2v(kpd) + (Layout.DIRECT_MAP_PDE + (pa >>> Layout.PDE_SHIFT)) * 4, pteMake(pt, Pte.P | Pte.W));
    pa = pa + Layout.PT_SPAN;
  }
  pageTableAlloc(kpd, 2);
  switchAddressSpace(kpd);
  store32(loadedPd, kpd);
  directBase = Layout.DIRECT_MAP;
}

/** Unmap one page of the kernel's identity range (a stack guard page); the kernel's directory is loaded. */
export function kunmap(va: number): void {
  const pte = walk(kpd, va, false);
  if (pte !== 0) setPteVa(pte, 0, va);
}

/**
 * The kernel virtual address of the page-table entry for va in page directory pd, creating the
 * page table when `create` is set. 0 if there is none (or no memory for one).
 */
export function walk(pd: number, va: number, create: boolean): number {
  const pde = p2v(pd) + (va >>> Layout.PDE_SHIFT) * 4;
  const e = load32(pde);
  let pt = 0;
  if ((e & Pte.P) === 0) {
    if (!create) return 0;
    pt = kalloc();
    if (pt === 0) return 0;
    pageTableAlloc(pt, 1);
    setPte(pde, pteMake(pt, Pte.P | Pte.W | Pte.U));
  } else {
    pt = pteValue(e) & Pte.FRAME;
  }
  return p2v(pt) + ((va >>> Layout.PAGE_SHIFT) & 1023) * 4;
}

/** Load a page directory (a process's, or the kernel's own). */
export function vmSwitch(pd: number): void {
  const slot = loadedPd + cpuId() * 4;
  // a TLB another CPU marked stale (tlbShootdown) is reloaded even for the same directory
  if (pd === load32(slot) && !takeTlbStale()) return;
  store32(slot, pd);
  switchAddressSpace(pd);
}

/** The page directory this CPU has loaded. */
function curPd(): number {
  return load32(loadedPd + cpuId() * 4);
}

/** Write the entry for va in pd; if pd is loaded, va's stale translation goes with it. */
function setEntry(pd: number, va: number, pte: number, value: number): void {
  if (pd === curPd()) setPteVa(pte, value, va);
  else setPte(pte, value);
  tlbShootdown(pd, loadedPd);
}

/** Map the frame pa at va in pd with `perm` (Pte bits). 0, or ENOMEM when no page table fits. */
export function mapPage(pd: number, va: number, pa: number, perm: number): number {
  const pte = walk(pd, va, true);
  if (pte === 0) return Err.ENOMEM;
  setEntry(pd, va, pte, pteMake(pa & Pte.FRAME, perm | Pte.P));
  return 0;
}

// ---- user address spaces ----------------------------------------------------------------------

/** A new page directory with the kernel half mapped and the user half empty; 0 if out of memory. */
export function uvmCreate(): number {
  const pd = kalloc();
  if (pd === 0) return 0;
  store32(p2v(pd), load32(p2v(kpd)));
  let k = Layout.DIRECT_MAP_PDE;
  while (k < 1024) {
    store32(p2v(pd) + k * 4, load32(p2v(kpd) + k * 4));
    k = k + 1;
  }
  pageTableAlloc(pd, 2);
  return pd;
}

function userPde(k: number): boolean {
  return k >= (UserLayout.USER_BASE >>> Layout.PDE_SHIFT) && k < Layout.DIRECT_MAP_PDE;
}

/**
 * Free address space pd, which this CPU has left (exit, exec): an idle CPU that still has it
 * loaded (lazy TLB: the scheduler keeps the last one while idle) is made to leave it first.
 */
export function uvmRelease(pd: number): void {
  waitLazyLeave(pd, loadedPd);
  uvmFree(pd);
}

/**
 * Free every user page, the user page tables and the directory itself. pd must not be loaded.
 * The directory is released first: a PV hypervisor then lets go of the whole tree at once, and
 * every table under it is an ordinary frame again before it is released and freed.
 */
export function uvmFree(pd: number): void {
  pageTableRelease(pd, 2);
  let k = 0;
  while (k < 1024) {
    const e = load32(p2v(pd) + k * 4);
    if (userPde(k) && (e & Pte.P) !== 0) {
      const pt = pteValue(e) & Pte.FRAME;
      let j = 0;
      while (j < 1024) {
        const x = load32(p2v(pt) + j * 4);
        if ((x & Pte.P) !== 0) kfree(pteValue(x) & Pte.FRAME);
        j = j + 1;
      }
      pageTableRelease(pt, 1);
      kfree(pt);
    }
    k = k + 1;
  }
  kfree(pd);
}

/** Unmap and release the user pages in [start, end) (page-aligned): one batch of page-table work. */
export function uvmUnmap(pd: number, start: number, end: number): void {
  lazyMmuBegin();
  let va = start;
  while (ltu(va, end)) {
    const pte = walk(pd, va, false);
    if (pte === 0) {
      // no page table: skip to the next one (stopping at the top of the address space)
      const next = (va & ~(Layout.PT_SPAN - 1)) + Layout.PT_SPAN;
      if (next === 0) break;
      va = next;
      continue;
    }
    const e = load32(pte);
    if ((e & Pte.P) !== 0) {
      setEntry(pd, va, pte, 0);
      kfree(pteValue(e) & Pte.FRAME);
    }
    va = va + Layout.PAGE;
  }
  lazyMmuEnd();
}

/**
 * fork: share every user page of src with dst. Writable pages become read-only and
 * copy-on-write in both; read-only pages are simply shared. 0, or ENOMEM. One batch of
 * page-table work (lazy MMU mode): the entries are copied, never read back.
 */
export function uvmCopy(src: number, dst: number): number {
  lazyMmuBegin();
  const r = uvmCopyRange(src, dst);
  if (src === curPd()) flushTlb();
  // src's writable entries became read-only: an idle CPU that still has src loaded (lazy TLB)
  // must not keep writing through its old translations when src's process runs there again
  tlbShootdown(src, loadedPd);
  lazyMmuEnd();
  return r;
}

function uvmCopyRange(src: number, dst: number): number {
  let k = 0;
  while (k < 1024) {
    const e = load32(p2v(src) + k * 4);
    if (userPde(k) && (e & Pte.P) !== 0) {
      const pt = pteValue(e) & Pte.FRAME;
      let j = 0;
      while (j < 1024) {
        const spte = p2v(pt) + j * 4;
        let x = load32(spte);
        if ((x & Pte.P) !== 0) {
          if ((x & (Pte.W | Pte.COW)) !== 0) {
            x = (x & ~Pte.W) | Pte.COW;
            setPte(spte, x);
          }
          const va = (k << Layout.PDE_SHIFT) | (j << Layout.PAGE_SHIFT);
          const dpte = walk(dst, va, true);
          if (dpte === 0) return Err.ENOMEM;
          kref(pteValue(x) & Pte.FRAME);
          setPte(dpte, x);
        }
        j = j + 1;
      }
    }
    k = k + 1;
  }
  return 0;
}

/** Give the copy-on-write page behind pte its own writable frame. 0, or ENOMEM. */
function cowBreak(pd: number, va: number, pte: number): number {
  const e = load32(pte);
  const old = pteValue(e) & Pte.FRAME;
  if (krefs(old) === 1) {
    // the last sharer: take the frame over
    setEntry(pd, va, pte, (e | Pte.W) & ~Pte.COW);
  } else {
    const n = kalloc();
    if (n === 0) return Err.ENOMEM;
    memcpy(p2v(n), p2v(old), Layout.PAGE);
    setEntry(pd, va, pte, pteMake(n, (e | Pte.W) & ~Pte.COW & ~Pte.FRAME));
    kfree(old);
  }
  return 0;
}

/**
 * The frame behind user address va of process p, ready for a read (or a write): demand-zero
 * pages are allocated and copy-on-write pages copied, exactly as the page-fault handler would.
 * Returns the frame's physical address, or EFAULT when va is not valid for the access
 * (ENOMEM when memory ran out).
 */
export function userPage(p: number, va: number, write: boolean): number {
  const pd = load32(p + Proc.PD);
  const pte = walk(pd, va, false);
  if (pte !== 0) {
    const e = load32(pte);
    if ((e & Pte.P) !== 0) {
      if ((e & Pte.U) === 0) return Err.EFAULT;
      if (write && (e & Pte.W) === 0) {
        if ((e & Pte.COW) === 0) return Err.EFAULT;
        const r = cowBreak(pd, va, pte);
        if (r < 0) return r;
        return readPte(pte) & Pte.FRAME;
      }
      return pteValue(e) & Pte.FRAME;
    }
  }
  // not present: a page of the demand-zero region [LAZY_START, BRK)?
  if (geu(va, load32(p + Proc.LAZY_START)) && ltu(va, load32(p + Proc.BRK))) {
    const n = kalloc();
    if (n === 0) return Err.ENOMEM;
    if (mapPage(pd, pageDown(va), n, Pte.U | Pte.W) < 0) {
      kfree(n);
      return Err.ENOMEM;
    }
    return n;
  }
  return Err.EFAULT;
}

/** Page fault at user address va (err: the CPU's error code). 0 when resolved, else an error. */
export function vmFault(va: number, err: number): number {
  const p = myproc();
  if (p === 0 || !isUserRange(va, 1)) return Err.EFAULT;
  const r = userPage(p, va, (err & 2) !== 0);
  return r < 0 ? r : 0;
}

/** Is [va, va + n) inside the user half (without wrapping)? */
export function isUserRange(va: number, n: number): boolean {
  if (n < 0) return false;
  const end = va + n;
  return geu(va, UserLayout.USER_BASE) && leu(end, UserLayout.USER_TOP) && !gtu(va, end);
}

/** Copy n bytes from kernel address src to user address dst of the current process. 0 or EFAULT. */
export function copyout(dst: number, src: number, n: number): number {
  if (!isUserRange(dst, n)) return Err.EFAULT;
  const p = myproc();
  let done = 0;
  while (done < n) {
    const va = dst + done;
    const pa = userPage(p, va, true);
    if (pa < 0) return Err.EFAULT;
    let chunk = Layout.PAGE - (va & (Layout.PAGE - 1));
    if (chunk > n - done) chunk = n - done;
    memcpy(p2v(pa) + (va & (Layout.PAGE - 1)), src + done, chunk);
    done = done + chunk;
  }
  return 0;
}

/** Copy n bytes from user address src of the current process to kernel address dst. 0 or EFAULT. */
export function copyin(dst: number, src: number, n: number): number {
  if (!isUserRange(src, n)) return Err.EFAULT;
  const p = myproc();
  let done = 0;
  while (done < n) {
    const va = src + done;
    const pa = userPage(p, va, false);
    if (pa < 0) return Err.EFAULT;
    let chunk = Layout.PAGE - (va & (Layout.PAGE - 1));
    if (chunk > n - done) chunk = n - done;
    memcpy(dst + done, p2v(pa) + (va & (Layout.PAGE - 1)), chunk);
    done = done + chunk;
  }
  return 0;
}

/**
 * Copy the NUL-terminated string at user address src into dst (max bytes, NUL included).
 * Its length, EFAULT, or E2BIG when no NUL comes within max bytes.
 */
export function copyinstr(dst: number, src: number, max: number): number {
  const p = myproc();
  let k = 0;
  while (k < max) {
    const va = src + k;
    if (!isUserRange(va, 1)) return Err.EFAULT;
    const pa = userPage(p, va, false);
    if (pa < 0) return Err.EFAULT;
    const c = load8(p2v(pa) + (va & (Layout.PAGE - 1)));
    store8(dst + k, c);
    if (c === 0) return k;
    k = k + 1;
  }
  return Err.E2BIG;
}

/**
 * Check a whole user buffer before a system call uses it, so a bad pointer fails the call
 * before anything happens (no half-written output). 0 or EFAULT.
 */
export function checkUserBuffer(va: number, n: number, write: boolean): number {
  if (!isUserRange(va, n)) return Err.EFAULT;
  if (n === 0) return 0;
  const p = myproc();
  let page = pageDown(va);
  while (ltu(page, va + n)) {
    if (userPage(p, page, write) < 0) return Err.EFAULT;
    page = page + Layout.PAGE;
  }
  return 0;
}

/** Move the break of process p by n bytes. The old break, or ENOMEM. */
export function growProcess(p: number, n: number): number {
  const old = load32(p + Proc.BRK);
  const next = old + n;
  if (n > 0 && (ltu(next, old) || gtu(next, UserLayout.HEAP_LIMIT))) return Err.ENOMEM;
  if (n < 0 && (gtu(next, old) || ltu(next, load32(p + Proc.HEAP_START)))) return Err.EINVAL;
  if (n < 0) uvmUnmap(load32(p + Proc.PD), pageUp(next), pageUp(old));
  store32(p + Proc.BRK, next);
  return old;
}

/** Bytes of user memory mapped in pd (for ps). */
export function uvmSize(pd: number): number {
  let pages = 0;
  let k = 0;
  while (k < 1024) {
    const e = load32(p2v(pd) + k * 4);
    if (userPde(k) && (e & Pte.P) !== 0) {
      const pt = p2v(pteValue(e) & Pte.FRAME);
      let j = 0;
      while (j < 1024) {
        if ((load32(pt + j * 4) & Pte.P) !== 0) pages = pages + 1;
        j = j + 1;
      }
    }
    k = k + 1;
  }
  return pages * Layout.PAGE;
}
