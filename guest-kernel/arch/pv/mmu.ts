// arch/pv memory management, XenoLinux's way. Entries name machine frames: pteMake and pteValue
// translate with the p2m list and the hypervisor's read-only m2p table. A frame that is a page
// table must never be mapped writable, and only the hypervisor writes a table it has validated,
// so a whole address space is pinned when it is first loaded (XenoLinux's mm_pin at
// activate_mm): until then its directory and tables are ordinary memory, filled with plain stores
// (fork's copy, exec's image); at the first load the kernel's mappings of those frames become
// read-only and one multicall pins the directory (validating every table under it) and loads it.
// Releasing a directory unpins it and makes its frames writable again, also in one multicall.
// Entries of a live (pinned) table go through mmu_update; in lazy-MMU mode they and the TLB
// invalidations after them are queued and sent together: one mmu_update, or a multicall with an
// mmuext_op, per batch. The kernel's own tables are pinned the same way at its first load, which
// also drops the builder's bootstrap tables.
// Guest code (the TypeScript subset); runs at ring 1.

import { load8, store8, load16, store16, load32, store32, staticBuffer, cstr } from 'xl32';
import { Hc, HvLayout, MmuCmd, MmuextCmd, UvmFlags } from '../../../hypercalls/numbers.ts';
import { Smp } from '../../kernel/smp.ts';
import { MmuUpdate, MmuextOp, MmuextTargets, MulticallEntry, SharedInfo, StartInfo, VcpuInfo } from '../../../hypercalls/structs.ts';
import {
  hcMmuUpdate, hcMmuextOp, hcMulticall, hcUpdateVaMapping, newBaseptr, invlpgLocal, tlbFlushLocal, mmuextOne,
} from '../../../hypercalls/guest.ts';
import { Layout, Pte } from '../../kernel/memlayout.ts';
import { p2v, kernelPd } from '../../kernel/vm.ts';
import { panicValue } from '../../kernel/panic.ts';
import { memset } from '../../kernel/string.ts';
import { Xen, pfnToMfn, mfnToPfn, startInfo } from './xen.ts';

const enum PvMmu {
  /** most pseudo-physical frames tracked (256 MiB) */
  MAX_FRAMES = 65536,
  /** page-table writes collected before one mmu_update */
  BATCH = 256,
  /** TLB operations collected (more become one full flush) */
  EXT = 16,
  /** directory entries: the last one is the hypervisor's */
  DIR_ENTRIES = 1023,
}

/*
 * The per-frame tracking below is sized to the domain's memory and carved at boot from the first
 * free pages after the builder's layout (pvMmuInit), as Linux sizes its mem_map to the memory it
 * finds: a static table for the largest domain would cost every small domain 288 KiB. Each
 * variable holds the table's pseudo-physical address; accesses go through p2v (identity while
 * the builder's tables are loaded, the direct map after kvminit).
 */
/** bit per pseudo-physical frame: announced as a page table (level 1) / a page directory (level 2) */
let isL1 = 0;
let isL2 = 0;
/** the hypervisor has validated it as a table (pinned, or under a pinned directory): read-only to us */
let live = 0;
/** a table of the kernel half, shared by every directory: live for good */
let shared = 0;
/**
 * The user page tables of each directory, as lists threaded through two u16 arrays indexed by
 * pfn (0 ends a list; frame 0 is never a table): the tables a directory entry was set to name
 * through setPte. The kernel half is copied into a new directory with plain stores and never
 * listed, so a directory is pinned and released without reading its 1,023 entries.
 */
let dirFirst = 0;
let l1Next = 0;
/** first pseudo-physical byte after the carved tables (the allocator's range starts here) */
let carvedEnd = 0;

/** queued page-table writes (mmu_update requests) and TLB operations (mmuext_op requests) */
const batch = staticBuffer(PvMmu.BATCH * MmuUpdate.BYTES);
let batched = 0;
const ext = staticBuffer(PvMmu.EXT * MmuextOp.BYTES);
let extQueued = 0;
/** a full TLB flush is queued (single invalidations after it are redundant) */
let flushQueued = false;
const calls = staticBuffer(2 * MulticallEntry.BYTES);
/** in lazy-MMU mode: defer until lazyEnd (or a full queue) */
let lazy = false;
/** the queued TLB operations go before the queued writes (an unpin before its frames are mapped writable) */
let extFirst = false;

