// arch/pv memory management: the guest's page tables are the real ones, but only the hypervisor
// writes them (mmu_update, validated), and a frame that is a page table must not be mapped
// writable anywhere. So, as XenoLinux did, announcing a page table (pageTableAlloc) first makes
// the kernel's own mappings of it read-only and strips write access from its entries that map
// other page tables, then pins it; releasing one clears the directory entry that still names it,
// unpins it and makes it writable again, so the allocator can reuse the frame. Several entries
// changed together go to the hypervisor in one batched mmu_update.
// Guest code (the TypeScript subset); runs at ring 1.

import { load8, store8, load32, store32, staticBuffer, cstr } from 'xl32';
import { MmuCmd, MmuextCmd } from '../../../hypercalls/numbers.ts';
import { MmuUpdate, SharedInfo, StartInfo, VcpuInfo } from '../../../hypercalls/structs.ts';
import { hcMmuUpdate, mmuextOne, pinTable, unpinTable } from '../../../hypercalls/guest.ts';
import { Layout, Pte } from '../../kernel/memlayout.ts';
import { p2v, kernelPd } from '../../kernel/vm.ts';
import { panicValue } from '../../kernel/panic.ts';
import { Xen, pfnToMfn, mfnToPfn, startInfo } from './xen.ts';

const enum M {
  /** most pseudo-physical frames tracked (256 MiB) */
  MAX_FRAMES = 65536,
  /** directory entries remembered for user page tables (one per table in use) */
  BACKREFS = 1024,
  /** requests collected before one mmu_update */
  BATCH = 16,
  CR2 = Xen.SHARED + SharedInfo.VCPU_INFO + VcpuInfo.CR2,
}

/** bit per pseudo-physical frame: it is a page table (level 1) / a page directory (level 2) */
const isL1 = staticBuffer(M.MAX_FRAMES / 8);
const isL2 = staticBuffer(M.MAX_FRAMES / 8);
/** (table pfn, machine address of the directory entry naming it) pairs; pfn 0 = free slot */
const backPfn = staticBuffer(M.BACKREFS * 4);
const backPde = staticBuffer(M.BACKREFS * 4);
const batch = staticBuffer(M.BATCH * MmuUpdate.BYTES);
let batched = 0;
/** the directory loaded now (pseudo-physical address) */
let current = 0;
/** the hypervisor pages (shared info, grant table) are mapped in the kernel's own tables */
let fixmapsDone = false;
/** machine frame of the grant table, or 0 */
let gnttabMfn = 0;

function bit(map: number, pfn: number): boolean {
  return (load8(map + (pfn >>> 3)) & (1 << (pfn & 7))) !== 0;
}

function setBit(map: number, pfn: number, on: boolean): void {
  const a = map + (pfn >>> 3);
  if (on) store8(a, load8(a) | (1 << (pfn & 7)));
  else store8(a, load8(a) & ~(1 << (pfn & 7)));
}

/** Is the machine frame mfn one of our page tables or directories? */
function isTableMfn(mfn: number): boolean {
  const pfn = mfnToPfn(mfn);
  if (pfn < 0 || pfn >= M.MAX_FRAMES) return false;
  return bit(isL1, pfn) || bit(isL2, pfn);
}

/** Queue one page-table write (machine address of the entry, new value). */
function queue(entryMa: number, value: number): void {
  const r = batch + batched * MmuUpdate.BYTES;
  store32(r + MmuUpdate.PTR, entryMa | MmuCmd.NORMAL_PT_UPDATE);
  store32(r + MmuUpdate.VAL, value);
  batched = batched + 1;
  if (batched === M.BATCH) flush();
}

/** Send the queued writes in one mmu_update. */
function flush(): void {
  if (batched === 0) return;
  const n = batched;
  batched = 0;
  const r = hcMmuUpdate(batch, n, 0);
  if (r < 0) panicValue(cstr('mmu_update refused a page-table write, error'), r);
}

