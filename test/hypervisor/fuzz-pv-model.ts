// Model-based fuzzing of the PV interface (fast-check commands): three colluding PV domains (with
// disks and network back ends), on hosts in turn alone or next to a trap, bt or hvm domain, issue hypercall sequences - mmu_update,
// mmuext_op (pin, unpin, new base pointer, flushes), update_va_mapping, grant entries, map and
// unmap, grant copies, a hostile netfront's ring requests and frames from the wire (grant copy and
// transfer by the network back end; a flip buffer is posted as a front end does, its page unmapped
// and given back first, and a frame follows at once, so page flips come in every CI slice), event channels, multicall, memory_op ballooning, one-shot and periodic timers (any
// 64-bit deadline, 2^64 - 1 ns included), block requests on each domain's ring to the back end
// (ring and data pages granted to it, valid and broken requests, a producer index past the ring) - and plain stores through the real CPU (and so its TLB)
// to their own virtual addresses; and runs of the host's own scheduler, every domain taking its
// turn, with a cycle limit or, on every other pair of hosts, with none (the run is ended by a
// stop at a host event, as the daemon's stop does). The model keeps what the domains learned
// (grant handles, ports) to aim later commands. The argument page and the code stay mapped (no
// command targets their entries or loads another directory), so every command reaches the hypervisor; the hypervisor is checked after every step:
//  - cheap, every step: the TLB holds no writable translation the running domain may not have,
//    every grant mapping sits in a validated L1 of its mapper with exactly the grant's rights, and
//    each result is 0, a count or an HcErr;
//  - every `fullEvery` steps and at the end: the frame table recomputed from scratch
//    (pv-invariants.ts), one owner per frame;
//  - after a host run: it ended where it should (the limit, or the stop event's cycle: the clock
//    is exact and never frozen, whatever timers the domains set), and every domain still live
//    and runnable ran during it (no domain starves the others);
//  - whenever the acting domain changes: the other domains' memory and the hypervisor's state
//    (their p2m, m2p, owners and frame types; hypervisor-private frames) hashed before and after
//    the actor's run of commands are equal, but for the documented channels (frames they granted
//    writable and the actor mapped or may reach by grant copy, reference counts of frames the actor mapped through a grant,
//    shared-info and grant-table pages, the published m2p table).
// Used by fuzz-pv-model.test.ts (a fixed-seed slice in CI), the deep suite and `npm run fuzz`.

import fc from 'fast-check';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { OWNER_HYPERVISOR } from '../../hypervisor/core/frames.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { BtMode } from '../../hypervisor/bt/mode.ts';
import { HvmMode } from '../../hypervisor/hvm/mode.ts';
import { TrapMode } from '../../hypervisor/trap/mode.ts';
import { PvMode } from '../../hypervisor/pv/mode.ts';
import type { PvDomain } from '../../hypervisor/pv/state.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { DomId, EvtchnCmd, GnttabCmd, GntcopyFlags, GntmapFlags, GrantFlags, Hc, MemoryCmd, MmuCmd, MmuextCmd, UvmFlags, VcpuCmd } from '../../hypercalls/numbers.ts';
import { BlkifOp, BlkifReq, BlkifSeg, GntMap, MulticallEntry } from '../../hypercalls/structs.ts';
import { RingHeader } from '../../hypercalls/ring.ts';
import { END_OF_TIME } from '../../machine/clock.ts';
import { Exit } from '../../machine/types.ts';
import { assemble } from '../../toolchain/asm/index.ts';
import { loadVcpu, STORE_GUEST } from './pv-helpers.ts';
import { checkOwnership, checkTlb, checkTypes } from './pv-invariants.ts';

const PAGE = 4096;
const P = 1;
const W = 2;
const U = 4;
const A = 32;
const D = 64;
const SELF: number = DomId.SELF;
const PV_DOMAINS = 3;
/** a multicall entry's RESULT before the call (no hypercall returns it) */
const NOT_RUN = 0x7eadbeef;
const DOMAIN_BYTES = 1280 * 1024;
/** frames the domains' network back ends sent (a sink: the fuzz hosts have no wire) */
let wireFrames = 0;
/** the fuzz hosts' round-robin slice: short, so one host run of RUN_MIN cycles gives every domain a turn */
const SLICE = 500;
/** a host run lasts this many cycles at least (every one of four domains gets a slice, with world switches to spare) */
const RUN_MIN = 20_000;
/** Focus pages per domain (pseudo-physical, after the argument page): tables, stores, grants. */
const FOCUS = 4;
/** Directory slots the commands hook tables into (slot 0 is the bootstrap map: arguments and code live there). */
const SLOTS = [1, 2];
const KNOWN_ERRORS = new Set<number>([
  HcErr.EPERM, HcErr.ENOENT, HcErr.ESRCH, HcErr.EIO, HcErr.E2BIG, HcErr.EBADF, HcErr.EAGAIN, HcErr.ENOMEM, HcErr.EACCES,
  HcErr.EFAULT, HcErr.EBUSY, HcErr.EEXIST, HcErr.EINVAL, HcErr.ENOSPC, HcErr.ENOSYS,
]);

/** The guest: a spin loop, and the store the harness makes it execute (`stw [r1], r2`, then a hypercall exit). */
const IMAGE = STORE_GUEST;
const STORE_PC = IMAGE.symbols.find((s) => s.name === 'store')!.addr;
const SPIN_PC = IMAGE.symbols.find((s) => s.name === '_start')!.addr;
const NATIVE = assemble('  .org 0x100000\n_start:\n  jmp _start\n', 'spin.s').image;

// ------------------------------------------------------------------------------------------------ the system under test

interface Dom {
  d: Domain;
  pv: PvDomain;
  /** virtual (= pseudo-physical) address of the page hypercall arguments are written to */
  arg: number;
  /** pseudo-physical frames of the focus pages */
  focus: number[];
  /** the bootstrap directory and its first table (machine frames) */
  l2: number;
  l1: number;
}

/** Counters: they must add up (issued = ok + failed per hypercall, and equal the hypervisor's own statistics). */
export class FuzzCounters {
  /** hypercalls made (multicall entries in `batched`) */
  readonly issued = new Float64Array(64);
  readonly batched = new Float64Array(64);
  readonly ok = new Float64Array(64);
  readonly failed = new Float64Array(64);
  stores = 0;
  storesRefused = 0;
  /** runs of the host's scheduler, those of them with no cycle limit, and the cycles they ran */
  hostRuns = 0;
  hostRunsUnlimited = 0;
  hostCycles = 0;
  /** grant maps that succeeded (their status word), host mappings among them */
  grantMaps = 0;
  grantHostMaps = 0;
  /** grant copies that succeeded (their status word) */
  grantCopies = 0;
  /** the network back ends: frames sent, received by copy and by page flip, requests refused */
  netSent = 0;
  netCopied = 0;
  netFlipped = 0;
  netRefused = 0;
  /** block requests written to a ring page the domain may write, and the back end's notifications each way */
  blkRequests = 0;
  blkNotifyIn = 0;
  blkNotifyOut = 0;
  cheapChecks = 0;
  fullChecks = 0;
  hashChecks = 0;
  steps = 0;
  runs = 0;

  get hypercalls(): number {
    let n = 0;
    for (let k = 0; k < 64; k++) n += this.issued[k]! + this.batched[k]!;
    return n;
  }

  get checks(): number {
    return this.cheapChecks + this.fullChecks + this.hashChecks;
  }
}

export class Real {
  readonly hv: Hypervisor;
  readonly mode: PvMode;
  readonly doms: Dom[] = [];
  /** a domain of another mode on the same host, or null */
  readonly other: Domain | null;
  /** the domain acting since the last hash baseline, and the baseline of every other domain */
  actor = -1;
  private baseline: Int32Array[] = [];
  /** machine memory when the actor began, and Buffers over it and over machine memory (compared a frame at a time, with no allocation) */
  private readonly snapshot: Uint8Array;
  private readonly snapBuf: Buffer;
  private readonly memBuf: Buffer;
  /** frames (of others) the actor mapped through grants during its run: their counts may change, writable ones their contents */
  readonly grantCounted = new Set<number>();
  readonly grantWritten = new Set<number>();
  /** per pv domain: the machine frame of its block ring once a request went to it, else -1 */
  readonly blkRing: number[] = [];
  private sinceFull = 0;