/** TLB_FLUSH_MULTI's vCPU mask */
const targets = staticBuffer(MmuextTargets.BYTES);
/** the directory each vCPU has loaded now (pseudo-physical address) */
const loaded = staticBuffer(Smp.MAX_CPUS * 4);
/** the kernel's own tables are pinned and loaded (the bootstrap tables are gone) */
let booted = false;
/** machine frame of the grant table, or 0 */
let gnttabMfn = 0;

function bit(map: number, pfn: number): boolean {
  return (load8(p2v(map) + (pfn >>> 3)) & (1 << (pfn & 7))) !== 0;
}

function setBit(map: number, pfn: number, on: boolean): void {
  const a = p2v(map) + (pfn >>> 3);
  if (on) store8(a, load8(a) | (1 << (pfn & 7)));
  else store8(a, load8(a) & ~(1 << (pfn & 7)));
}

function machineAddress(pa: number): number {
  return (pfnToMfn(pa >>> 12) << 12) | (pa & 0xfff);
}

/** Pseudo-physical address of a kernel virtual address (identity below 4 MiB, the direct map above). */
function v2p(va: number): number {
  if ((va >>> 0) >= Layout.DIRECT_MAP >>> 0) return va - Layout.DIRECT_MAP;
  return va;
}

// ---- entries: pseudo-physical <-> machine ----------------------------------------------------------

/** __pte: physical address | flags -> the entry the MMU reads (machine frame | flags). */
export function pvPteMake(value: number): number {
  return (pfnToMfn(value >>> 12) << 12) | (value & 0xfff);
}

/** pte_val: an entry -> physical address | flags (a frame that is not ours reads as frame 0xfffff). */
export function pvPteValue(e: number): number {
  if ((e & Pte.P) === 0) return e;
  return (mfnToPfn(e >>> 12) << 12) | (e & 0xfff);
}

// ---- the queues ------------------------------------------------------------------------------------

function queue(entryMa: number, value: number): void {
  if (batched === PvMmu.BATCH) flush();
  const r = batch + batched * MmuUpdate.BYTES;
  store32(r + MmuUpdate.PTR, entryMa | MmuCmd.NORMAL_PT_UPDATE);
  store32(r + MmuUpdate.VAL, value);
  batched = batched + 1;
}

function queueExt(cmd: number, arg: number): void {
  if (flushQueued && (cmd === MmuextCmd.INVLPG_LOCAL || cmd === MmuextCmd.TLB_FLUSH_LOCAL)) return;
  if (extQueued === PvMmu.EXT) flush();
  const r = ext + extQueued * MmuextOp.BYTES;
  store32(r + MmuextOp.CMD, cmd);
  store32(r + MmuextOp.ARG, arg);
  extQueued = extQueued + 1;
  if (cmd === MmuextCmd.TLB_FLUSH_LOCAL) flushQueued = true;
}

function call(k: number, op: number, a1: number, a2: number): void {
  const e = calls + k * MulticallEntry.BYTES;
  store32(e + MulticallEntry.OP, op);
  store32(e + MulticallEntry.ARG1, a1);
  store32(e + MulticallEntry.ARG2, a2);
  store32(e + MulticallEntry.ARG3, 0);
}

function check(r: number): void {
  if (r < 0) panicValue(cstr('pv: the hypervisor refused a page-table batch, error'), r);
}

/**
 * Send what is queued: the entry writes, then the TLB and pinning operations (or the other way
 * round with extFirst) - one hypercall, a multicall when there are both.
 */
