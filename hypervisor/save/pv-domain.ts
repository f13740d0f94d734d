// One pv domain of a shared machine, saved on its own and restored on another machine whose
// frames are allocated differently: Xen's save format's canonicalisation. A pv guest names
// machine frames (its page tables' entries, its p2m list, start_info's frame fields, its grant
// entries, CR3), so the file names them by pseudo-physical frame (pfn) instead, and a restore
// names them again by the destination's machine frames. The hypervisor's frames the domain maps
// (shared info, its IDT, the L1 of the hypervisor's slot, its grant-table frames, the m2p table)
// get fixed names of their own. Host code; reads and writes only the domain's frames and state.
//
// What is saved: the domain's pages (every pfn, the page tables canonicalised), per page its
// type, type count, pin and reference count (restored with the frames renamed, as they were:
// no revalidation, so the restored domain's counts and costs are the saved ones), the m2p entries
// of its frames, and the object graph of the domain's own state (Domain, PvDomain, vCPUs, back
// ends, pending timers) through hypervisor/save/graph.ts with the shared machine's objects as
// named externals. A vCPU that was on the CPU goes on on the destination's CPU without a world
// switch, its TLB laid in with its frames renamed; the domain's time goes on from its saved time
// (PvDomain.tscOffset), so its TSC, timers and output are as if it had never moved.
//
// The guest's own copies of machine frame numbers - a register in the middle of a translation,
// a queued mmu_update, a table it is building with plain stores before pinning it - are the
// guest's business in Xen too (a Xen guest saves only from its suspend hypercall, after it has
// flushed them). This guest is not suspend-aware, so a domain is saved only at a *quiet point*:
// every vCPU blocked or in user mode, no hypercall continuation, no partial table, no block
// request in flight, every frame it owns in its physical map (pvQuietPoint; the daemon runs the
// domain on to the next one). A quiet point excludes the kernel's transient copies; a page table
// the kernel has built but not pinned yet (fork's child before it first runs) is not one the
// hypervisor can see, and is the known limit (docs/migration.md).
//
// What cannot move refuses the save with one line (pvBindings): an interdomain event channel
// or an offer of one to another domain, a grant another domain holds or may map, a mapping of
// another domain's grant. Its network back end moves with it: its ring pages renamed like the
// block ring's; the host side (sockets, the bridge port) is the daemon's (daemon/host.ts).

import { deferredCallOf, type DeferredCall } from '../../machine/deferred.ts';
import type { CpuState } from '../../machine/cpu.ts';
import type { TlbSnapshot } from '../../machine/mmu.ts';
import type { Hypervisor } from '../core/hypervisor.ts';
import type { Domain } from '../core/domain.ts';
import type { PvMode } from '../pv/mode.ts';
import { PortState, type PvDomain, type PvHost } from '../pv/state.ts';
import { PageType } from '../pv/page-types.ts';
import { BlkBack } from '../pv/blkback.ts';
import { NetBack } from '../pv/netback.ts';
import { ConsBack } from '../pv/consback.ts';
import { DomId, GrantFlags, GrantLimits, HvLayout } from '../../hypercalls/numbers.ts';
import { GrantEntry, StartInfo } from '../../hypercalls/structs.ts';
import { GraphError, classesOf, encodeGraph, restoreGraph, type EncodedGraph } from './graph.ts';
import { SaveFormatError, readSaveFile, sectionReader, writeSaveFile } from './format.ts';
import { savedClasses } from './classes.ts';
import { TRANSIENT, type SaveMeta } from './state.ts';

const PAGE = 4096;
const PTE_P = 1;
const HV_PDE: number = HvLayout.PDE;
const GRANT_ENTRIES: number = GrantLimits.ENTRIES_PER_FRAME;
const enc = new TextEncoder();

/**
 * The canonical names of the hypervisor's frames a pv domain maps (pseudo-physical frames are
 * 0 and up): shared info, the domain's IDT, the L1 of the hypervisor's directory slot, grant-table
 * frame k (GRANT - k), m2p-table frame k (M2P - k).
 */
export const enum Canon {
  SHARED = -2,
  IDT = -3,
  HV_L1 = -4,
  GRANT = -16,
  M2P = -4096,
}

/** A canonical name in a page-table entry's 20-bit frame field (the negative ones at the top of it). */
function toField(c: number): number {
  return c >= 0 ? c : 0x100000 + c;
}
function fromField(f: number): number {
  return f >= 0xf0000 ? f - 0x100000 : f;
}

/** What the META section says about a saved pv domain (beyond SaveMeta's setup, cycles and vCPUs). */
export interface PvDomainMeta {
  kind: 'pv-domain';
  /** pseudo-physical frames (the domain's p2m length) */
  pages: number;
  /** grant-table frames the domain had set up */
  grantFrames: number;
  /** the domain's own time when saved (machine cycles + its tscOffset) */
  guestCycles: number;
}

/** The domain cannot be saved now or at all; the message is one line. */
export class PvSaveRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PvSaveRefused';
  }
}