  /** other: the mode of a fourth domain on the host, none for a pv-only host */
  constructor(
    readonly counters: FuzzCounters,
    readonly fullEvery: number,
    other: 'none' | 'trap' | 'bt' | 'hvm',
    /** host runs have no cycle limit (a stop event ends them) */
    readonly unlimited = false,
  ) {
    this.hv = new Hypervisor({ memoryBytes: 6 * 1024 * 1024, scheduler: new RoundRobinScheduler(SLICE) });
    this.mode = new PvMode();
    for (let k = 0; k < PV_DOMAINS; k++) {
      const d = this.hv.createDomain(this.mode, { name: `pv${k}`, memoryBytes: DOMAIN_BYTES, devices: false, disk: new Uint8Array(16 * 512), onTransmit: () => void wireFrames++ }, { kernel: IMAGE });
      const lay = this.mode.layouts.get(d.id)!;
      const pv = this.mode.pv(d);
      const dom: Dom = {
        d, pv, arg: lay.firstFreePfn * PAGE,
        focus: Array.from({ length: FOCUS }, (_, j) => lay.firstFreePfn + 1 + j),
        l2: d.p2m[lay.ptFirstPfn]!, l1: d.p2m[lay.ptFirstPfn + 1]!,
      };
      this.doms.push(dom);
      this.blkRing.push(-1);
      // a grant table of one frame, as the guest sets it up
      [SELF, 1, -1, dom.arg + 0x100].forEach((v, j) => d.memory.write32(dom.arg + 4 * j, v >>> 0));
      if (this.call(k, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, dom.arg, 1) !== 0) throw new Error('grant table setup failed');
    }
    this.snapshot = new Uint8Array(this.hv.mem.u8.length);
    this.snapBuf = Buffer.from(this.snapshot.buffer, this.snapshot.byteOffset, this.snapshot.byteLength);
    this.memBuf = Buffer.from(this.hv.mem.u8.buffer, this.hv.mem.u8.byteOffset, this.hv.mem.u8.byteLength);
    const otherMode = other === 'trap' ? new TrapMode() : other === 'bt' ? new BtMode() : other === 'hvm' ? new HvmMode() : null;
    this.other = otherMode ? this.hv.createDomain(otherMode, { name: other, memoryBytes: DOMAIN_BYTES }, { image: NATIVE }) : null;
  }

  dom(k: number): Dom {
    return this.doms[k % PV_DOMAINS]!;
  }

  /** Hypercall nr by pv domain k (its vCPU put on the CPU), counted. */
  call(k: number, nr: number, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
    const v = this.dom(k).d.vcpus[0]!;
    loadVcpu(this.hv, v);
    const r = this.mode.hypercall(v, nr, a1, a2, a3, a4, a5);
    this.counters.issued[nr]!++;
    if (r < 0) this.counters.failed[nr]!++;
    else this.counters.ok[nr]!++;
    if (!Number.isInteger(r) || (r < 0 && !KNOWN_ERRORS.has(r))) throw new Error(`hypercall ${nr} returned ${r}`);
    return r;
  }

  /**
   * Count the entries of a multicall from their RESULT words (which held NOT_RUN before the call):
   * the hypervisor runs no more entries once the domain has stopped.
   */
  countBatched(k: number, at: number, ops: number[]): void {
    ops.forEach((op, j) => {
      const r = this.dom(k).d.memory.read32(at + j * MulticallEntry.BYTES + MulticallEntry.RESULT) | 0;
      if (r === NOT_RUN) return;
      this.counters.batched[op]!++;
      if (r < 0) this.counters.failed[op]!++;
      else this.counters.ok[op]!++;
    });
  }

  /** Write words at the domain's virtual (= pseudo-physical, in the bootstrap map) address. */
  put(k: number, va: number, words: number[]): void {
    const m = this.dom(k).d.memory;
    words.forEach((w, j) => m.write32(va + 4 * j, w >>> 0));
  }

  /** A plain store by the guest through the real CPU (and its TLB): true if it was done. */
  store(k: number, va: number, value: number): boolean {
    const v = this.dom(k).d.vcpus[0]!;
    loadVcpu(this.hv, v);
    const cpu = this.hv.cpu;
    cpu.regs[1] = va;
    cpu.regs[2] = value;
    cpu.pc = STORE_PC;
    const x = cpu.run(cpu.cycles + 1000);
    // back to the spin loop: the harness's exit hypercall is not the guest's to make when the host runs it
    cpu.pc = SPIN_PC;
    this.counters.stores++;
    if (x !== Exit.Hypercall) this.counters.storesRefused++;
    return x === Exit.Hypercall;
  }

  /**
   * Run the host's scheduler for `cycles`: with a cycle limit, or with none and a host event that
   * stops the run (the daemon's stop). Every domain runs, so the run ends the actor's period for
   * the hash comparison (compared before, baselines taken again at the next actor); the run is
   * judged by where it ended and by who ran.
   */
  runHost(cycles: number): void {
    const hv = this.hv;
    const cpu = hv.cpu;
    if (this.actor >= 0) this.switchActor(-1);
    const all = [...this.doms.map((x) => x.d), ...(this.other ? [this.other] : [])];
    const ran = all.map((d) => d.stats.runCycles);
    const live = all.map((d) => !d.stopped && d.vcpus.some((v) => v.runState === 'runnable'));
    const start = cpu.cycles;
    const at = start + cycles;
    const stop = this.unlimited ? hv.events.schedule(at, () => hv.stop()) : 0;
    const res = this.unlimited ? hv.run() : hv.run({ maxCycles: cycles });
    hv.events.cancel(stop); // (a run that ended with every domain stopped left it)
    this.counters.hostRuns++;
    if (this.unlimited) this.counters.hostRunsUnlimited++;
    this.counters.hostCycles += cpu.cycles - start;
    if (!Number.isSafeInteger(cpu.cycles) || cpu.cycles >= END_OF_TIME) throw new Error(`the clock left exact arithmetic: ${cpu.cycles}`);
    if (res.reason !== (this.unlimited ? 'stopped' : 'limit') && res.reason !== 'all-stopped') {
      throw new Error(`a host run of ${cycles} cycles (${this.unlimited ? 'no cycle limit' : 'limited'}) ended '${res.reason}' (${res.detail ?? ''}) at +${cpu.cycles - start}`);
    }
    // (one hypercall step's charge may carry it past the mark, never far)
    if (res.reason !== 'all-stopped' && (cpu.cycles < at || cpu.cycles > at + 10_000_000)) {
      throw new Error(`a host run of ${cycles} cycles ended at +${cpu.cycles - start}`);
    }
    all.forEach((d, j) => {
      if (live[j] && !d.stopped && d.stats.runCycles === ran[j]) throw new Error(`domain ${d.id} (${d.name}) did not run in a host run of ${cycles} cycles`);
    });
  }

  /** Before a step: when the actor changes, the others' hashes are compared and taken again. */
  enter(actor: number): void {
    if (actor !== this.actor) this.switchActor(actor);
  }

  /** After every step: the cheap checks, and the full ones every fullEvery steps. */
  check(): void {
    const c = this.counters;
    c.steps++;
    checkTlb(this.hv, this.mode);
    this.checkGrantMappings();
    c.cheapChecks++;
    if (++this.sinceFull >= this.fullEvery) this.fullCheck();
  }

  fullCheck(): void {
    this.sinceFull = 0;
    const pvDoms = this.doms.map((x) => x.d);
    checkOwnership(this.hv, [...pvDoms, ...(this.other ? [this.other] : [])], { p2mSlot: this.mode.host.p2mSlot, domains: pvDoms });
    checkTypes(this.hv, this.mode);
    this.counters.fullChecks++;
  }

  /** Every grant mapping is in a validated L1 of its mapper, with exactly its grant's rights (checkTypes does this too, for all). */
  private checkGrantMappings(): void {
    const t = this.mode.host.types;
    const m32 = this.hv.mem.i32;
    for (const x of this.doms) {
      for (const g of x.pv.grants.maps.values()) {
        if (!g.readonly) this.grantWritten.add(g.frame);
        this.grantCounted.add(g.frame);
        if (g.pteAddr < 0) continue;
        const l1 = g.pteAddr >>> 12;
        if (!(t.isTable(l1) && t.type[l1] === 1 && t.owner[l1] === x.d.id)) throw new Error(`domain ${x.d.id}'s grant mapping at 0x${g.pteAddr.toString(16)} outlived its page table`);
        const want = ((g.frame * PAGE) | P | A | (g.readonly ? 0 : W | D)) >>> 0;
        if (m32[g.pteAddr >>> 2]! >>> 0 !== want) throw new Error(`domain ${x.d.id}'s grant mapping at 0x${g.pteAddr.toString(16)} holds 0x${(m32[g.pteAddr >>> 2]! >>> 0).toString(16)}, not 0x${want.toString(16)}`);
      }
    }
  }

