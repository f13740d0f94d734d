// Invariants of the PV mode's frame table, shared by the pv fuzzers (fuzz-pv.test.ts, which runs
// random guest code, and fuzz-pv-model.ts, model-based hypercall sequences): one owner per frame,
// the frame table's counts recomputed from scratch, every mapping's rights within what ownership
// or its grant allows, and no writable translation in the TLB that the running domain may not have.
// Each check throws an Error naming the frame and the rule broken.

import type { Domain } from '../../hypervisor/core/domain.ts';
import { OWNER_FREE, OWNER_HYPERVISOR } from '../../hypervisor/core/frames.ts';
import type { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import type { PvMode } from '../../hypervisor/pv/mode.ts';
import { PageType, Partial } from '../../hypervisor/pv/page-types.ts';
import { PvDomain } from '../../hypervisor/pv/state.ts';

const PAGE = 4096;
const HV_PDE = 1023;
const PTE_P = 1;
const PTE_W = 2;
const PTE_A = 32;
const PTE_D = 64;

/**
 * Every frame has one owner; each domain owns exactly the frames its p2m names. With `p2mSlot`
 * (the pv host's private reverse map) and the pv domains among `doms`: each of their frames maps
 * back to the slot that holds it, and no other frame to any slot.
 */
export function checkOwnership(hv: Hypervisor, doms: Domain[], pv?: { p2mSlot: Int32Array; domains: Domain[] }): void {
  const owner = hv.frames.owner;
  const ids = new Set(doms.map((d) => d.id));
  const named = new Int32Array(owner.length);
  for (const d of doms) {
    let live = 0;
    for (const f of d.p2m) {
      if (f < 0) continue;
      live++;
      if (owner[f] !== d.id) throw new Error(`domain ${d.id}'s p2m names frame 0x${f.toString(16)}, owned by ${owner[f]}`);
      named[f]!++;
    }
    if (hv.frames.countOwned(d.id) !== live) throw new Error(`domain ${d.id} owns ${hv.frames.countOwned(d.id)} frames, its p2m names ${live}`);
  }
  if (pv) {
    const expected = new Int32Array(owner.length).fill(-1);
    for (const d of pv.domains) d.p2m.forEach((f, pfn) => void (f >= 0 && (expected[f] = pfn)));
    for (let f = 0; f < owner.length; f++) {
      if (pv.p2mSlot[f] !== expected[f]) throw new Error(`frame 0x${f.toString(16)}: the reverse map says slot ${pv.p2mSlot[f]}, the p2m ${expected[f]}`);
    }
  }
  for (let f = 0; f < owner.length; f++) {
    if (named[f]! > 1) throw new Error(`frame 0x${f.toString(16)} is named by ${named[f]} p2m entries`);
    const o = owner[f]!;
    if (o !== OWNER_FREE && o !== OWNER_HYPERVISOR && !ids.has(o)) throw new Error(`frame 0x${f.toString(16)} owned by unknown ${o}`);
  }
}

/**
 * Recompute the frame table's counts from the validated tables, pins, base pointers and grant
 * mappings, and check that no page-table frame is mapped writable anywhere.
 */
export function checkTypes(hv: Hypervisor, mode: PvMode): void {
  const host = mode.host;
  const t = host.types;
  const m32 = hv.mem.i32;
  const n = t.frames;
  const typeRefs = new Int32Array(n);
  const refs = new Int32Array(n);
  const grantPte = new Map<number, number>();
  for (const d of host.domains.values()) {
    for (const g of d.grants.maps.values()) {
      refs[g.frame]!++;
      if (!g.readonly) typeRefs[g.frame]!++;
      if (g.pteAddr >= 0) {
        grantPte.set(g.pteAddr, g.frame);
        // a grant mapping lives in a validated L1 of the mapper, with exactly the grant's rights
        const l1 = g.pteAddr >>> 12;
        if (!(t.isTable(l1) && t.type[l1] === PageType.L1 && t.owner[l1] === d.id)) {
          throw new Error(`domain ${d.id}'s grant mapping of frame 0x${g.frame.toString(16)} at 0x${g.pteAddr.toString(16)} outlived its page table (${JSON.stringify(t.describe(l1))})`);
        }
        const e = m32[g.pteAddr >>> 2]! >>> 0;
        const want = ((g.frame * PAGE) | PTE_P | PTE_A | (g.readonly ? 0 : PTE_W | PTE_D)) >>> 0;
        if (e !== want) {
          throw new Error(`domain ${d.id}'s ${g.readonly ? 'read-only' : 'writable'} grant mapping at 0x${g.pteAddr.toString(16)} holds 0x${e.toString(16)}, not 0x${want.toString(16)}`);
        }
      }
    }
    for (const v of d.vcpus) if (v.baseptr >= 0) typeRefs[v.baseptr]!++;
    // the block and network back ends hold the pages they mapped through grants (rings, requests in flight)
    for (const h of [...(d.blk?.held() ?? []), ...(d.net?.held() ?? [])]) {
      refs[h.frame]!++;
      if (!h.readonly) typeRefs[h.frame]!++;
    }
    // the console back end holds its page writable (xenconsoled's mapping)
    const cons = consoleFrame(d);
    if (cons >= 0) {
      typeRefs[cons]!++;
      refs[cons]!++;
    }
  }
  for (let f = 0; f < n; f++) {
    if (t.pinned[f]) typeRefs[f]!++;
    if (t.typeCount[f]! <= 0) continue;
    const dom = t.owner[f]!;
    if (t.type[f] === PageType.L1) {
      for (let k = 0; k < 1024; k++) {
        const e = m32[f * 1024 + k]!;
        if ((e & 1) === 0) continue;
        const x = e >>> 12;
        const pteAddr = f * PAGE + k * 4;
        if (x >= n) throw new Error(`L1 0x${f.toString(16)}[${k}] maps frame 0x${x.toString(16)} beyond memory`);
        if (grantPte.get(pteAddr) === x) continue;
        if (!host.mayMap(dom, x)) throw new Error(`L1 0x${f.toString(16)} of ${dom}, entry ${k}, maps frame 0x${x.toString(16)} (owner ${t.owner[x]})`);
        refs[x]!++;
        if ((e & 2) !== 0) {
          typeRefs[x]!++;
          if (t.isTable(x)) throw new Error(`page-table frame 0x${x.toString(16)} is mapped writable by L1 0x${f.toString(16)}[${k}]`);
        }
      }
    } else if (t.type[f] === PageType.L2) {
      // a directory whose validation (or its undoing) or release is unfinished holds one type
      // reference of its own and references for the entries it has validated and not released
      const p = t.partial[f]!;
      const prog = t.progress[f]!;
      if (p !== Partial.NONE) typeRefs[f]!++;
      const lo = p === Partial.RELEASING ? prog : 0;
      const hi = p === Partial.VALIDATING || p === Partial.FAILING ? prog : 1024;
      for (let k = lo; k < hi; k++) {
        const e = m32[f * 1024 + k]!;
        if (k === HV_PDE) {
          if (e >>> 0 !== host.hypervisorPde(dom) >>> 0) throw new Error(`L2 0x${f.toString(16)} of ${dom}: the hypervisor slot holds 0x${(e >>> 0).toString(16)}`);
          continue;
        }
        if ((e & 1) === 0) continue;
        const x = e >>> 12;
        if (!(t.isTable(x) && t.type[x] === PageType.L1)) throw new Error(`L2 0x${f.toString(16)}[${k}] names frame 0x${x.toString(16)}, not a validated L1`);
        refs[x]!++;
        typeRefs[x]!++;
      }
    }
  }
  for (let f = 0; f < n; f++) {
    if (t.typeCount[f] !== typeRefs[f] || t.refCount[f] !== refs[f]) {
      throw new Error(
        `frame 0x${f.toString(16)} (${JSON.stringify(t.describe(f))}): expected typeCount ${typeRefs[f]} refCount ${refs[f]}`,
      );
    }
  }
}

/** The frame of the domain's console page if a console back end holds it, else -1. */
export function consoleFrame(d: PvDomain): number {
  const f = (d.console as { frame?: unknown } | null | undefined)?.frame;
  return typeof f === 'number' ? f : -1;
}

/** The TLB holds no writable translation of a page-table frame, nor of a frame the running domain may not write. */
export function checkTlb(hv: Hypervisor, mode: PvMode): void {
  const cur = hv.current;
  if (!cur || !(cur.domain.modeState instanceof PvDomain)) return;
  const tlb = hv.cpu.mmu;
  const t = mode.host.types;
  const d = mode.pv(cur.domain);
  const granted = new Set([...d.grants.maps.values()].filter((g) => !g.readonly).map((g) => g.frame));
  for (let s = 0; s < tlb.tlbEntries; s++) {
    for (const tag of [tlb.tlbW[s]!, tlb.tlbW[tlb.tlbEntries + s]!]) {
      if ((tag & 0xfff) !== 0) continue; // INVALID
      const f = ((tag + tlb.tlbAdd[s]!) | 0) >>> 12;
      if (t.isTable(f)) throw new Error(`the TLB maps page-table frame 0x${f.toString(16)} writable at va 0x${(tag >>> 0).toString(16)}`);
      if (!mode.host.mayMap(d.id, f) && !granted.has(f)) {
        throw new Error(`the TLB lets domain ${d.id} write frame 0x${f.toString(16)} (owner ${t.owner[f]}) at va 0x${(tag >>> 0).toString(16)}`);
      }
    }
  }
}