/** Per saved frame slot: the domain's pages 0..pages-1, then shared info, IDT, the hypervisor L1, the grant frames. */
interface Slots {
  pages: number;
  grantFrames: number;
  count: number;
}

function slotsOf(pages: number, grantFrames: number): Slots {
  return { pages, grantFrames, count: pages + 3 + grantFrames };
}

/** The machine frame of each slot, -1 for a pfn that is a hole. */
function slotFrames(d: PvDomain, s: Slots): Int32Array {
  const out = new Int32Array(s.count);
  const p2m = d.domain.p2m;
  for (let k = 0; k < s.pages; k++) out[k] = p2m[k]!;
  out[s.pages] = d.sharedInfoMfn;
  out[s.pages + 1] = d.idtMfn;
  out[s.pages + 2] = d.hvL1Mfn;
  for (let k = 0; k < s.grantFrames; k++) out[s.pages + 3 + k] = d.grants.frames[k]!;
  return out;
}

/** machine frame -> canonical name, for every frame the domain may name. */
function canonicalNames(host: PvHost, d: PvDomain): Map<number, number> {
  const names = new Map<number, number>();
  const p2m = d.domain.p2m;
  for (let k = 0; k < p2m.length; k++) if (p2m[k]! >= 0) names.set(p2m[k]!, k);
  names.set(d.sharedInfoMfn, Canon.SHARED);
  names.set(d.idtMfn, Canon.IDT);
  names.set(d.hvL1Mfn, Canon.HV_L1);
  d.grants.frames.forEach((f, k) => names.set(f, Canon.GRANT - k));
  host.m2pFrames.forEach((f, k) => names.set(f, Canon.M2P - k));
  return names;
}

// ================================================================================ refusals

/**
 * Why the domain cannot move at all (null: it can): what binds it to another domain or to the
 * host. One line, naming the binding.
 */
export function pvBindings(host: PvHost, d: PvDomain): string | null {
  const ev = d.events;
  for (let p = 1; p < ev.state.length; p++) {
    const st = ev.state[p]!;
    if (st === PortState.INTERDOMAIN && ev.remoteDom[p] !== DomId.BACKEND && ev.remoteDom[p] !== d.id) {
      return `its event channel ${p} is bound to domain ${ev.remoteDom[p]}'s port ${ev.remotePort[p]} (an interdomain channel cannot move with it)`;
    }
    if (st === PortState.UNBOUND && ev.remoteDom[p] !== d.id && ev.remoteDom[p] !== DomId.SELF) {
      return `its event channel ${p} is offered to domain ${ev.remoteDom[p]} (an interdomain channel cannot move with it)`;
    }
  }
  for (const m of d.grants.maps.values()) {
    return `it maps domain ${m.granter}'s grant ${m.ref} (a foreign grant cannot move with it)`;
  }
  for (const other of host.domains.values()) {
    if (other === d) continue;
    for (const m of other.grants.maps.values()) {
      if (m.granter === d.id) return `domain ${other.id} maps its grant ${m.ref} (a grant to another domain cannot move with it)`;
    }
  }
  const mem = host.mem;
  for (let k = 0; k < d.grants.frames.length; k++) {
    const base = d.grants.frames[k]! * PAGE;
    for (let e = 0; e < GRANT_ENTRIES; e++) {
      const at = base + e * GrantEntry.BYTES;
      const flags = mem.u8[at + GrantEntry.FLAGS]! | (mem.u8[at + GrantEntry.FLAGS + 1]! << 8);
      const dom = mem.u8[at + GrantEntry.DOMID]! | (mem.u8[at + GrantEntry.DOMID + 1]! << 8);
      if ((flags & GrantFlags.TYPE_MASK) !== GrantFlags.INVALID && dom !== DomId.BACKEND && dom !== d.id) {
        return `its grant ${k * GRANT_ENTRIES + e} is offered to domain ${dom} (a grant to another domain cannot move with it)`;
      }
    }
  }
  if (d.domain.devices !== null) return 'it has an emulated device model (a pv domain of the daemon has none)';
  return null;
}

/**
 * Why the domain is not at a quiet point now (null: it is): a point where the guest holds no
 * machine frame number outside what the save canonicalises (see the header).
 */
export function pvQuietPoint(hv: Hypervisor, d: PvDomain): string | null {
  const domain = d.domain;
  if (domain.stopped) return 'it has stopped';
  for (const pv of d.vcpus) {
    const v = pv.vcpu;
    const cpl = v.loaded ? hv.cpu.cpl : v.arch.cpl;
    if (v.runState !== 'blocked' && cpl !== 3) return `vCPU ${v.id} is in its kernel (ring ${cpl}), which may hold machine frame numbers of its own`;
    if (pv.pendingRelease >= 0) return `vCPU ${v.id} has a directory release unfinished`;
    if (v.ioPending) return `vCPU ${v.id} waits for an I/O read`;
  }
  const types = d.host.types;
  const owner = hv.frames.owner;
  const p2m = domain.p2m;
  let mapped = 0;
  for (let k = 0; k < p2m.length; k++) {
    const f = p2m[k]!;
    if (f < 0) continue;
    mapped++;
    if (owner[f] !== domain.id) return `its pfn ${k} is not its own frame`;
    if (types.partial[f] !== 0) return `its page table at pfn ${k} is being validated or released`;
  }
  if (hv.frames.countOwned(domain.id) !== mapped) return 'it owns a frame outside its physical map (a balloon or page flip is in progress)';
  if (d.blk instanceof BlkBack && d.blk.held().length > (d.blk.ring ? 1 : 0)) return 'a block request is in flight';
  return null;
}