function flush(): void {
  const n = batched;
  const x = extQueued;
  batched = 0;
  extQueued = 0;
  flushQueued = false;
  if (n > 0 && x > 0) {
    const u = extFirst ? 1 : 0;
    call(u, Hc.MMU_UPDATE, batch, n);
    call(1 - u, Hc.MMUEXT_OP, ext, x);
    check(hcMulticall(calls, 2));
    check(load32(calls + MulticallEntry.RESULT));
    check(load32(calls + MulticallEntry.BYTES + MulticallEntry.RESULT));
  } else if (n > 0) {
    check(hcMmuUpdate(batch, n, 0));
  } else if (x > 0) {
    check(hcMmuextOp(ext, x, 0));
  }
}

/** Lazy-MMU mode: page-table writes and TLB operations wait for lazyEnd (or a full queue). */
export function pvLazyMmuBegin(): void {
  lazy = true;
}

export function pvLazyMmuEnd(): void {
  lazy = false;
  flush();
}

// ---- kernel mappings of table frames ---------------------------------------------------------------

/**
 * Set or clear W in the entry for va in directory pd (pseudo-physical) if it maps machine frame
 * mfn: a queued mmu_update if that table is live, a plain store if it is still ordinary memory.
 */
function retarget(pd: number, va: number, mfn: number, writable: boolean): void {
  const pde = load32(p2v(pd) + (va >>> Layout.PDE_SHIFT) * 4);
  if ((pde & Pte.P) === 0) return;
  const tablePfn = mfnToPfn(pde >>> 12);
  if (tablePfn < 0) return;
  const slot = ((va >>> Layout.PAGE_SHIFT) & 1023) * 4;
  const at = p2v(tablePfn << 12) + slot;
  const e = load32(at);
  if ((e & Pte.P) === 0 || (e >>> 12) !== mfn) return;
  if (((e & Pte.W) !== 0) === writable) return;
  const value = writable ? e | Pte.W : e & ~Pte.W;
  if (bit(live, tablePfn)) queue((pde & ~0xfff) | slot, value);
  else store32(at, value);
}

/**
 * Queue W on/off for every kernel mapping of frame pfn: its identity mapping (below 4 MiB) and
 * its direct-map mapping, in the kernel's tables (whose kernel half every directory shares) and,
 * while they are loaded, in the builder's bootstrap tables.
 */
function kernelMappings(pfn: number, writable: boolean): void {
  const mfn = pfnToMfn(pfn);
  const kpd = kernelPd();
  if (!booted && current() !== 0) retarget(current(), pfn << 12, mfn, writable);
  if (kpd !== 0) {
    if (pfn < 1024) retarget(kpd, pfn << 12, mfn, writable);
    retarget(kpd, Layout.DIRECT_MAP + (pfn << 12), mfn, writable);
  }
}

function listAdd(dir: number, t: number): void {
  let k = load16(p2v(dirFirst) + dir * 2);
  while (k !== 0) {
    if (k === t) return;
    k = load16(p2v(l1Next) + k * 2);
  }
  store16(p2v(l1Next) + t * 2, load16(p2v(dirFirst) + dir * 2));
  store16(p2v(dirFirst) + dir * 2, t);
}

function listRemove(dir: number, t: number): void {
  let at = p2v(dirFirst) + dir * 2;
  let k = load16(at);
  while (k !== 0) {
    if (k === t) {
      store16(at, load16(p2v(l1Next) + k * 2));
      return;
    }
    at = p2v(l1Next) + k * 2;
    k = load16(at);
  }
}

/**
 * Set the kernel's entry for va (directory kpd, a live table) to `value`, and invalidate va: one
 * batch, sent now. Used by the balloon to take a frame out of the kernel's view and back.
 */
function kernelEntry(va: number, value: number): void {
  const kpd = kernelPd();
  const pde = load32(p2v(kpd) + (va >>> Layout.PDE_SHIFT) * 4);
  if ((pde & Pte.P) === 0) return;
  queue((pde & ~0xfff) | (((va >>> Layout.PAGE_SHIFT) & 1023) * 4), value);
  queueExt(MmuextCmd.INVLPG_LOCAL, va);
  flush();
}