  /** The actor changes: compare the others with their baselines, then take new baselines. */
  switchActor(next: number): void {
    if (this.actor >= 0) {
      const who = `while domain ${this.dom(this.actor).d.id} acted`;
      this.doms.forEach((_, k) => {
        if (k !== this.actor) this.compareDomain(k, who);
      });
      if (this.other) this.compareOther(who);
      this.compareHypervisor(who);
      this.counters.hashChecks++;
    }
    this.actor = next;
    this.grantCounted.clear();
    this.grantWritten.clear();
    // with no actor (a host run, the end of a run) nothing is compared with baselines: take none
    if (next < 0) return;
    for (const x of this.doms) for (const g of x.pv.grants.maps.values()) {
      this.grantCounted.add(g.frame);
      if (!g.readonly) this.grantWritten.add(g.frame);
    }
    // grant copy (GNTTABOP_copy) writes, without a mapping, into frames granted writable to the actor
    const actorId = this.dom(next).d.id;
    const { u16, i32 } = this.hv.mem;
    for (const x of this.doms) {
      if (x === this.dom(next)) continue;
      for (const table of x.pv.grants.frames) {
        // entries of 8 bytes: flags (16 bits), domain (16 bits), frame (32 bits)
        for (let e = (table * PAGE) >>> 1, end = e + PAGE / 2; e < end; e += 4) {
          const flags = u16[e]!;
          if ((flags & 3) === GrantFlags.PERMIT_ACCESS && (flags & GrantFlags.READONLY) === 0 && u16[e + 1] === actorId) this.grantWritten.add(i32[(e >>> 1) + 1]! >>> 0);
        }
      }
    }
    this.baseline = this.doms.map((_, k) => this.frameState(k));
    this.snapshot.set(this.hv.mem.u8);
  }

  /**
   * Per pseudo-physical frame of a domain: its machine frame and what the hypervisor keeps about
   * it (owner, m2p, pin; type and counts), then the domain's grant mappings and base pointer.
   * (Frame contents are compared with the memory snapshot.)
   */
  private frameState(k: number): Int32Array {
    const { d, pv } = this.dom(k);
    const t = this.mode.host.types;
    const n = d.p2m.length;
    const out = new Int32Array(3 * n + 2);
    for (let pfn = 0; pfn < n; pfn++) {
      const f = d.p2m[pfn]!;
      out[3 * pfn] = f;
      if (f < 0) continue;
      out[3 * pfn + 1] = t.owner[f]! * 31 + this.mode.host.m2p[f]! * 131 + t.pinned[f]!;
      out[3 * pfn + 2] = t.type[f]! + t.typeCount[f]! * 8 + t.refCount[f]! * 65536;
    }
    out[3 * n] = pv.grants.maps.size;
    out[3 * n + 1] = pv.vcpus[0]!.baseptr;
    return out;
  }

  /** Has machine frame f changed since the snapshot? */
  private frameWritten(f: number): boolean {
    const at = f * PAGE;
    return this.memBuf.compare(this.snapBuf, at, at + PAGE, at, at + PAGE) !== 0;
  }

  /**
   * Domain k did not act: its frames are as before, but for the documented channels - the
   * contents of frames it granted writable that the actor mapped, the counts of frames the actor
   * mapped through a grant.
   */
  private compareDomain(k: number, who: string): void {
    const before = this.baseline[k]!;
    const now = this.frameState(k);
    const id = this.dom(k).d.id;
    for (let pfn = 0; 3 * pfn < now.length - 2; pfn++) {
      const f = now[3 * pfn]!;
      if (f !== before[3 * pfn]) throw new Error(`domain ${id}'s pseudo-physical frame 0x${pfn.toString(16)} moved ${who}`);
      if (f < 0) continue;
      if (!this.grantWritten.has(f) && this.frameWritten(f)) throw new Error(`domain ${id}'s frame 0x${f.toString(16)} was written ${who}`);
      if (now[3 * pfn + 1] !== before[3 * pfn + 1]) throw new Error(`domain ${id}'s frame 0x${f.toString(16)} changed owner, m2p entry or pin ${who}`);
      if (now[3 * pfn + 2] !== before[3 * pfn + 2] && !this.grantCounted.has(f)) throw new Error(`domain ${id}'s frame 0x${f.toString(16)} changed type or counts ${who}`);
    }
    const n = now.length - 2;
    if (now[n] !== before[n] || now[n + 1] !== before[n + 1]) throw new Error(`domain ${id}'s grant mappings or base pointer changed ${who}`);
  }

  /** The other mode's domain: its frames are as before. */
  private compareOther(who: string): void {
    for (const f of this.other!.p2m) if (f >= 0 && this.frameWritten(f)) throw new Error(`the ${this.other!.name} domain's frame 0x${f.toString(16)} was written ${who}`);
  }

  /** Hypervisor-private frames (IDTs, the reserved L1s, frame 0; not the shared pages, not the published m2p table, not the actor's own IDT) are as before. */
  private compareHypervisor(who: string): void {
    const host = this.mode.host;
    const owner = this.hv.frames.owner;
    const actorIdt = this.dom(this.actor).pv.idtMfn;
    const m2p = new Set(host.m2pFrames);
    for (let f = 0; f < owner.length; f++) {
      if (owner[f] !== OWNER_HYPERVISOR || host.sharedWith.has(f) || m2p.has(f) || f === actorIdt) continue;
      if (this.frameWritten(f)) throw new Error(`hypervisor frame 0x${f.toString(16)} was written ${who}`);
    }
  }

  /** The counters add up, and equal the hypervisor's own statistics. */
  checkCounters(): void {
    const c = this.counters;
    for (let nr = 0; nr < 64; nr++) {
      if (c.ok[nr]! + c.failed[nr]! !== c.issued[nr]! + c.batched[nr]!) throw new Error(`hypercall ${nr}: ${c.ok[nr]} ok + ${c.failed[nr]} failed != ${c.issued[nr]! + c.batched[nr]!} made`);
    }
  }
}

/** This host's counts from the hypervisor's statistics: [calls + batched, failed] per hypercall. */
export function hypervisorCounts(r: Real): { made: Float64Array; failed: Float64Array } {
  const made = new Float64Array(64);
  const failed = new Float64Array(64);
  for (const x of r.doms) {
    x.d.stats.hypercalls.forEach((n, k) => {
      if (k < 64) made[k] += n + x.pv.stats.multicalled[k]!;
    });
    x.pv.stats.failed.forEach((n, k) => {
      if (k < 64) failed[k] += n;
    });
  }
  return { made, failed };
}

// ------------------------------------------------------------------------------------------------ the model and commands

/** What the colluding domains learned (handles, ports), to aim later commands. */
export interface Model {
  /** the pv domain whose commands run now */
  actor: number;
  handles: number[][];
  ports: number[][];
  /** grant entries written: granter and grantee (pv indices), reference */
  grants: { granter: number; to: number; ref: number }[];
}

type Cmd = fc.Command<Model, Real>;