/** Pseudo-physical address of a kernel virtual address (identity below 4 MiB, the direct map above). */
function v2p(va: number): number {
  if ((va >>> 0) >= Layout.DIRECT_MAP >>> 0) return va - Layout.DIRECT_MAP;
  return va;
}

export function pvSetPte(entry: number, value: number): void {
  const pa = v2p(entry);
  const pfn = pa >>> 12;
  if (pfn < M.MAX_FRAMES && bit(isL2, pfn)) noteDirectoryEntry(pa, value);
  queue((pfnToMfn(pfn) << 12) | (pa & 0xfff), value);
  flush();
}

/** Remember which directory entry names each user page table (to clear it when the table goes). */
function noteDirectoryEntry(pdePa: number, value: number): void {
  const ma = (pfnToMfn(pdePa >>> 12) << 12) | (pdePa & 0xfff);
  let k = 0;
  let free = -1;
  while (k < M.BACKREFS) {
    const p = load32(backPfn + k * 4);
    if (p !== 0 && load32(backPde + k * 4) === ma) {
      store32(backPfn + k * 4, 0);
      if (free < 0) free = k;
    } else if (p === 0 && free < 0) {
      free = k;
    }
    k = k + 1;
  }
  if ((value & Pte.P) !== 0 && free >= 0) {
    const t = mfnToPfn(value >>> 12);
    if (t > 0 && t < M.MAX_FRAMES && bit(isL1, t)) {
      store32(backPfn + free * 4, t);
      store32(backPde + free * 4, ma);
    }
  }
}

/**
 * Set or clear W in every kernel mapping of frame pfn: its identity mapping (below 4 MiB), its
 * direct-map mapping, in the loaded directory and in the kernel's (their kernel halves share tables).
 */
function kernelMappingsWritable(pfn: number, writable: boolean): void {
  const mfn = pfnToMfn(pfn);
  retarget(current, pfn << 12, mfn, writable);
  retarget(current, Layout.DIRECT_MAP + (pfn << 12), mfn, writable);
  const kpd = kernelPd();
  if (kpd !== 0 && kpd !== current) {
    retarget(kpd, pfn << 12, mfn, writable);
    retarget(kpd, Layout.DIRECT_MAP + (pfn << 12), mfn, writable);
  }
  flush();
}

/** In directory pd (pseudo-physical), queue W on/off for va's entry if it maps machine frame mfn. */
function retarget(pd: number, va: number, mfn: number, writable: boolean): void {
  if (pd === 0) return;
  const pde = load32(p2v(pd) + (va >>> Layout.PDE_SHIFT) * 4);
  if ((pde & Pte.P) === 0) return;
  const tablePfn = mfnToPfn(pde >>> 12);
  if (tablePfn < 0) return;
  const slot = ((va >>> Layout.PAGE_SHIFT) & 1023) * 4;
  const e = load32(p2v(tablePfn << 12) + slot);
  if ((e & Pte.P) === 0 || (e >>> 12) !== mfn) return;
  if (((e & Pte.W) !== 0) === writable) return;
  queue(((pde >>> 12) << 12) | slot, writable ? e | Pte.W : e & ~Pte.W);
}

export function pvPageTableAlloc(phys: number, level: number): void {
  const pfn = phys >>> 12;
  if (pfn >= M.MAX_FRAMES) panicValue(cstr('pv: page table beyond the tracked frames'), phys);
  if (level === 1) {
    setBit(isL1, pfn, true);
    // the new table may not map a page table writable (itself included): it is not yet one, so plain stores
    const t = p2v(phys);
    let k = 0;
    while (k < 1024) {
      const e = load32(t + k * 4);
      if ((e & (Pte.P | Pte.W)) === (Pte.P | Pte.W) && isTableMfn(e >>> 12)) store32(t + k * 4, e & ~Pte.W);
      k = k + 1;
    }
  } else {
    setBit(isL2, pfn, true);
  }
  kernelMappingsWritable(pfn, false);
  const r = pinTable(pfnToMfn(pfn), level);
  if (r < 0) panicValue(cstr('pv: the hypervisor refused to pin a page table, error'), r);
}