// ================================================================================ save

/** Fields set to a value for the encoding and put back after it (the source domain is left as it was). */
class Swaps {
  private readonly undo: [Record<string, unknown>, string, unknown][] = [];
  set(obj: object, key: string, value: unknown): void {
    const o = obj as Record<string, unknown>;
    this.undo.push([o, key, o[key]]);
    o[key] = value;
  }
  restore(): void {
    for (let k = this.undo.length - 1; k >= 0; k--) {
      const [o, key, v] = this.undo[k]!;
      o[key] = v;
    }
  }
}

/** The objects of the shared machine a domain's graph reaches: saved by name, the destination's own at restore. */
function externalsOf(hv: Hypervisor, mode: PvMode, domain: Domain): Map<object, string> {
  return new Map<object, string>([
    [hv, 'hv'],
    [hv.machine, 'machine'],
    [hv.cpu, 'cpu'],
    [hv.mem, 'mem'],
    [hv.events, 'events'],
    [hv.scheduler, 'scheduler'],
    [hv.frames, 'frames'],
    [mode, 'pvMode'],
    [mode.host, 'pvHost'],
    [domain.config, 'config'],
    [domain.memory, 'memory'],
  ]);
}

function byName(m: Map<object, string>): Map<string, object> {
  return new Map([...m].map(([o, n]) => [n, o]));
}

/** The domain's objects a pending event may name (its timers and back ends). */
function domainObjects(d: PvDomain): Set<unknown> {
  return new Set<unknown>([d, d.domain, ...d.vcpus, ...d.domain.vcpus, d.console, d.blk, d.net].filter((x) => x !== null));
}

/** Arguments of deferred calls that are machine cycle counts (shifted to the destination's clock). */
const CYCLE_ARGS: Readonly<Record<string, readonly number[]>> = { 'pv.periodicFired': [3] };

/** Per slot: the page's bookkeeping; per vCPU that was on the CPU: its registers and TLB (canonical names). The TYPE section. */
interface TypeSection {
  type: number[];
  typeCount: number[];
  refCount: number[];
  pinned: number[];
  m2p: number[];
  /** pfns that were holes (no frame) */
  holes: number[];
  /** the p2m list's entries, start_info's fields (bit 0 shared info, bit 1 console) and the grant entries that were renamed */
  listMarks: number[];
  siMarks: number;
  grantMarks: number[];
  staleWritable: boolean;
  /** the domain's tscOffset when saved */
  tscOffset: number;
  vcpus: ({ state: CpuState; tlb: { r: number[]; w: number[]; frames: number[]; next: number[] } } | null)[];
}

/** A read pv-domain file: its META, pages, bookkeeping and the graph of its state. */
export interface SavedPvDomain {
  meta: SaveMeta & { pvDomain: PvDomainMeta };
  pages: Uint8Array;
  types: TypeSection;
  graph: EncodedGraph;
}

/**
 * The save file of one pv domain of `hv` (run by `mode`), at a quiet point; `setup` is what the
 * restoring side needs to build the template (the daemon: the definition). Throws PvSaveRefused
 * (one line) when it cannot be saved now or at all. The domain is left exactly as it was.
 */