/** Pools of values, chosen by small indices so shrinking keeps them meaningful. */
function frameOf(r: Real, k: number, sel: number): number {
  const me = r.dom(k);
  const peer = r.dom(k + 1 + (sel & 1));
  const j = sel >>> 4;
  switch (sel % 11) {
    case 0: case 1: return me.d.p2m[me.focus[j % FOCUS]!]!;
    case 2: return me.l2;
    case 3: return me.l1;
    case 4: return me.pv.grants.frames[0] ?? 0;
    case 5: return peer.d.p2m[peer.focus[j % FOCUS]!]!;
    case 6: return peer.l1;
    case 7: return [me.pv.sharedInfoMfn, me.pv.idtMfn, me.pv.hvL1Mfn, r.mode.host.m2pFrames[0]!, peer.pv.grants.frames[0] ?? 0, 0][j % 6]!;
    case 8: return [r.hv.frames.frames - 1, r.hv.frames.frames, 0xfffff][j % 3]!;
    case 9: return r.other ? r.other.p2m[0x100 + (j % 4)]! : peer.l2;
    default: return me.d.p2m[me.arg >>> 12]!;
  }
}
const BITS = [P, P | W, P | W | U, P | U, 0, P | A | D, P | W | A | D, W];
const pte = (r: Real, k: number, sel: number, bits: number) => ((frameOf(r, k, sel) * PAGE) | BITS[bits % BITS.length]!) >>> 0;
/** A focus page's virtual address, or one in a hooked slot. */
const vaOf = (r: Real, k: number, sel: number) => (sel & 1) === 0 ? r.dom(k).focus[(sel >>> 1) % FOCUS]! * PAGE : ((SLOTS[(sel >>> 1) & 1]! << 22) + ((sel >>> 2) % 4) * PAGE) >>> 0;
/** Machine addresses of page-table entries: the actor's directory slots, its bootstrap L1's focus entries, its focus frames as tables, another's tables. */
function entryOf(r: Real, k: number, sel: number): number {
  const me = r.dom(k);
  const j = sel >>> 3;
  switch (sel % 6) {
    case 0: case 1: return me.l2 * PAGE + SLOTS[j & 1]! * 4;
    case 2: return me.l1 * PAGE + me.focus[j % FOCUS]! * 4;
    case 3: return me.d.p2m[me.focus[j % FOCUS]!]! * PAGE + ((j >>> 2) % 4) * 4;
    case 4: return r.dom(k + 1).l1 * PAGE + r.dom(k + 1).focus[j % FOCUS]! * 4;
    // the hypervisor's slot, a misaligned address, an entry of the real IDT's table
    default: return [me.l2 * PAGE + 1023 * 4, me.l1 * PAGE + 2, me.pv.hvL1Mfn * PAGE][j % 3]!;
  }
}

const actorArb = fc.integer({ min: 0, max: PV_DOMAINS - 1 });
const sel = fc.nat(255);

/** A command of the domain acting now (the model's actor). */
abstract class Base implements Cmd {
  /** the acting domain (set when the command runs) */
  k = 0;
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    this.k = m.actor;
    // a domain the hypervisor stopped (a back end crashes a broken front end) makes no more calls
    if (r.dom(this.k).d.stopped) return;
    r.enter(this.k);
    this.act(m, r);
    r.check();
  }
  abstract act(m: Model, r: Real): void;
  abstract toString(): string;
}

class UpdateVa extends Base {
  constructor(readonly va: number, readonly frame: number, readonly bits: number, readonly flags: number) {
    super();
  }
  act(_m: Model, r: Real): void {
    r.call(this.k, Hc.UPDATE_VA_MAPPING, vaOf(r, this.k, this.va), pte(r, this.k, this.frame, this.bits), [UvmFlags.NONE, UvmFlags.INVLPG, UvmFlags.TLB_FLUSH][this.flags % 3]!);
  }
  toString(): string {
    return `uvm(va ${this.va}, frame ${this.frame}, bits ${this.bits}, flags ${this.flags})`;
  }
}

class MmuUpdate extends Base {
  constructor(readonly reqs: [number, number, number][]) {
    super();
  }
  act(_m: Model, r: Real): void {
    const a = r.dom(this.k).arg;
    r.put(this.k, a, this.reqs.flatMap(([e, f, b]) => (b === 99 ? [(r.dom(this.k).d.p2m[r.dom(this.k).focus[f % FOCUS]!]! * PAGE) | MmuCmd.MACHPHYS_UPDATE, e] : [entryOf(r, this.k, e), pte(r, this.k, f, b)])));
    r.call(this.k, Hc.MMU_UPDATE, a, this.reqs.length, a + 0x800);
  }
  toString(): string {
    return `mmu_update(${JSON.stringify(this.reqs)})`;
  }
}

const EXT = [MmuextCmd.PIN_L1_TABLE, MmuextCmd.PIN_L2_TABLE, MmuextCmd.UNPIN_TABLE, MmuextCmd.NEW_BASEPTR, MmuextCmd.TLB_FLUSH_LOCAL, MmuextCmd.INVLPG_LOCAL];
class MmuExt extends Base {
  constructor(readonly ops: [number, number][]) {
    super();
  }
  act(_m: Model, r: Real): void {
    const a = r.dom(this.k).arg;
    r.put(this.k, a, this.ops.flatMap(([c, f]) => {
      const cmd = EXT[c % EXT.length]!;
      // a new base pointer is the domain's own directory (the harness's argument page must stay mapped)
      return [cmd, cmd === MmuextCmd.INVLPG_LOCAL ? vaOf(r, this.k, f) : cmd === MmuextCmd.NEW_BASEPTR ? r.dom(this.k).l2 : frameOf(r, this.k, f)];
    }));
    r.call(this.k, Hc.MMUEXT_OP, a, this.ops.length, 0);
  }
  toString(): string {
    return `mmuext(${JSON.stringify(this.ops)})`;
  }
}

class Store extends Base {
  constructor(readonly va: number, readonly frame: number, readonly bits: number, readonly raw: number | null) {
    super();
  }
  act(_m: Model, r: Real): void {
    // a page-table entry's worth (aimed at tables mapped writable), or any word
    r.store(this.k, (vaOf(r, this.k, this.va) + ((this.frame >>> 5) % 4) * 4) >>> 0, this.raw ?? pte(r, this.k, this.frame, this.bits));
  }
  toString(): string {
    return `store(va ${this.va}, frame ${this.frame}, bits ${this.bits}, raw ${this.raw})`;
  }
}

const GRANT_FLAGS = [GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, GrantFlags.PERMIT_ACCESS, GrantFlags.INVALID, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY | GrantFlags.WRITING, GrantFlags.ACCEPT_TRANSFER];
/** The domain writes grant entry `ref` in its table (as the guest does, through its mapping of the table). */
class GrantEntry extends Base {
  constructor(readonly ref: number, readonly flags: number, readonly to: number, readonly frame: number) {
    super();
  }
  act(m: Model, r: Real): void {
    const me = r.dom(this.k);
    const table = me.pv.grants.frames[0]!;
    const to = this.to === 2 ? DomId.BACKEND : r.dom(this.k + 1 + this.to).d.id;
    if (this.to !== 2) m.grants.push({ granter: this.k, to: (this.k + 1 + this.to) % PV_DOMAINS, ref: this.ref });
    const mem = r.hv.mem;
    // mostly one of its focus pages (which may be its tables too), else anything
    const frame = this.frame < 192 ? me.d.p2m[me.focus[this.frame % FOCUS]!]! : frameOf(r, this.k, this.frame);
    mem.write32(table * PAGE + this.ref * 8 + 4, frame);
    mem.write16(table * PAGE + this.ref * 8 + 2, to);
    mem.write16(table * PAGE + this.ref * 8, GRANT_FLAGS[this.flags % GRANT_FLAGS.length]!);
  }
  toString(): string {
    return `grant(ref ${this.ref}, flags ${this.flags}, to ${this.to}, frame ${this.frame})`;
  }
}

const MAP_FLAGS = [GntmapFlags.HOST_MAP | GntmapFlags.READONLY, GntmapFlags.HOST_MAP, GntmapFlags.DEVICE_MAP | GntmapFlags.READONLY, GntmapFlags.HOST_MAP | GntmapFlags.DEVICE_MAP, 0];
class GrantMapCmd extends Base {
  constructor(readonly granter: number, readonly ref: number, readonly flags: number, readonly va: number) {
    super();
  }
  act(m: Model, r: Real): void {
    const a = r.dom(this.k).arg;
    // mostly a grant the model saw made to this domain; else a guess
    const known = m.grants.filter((g) => g.to === this.k);
    const g = known.length > 0 && this.granter < 3 ? known[(this.ref + this.granter) % known.length]! : { granter: this.k + 1 + (this.granter & 1), ref: this.ref };
    // mostly into a hooked table's slot
    const va = this.va < 192 ? vaOf(r, this.k, this.va | 1) : vaOf(r, this.k, this.va);
    r.put(this.k, a, [va, MAP_FLAGS[this.flags % MAP_FLAGS.length]!, g.ref, r.dom(g.granter).d.id, 99, 0, 0]);
    if (r.call(this.k, Hc.GRANT_TABLE_OP, GnttabCmd.MAP_GRANT_REF, a, 1) === 0) {
      const mem = r.dom(this.k).d.memory;
      if ((mem.read32(a + GntMap.STATUS) | 0) === 0) {
        m.handles[this.k]!.push(mem.read32(a + GntMap.HANDLE) | 0);
        r.counters.grantMaps++;
        if ((MAP_FLAGS[this.flags % MAP_FLAGS.length]! & GntmapFlags.HOST_MAP) !== 0) r.counters.grantHostMaps++;
      }
    }
  }
  toString(): string {
    return `map(granter +${1 + this.granter}, ref ${this.ref}, flags ${this.flags}, va ${this.va})`;
  }
}