export function pvPageTableRelease(phys: number, level: number): void {
  const pfn = phys >>> 12;
  if (level === 1) {
    // the directory entry naming it holds a reference: clear it first
    let k = 0;
    while (k < M.BACKREFS) {
      if (load32(backPfn + k * 4) === pfn) {
        const ma = load32(backPde + k * 4);
        store32(backPfn + k * 4, 0);
        queue(ma, 0);
      }
      k = k + 1;
    }
    flush();
  }
  const r = unpinTable(pfnToMfn(pfn));
  if (r < 0) panicValue(cstr('pv: the hypervisor refused to unpin a page table, error'), r);
  setBit(level === 1 ? isL1 : isL2, pfn, false);
  kernelMappingsWritable(pfn, true);
}

/** Map the hypervisor's pages at their fixed addresses in the tables of directory pd. */
function installFixmaps(pd: number): void {
  const pde = load32(p2v(pd));
  if ((pde & Pte.P) === 0) panicValue(cstr('pv: the kernel directory has no low page table'), pd);
  const l1 = (pde >>> 12) << 12;
  const kv = Pte.P | Pte.W | Pte.A | Pte.D;
  queue(l1 + ((Xen.SHARED >>> 12) * 4), (startInfo(StartInfo.SHARED_INFO_MFN) << 12) | kv);
  if (gnttabMfn !== 0) queue(l1 + ((Xen.GNTTAB >>> 12) * 4), (gnttabMfn << 12) | kv);
  flush();
}

export function pvSwitchAddressSpace(pdPhys: number): void {
  const first = !fixmapsDone;
  if (first) {
    installFixmaps(pdPhys);
    fixmapsDone = true;
  }
  const r = mmuextOne(MmuextCmd.NEW_BASEPTR, pfnToMfn(pdPhys >>> 12));
  if (r < 0) panicValue(cstr('pv: the hypervisor refused the page directory, error'), r);
  current = pdPhys;
  if (first) releaseBootstrapTables();
}

/**
 * Once the kernel runs on its own tables, the builder's bootstrap tables go: unpinning the
 * directory drops every mapping they held (they map all memory writable, which would keep any
 * frame from ever becoming a page table). Their frames lie below the allocator's range.
 */
function releaseBootstrapTables(): void {
  const first = startInfo(StartInfo.PT_FIRST_PFN);
  const n = startInfo(StartInfo.NR_PT_FRAMES);
  if (unpinTable(pfnToMfn(first)) < 0) panicValue(cstr('pv: cannot release the bootstrap page tables at'), first << 12);
  let k = 0;
  while (k < n) {
    setBit(isL1, first + k, false);
    setBit(isL2, first + k, false);
    k = k + 1;
  }
}

export function pvInvalidatePage(va: number): void {
  mmuextOne(MmuextCmd.INVLPG_LOCAL, va);
}

export function pvFlushTlb(): void {
  mmuextOne(MmuextCmd.TLB_FLUSH_LOCAL, 0);
}

/** The hypervisor puts a bounced page fault's address in vcpu_info (the virtual CR2). */
export function pvFaultAddress(): number {
  return load32(M.CR2);
}

/** Boot: the bootstrap tables are page tables too (for the scrub), and they are loaded now. */
export function pvMmuInit(gnttab: number): void {
  const first = startInfo(StartInfo.PT_FIRST_PFN);
  const n = startInfo(StartInfo.NR_PT_FRAMES);
  setBit(isL2, first, true);
  let k = 1;
  while (k < n) {
    setBit(isL1, first + k, true);
    k = k + 1;
  }
  current = first << 12;
  gnttabMfn = gnttab;
}