export function savePvDomain(
  hv: Hypervisor,
  mode: PvMode,
  domain: Domain,
  setup: Record<string, unknown>,
  extra?: ReadonlyMap<object, string>,
  carry?: (call: DeferredCall) => (() => void) | null,
  /** of `extra`'s objects, those the machine's other domains use too (a bridge gateway's port): their events are not the domain's unless `carry` takes them */
  shared?: ReadonlySet<object>,
): Uint8Array {
  const host = mode.host;
  const d = mode.pv(domain);
  const bound = pvBindings(host, d);
  if (bound !== null) throw new PvSaveRefused(bound);
  const quiet = pvQuietPoint(hv, d);
  if (quiet !== null) throw new PvSaveRefused(`not at a quiet point: ${quiet}`);
  const mem = hv.mem;
  const types = host.types;
  const names = canonicalNames(host, d);
  const name = (f: number, what: string): number => {
    const c = names.get(f);
    if (c === undefined) throw new PvSaveRefused(`${what} names machine frame 0x${f.toString(16)}, which is neither its own nor one the hypervisor shares with it`);
    return c;
  };
  const pages = domain.p2m.length;
  const slots = slotsOf(pages, d.grants.frames.length);
  const frames = slotFrames(d, slots);
  const hvl1Slot = pages + 2;

  // ---- pages and their bookkeeping, the page tables canonicalised ----
  const bytes = new Uint8Array(slots.count * PAGE);
  const ts: TypeSection = {
    type: [], typeCount: [], refCount: [], pinned: [], m2p: [], holes: [], listMarks: [], siMarks: 0, grantMarks: [],
    staleWritable: types.staleWritable, tscOffset: d.tscOffset, vcpus: [],
  };
  const i32 = mem.i32;
  for (let s = 0; s < slots.count; s++) {
    const f = frames[s]!;
    if (f < 0) {
      ts.holes.push(s);
      for (const a of [ts.type, ts.typeCount, ts.refCount, ts.pinned]) a.push(0);
      ts.m2p.push(-1);
      continue;
    }
    ts.type.push(types.type[f]!);
    ts.typeCount.push(types.typeCount[f]!);
    ts.refCount.push(types.refCount[f]!);
    ts.pinned.push(types.pinned[f]!);
    ts.m2p.push(host.m2p[f]!);
    if (s === hvl1Slot) continue; // the hypervisor L1's contents are the destination's own
    bytes.set(mem.u8.subarray(f * PAGE, (f + 1) * PAGE), s * PAGE);
    const ty = types.type[f]!;
    if ((ty === PageType.L1 || ty === PageType.L2) && types.typeCount[f]! > 0) {
      const w = new Int32Array(bytes.buffer, s * PAGE, 1024);
      for (let k = 0; k < 1024; k++) {
        const e = i32[(f << 10) + k]!;
        if ((e & PTE_P) === 0) continue;
        const c = name(e >>> 12, `its ${ty === PageType.L1 ? 'page table' : 'page directory'} at pfn ${s}, entry ${k},`);
        w[k] = (toField(c) << 12) | (e & 0xfff);
      }
    }
  }
  // the guest's p2m list: the entries that agree with the hypervisor's p2m become their pfn
  const view = new DataView(bytes.buffer);
  const siPfn = d.startInfoPfn;
  if (siPfn >= 0 && siPfn < pages) {
    const p2mList = view.getUint32(siPfn * PAGE + StartInfo.MFN_LIST, true);
    if (p2mList % 4 === 0 && p2mList + pages * 4 <= pages * PAGE) {
      for (let k = 0; k < pages; k++) {
        const at = p2mList + k * 4;
        if (domain.p2m[k]! >= 0 && view.getInt32(at, true) === domain.p2m[k]!) {
          view.setInt32(at, k, true);
          ts.listMarks.push(k);
        }
      }
    }
    const si = siPfn * PAGE;
    if (view.getUint32(si + StartInfo.SHARED_INFO_MFN, true) === d.sharedInfoMfn) {
      view.setInt32(si + StartInfo.SHARED_INFO_MFN, Canon.SHARED, true);
      ts.siMarks |= 1;
    }
    const cc = names.get(view.getUint32(si + StartInfo.CONSOLE_MFN, true));
    if (cc !== undefined && cc >= 0) {
      view.setInt32(si + StartInfo.CONSOLE_MFN, cc, true);
      ts.siMarks |= 2;
    }
  }
  // grant entries' frames (the domain's own pages granted to the back ends)
  for (let k = 0; k < slots.grantFrames; k++) {
    const base = (pages + 3 + k) * PAGE;
    for (let e = 0; e < GRANT_ENTRIES; e++) {
      const at = base + e * GrantEntry.BYTES;
      if ((view.getUint16(at + GrantEntry.FLAGS, true) & GrantFlags.TYPE_MASK) === GrantFlags.INVALID) continue;
      const c = names.get(view.getUint32(at + GrantEntry.FRAME, true));
      if (c === undefined || c < 0) continue;
      view.setUint32(at + GrantEntry.FRAME, c, true);
      ts.grantMarks.push(k * GRANT_ENTRIES + e);
    }
  }

  // ---- the vCPUs: the one on the CPU with its registers and TLB ----
  const cpu = hv.cpu;
  const swaps = new Swaps();
  try {
    for (const v of domain.vcpus) {
      if (v.loaded) {
        const state = cpu.saveState();
        state.cr3 = name(state.cr3 >>> 12, 'its CR3') * PAGE;
        const tlb = cpu.mmu.tlbSnapshot();
        // an entry of a frame that is not the domain's (none is expected) is dropped: a miss later
        const tf = Array.from(tlb.frames, (f) => (f < 0 ? -1 : (names.get(f) ?? -1)));
        ts.vcpus.push({ state, tlb: { r: Array.from(tlb.r), w: Array.from(tlb.w), frames: tf.map((c) => (c === -1 ? NO_FRAME : c)), next: Array.from(tlb.next) } });
        swaps.set(v, 'loaded', false);
      } else {
        ts.vcpus.push(null);
        swaps.set(v, 'arch', { ...v.arch, cr3: name(v.arch.cr3 >>> 12, 'its CR3') * PAGE });
      }
    }
    for (const pv of d.vcpus) if (pv.baseptr >= 0) swaps.set(pv, 'baseptr', name(pv.baseptr, 'its base pointer'));
    swaps.set(d, 'sharedInfoMfn', Canon.SHARED);
    swaps.set(d, 'idtMfn', Canon.IDT);
    swaps.set(d, 'hvL1Mfn', Canon.HV_L1);
    swaps.set(d.grants, 'frames', d.grants.frames.map((_f, k) => Canon.GRANT - k));
    if (d.console instanceof ConsBack) swaps.set(d.console, 'frame', name(d.console.frame, 'its console page'));
    if (d.blk instanceof BlkBack && d.blk.ringMachineFrame >= 0) {
      const c = name(d.blk.ringMachineFrame, 'its block ring');
      swaps.set(d.blk, 'ringFrame', c);
      swaps.set(d.blk.ring!, 'page', c * PAGE);
    }
    // the network back end's two ring pages (granted by the front end, held by the back end)
    if (d.net instanceof NetBack && d.net.tx && d.net.rx) {
      const [tx, rx] = d.net.ringFrames();
      const ct = name(tx, 'its network transmit ring');
      const cr = name(rx, 'its network receive ring');
      swaps.set(d.net, 'txFrame', ct);
      swaps.set(d.net, 'rxFrame', cr);
      swaps.set(d.net.tx, 'page', ct * PAGE);
      swaps.set(d.net.rx, 'page', cr * PAGE);
    }
    swaps.set(domain.stats, 'trace', null);
    swaps.set(domain, 'logDirty', null);
    swaps.set(domain, 'logDirtyStage', null);

    // ---- its pending events (timers, back ends): time from now, and their handles ----
    // (and `extra`'s: a frame on its way to it through a bridge names its port's inbox; not `shared`'s)
    const mine = domainObjects(d);
    for (const o of extra?.keys() ?? []) if (!shared?.has(o)) mine.add(o);
    const events: [number, number, () => void][] = [];
    // (the domain's timers and back ends schedule deferred calls; a closure is never one of its events)
    for (const e of hv.events.pending()) {
      const call = deferredCallOf(e.fn);
      if (call === null) continue;
      if (mine.has(call.target) || call.args.some((a) => mine.has(a))) events.push([e.atCycle - cpu.cycles, e.handle, e.fn]);
      else {
        // an event of the shared machine's that carries something to the domain (`carry`: a frame
        // its bridge's gateway sent it, still in the gateway's latency) goes with it, as `carry` says
        const fn = carry?.(call) ?? null;
        if (fn !== null) events.push([e.atCycle - cpu.cycles, e.handle, fn]);
      }
    }

    let graph: EncodedGraph;
    try {
      graph = encodeGraph({ domain, events }, TRANSIENT, new Map([...externalsOf(hv, mode, domain), ...(extra ?? [])]));
    } catch (e) {
      if (e instanceof GraphError) throw new PvSaveRefused(e.message);
      throw e;
    }
    const meta: SaveMeta & { pvDomain: PvDomainMeta } = {
      setup,
      cycles: cpu.cycles,
      counters: {},
      vcpus: domain.vcpus.map((v) => ({ domain: domain.name, id: v.id, pc: v.loaded ? cpu.pc : v.arch.pc, cycles: v.runCycles, instructions: domain.stats.instructions })),
      pvDomain: { kind: 'pv-domain', pages, grantFrames: slots.grantFrames, guestCycles: cpu.cycles + d.tscOffset },
    };
    return writeSaveFile('pv', [
      { tag: 'META', bytes: enc.encode(JSON.stringify(meta)) },
      { tag: 'PAGE', bytes },
      { tag: 'TYPE', bytes: enc.encode(JSON.stringify(ts)) },
      { tag: 'GRPH', bytes: enc.encode(JSON.stringify(graph.records)) },
      { tag: 'BLOB', bytes: graph.blob },
    ]);
  } finally {
    swaps.restore();
  }
}