class GrantUnmapCmd extends Base {
  constructor(readonly which: number) {
    super();
  }
  act(m: Model, r: Real): void {
    const hs = m.handles[this.k]!;
    const handle = hs.length > 0 && this.which < 200 ? hs.splice(this.which % hs.length, 1)[0]! : this.which;
    const a = r.dom(this.k).arg;
    r.put(this.k, a, [0, 0, handle, 99]);
    r.call(this.k, Hc.GRANT_TABLE_OP, GnttabCmd.UNMAP_GRANT_REF, a, 1);
  }
  toString(): string {
    return `unmap(${this.which})`;
  }
}

class Evtchn extends Base {
  constructor(readonly cmd: number, readonly peer: number, readonly port: number) {
    super();
  }
  act(m: Model, r: Real): void {
    const a = r.dom(this.k).arg;
    const peerK = (this.k + 1 + this.peer) % PV_DOMAINS;
    const peerId = r.dom(peerK).d.id;
    const mine = m.ports[this.k]!;
    const port = mine.length > 0 && this.port < 200 ? mine[this.port % mine.length]! : this.port % 8;
    const cmd = [EvtchnCmd.ALLOC_UNBOUND, EvtchnCmd.BIND_INTERDOMAIN, EvtchnCmd.SEND, EvtchnCmd.CLOSE, EvtchnCmd.UNMASK, EvtchnCmd.BIND_VIRQ, EvtchnCmd.STATUS][this.cmd % 7]!;
    const theirs = m.ports[peerK]!;
    const words =
      cmd === EvtchnCmd.ALLOC_UNBOUND ? [SELF, peerId, 0]
      : cmd === EvtchnCmd.BIND_INTERDOMAIN ? [peerId, theirs.length > 0 ? theirs[this.port % theirs.length]! : this.port % 8, 0]
      : cmd === EvtchnCmd.BIND_VIRQ ? [this.port % 3, 0, 0]
      : cmd === EvtchnCmd.STATUS ? [SELF, port, 0, 0, 0, 0]
      : [port];
    r.put(this.k, a, words);
    const res = r.call(this.k, Hc.EVENT_CHANNEL_OP, cmd, a);
    if (res === 0 && (cmd === EvtchnCmd.ALLOC_UNBOUND || cmd === EvtchnCmd.BIND_INTERDOMAIN || cmd === EvtchnCmd.BIND_VIRQ)) mine.push(r.dom(this.k).d.memory.read32(a + 8) | 0);
  }
  toString(): string {
    return `evtchn(cmd ${this.cmd}, peer ${this.peer}, port ${this.port})`;
  }
}

/** A multicall of page-table operations (update_va_mapping, mmu_update, mmuext_op). */
class Multicall extends Base {
  constructor(readonly entries: [number, number, number, number][]) {
    super();
  }
  act(_m: Model, r: Real): void {
    const a = r.dom(this.k).arg;
    const at = a + 0x800;
    const ops: number[] = [];
    this.entries.forEach(([kind, x, y, z], j) => {
      const sub = a + 0x100 * j;
      let words: number[];
      if (kind % 3 === 0) {
        ops.push(Hc.UPDATE_VA_MAPPING);
        words = [Hc.UPDATE_VA_MAPPING, NOT_RUN, vaOf(r, this.k, x), pte(r, this.k, y, z), z % 3, 0, 0];
      } else if (kind % 3 === 1) {
        ops.push(Hc.MMU_UPDATE);
        r.put(this.k, sub, [entryOf(r, this.k, x), pte(r, this.k, y, z)]);
        words = [Hc.MMU_UPDATE, NOT_RUN, sub, 1, 0, 0, 0];
      } else {
        ops.push(Hc.MMUEXT_OP);
        const cmd = EXT[z % EXT.length]!;
        r.put(this.k, sub, [cmd, cmd === MmuextCmd.NEW_BASEPTR ? r.dom(this.k).l2 : frameOf(r, this.k, y)]);
        words = [Hc.MMUEXT_OP, NOT_RUN, sub, 1, 0, 0, 0];
      }
      r.put(this.k, at + j * MulticallEntry.BYTES, words);
    });
    r.call(this.k, Hc.MULTICALL, at, ops.length);
    r.countBatched(this.k, at, ops);
  }
  toString(): string {
    return `multicall(${JSON.stringify(this.entries)})`;
  }
}

/** memory_op: give a frame back (decrease) or take one (increase). */
class Balloon extends Base {
  constructor(readonly increase: boolean, readonly frame: number) {
    super();
  }
  act(_m: Model, r: Real): void {
    const a = r.dom(this.k).arg;
    r.put(this.k, a, [a + 0x40, 1, 0, SELF]);
    r.put(this.k, a + 0x40, [frameOf(r, this.k, this.frame)]);
    r.call(this.k, Hc.MEMORY_OP, this.increase ? MemoryCmd.INCREASE_RESERVATION : MemoryCmd.DECREASE_RESERVATION, a);
  }
  toString(): string {
    return `balloon(${this.increase ? 'increase' : 'decrease'}, frame ${this.frame})`;
  }
}

/**
 * grant_table_op(COPY): between a grant (mostly one the model saw made to the actor, else a
 * guess) and one of the actor's frames (or any frame), either way, or between two grants, at
 * offsets and lengths from a pool that reaches past the page.
 */
const COPY_OFFSETS = [0, 100, 2048, 4000, 4095, 4096, -4];
const COPY_LENGTHS = [0, 1, 64, 1514, 4096, 200, -1];
class GrantCopyCmd extends Base {
  constructor(readonly pick: number, readonly ref: number, readonly frame: number, readonly flags: number, readonly off: number, readonly len: number) {
    super();
  }
  act(m: Model, r: Real): void {
    const a = r.dom(this.k).arg;
    const known = m.grants.filter((g) => g.to === this.k);
    const g = known.length > 0 && this.pick < 3 ? known[(this.ref + this.pick) % known.length]! : { granter: this.k + 1 + (this.pick & 1), ref: this.ref };
    const dom = r.dom(g.granter).d.id;
    const own = frameOf(r, this.k, this.frame);
    const off = COPY_OFFSETS[this.off % COPY_OFFSETS.length]!;
    const len = COPY_LENGTHS[this.len % COPY_LENGTHS.length]!;
    const flags = this.flags & 3;
    const src = (flags & GntcopyFlags.SOURCE_GREF) !== 0 ? [g.ref, dom, off] : [own, SELF, off];
    const dst = (flags & GntcopyFlags.DEST_GREF) !== 0 ? [g.ref, dom, (off + 64) | 0] : [own, SELF, (off + 64) | 0];
    r.put(this.k, a, [...src, ...dst, len, flags, 99]);
    if (r.call(this.k, Hc.GRANT_TABLE_OP, GnttabCmd.COPY, a, 1) === 0 && (r.dom(this.k).d.memory.read32(a + 32) | 0) === 0) r.counters.grantCopies++;
  }
  toString(): string {
    return `copy(pick ${this.pick}, ref ${this.ref}, frame ${this.frame}, flags ${this.flags}, off ${this.off}, len ${this.len})`;
  }
}

/**
 * A hostile netfront: requests written into the page the actor's grant entry 1 (transmit) or 2
 * (receive) names - if it is the actor's own frame and not a page table - with any grant reference, offset and size,
 * a producer index moved by up to 20 (more than the ring holds), then the back end's port notified.
 */