/** The balloon gives frame pfn back: its direct-map entry (and identity entry below 4 MiB) go. */
export function pvKernelUnmap(pfn: number): void {
  if (pfn < 1024) kernelEntry(pfn << 12, 0);
  kernelEntry(Layout.DIRECT_MAP + (pfn << 12), 0);
}

/** The balloon took machine frame mfn for pfn: the m2p entry, and the kernel's entries again. */
export function pvKernelMap(pfn: number, mfn: number): void {
  queue((mfn << 12) | MmuCmd.MACHPHYS_UPDATE, pfn);
  const value = (mfn << 12) | Pte.P | Pte.W;
  if (pfn < 1024) kernelEntry(pfn << 12, value);
  kernelEntry(Layout.DIRECT_MAP + (pfn << 12), value);
}

/** First pseudo-physical byte after the tracking tables pvMmuInit carved (the allocator starts there). */
export function pvCarvedEnd(): number {
  return carvedEnd;
}

/** The frames of nrPages the kernel can use: the tracking bitmaps above cover MAX_FRAMES (256 MiB). */
export function pvUsableFrames(nrPages: number): number {
  return nrPages < PvMmu.MAX_FRAMES ? nrPages : PvMmu.MAX_FRAMES;
}

/** The table frame (pseudo-physical) that directory entry e names, or -1. */
function entryTable(e: number): number {
  if ((e & Pte.P) === 0) return -1;
  const pfn = mfnToPfn(e >>> 12);
  return pfn > 0 && pfn < PvMmu.MAX_FRAMES ? pfn : -1;
}

// ---- tables come and go ----------------------------------------------------------------------------

/** A frame becomes a table: noted; it is pinned with its directory (or when a live directory takes it). */
export function pvPageTableAlloc(phys: number, level: number): void {
  const pfn = phys >>> 12;
  if (pfn >= PvMmu.MAX_FRAMES) panicValue(cstr('pv: page table beyond the tracked frames'), phys);
  setBit(level === 1 ? isL1 : isL2, pfn, true);
}

/**
 * Pin directory pd (pseudo-physical) and everything under it, and load it: its not-yet-live
 * tables become read-only in the kernel's mappings, then one multicall writes those entries,
 * pins the directory (the hypervisor validates every table under it) and loads it.
 */
function activate(pd: number): void {
  const pfn = pd >>> 12;
  const first = !booted;
  kernelMappings(pfn, false);
  if (first) {
    // the kernel's own directory: every table under it (they are not listed)
    let k = 0;
    while (k < PvMmu.DIR_ENTRIES) {
      const t = entryTable(load32(p2v(pd) + k * 4));
      if (t > 0 && !bit(live, t)) kernelMappings(t, false);
      k = k + 1;
    }
    bootProtect();
    // the tables become live with the pin below (marked now: once it is loaded, the direct map
    // is not there yet to read the directory through)
    k = 0;
    while (k < PvMmu.DIR_ENTRIES) {
      const t = entryTable(load32(p2v(pd) + k * 4));
      if (t > 0 && !bit(live, t)) {
        setBit(live, t, true);
        setBit(shared, t, true);
      }
      k = k + 1;
    }
  } else {
    let t = load16(p2v(dirFirst) + pfn * 2);
    while (t !== 0) {
      if (!bit(live, t)) {
        kernelMappings(t, false);
        setBit(live, t, true);
      }
      t = load16(p2v(l1Next) + t * 2);
    }
  }
  setBit(live, pfn, true);
  const mfn = pfnToMfn(pfn);
  queueExt(MmuextCmd.PIN_L2_TABLE, mfn);
  queueExt(MmuextCmd.NEW_BASEPTR, mfn);
  if (first) queueExt(MmuextCmd.UNPIN_TABLE, pfnToMfn(startInfo(StartInfo.PT_FIRST_PFN)));
  flush();
  if (first) bootReleased();
}

/**
 * The kernel's first load. Its new tables map every frame writable, the builder's (still live)
 * bootstrap tables among them: those mappings become read-only too. The hypervisor's pages go
 * into the low table now, while it is ordinary memory.
 */