/** A TLB entry's frame that the save could not name (dropped at restore). */
const NO_FRAME = -0x7fffffff;

/** Read and check a pv-domain save file (SaveFormatError, one line, when it is not a good one). */
export function loadPvDomainFile(file: Uint8Array): SavedPvDomain {
  const { mode, sections } = readSaveFile(file);
  const { part, json } = sectionReader(sections);
  if (mode !== 'pv') throw new SaveFormatError(`it holds a ${mode} run, not a pv domain`);
  const meta = json('META') as SaveMeta & { pvDomain?: PvDomainMeta };
  if (typeof meta !== 'object' || meta === null || meta.pvDomain?.kind !== 'pv-domain') throw new SaveFormatError('it holds a whole run (xenolith run --restore), not one pv domain');
  const pd = meta.pvDomain;
  if (!Number.isInteger(pd.pages) || pd.pages <= 0 || !Number.isInteger(pd.grantFrames) || pd.grantFrames < 0 || pd.grantFrames > GrantLimits.MAX_FRAMES || typeof meta.cycles !== 'number') {
    throw new SaveFormatError('section META has bad pages, grant frames or cycles');
  }
  const slots = slotsOf(pd.pages, pd.grantFrames);
  const pages = part('PAGE').slice(); // its own buffer: read as words
  if (pages.length !== slots.count * PAGE) throw new SaveFormatError(`section PAGE has ${pages.length} bytes; META says ${slots.count} pages`);
  const types = json('TYPE') as TypeSection;
  const arrays = [types?.type, types?.typeCount, types?.refCount, types?.pinned, types?.m2p];
  if (typeof types !== 'object' || types === null || arrays.some((a) => !Array.isArray(a) || a.length !== slots.count) || !Array.isArray(types.vcpus) || types.vcpus.length < 1 || types.vcpus.filter((v) => v !== null).length > 1) {
    throw new SaveFormatError('section TYPE does not match META');
  }
  for (const list of [types.holes, types.listMarks, types.grantMarks]) {
    if (!Array.isArray(list) || list.some((x) => !Number.isInteger(x) || x < 0)) throw new SaveFormatError('section TYPE has a bad list');
  }
  if (types.holes.some((h) => h >= pd.pages) || types.listMarks.some((h) => h >= pd.pages) || types.grantMarks.some((g) => g >= pd.grantFrames * GRANT_ENTRIES)) {
    throw new SaveFormatError('section TYPE names a page outside the domain');
  }
  const records = json('GRPH');
  if (!Array.isArray(records)) throw new SaveFormatError('section GRPH is not a list of records');
  return { meta: meta as SavedPvDomain['meta'], pages, types, graph: { records: records as EncodedGraph['records'], blob: part('BLOB') } };
}