const NET_OFFSETS = [0, 2048, 4000, -1, 4096];
const NET_SIZES = [14, 60, 1514, 1515, 13, 0, 3000];
class NetRequests extends Base {
  constructor(readonly connect: boolean, readonly rx: boolean, readonly n: number, readonly gref: number, readonly off: number, readonly size: number) {
    super();
  }
  act(_m: Model, r: Real): void {
    const me = r.dom(this.k);
    const net = me.pv.net;
    if (!net) return;
    const mem = r.hv.mem;
    if (this.connect) {
      // as a front end connects: two of its focus pages granted writable to the back end as the rings
      const table = me.pv.grants.frames[0]!;
      // and a transmit buffer (ref 3, read-only) and a receive buffer (ref 0: writable, or a transfer entry)
      const rxFlags = (this.gref & 1) === 0 ? GrantFlags.PERMIT_ACCESS : GrantFlags.ACCEPT_TRANSFER;
      for (const [ref, focus, flags] of [[1, 2, GrantFlags.PERMIT_ACCESS], [2, 3, GrantFlags.PERMIT_ACCESS], [3, 0, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY], [0, 1, rxFlags]] as const) {
        mem.write32(table * PAGE + ref * 8 + 4, flags === GrantFlags.ACCEPT_TRANSFER ? 0 : me.d.p2m[me.focus[focus]!]!);
        mem.write16(table * PAGE + ref * 8 + 2, DomId.BACKEND);
        mem.write16(table * PAGE + ref * 8, flags);
      }
    }
    const table = me.pv.grants.frames[0]! * PAGE;
    const entry = table + (this.rx ? 2 : 1) * 8;
    const page = mem.read32(entry + 4) | 0;
    // receive buffers by page flipping (ref 0 accepts a transfer): as a front end does, it unmaps
    // its receive page and gives the frame back first, so a hole awaits the flipped-in frame; and
    // references 0 and 1 both name ref 0, so that flips are common (seed 4 makes some in CI)
    const flip = this.rx && (mem.read16(table) & GrantFlags.TYPE_MASK) === GrantFlags.ACCEPT_TRANSFER;
    const rxRef = this.gref <= 1 ? 0 : this.gref;
    if (flip && rxRef === 0) {
      // the entry re-armed (a completed transfer is taken once), and a page near the top of its
      // memory unmapped and given back: the first that goes
      mem.write32(table + 4, 0);
      mem.write16(table, GrantFlags.ACCEPT_TRANSFER);
      for (let pfn = me.d.p2m.length - 1; pfn >= me.d.p2m.length - 3; pfn--) {
        const frame = me.d.p2m[pfn]!;
        if (frame < 0) break; // a hole is there already
        r.call(this.k, Hc.UPDATE_VA_MAPPING, pfn * PAGE, 0, UvmFlags.INVLPG);
        r.put(this.k, me.arg, [me.arg + 0x40, 1, 0, SELF]);
        r.put(this.k, me.arg + 0x40, [frame]);
        const got = r.call(this.k, Hc.MEMORY_OP, MemoryCmd.DECREASE_RESERVATION, me.arg)
        if (got === 1) break;
      }
    }
    // the guest writes its own frame, never one of its page tables (mapped read-only for it)
    if (page >= 0 && page < r.hv.frames.owner.length && r.hv.frames.owner[page] === me.d.id && !r.mode.host.types.isTable(page)) {
      const prod = mem.read32(page * PAGE) | 0;
      for (let j = 0; j < Math.min(this.n, 16); j++) {
        const slot = page * PAGE + 64 + ((prod + j) & 15) * 16;
        const words = this.rx ? [j, rxRef] : [this.gref, NET_OFFSETS[this.off % NET_OFFSETS.length]!, NET_SIZES[this.size % NET_SIZES.length]!, j];
        words.forEach((w, i) => mem.write32(slot + 4 * i, w >>> 0));
      }
      mem.write32(page * PAGE, (prod + this.n) | 0);
    }
    r.put(this.k, me.arg, [net.port]);
    r.call(this.k, Hc.EVENT_CHANNEL_OP, EvtchnCmd.SEND, me.arg);
    // a frame from the wire at once for a flip buffer just posted: the back end flips it in
    if (flip && rxRef === 0) net.receive(new Uint8Array(60).fill(0xa5));
  }
  toString(): string {
    return `net(${this.connect ? 'connect, ' : ''}${this.rx ? 'rx' : 'tx'}, ${this.n} requests, gref ${this.gref}, off ${this.off}, size ${this.size})`;
  }
}

/** A frame from the wire for the actor's network back end (into a posted buffer: copy or page flip, whatever the guest granted). */
class WireFrame extends Base {
  constructor(readonly len: number) {
    super();
  }
  act(_m: Model, r: Real): void {
    r.dom(this.k).pv.net?.receive(new Uint8Array(NET_SIZES[this.len % NET_SIZES.length]!).fill(0x5a));
  }
  toString(): string {
    return `wire(${this.len})`;
  }
}

const reqArb = fc.tuple(fc.nat(63), sel, fc.oneof({ weight: 8, arbitrary: fc.nat(7) }, { weight: 1, arbitrary: fc.constant(99) }));
/** The attacker's table primitives: make a focus page a table hooked at a slot (read-only first), or edit a hooked one offline. */
class HookTable extends Base {
  constructor(readonly focus: number, readonly slot: number) {
    super();
  }
  act(_m: Model, r: Real): void {
    const me = r.dom(this.k);
    const pfn = me.focus[this.focus % FOCUS]!;
    const f = me.d.p2m[pfn]!;
    r.call(this.k, Hc.UPDATE_VA_MAPPING, pfn * PAGE, (f * PAGE) | P, UvmFlags.INVLPG);
    r.put(this.k, me.arg, [me.l2 * PAGE + SLOTS[this.slot & 1]! * 4, (f * PAGE) | P | W]);
    r.call(this.k, Hc.MMU_UPDATE, me.arg, 1, 0);
  }
  toString(): string {
    return `hook(focus ${this.focus}, slot ${this.slot})`;
  }
}

/** Unhook the table at a slot, map it writable, store a word in it, map it read-only, hook it again. */
class EditUnhooked extends Base {
  constructor(readonly slot: number, readonly entry: number, readonly frame: number, readonly bits: number) {
    super();
  }
  act(_m: Model, r: Real): void {
    const me = r.dom(this.k);
    const slotAddr = me.l2 * PAGE + SLOTS[this.slot & 1]! * 4;
    const pde = r.hv.mem.read32(slotAddr);
    const f = pde >>> 12;
    const pfn = r.mode.host.m2p[f]!;
    if ((pde & P) === 0 || !me.focus.includes(pfn)) return;
    r.put(this.k, me.arg, [slotAddr, 0]);
    r.call(this.k, Hc.MMU_UPDATE, me.arg, 1, 0);
    r.call(this.k, Hc.UPDATE_VA_MAPPING, pfn * PAGE, (f * PAGE) | P | W, UvmFlags.INVLPG);
    r.store(this.k, pfn * PAGE + (this.entry % 4) * 4, pte(r, this.k, this.frame, this.bits));
    r.call(this.k, Hc.UPDATE_VA_MAPPING, pfn * PAGE, (f * PAGE) | P, UvmFlags.INVLPG);
    r.put(this.k, me.arg, [slotAddr, pde]);
    r.call(this.k, Hc.MMU_UPDATE, me.arg, 1, 0);
  }
  toString(): string {
    return `edit(slot ${this.slot}, entry ${this.entry}, frame ${this.frame}, bits ${this.bits})`;
  }
}

/**
 * set_timer_op at a deadline from a pool (cancel, soon, later, near the end of simulated time,
 * beyond it, 2^64 - 1 ns, any pair of words) or the periodic timer (vcpu_op; periods too short,
 * negative, huge). The deadlines are system time in ns; cycles = ns * 3 at 3 GHz.
 */