function bootProtect(): void {
  const firstPt = startInfo(StartInfo.PT_FIRST_PFN);
  const n = startInfo(StartInfo.NR_PT_FRAMES);
  let k = 0;
  while (k < n) {
    kernelMappings(firstPt + k, false);
    k = k + 1;
  }
  const low = p2v(pvPteValue(load32(p2v(kernelPd()))) & Pte.FRAME);
  const kv = Pte.P | Pte.W | Pte.A | Pte.D;
  store32(low + (Xen.SHARED >>> 12) * 4, (startInfo(StartInfo.SHARED_INFO_MFN) << 12) | kv);
  if (gnttabMfn !== 0) store32(low + (Xen.GNTTAB >>> 12) * 4, (gnttabMfn << 12) | kv);
}

/** The bootstrap tables were unpinned with the kernel's first load: they are plain frames below the allocator's range. */
function bootReleased(): void {
  const firstPt = startInfo(StartInfo.PT_FIRST_PFN);
  const n = startInfo(StartInfo.NR_PT_FRAMES);
  let k = 0;
  while (k < n) {
    setBit(isL1, firstPt + k, false);
    setBit(isL2, firstPt + k, false);
    setBit(live, firstPt + k, false);
    k = k + 1;
  }
  booted = true;
}

/**
 * A directory goes (it is not loaded). If it was ever loaded: one multicall unpins it - the
 * hypervisor lets go of every table under it - and makes it and its own tables writable again.
 */
export function pvPageTableRelease(phys: number, level: number): void {
  const pfn = phys >>> 12;
  flush();
  if (level === 1) {
    if (bit(live, pfn)) panicValue(cstr('pv: a page table released while a pinned directory holds it:'), phys);
    setBit(isL1, pfn, false);
    return;
  }
  setBit(isL2, pfn, false);
  const wasLive = bit(live, pfn);
  if (!wasLive) {
    store16(p2v(dirFirst) + pfn * 2, 0);
    return;
  }
  if (phys === current()) panicValue(cstr('pv: releasing the loaded page directory'), phys);
  extFirst = true;
  queueExt(MmuextCmd.UNPIN_TABLE, pfnToMfn(pfn));
  setBit(live, pfn, false);
  kernelMappings(pfn, true);
  let t = load16(p2v(dirFirst) + pfn * 2);
  while (t !== 0) {
    if (bit(live, t) && !bit(shared, t)) {
      setBit(live, t, false);
      kernelMappings(t, true);
    }
    t = load16(p2v(l1Next) + t * 2);
  }
  flush();
  extFirst = false;
  store16(p2v(dirFirst) + pfn * 2, 0);
}

// ---- entries -----------------------------------------------------------------------------------------

/** Keep directory dir's list of tables up to date for an entry going from old to value. */
function noteDirectoryEntry(dir: number, old: number, value: number): void {
  const o = entryTable(old);
  const n = entryTable(value);
  if (o === n) return;
  if (o > 0) listRemove(dir, o);
  if (n > 0) listAdd(dir, n);
}

/** Write an entry of a live directory: a table it starts to name is protected first, one it stops naming is released after. */
function setDirectoryEntry(entry: number, ma: number, value: number): void {
  const old = entryTable(load32(entry));
  const next = entryTable(value);
  if (next > 0 && !bit(live, next)) {
    kernelMappings(next, false);
    setBit(live, next, true);
  }
  queue(ma, value);
  flush();
  if (old > 0 && old !== next && bit(live, old) && !bit(shared, old)) {
    setBit(live, old, false);
    kernelMappings(old, true);
    flush();
  }
}

export function pvSetPte(entry: number, value: number): void {
  const pa = v2p(entry);
  const pfn = pa >>> 12;
  if (bit(isL2, pfn)) noteDirectoryEntry(pfn, load32(entry), value);
  if (!bit(live, pfn)) {
    // not (yet) a table the hypervisor validated: ordinary memory
    store32(entry, value);
    return;
  }
  const ma = machineAddress(pa);
  if (bit(isL2, pfn)) {
    setDirectoryEntry(entry, ma, value);
    return;
  }
  queue(ma, value);
  if (!lazy) flush();
}