/** The machine frames of the destination by canonical name; null for a name that has none. */
function resolver(host: PvHost, d: PvDomain, p2m: Int32Array, holes: ReadonlySet<number>, grant: readonly number[]): (c: number) => number | null {
  return (c: number): number | null => {
    if (c >= 0) return c < p2m.length && !holes.has(c) ? p2m[c]! : null;
    if (c === Canon.SHARED) return d.sharedInfoMfn;
    if (c === Canon.IDT) return d.idtMfn;
    if (c === Canon.HV_L1) return d.hvL1Mfn;
    if (c <= Canon.M2P) return Canon.M2P - c < host.m2pFrames.length ? host.m2pFrames[Canon.M2P - c]! : null;
    if (c <= Canon.GRANT) return Canon.GRANT - c < grant.length ? grant[Canon.GRANT - c]! : null;
    return null;
  };
}

/**
 * Lay a saved pv domain over `template`: a domain of `hv` just built by `mode` from the same setup
 * (same memory, kernel and back ends) and never run. It keeps its id and its frames; the saved
 * pages, bookkeeping and state are written into them, renamed, and its vCPU goes on where it was
 * saved (on the CPU, without a world switch, if it was on its CPU then). All or nothing: a file
 * that does not fit is refused (SaveFormatError) before anything is changed - the caller then
 * destroys the template as it would any new domain.
 */