class TimerCmd extends Base {
  constructor(readonly which: number, readonly pick: number, readonly lo: number, readonly hi: number) {
    super();
  }
  act(_m: Model, r: Real): void {
    const nowNs = Math.floor(r.hv.cpu.cycles / 3);
    if (this.which === 2) {
      r.call(this.k, Hc.VCPU_OP, VcpuCmd.STOP_PERIODIC_TIMER, 0, 0);
      return;
    }
    if (this.which === 1) {
      const period = [0, 1, 333, 334, 5_000, 1_000_000, 0x7fffffff, -1, this.lo | 0][this.pick % 9]!;
      r.call(this.k, Hc.VCPU_OP, VcpuCmd.SET_PERIODIC_TIMER, 0, period);
      return;
    }
    const ns = [0, nowNs + 1_000, nowNs + 20_000, Math.floor(END_OF_TIME / 3) - 10, 2 ** 60, 2 ** 64 - 1][this.pick % 7];
    const [lo, hi] = ns === undefined ? [this.lo, this.hi] : ns === 2 ** 64 - 1 ? [-1, -1] : [ns % 2 ** 32, Math.floor(ns / 2 ** 32)];
    r.call(this.k, Hc.SET_TIMER_OP, lo | 0, hi | 0);
  }
  toString(): string {
    return `timer(${['one-shot', 'periodic', 'stop periodic'][this.which]}, ${this.pick}, ${this.lo}, ${this.hi})`;
  }
}

const BLK_OPS = [BlkifOp.READ, BlkifOp.WRITE, 7];
const BLK_SECTORS = [0, 3, 15, 16, -1, 0x7fffffff];
/** a segment's first and last sector: valid runs, and reversed, past the page, negative */
const BLK_RUNS: [number, number][] = [[0, 7], [0, 0], [3, 5], [5, 3], [0, 8], [-1, 0]];
/**
 * A block request (the split driver's front end, hypervisor/pv/blkback.ts): optionally grant the
 * ring page (reference 0) and the data pages (references 1..3, writable for a read) to the back
 * end first; write a request into the ring page - read, write or a bad operation, 0 to 5
 * segments naming references 0..3 or none, sector runs and a start sector in range or not -
 * move the producer index by one, or past the ring (the back end must crash only this domain),
 * and notify the back end's port. The request is written as the guest would, so only when the
 * ring page is the domain's own and not a page table. Completions come during host runs.
 */
class BlockRequest extends Base {
  constructor(
    readonly grant: boolean,
    readonly ringPage: number,
    readonly op: number,
    readonly segs: [number, number][],
    readonly sector: number,
    readonly overrun: boolean,
  ) {
    super();
  }
  act(_m: Model, r: Real): void {
    const me = r.dom(this.k);
    if (me.pv.blk === null) return;
    const mem = r.hv.mem;
    const table = me.pv.grants.frames[0]!;
    const entry = (ref: number, flags: number, frame: number): void => {
      mem.write32(table * PAGE + ref * 8 + 4, frame);
      mem.write16(table * PAGE + ref * 8 + 2, DomId.BACKEND);
      mem.write16(table * PAGE + ref * 8, flags);
    };
    const focusFrame = (j: number): number => me.d.p2m[me.focus[j % FOCUS]!]!;
    const op = BLK_OPS[this.op % BLK_OPS.length]!;
    if (this.grant) {
      entry(0, GrantFlags.PERMIT_ACCESS, focusFrame(this.ringPage));
      for (let ref = 1; ref <= 3; ref++) entry(ref, GrantFlags.PERMIT_ACCESS | (op === BlkifOp.WRITE && ref !== 3 ? GrantFlags.READONLY : 0), focusFrame(this.ringPage + ref));
    }
    // the ring page: the one the back end connected to, else what reference 0 names now
    const ring = r.blkRing[this.k]! >= 0 ? r.blkRing[this.k]! : mem.read32(table * PAGE + 4);
    const t = r.mode.host.types;
    if (ring < t.frames && t.owner[ring] === me.d.id && !t.isTable(ring)) {
      const base = ring * PAGE;
      // a front end sets its ring up before it first grants it: both indexes 0, notifications wanted at the first message
      if (this.grant && r.blkRing[this.k]! < 0) [0, 1, 0, 1].forEach((v, j) => mem.write32(base + 4 * j, v));
      const prod = mem.read32(base + RingHeader.REQ_PROD) | 0;
      const slot = base + RingHeader.SLOTS + (prod & 31) * BlkifReq.BYTES;
      const w = [op, this.segs.length, 0x100 + r.counters.blkRequests, BLK_SECTORS[this.sector % BLK_SECTORS.length]!];
      w.forEach((v, j) => mem.write32(slot + 4 * j, v >>> 0));
      this.segs.slice(0, BlkifReq.MAX_SEGMENTS).forEach(([gref, run], j) => {
        const [first, last] = BLK_RUNS[run % BLK_RUNS.length]!;
        const sg = slot + BlkifReq.SEG + j * BlkifSeg.BYTES;
        mem.write32(sg + BlkifSeg.GREF, gref >>> 0);
        mem.write32(sg + BlkifSeg.FIRST_SECT, first >>> 0);
        mem.write32(sg + BlkifSeg.LAST_SECT, last >>> 0);
      });
      mem.write32(base + RingHeader.REQ_PROD, (prod + (this.overrun ? 40 : 1)) >>> 0);
      r.counters.blkRequests++;
    }
    r.put(this.k, me.arg, [me.pv.blk.port]);
    r.call(this.k, Hc.EVENT_CHANNEL_OP, EvtchnCmd.SEND, me.arg);
    // the back end connects at its first notification: it holds the ring page first
    const held = me.pv.blk?.held() ?? [];
    if (r.blkRing[this.k]! < 0 && held.length > 0) r.blkRing[this.k] = held[0]!.frame;
  }
  toString(): string {
    return `blk(grant ${this.grant}, ring ${this.ringPage}, op ${this.op}, segs ${JSON.stringify(this.segs)}, sector ${this.sector}, overrun ${this.overrun})`;
  }
}

/** The host's scheduler runs every domain for a while (limited, or with no cycle limit on hosts that have none). */
class RunHost implements Cmd {
  constructor(readonly cycles: number) {}
  check(): boolean {
    return true;
  }
  run(_m: Model, r: Real): void {
    r.runHost(this.cycles);
    r.check();
  }
  toString(): string {
    return `run(${this.cycles} cycles)`;
  }
}

/** Another domain acts from now on (its commands follow, so hash comparisons come every few steps). */
class SwitchActor implements Cmd {
  constructor(readonly to: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    m.actor = this.to;
    r.enter(this.to);
  }
  toString(): string {
    return `actor(${this.to})`;
  }
}

export const commandArbs: fc.Arbitrary<Cmd>[] = [
  actorArb.map((k) => new SwitchActor(k)),
  fc.tuple(sel, sel, fc.nat(7), fc.nat(2)).map(([v, f, b, fl]) => new UpdateVa(v, f, b, fl)),
  fc.array(reqArb, { minLength: 1, maxLength: 3 }).map((rs) => new MmuUpdate(rs)),
  fc.array(fc.tuple(fc.nat(5), sel), { minLength: 1, maxLength: 3 }).map((os) => new MmuExt(os)),
  fc.tuple(sel, sel, fc.nat(7), fc.option(fc.integer(), { freq: 6, nil: null })).map(([v, f, b, raw]) => new Store(v, f, b, raw)),
  fc.tuple(fc.nat(3), fc.nat(4), fc.nat(2), sel).map(([ref, fl, to, f]) => new GrantEntry(ref, fl, to, f)),
  fc.tuple(fc.nat(3), fc.nat(3), fc.nat(4), sel).map(([g, ref, fl, v]) => new GrantMapCmd(g, ref, fl, v)),
  fc.nat(255).map((w) => new GrantUnmapCmd(w)),
  fc.tuple(fc.nat(3), fc.nat(3), sel, fc.nat(3), fc.nat(6), fc.nat(6)).map(([p, ref, f, fl, o, l]) => new GrantCopyCmd(p, ref, f, fl, o, l)),
  // mostly a few requests; one time in eight more than the ring holds (the back end crashes the domain)
  fc.tuple(fc.boolean(), fc.boolean(), fc.oneof({ weight: 7, arbitrary: fc.nat(4) }, { weight: 1, arbitrary: fc.constant(20) }), fc.nat(7), fc.nat(4), fc.nat(6))
    .map(([c, rx, n, g, o, sz]) => new NetRequests(c, rx, n, g, o, sz)),
  fc.nat(6).map((l) => new WireFrame(l)),
  fc.tuple(fc.nat(6), fc.nat(1), fc.nat(255)).map(([c, p, port]) => new Evtchn(c, p, port)),
  fc.array(fc.tuple(fc.nat(2), sel, sel, fc.nat(7)), { minLength: 1, maxLength: 3 }).map((es) => new Multicall(es)),
  fc.tuple(fc.boolean(), sel).map(([inc, f]) => new Balloon(inc, f)),
  fc.tuple(fc.nat(FOCUS - 1), fc.nat(1)).map(([f, sl]) => new HookTable(f, sl)),
  fc.tuple(fc.nat(1), fc.nat(3), sel, fc.nat(7)).map(([sl, e, f, b]) => new EditUnhooked(sl, e, f, b)),
  fc
    .tuple(fc.boolean(), fc.nat(FOCUS - 1), fc.nat(5), fc.array(fc.tuple(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 99)), fc.nat(7)), { maxLength: 5 }), fc.nat(7), fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }))
    .map(([g, rp, op, segs, sector, over]) => new BlockRequest(g, rp, op, segs, sector, over)),
  // time: a timer, or a run of the host (one command in 28 each: host runs are the dearest steps)
  fc.oneof(
    fc.tuple(fc.nat(2), fc.nat(15), fc.integer(), fc.integer()).map(([w, p, lo, hi]): Cmd => new TimerCmd(w, p, lo, hi)),
    fc.integer({ min: RUN_MIN, max: 2 * RUN_MIN }).map((c): Cmd => new RunHost(c)),
  ),
];