/** The entry for va in the loaded directory, and va's translation with it: update_va_mapping. */
export function pvSetPteVa(entry: number, value: number, va: number): void {
  const pa = v2p(entry);
  if (!bit(live, pa >>> 12)) {
    store32(entry, value);
    return;
  }
  if (lazy) {
    queue(machineAddress(pa), value);
    queueExt(MmuextCmd.INVLPG_LOCAL, va);
    return;
  }
  flush();
  const r = hcUpdateVaMapping(va & ~0xfff, value, UvmFlags.INVLPG);
  if (r < 0) panicValue(cstr('pv: update_va_mapping refused, error'), r);
}

function checkExt(r: number): void {
  if (r < 0) panicValue(cstr('pv: the hypervisor refused an mmuext_op, error'), r);
}

export function pvSwitchAddressSpace(pdPhys: number): void {
  flush();
  if (bit(live, pdPhys >>> 12)) checkExt(newBaseptr(pfnToMfn(pdPhys >>> 12)));
  else activate(pdPhys);
  store32(loaded + load32(HvLayout.VCPU_ID) * 4, pdPhys);
}

export function pvInvalidatePage(va: number): void {
  if (lazy) {
    queueExt(MmuextCmd.INVLPG_LOCAL, va);
    return;
  }
  flush();
  checkExt(invlpgLocal(va));
}

export function pvFlushTlb(): void {
  if (lazy) {
    queueExt(MmuextCmd.TLB_FLUSH_LOCAL, 0);
    return;
  }
  flush();
  checkExt(tlbFlushLocal());
}

/** The hypervisor puts a bounced page fault's address in vcpu_info (the virtual CR2). */
export function pvFaultAddress(): number {
  return load32(Xen.SHARED + SharedInfo.VCPU_INFO + load32(HvLayout.VCPU_ID) * VcpuInfo.BYTES + VcpuInfo.CR2);
}

/**
 * TLB_FLUSH_OTHERS: the vCPUs in mask drop their translations, by one mmuext TLB_FLUSH_MULTI
 * (after the page-table writes queued so far, so none of them can reload an old entry).
 */
export function pvTlbFlushOthers(mask: number): void {
  flush();
  store32(targets + MmuextTargets.VCPU_MASK, mask);
  store32(targets + MmuextTargets.VA, 0);
  checkExt(mmuextOne(MmuextCmd.TLB_FLUSH_MULTI, targets));
}

/** A secondary vCPU starts with directory pd loaded (VcpuGuestContext.BASEPTR). */
export function pvMmuCpuStarted(pd: number): void {
  store32(loaded + load32(HvLayout.VCPU_ID) * 4, pd);
}

/** The directory this vCPU has loaded. */
function current(): number {
  return load32(loaded + load32(HvLayout.VCPU_ID) * 4);
}

/** Boot: the builder's bootstrap tables are pinned, loaded, and map this kernel's memory. */
export function pvMmuInit(gnttab: number): void {
  const frames = pvUsableFrames(startInfo(StartInfo.NR_PAGES));
  const bits = ((frames + 31) >>> 5) * 4;
  let at = startInfo(StartInfo.FIRST_FREE_PFN) << 12;
  const start = at;
  isL1 = at;
  at = at + bits;
  isL2 = at;
  at = at + bits;
  live = at;
  at = at + bits;
  shared = at;
  at = at + bits;
  dirFirst = at;
  at = at + frames * 2;
  l1Next = at;
  at = at + frames * 2;
  carvedEnd = (at + Layout.PAGE - 1) & ~(Layout.PAGE - 1);
  memset(p2v(start), 0, carvedEnd - start);
  const first = startInfo(StartInfo.PT_FIRST_PFN);
  const n = startInfo(StartInfo.NR_PT_FRAMES);
  setBit(isL2, first, true);
  setBit(live, first, true);
  let k = 1;
  while (k < n) {
    setBit(isL1, first + k, true);
    setBit(live, first + k, true);
    k = k + 1;
  }
  store32(loaded, first << 12);
  gnttabMfn = gnttab;
}