export function restorePvDomain(hv: Hypervisor, mode: PvMode, saved: SavedPvDomain, template: Domain, extra?: ReadonlyMap<string, object>): void {
  const meta = saved.meta.pvDomain;
  const host = mode.host;
  const types = host.types;
  const d = mode.pv(template);
  const pages = template.p2m.length;
  if (meta.pages !== pages) throw new SaveFormatError(`the domain had ${meta.pages} pages; this one has ${pages}`);
  if (d.grants.frames.length !== 0 || template.vcpus.some((v) => v.runCycles !== 0)) throw new SaveFormatError('the restoring domain has run already');
  if (saved.types.vcpus.length !== template.vcpus.length) throw new SaveFormatError(`the domain had ${saved.types.vcpus.length} vCPUs; this one has ${template.vcpus.length}`);
  if (meta.grantFrames > hv.frames.freeFrames) throw new SaveFormatError(`its ${meta.grantFrames} grant-table frames do not fit in this machine's free memory`);
  const slots = slotsOf(pages, meta.grantFrames);
  const ts = saved.types;
  const holes = new Set(ts.holes);
  const p2m = template.p2m;
  const hvl1Slot = pages + 2;

  // ---- every check before anything is written: the pages' names resolve here ----
  const fake = resolver(host, d, p2m, holes, Array.from({ length: meta.grantFrames }, (_x, k) => -100 - k));
  const src = new Int32Array(saved.pages.buffer, saved.pages.byteOffset, saved.pages.length >>> 2);
  for (let s = 0; s < slots.count; s++) {
    const ty = ts.type[s]!;
    if (s === hvl1Slot || holes.has(s) || !((ty === PageType.L1 || ty === PageType.L2) && ts.typeCount[s]! > 0)) continue;
    for (let k = 0; k < 1024; k++) {
      const e = src[s * 1024 + k]!;
      if ((e & PTE_P) !== 0 && fake(fromField(e >>> 12)) === null) throw new SaveFormatError(`page ${s}, entry ${k} names frame ${fromField(e >>> 12)}, which this domain has not`);
    }
  }
  // the vCPU that was on the CPU (at most one: the shared machine has one physical CPU)
  const onCpu = ts.vcpus.findIndex((v) => v !== null);
  const vs = onCpu >= 0 ? ts.vcpus[onCpu]! : null;
  if (vs && fake(vs.state.cr3 / PAGE) === null) throw new SaveFormatError('its CR3 names a frame this domain has not');
  if (vs && (vs.tlb.r.length !== 2 * vs.tlb.frames.length || vs.tlb.frames.length !== hv.cpu.mmu.tlbEntries)) throw new SaveFormatError('its TLB is of another geometry');

  // ---- the domain's state over the template's objects (all or nothing) ----
  const keep = { id: template.id, trace: template.stats.trace, shared: d.sharedInfoMfn, idt: d.idtMfn, hvl1: d.hvL1Mfn };
  const root = { domain: template, events: [] as [number, number, () => void][] };
  const classes = new Map(savedClasses());
  for (const [k, v] of classesOf(template, TRANSIENT)) classes.set(k, v);
  try {
    restoreGraph(saved.graph, root, classes, TRANSIENT, new Map([...byName(externalsOf(hv, mode, template)), ...(extra ?? [])]));
  } catch (e) {
    if (e instanceof GraphError) throw new SaveFormatError(`the domain does not fit here: ${e.message}`);
    throw e;
  }

  // ---- from here on nothing can fail ----
  const oldId = template.id;
  (template as unknown as { id: number }).id = keep.id;
  const newId = keep.id;
  template.stats.traceDom = newId;
  template.stats.trace = keep.trace;
  const ev = d.events;
  for (let p = 1; p < ev.state.length; p++) {
    if ((ev.state[p] === PortState.INTERDOMAIN || ev.state[p] === PortState.UNBOUND) && ev.remoteDom[p] === oldId) ev.remoteDom[p] = newId;
  }
  d.sharedInfoMfn = keep.shared;
  d.idtMfn = keep.idt;
  d.hvL1Mfn = keep.hvl1;
  const grant: number[] = [];
  for (let k = 0; k < meta.grantFrames; k++) grant.push(host.allocShared(newId));
  d.grants.frames.length = 0;
  d.grants.frames.push(...grant);
  const frameOf = resolver(host, d, p2m, holes, grant);
  const rename = (c: number): number => frameOf(c) ?? -1;

  // holes: their frames go back to the machine
  for (const k of holes) {
    const f = p2m[k]!;
    host.setP2mSlot(f, -1);
    types.clear(f);
    hv.frames.release(f, newId);
    p2m[k] = -1;
  }

  // time: the domain's clock goes on from its saved time on this machine's clock
  const delta = hv.cpu.cycles - saved.meta.cycles;
  d.tscOffset = ts.tscOffset - delta;
  for (const pv of d.vcpus) {
    // every time stamp of a vCPU is a machine cycle: the offline time vcpu_op reports to the guest, the stretches a spin is counted in
    pv.createdAt += delta;
    if (pv.blockedSince >= 0) pv.blockedSince += delta;
    if (pv.offlineSince >= 0) pv.offlineSince += delta;
    pv.runningSince += delta;
    for (let k = 0; k < pv.stretchStart.length; k++) {
      pv.stretchStart[k]! += delta;
      pv.stretchEnd[k]! += delta;
    }
    if (pv.baseptr >= 0) pv.baseptr = rename(pv.baseptr);
    if (pv.pendingRelease >= 0) pv.pendingRelease = rename(pv.pendingRelease);
  }
  if (d.console instanceof ConsBack) (d.console as { frame: number }).frame = rename(d.console.frame);
  if (d.blk instanceof BlkBack) d.blk.moved(d.blk.ringMachineFrame >= 0 ? rename(d.blk.ringMachineFrame) : -1, delta);
  if (d.net instanceof NetBack && d.net.tx) {
    const [tx, rx] = d.net.ringFrames();
    d.net.moved(rename(tx), rename(rx));
  }

  // its pending events, in their order, at the same distance from now; the timers' new handles
  const handle = new Map<number, number>();
  for (const [rel, old, fn] of root.events) {
    const call = deferredCallOf(fn);
    for (const i of (call && CYCLE_ARGS[call.name]) ?? []) call!.args[i] = (call!.args[i] as number) + delta;
    handle.set(old, hv.events.schedule(hv.cpu.cycles + rel, fn));
  }
  for (const pv of d.vcpus) {
    pv.timerHandle = pv.timerHandle >= 0 ? (handle.get(pv.timerHandle) ?? -1) : -1;
    pv.periodicHandle = pv.periodicHandle >= 0 ? (handle.get(pv.periodicHandle) ?? -1) : -1;
  }

  // the scheduler: a blocked (or paused) vCPU waits, a runnable one is queued
  for (const v of template.vcpus) {
    if (v.runState === 'runnable' && template.state === 'running') hv.scheduler.wake(v);
    else hv.scheduler.block(v);
  }
  for (const v of template.vcpus) v.arch = { ...v.arch, cr3: rename(v.arch.cr3 / PAGE) * PAGE };

  // the vCPU that was on its CPU goes on on this one, with its TLB (before the pages: loading it
  // restamps the time record in shared info, which the saved page then overwrites as it was)
  for (const v of template.vcpus) v.loaded = false;
  const v0 = template.vcpus[Math.max(0, onCpu)]!;
  if (vs) {
    v0.arch = { ...vs.state, cr3: rename(vs.state.cr3 / PAGE) * PAGE };
    hv.adoptCurrent(v0);
    const frames = Int32Array.from(vs.tlb.frames, (c) => (c === NO_FRAME ? -1 : rename(c)));
    hv.cpu.mmu.loadTlb({ r: Int32Array.from(vs.tlb.r), w: Int32Array.from(vs.tlb.w), frames, next: Uint8Array.from(vs.tlb.next) });
    types.staleWritable = ts.staleWritable;
  } else {
    types.staleWritable = types.staleWritable || ts.staleWritable;
  }

  // ---- the pages, renamed, and their bookkeeping ----
  const mem = hv.mem;
  const page = new Uint8Array(PAGE);
  const w = new Int32Array(page.buffer);
  const pv = new DataView(page.buffer);
  const list = new Set(ts.listMarks);
  const grantMarks = new Set(ts.grantMarks);
  const siPfn = d.startInfoPfn;
  for (let s = 0; s < slots.count; s++) {
    if (holes.has(s)) continue;
    const f = s < pages ? p2m[s]! : s === pages ? d.sharedInfoMfn : s === pages + 1 ? d.idtMfn : s === hvl1Slot ? d.hvL1Mfn : grant[s - pages - 3]!;
    types.type[f] = ts.type[s]!;
    types.typeCount[f] = ts.typeCount[s]!;
    types.refCount[f] = ts.refCount[s]!;
    types.pinned[f] = ts.pinned[s]!;
    types.partial[f] = 0;
    types.progress[f] = 0;
    types.failErr[f] = 0;
    if (s < pages) host.setM2p(f, ts.m2p[s]!);
    if (s === hvl1Slot) continue;
    page.set(saved.pages.subarray(s * PAGE, (s + 1) * PAGE));
    const ty = ts.type[s]!;
    if ((ty === PageType.L1 || ty === PageType.L2) && ts.typeCount[s]! > 0) {
      for (let k = 0; k < 1024; k++) {
        const e = w[k]!;
        if ((e & PTE_P) !== 0) w[k] = (rename(fromField(e >>> 12)) << 12) | (e & 0xfff);
      }
    }
    if (s === siPfn) {
      if (ts.siMarks & 1) pv.setUint32(StartInfo.SHARED_INFO_MFN, d.sharedInfoMfn, true);
      if (ts.siMarks & 2) pv.setUint32(StartInfo.CONSOLE_MFN, rename(pv.getInt32(StartInfo.CONSOLE_MFN, true)), true);
    }
    if (s > hvl1Slot) {
      const k = s - pages - 3;
      for (let e = 0; e < GRANT_ENTRIES; e++) {
        if (!grantMarks.has(k * GRANT_ENTRIES + e)) continue;
        const at = e * GrantEntry.BYTES + GrantEntry.FRAME;
        pv.setUint32(at, rename(pv.getUint32(at, true)), true);
      }
    }
    mem.writeBytes(f * PAGE, page);
  }
  // the p2m list, wherever it lies in the domain's pages
  if (siPfn >= 0 && list.size > 0) {
    const p2mList = mem.read32(p2m[siPfn]! * PAGE + StartInfo.MFN_LIST) >>> 0;
    for (const k of list) {
      const gpa = p2mList + k * 4;
      const ma = template.memory.machineAddress(gpa);
      if (ma >= 0) mem.write32(ma, p2m[k]!);
    }
  }
}


/**
 * Run the machine on until `domain` is at a quiet point (null), it stops, or `maxSteps` calls of
 * `step` (one slice of the machine, as its owner runs it) go by (then: why it is not quiet). The
 * other domains run too: the machine goes on as it would have, and the save comes a few slices
 * later. Slices, not single instructions: a hypervisor entry is not quite invisible to the guest
 * (an event it unmasked without a hypercall is delivered at the next entry), so the search adds
 * no entries the machine's own slicing would not have made.
 */
export function runToQuietPoint(hv: Hypervisor, mode: PvMode, domain: Domain, step: () => void, maxSteps: number): string | null {
  const d = mode.pv(domain);
  let why = pvQuietPoint(hv, d);
  for (let k = 0; k < maxSteps && why !== null && !domain.stopped; k++) {
    step();
    why = pvQuietPoint(hv, d);
  }
  return why;
}

/** The pv-domain part of a save file's META, or null if the file holds a whole run. */
export function pvDomainMeta(saved: { meta: SaveMeta }): PvDomainMeta | null {
  const m = (saved.meta as SaveMeta & { pvDomain?: PvDomainMeta }).pvDomain;
  return m !== undefined && m !== null && m.kind === 'pv-domain' ? m : null;
}