/** A command sequence with each actor acting several times in a row (hash checks happen when the actor changes). */
export const commandsArb = (maxCommands: number): fc.Arbitrary<Iterable<Cmd>> => fc.commands(commandArbs, { maxCommands, size: 'max' });

const OTHER_MODES = ['none', 'trap', 'bt', 'hvm'] as const;

export interface FuzzOptions {
  seed: number;
  runs: number;
  /** commands per run at most */
  maxCommands?: number;
  /** full recomputation every this many steps */
  fullEvery?: number;
  /** stop starting new runs after this many ms (fast-check interruptAfterTimeLimit) */
  timeLimitMs?: number;
  /** hosts in turn have a trap, bt or hvm domain besides the pv ones (default true) */
  mixed?: boolean;
  /** every other pair of hosts runs its scheduler with no cycle limit (default true) */
  unlimited?: boolean;
}

export interface FuzzReport {
  counters: FuzzCounters;
  /** the shrunk failing sequence and its error, if any */
  failure: string | null;
  ms: number;
  /** CPU time (user + system) spent fuzzing, over every worker, if measured */
  cpuMs?: number;
}

/** Run the model-based fuzzer; the counters are cross-checked with the hypervisor's statistics after every run. */
export function runModelFuzz(o: FuzzOptions): FuzzReport {
  const counters = new FuzzCounters();
  const t0 = performance.now();
  let runIndex = 0;
  const prop = fc.property(commandsArb(o.maxCommands ?? 200), (cmds) => {
    // hosts in turn: pv only, with a trap, a bt and an hvm domain
    // and, in pairs, with a cycle limit on their host runs or with none
    const other = (o.mixed ?? true) ? OTHER_MODES[runIndex % OTHER_MODES.length]! : 'none';
    const unlimited = (o.unlimited ?? true) && (runIndex >> 1) % 2 === 1;
    runIndex++;
    const scratch = new FuzzCounters();
    const real = new Real(scratch, o.fullEvery ?? 8, other, unlimited);
    const setup = () => ({ model: { actor: 0, handles: [[], [], []], ports: [[], [], []], grants: [] } as Model, real });
    fc.modelRun(setup, cmds);
    real.fullCheck();
    real.switchActor(-1);
    real.checkCounters();
    for (const x of real.doms) {
      const n = x.pv.net?.counts;
      if (!n) continue;
      scratch.netSent += n.txFrames;
      scratch.netCopied += n.rxCopies;
      scratch.netFlipped += n.rxFlips;
      scratch.netRefused += n.txErrors + n.rxErrors;
    }
    const hvCounts = hypervisorCounts(real);
    for (let nr = 0; nr < 64; nr++) {
      // the setup's grant-table call is counted by both
      const made = scratch.issued[nr]! + scratch.batched[nr]!;
      if (hvCounts.made[nr] !== made || hvCounts.failed[nr] !== scratch.failed[nr]) {
        throw new Error(`hypercall ${nr}: the fuzzer counted ${made} made, ${scratch.failed[nr]} failed; the hypervisor ${hvCounts.made[nr]}, ${hvCounts.failed[nr]}`);
      }
    }
    for (const x of real.doms) {
      scratch.blkNotifyIn += x.pv.stats.blkNotifyIn;
      scratch.blkNotifyOut += x.pv.stats.blkNotifyOut;
    }
    add(counters, scratch);
    counters.runs++;
  });
  const params: fc.Parameters<[Iterable<Cmd>]> = { seed: o.seed, numRuns: o.runs };
  if (o.timeLimitMs !== undefined) params.interruptAfterTimeLimit = o.timeLimitMs;
  const details = fc.check(prop, params);
  const failure = details.failed ? `${fc.defaultReportMessage(details) ?? 'failed'}\n${String(details.errorInstance)}` : null;
  return { counters, failure, ms: performance.now() - t0 };
}

/** Every counter, as plain numbers and arrays (what a worker process of `npm run fuzz` sends). */
export function countersToPlain(c: FuzzCounters): Record<string, number | number[]> {
  const o: Record<string, number | number[]> = {};
  for (const [k, v] of Object.entries(c) as [string, unknown][]) {
    if (v instanceof Float64Array) o[k] = Array.from(v);
    else if (typeof v === 'number') o[k] = v;
  }
  return o;
}

/** Add every counter of `from` (counters or their plain form) to `to`: none can be left out. */
export function addCounters(to: FuzzCounters, from: FuzzCounters | Record<string, number | number[]>): void {
  const src = from as unknown as Record<string, unknown>;
  const dst = to as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(dst)) {
    const x = src[k];
    if (v instanceof Float64Array) {
      const a = x as ArrayLike<number>;
      for (let j = 0; j < v.length; j++) v[j] += a[j]!;
    } else if (typeof v === 'number') dst[k] = v + (x as number);
  }
}

function add(to: FuzzCounters, from: FuzzCounters): void {
  addCounters(to, from);
}

/** The report `npm run fuzz` prints. */
export function formatReport(r: FuzzReport, names: (nr: number) => string): string {
  const c = r.counters;
  const lines = [`${c.runs} runs, ${c.steps} steps, ${c.hypercalls} hypercalls (${Math.round(c.hypercalls / (r.ms / 1000))}/s), ${c.stores} guest stores (${c.storesRefused} refused), ${(r.ms / 1000).toFixed(1)} s`];
  // the CPU time the fuzzing itself had: on a machine others share, wall time says little
  if (r.cpuMs !== undefined) lines.push(`fuzzing CPU time: ${(r.cpuMs / 1000).toFixed(1)} s (${Math.round(c.hypercalls / (r.cpuMs / 1000))} hypercalls per CPU-second)`);
  lines.push(`grant maps: ${c.grantMaps} made (${c.grantHostMaps} in page tables); grant copies: ${c.grantCopies} done`);
  lines.push(`network back ends: ${c.netSent} frames sent, ${c.netCopied} received by copy, ${c.netFlipped} by page flip, ${c.netRefused} requests refused`);
  lines.push(`block requests: ${c.blkRequests} written to rings, back-end notifications ${c.blkNotifyIn} in, ${c.blkNotifyOut} out`);
  lines.push(`host runs: ${c.hostRuns} (${c.hostRunsUnlimited} with no cycle limit), ${c.hostCycles} cycles`);
  lines.push(`invariant checks: ${c.cheapChecks} cheap, ${c.fullChecks} full recomputations, ${c.hashChecks} hash comparisons`);
  lines.push('  hypercall              made      ok  failed  (of which in multicalls)');
  for (let nr = 0; nr < 64; nr++) {
    const made = c.issued[nr]! + c.batched[nr]!;
    if (made > 0) lines.push(`  ${String(nr).padStart(2)} ${names(nr).padEnd(18)} ${String(made).padStart(7)} ${String(c.ok[nr]).padStart(7)} ${String(c.failed[nr]).padStart(7)}  (${c.batched[nr]})`);
  }
  lines.push(`failures: ${r.failure === null ? 0 : 1}`);
  if (r.failure !== null) lines.push(r.failure);
  return lines.join('\n');
}
