// The PV mode's state: PvHost (one per hypervisor: the frame-type table, the machine-to-physical
// table, the registry of PV domains), PvDomain (per domain: shared-info page, trap table,
// callbacks, event channels, grant table, timers, console input, statistics) and PvVcpu.
// Data and small helpers; the mechanisms live in their own files (mmu.ts, events.ts, grants.ts...).
// Touches machine memory only in frames the hypervisor owns or shares with a domain.

import type { Cpu } from '../../machine/cpu.ts';
import type { EventQueue } from '../../machine/clock.ts';
import type { PhysicalMemory } from '../../machine/memory.ts';
import type { CostProfile } from '../../machine/costs.ts';
import { OWNER_HYPERVISOR, type FrameAllocator } from '../core/frames.ts';
import type { Domain } from '../core/domain.ts';
import type { Vcpu, VcpuRunstateName } from '../core/vcpu.ts';
import type { Scheduler } from '../core/scheduler.ts';
import { HvLayout, EvtchnLimits, RunState, Virq } from '../../hypercalls/numbers.ts';
import { SharedInfo } from '../../hypercalls/structs.ts';
import { PageTypes } from './page-types.ts';
import { unmapGrant } from './grants.ts';
import { pvCosts, type PvCosts } from './costs.ts';
import { Ev } from '../../machine/ledger.ts';
import { HYPERCALL_SLOTS } from '../core/stats.ts';
import { ByteQueue } from './byte-queue.ts';

const PAGE = 4096;
const PTE_P = 1;
const PTE_A = 32;
const HV_BASE: number = HvLayout.BASE;
const M2P_VA: number = HvLayout.M2P;
const IDT_VA: number = HvLayout.IDT;
const PORTS: number = EvtchnLimits.PORTS;
/** run stretches a pv vCPU remembers (PvVcpu.stretchStart): a spin wait reaching further back counts the last 16 only */
export const STRETCHES = 16;

/** What the PV layer needs from the hypervisor core (a subset of Hypervisor, so tests can fake it). */
export interface PvPlatform {
  readonly cpu: Cpu;
  readonly mem: PhysicalMemory;
  readonly events: EventQueue;
  readonly profile: CostProfile;
  readonly frames: FrameAllocator;
  allocHypervisorFrame(): number;
  releaseHypervisorFrame(frame: number): void;
  wake(vcpu: Vcpu): void;
  /** the vCPU waits (taken off the scheduler) unless its mode says an event is already there for it */
  block(vcpu: Vcpu): void;
  /** the vCPU's runstate now (Hypervisor.vcpuRunstate) */
  vcpuRunstate(vcpu: Vcpu): VcpuRunstateName;
  chargeMonitor(domain: Domain, ev: number, n: number): void;
  // the control interface (dom0_op)
  readonly domains: readonly Domain[];
  readonly scheduler: Scheduler;
  pauseDomain(domain: Domain): boolean;
  unpauseDomain(domain: Domain): boolean;
  destroyDomain(domain: Domain): void;
}

/** Port states of a domain's event-channel table. */
export const enum PortState {
  FREE = 0,
  UNBOUND = 1,
  INTERDOMAIN = 2,
  VIRQ = 3,
  /** an inter-processor interrupt: SEND sets it pending in the domain itself, for its vCPU */
  IPI = 4,
}

/** Per-vCPU VIRQs (each vCPU binds its own port: Xen's VIRQ_TIMER); the others are the domain's, bound on vCPU 0. */
export function virqPerVcpu(virq: number): boolean {
  return virq === (Virq.TIMER as number);
}

/** A domain's event-channel table (the pending and mask bits live in its shared-info page). */
export class EventChannels {
  readonly state = new Uint8Array(PORTS);
  /** UNBOUND: the domain allowed to bind; INTERDOMAIN: the peer */
  readonly remoteDom = new Int32Array(PORTS);
  /** INTERDOMAIN: the peer's port */
  readonly remotePort = new Int32Array(PORTS);
  /** VIRQ: which */
  readonly virq = new Int32Array(PORTS);
  /** port bound to each VIRQ of each vCPU (index vcpu * Virq.COUNT + virq), 0 for none (port 0 is never allocated) */
  readonly virqPort = new Int32Array((Virq.COUNT as number) * (SharedInfo.MAX_VCPUS as number));
  /** the vCPU each port notifies (its upcall_pending and selector; EVTCHNOP_bind_vcpu moves it) */
  readonly notifyVcpu = new Uint8Array(PORTS);
  /** a hypervisor-side consumer of an interdomain port (a back end) instead of a guest */
  readonly hostHandler: ((port: number) => void)[] = [];
}

/** One active grant mapping (a handle). */
export interface GrantMapping {
  /** the granting domain and reference */
  granter: number;
  ref: number;
  /** the machine frame */
  frame: number;
  readonly: boolean;
  /** machine address of the page-table entry written for a host mapping, or -1 */
  pteAddr: number;
  /** the virtual address mapped, for the TLB flush at unmap */
  hostVa: number;
}

/** A domain's grant table: the frames it writes entries into, and the mappings it holds of others'. */
export class GrantTable {
  /** machine frames of the table (hypervisor frames shared with the domain) */
  readonly frames: number[] = [];
  /** handle -> mapping, for the mappings this domain made */
  readonly maps = new Map<number, GrantMapping>();
  /** machine address of a host-mapped PTE -> handle (its references belong to the grant) */
  readonly pteToHandle = new Map<number, number>();
  nextHandle = 1;
  /** per own reference: how many read-only and writable mappings others hold */
  readonly readers = new Map<number, number>();
  readonly writers = new Map<number, number>();
}

/** Per-domain PV statistics beyond the core's DomainStats (which holds hypercall counts and cycles). */
export class PvStats {
  /** events set pending in this domain (0 -> 1 transitions) */
  eventsPending = 0;
  /** upcalls delivered */
  upcalls = 0;
  /** of which on a hypercall's return path (folded into its return: no interrupt, no IRET of their own) */
  foldedUpcalls = 0;
  /** exceptions bounced to the guest's handlers, by vector */
  readonly bounced = new Float64Array(256);
  /** mmu_update requests, page tables validated, pins */
  mmuRequests = 0;
  pins = 0;
  /** hypercall steps that ended in a continuation (the guest re-executes HYPERCALL to go on) */
  continuations = 0;
  /** the most page-table entries one hypercall entry checked (PageTypes.work) */
  maxStepWork = 0;
  /** hypercall failures by number (a negative result), inside multicalls too */
  readonly failed = new Float64Array(HYPERCALL_SLOTS);
  /** calls made as entries of a multicall, by number (not hypercalls of their own: no entry into the hypervisor) */
  readonly multicalled = new Float64Array(HYPERCALL_SLOTS);
  /** notifications on the block ring, both directions */
  blkNotifyIn = 0;
  blkNotifyOut = 0;
  /** notifications on the network rings' port, both directions */
  netNotifyIn = 0;
  netNotifyOut = 0;
  /** the console ring: notifications from the guest, to the guest, and those the hold-off saved */
  consoleNotifyIn = 0;
  consoleNotifyOut = 0;
  consoleHeldOff = 0;
  /** bytes through the console ring, each way */
  consoleBytesOut = 0;
  consoleBytesIn = 0;
}

export class PvVcpu {
  /** machine frame of the loaded page directory (a pinned L2 with a base-pointer type reference) */
  baseptr = -1;
  /**
   * a directory whose release an unpin or base-pointer switch of this vCPU left unfinished at the
   * step's bound (page-types.ts Partial.RELEASING); the next mmuext_op finishes it first (-1: none)
   */
  pendingRelease = -1;
  /** the domain asked to block (sched_op block) and no event was pending */
  blockRequested = false;
  /** sched_op yield */
  yieldRequested = false;
  /**
   * the vCPU is on the hypervisor's return path of a hypercall (it returned, or blocked or yielded
   * in it): an upcall delivered now is folded into that return, as Xen's test_all_events builds
   * the bounce frame before the one IRET of the hypercall's exit - no interrupt into the
   * hypervisor, no IRET of its own. Cleared before the guest runs again.
   */
  inHypercallReturn = false;
  /**
   * its last run ended at a stop the host's slicing alone made (Hypervisor.slicedByHost): the
   * next run goes on as if it had not stopped (no restamp, no upcall before the guest runs)
   */
  hostSliced = false;
  /** periodic timer: period in cycles (0 = off) and its next expiry */
  periodCycles = 0;
  periodicHandle = -1;
  /** one-shot timer (set_timer_op) */
  timerHandle = -1;
  /** cycle count when the vCPU was created, cycles it spent blocked, and since when it is blocked (-1: not) */
  createdAt = 0;
  blockedCycles = 0;
  blockedSince = -1;
  /** up (VCPUOP_UP; vCPU 0 from the start): the scheduler may run it; a down vCPU is never woken */
  online = true;
  /** its state was set (the builder for vCPU 0, VCPUOP_INITIALISE for the others) */
  initialised = true;
  /** cycles it spent down, and since when it is down (-1: up) */
  offlineCycles = 0;
  offlineSince = -1;
  /** TLB flushes other vCPUs asked for it (TLB_FLUSH_MULTI, INVLPG_MULTI naming it), and those it asked for itself */
  remoteFlushes = 0;
  localFlushes = 0;
  /**
   * sched_op yields a spinning lock made (arg > 0: the cycles since it began to spin), and the
   * cycles of those waits this vCPU itself ran (its run stretches inside each wait: spin wasted;
   * the time other vCPUs ran meanwhile is not counted)
   */
  spinYields = 0;
  spinCycles = 0;
  /** the last STRETCHES stretches this vCPU ran on the CPU (cycle counts [start, end)), a ring; and the current one's start */
  readonly stretchStart = new Float64Array(STRETCHES);
  readonly stretchEnd = new Float64Array(STRETCHES);
  stretchNext = 0;
  runningSince = 0;
  constructor(readonly vcpu: Vcpu) {}

  /** The cycles this vCPU ran from cycle `since` up to `now` (it is running now, since runningSince). */
  ranSince(since: number, now: number): number {
    let own = now - Math.max(since, this.runningSince);
    for (let k = 0; k < STRETCHES; k++) {
      const end = this.stretchEnd[k]!;
      if (end > since) own += end - Math.max(this.stretchStart[k]!, since);
    }
    return Math.max(0, own);
  }
}

export class PvDomain {
  readonly events = new EventChannels();
  readonly grants = new GrantTable();
  readonly stats = new PvStats();
  readonly vcpus: PvVcpu[];
  /** the shared-info page (a hypervisor frame shared with the domain) */
  sharedInfoMfn = -1;
  /** the real IDT (a hypervisor frame mapped read-only at HvLayout.IDT) */
  idtMfn = -1;
  /** the hypervisor's page table for directory slot HvLayout.PDE */
  hvL1Mfn = -1;
  /** the registered trap table: per vector, handler address (0 = none) and TrapFlags */
  readonly trapAddress = new Int32Array(256);
  readonly trapFlags = new Int32Array(256);
  /** set_callbacks */
  eventCallback = 0;
  failsafeCallback = 0;
  /** console input waiting for console_io(READ) (before the guest connects its console ring) */
  readonly consoleIn = new ByteQueue();
  /** pseudo-physical frames of the bootstrap layout (for tools) */
  startInfoPfn = -1;
  /** the block back end, if the domain has a disk */
  blk: { port: number; notify(): void; destroy(): void; held(): { frame: number; readonly: boolean }[] } | null = null;
  /** the network back end, if the domain has a network (DomainConfig.onTransmit) */
  net: import('./netback.ts').NetBack | null = null;
  /** the console back end (the builder sets it up) */
  console: { port: number; feed(bytes: Uint8Array): void; drain(): void; destroy(): void } | null = null;
  /**
   * the domain's time less the machine's, in cycles: 0 for a domain built here; a domain restored
   * on another machine (hypervisor/save/pv-domain.ts) goes on from its own saved time, so its TSC
   * (Cpu.tscOffset while it is loaded), system time and timers read as if it had never moved
   */
  tscOffset = 0;
  /** the control domain: may use dom0_op (start_info FLAGS PRIVILEGED) */
  privileged = false;

  constructor(
    readonly host: PvHost,
    readonly domain: Domain,
  ) {
    this.vcpus = domain.vcpus.map((v) => new PvVcpu(v));
  }

  get id(): number {
    return this.domain.id;
  }

  /** machine address of the shared-info page */
  get sharedInfo(): number {
    return this.sharedInfoMfn * PAGE;
  }
}

/** Hypervisor-wide PV state. */
export class PvHost {
  readonly types: PageTypes;
  readonly costs: PvCosts;
  /** machine -> pseudo-physical frame, -1 when unassigned (mirrored into the published table) */
  readonly m2p: Int32Array;
  /**
   * machine -> the p2m slot that holds it, -1 when none: the hypervisor's own reverse map, which
   * the guest cannot write (its m2p entries it can, MACHPHYS_UPDATE), so memory_op finds the slot
   * of a frame it gives back in one look instead of scanning the p2m
   */
  readonly p2mSlot: Int32Array;
  /** hypervisor frames holding the published m2p table, in order */
  readonly m2pFrames: number[] = [];
  /** hypervisor frames shared with one domain (shared info, grant tables): frame -> domain id */
  readonly sharedWith = new Map<number, number>();
  readonly domains = new Map<number, PvDomain>();
  /**
   * Frames of destroyed domains that other domains (or back ends) still had mapped through grants:
   * the hypervisor holds them until the last mapping goes, then frees them.
   */
  readonly zombies = new Set<number>();

  constructor(readonly platform: PvPlatform) {
    const frames = platform.frames.frames;
    if (frames > (HvLayout.MAX_MACHINE_FRAMES as number)) {
      throw new RangeError(`the PV mode serves machines of up to 2 GiB (this one has ${frames} frames)`);
    }
    this.costs = pvCosts(platform.profile);
    // the unit costs of pv's own ledger kinds
    const u = platform.cpu.evUnit;
    u[Ev.PvDispatch] = this.costs.dispatch;
    u[Ev.PvRequest] = this.costs.perRequest;
    u[Ev.PvTableScan] = this.costs.tableScan;
    u[Ev.PvBounce] = this.costs.bounce;
    u[Ev.PvEventSet] = this.costs.eventSet;
    u[Ev.PvSectorCopy] = this.costs.sectorCopy;
    u[Ev.PvGrantCopy] = this.costs.grantCopyLine;
    u[Ev.PvPageFlip] = this.costs.pageFlip;
    this.m2p = new Int32Array(frames).fill(-1);
    this.p2mSlot = new Int32Array(frames).fill(-1);
    this.types = new PageTypes(platform.mem, platform.frames.owner, {
      mayMap: (dom, f) => this.mayMap(dom, f),
      dropGrantMapping: (dom, pteAddr) => this.dropGrantMapping(dom, pteAddr),
      hypervisorPde: (dom) => this.hypervisorPde(dom),
    });
  }

  get mem(): PhysicalMemory {
    return this.platform.mem;
  }

  get cpu(): Cpu {
    return this.platform.cpu;
  }

  /**
   * Machine frame mfn goes into (pfn >= 0) or leaves (-1) its owner's p2m slot pfn: the private
   * reverse map and the published m2p entry follow. (The caller writes the p2m itself.)
   */
  setP2mSlot(mfn: number, pfn: number): void {
    this.p2mSlot[mfn] = pfn;
    this.setM2p(mfn, pfn);
  }

  /** Record that machine frame mfn is pseudo-physical frame pfn of its owner (-1: none). */
  setM2p(mfn: number, pfn: number): void {
    this.m2p[mfn] = pfn;
    if (this.m2pFrames.length > 0) this.writeM2p(mfn, pfn);
  }

  private writeM2p(mfn: number, pfn: number): void {
    const table = this.m2pFrames[(mfn * 4) >>> 12]!;
    this.platform.mem.noteWrite((table << 12) + (mfn & 1023) * 4, 4);
    this.platform.mem.i32[(table << 10) + (mfn & 1023)] = pfn;
  }

  /** The published m2p table's frames, taken when the first domain is set up. */
  private ensureM2pTable(): void {
    if (this.m2pFrames.length > 0) return;
    const frames = this.m2p.length;
    const tableFrames = Math.ceil((frames * 4) / PAGE);
    for (let k = 0; k < tableFrames; k++) this.m2pFrames.push(this.platform.allocHypervisorFrame());
    for (let f = 0; f < frames; f++) this.writeM2p(f, this.m2p[f]!);
  }

  /** May domain `dom` map frame f: it owns it, or the hypervisor shares it with it. */
  mayMap(dom: number, f: number): boolean {
    const owner = this.platform.frames.owner[f];
    if (owner === dom) return true;
    return owner === OWNER_HYPERVISOR && this.sharedWith.get(f) === dom;
  }

  /** The L1 holding pteAddr lost its type: unmap dom's grant mapping there, if there is one. */
  dropGrantMapping(dom: number, pteAddr: number): boolean {
    const d = this.domains.get(dom);
    const h = d?.grants.pteToHandle.get(pteAddr);
    if (d === undefined || h === undefined) return false;
    unmapGrant(this, d, h);
    return true;
  }

  /** A zeroed hypervisor frame the domain may map (shared info, grant table). */
  allocShared(dom: number): number {
    const f = this.platform.allocHypervisorFrame();
    this.sharedWith.set(f, dom);
    return f;
  }

  releaseShared(f: number): void {
    this.sharedWith.delete(f);
    this.types.clear(f);
    this.platform.releaseHypervisorFrame(f);
  }

  /** The directory entry for slot HvLayout.PDE in every page directory of the domain. */
  hypervisorPde(dom: number): number {
    const d = this.domains.get(dom);
    return d && d.hvL1Mfn >= 0 ? (d.hvL1Mfn * PAGE) | PTE_P | PTE_A : 0;
  }

  /** Set up the hypervisor-owned pages of a new domain: shared info, real IDT, the reserved L1. */
  initDomain(d: PvDomain): void {
    this.ensureM2pTable();
    this.domains.set(d.id, d);
    d.sharedInfoMfn = this.allocShared(d.id);
    d.idtMfn = this.platform.allocHypervisorFrame();
    d.hvL1Mfn = this.platform.allocHypervisorFrame();
    const i32 = this.platform.mem.i32;
    const l1 = d.hvL1Mfn << 10;
    // read-only, supervisor: the guest kernel (ring 1) may read but never write them
    i32[l1 + ((IDT_VA - HV_BASE) >>> 12)] = (d.idtMfn * PAGE) | PTE_P | PTE_A;
    this.m2pFrames.forEach((f, k) => {
      i32[l1 + ((M2P_VA - HV_BASE) >>> 12) + k] = (f * PAGE) | PTE_P | PTE_A;
    });
  }

  /** Give back the hypervisor-owned pages of a domain that is gone. */
  releaseDomain(d: PvDomain): void {
    for (const f of [d.idtMfn, d.hvL1Mfn]) if (f >= 0) this.platform.releaseHypervisorFrame(f);
    if (d.sharedInfoMfn >= 0) this.releaseShared(d.sharedInfoMfn);
    for (const f of d.grants.frames) this.releaseShared(f);
    d.idtMfn = d.hvL1Mfn = d.sharedInfoMfn = -1;
    d.grants.frames.length = 0;
    this.domains.delete(d.id);
  }

  /** A reference to frame f was dropped: free it if it is a zombie nobody maps any more. */
  frameReleased(f: number): void {
    if (this.types.refCount[f] === 0 && this.zombies.delete(f)) {
      this.types.clear(f);
      this.platform.releaseHypervisorFrame(f);
    }
  }

  /** Charge `n` events of ledger kind `ev` (machine/ledger.ts) of hypervisor software work to a domain. */
  charge(d: PvDomain, ev: number, n: number): void {
    this.platform.chargeMonitor(d.domain, ev, n);
  }
}

/** The PV state of a domain; a domain of another mode is a programming error. */
export function pvDomain(domain: Domain): PvDomain {
  const d = domain.modeState;
  if (!(d instanceof PvDomain)) throw new Error(`domain ${domain.id} is not a pv domain`);
  return d;
}

declare module '../core/domain.ts' {
  interface DomainModeStates {
    pv: PvDomain;
  }
}

/** HvLayout.VCPU_RUNSTATE's first word in the IDT's frame */
const RUNSTATE_WORD: number = ((HvLayout.VCPU_RUNSTATE as number) - (HvLayout.IDT as number)) >>> 2;

/** The RunState number of each Hypervisor.vcpuRunstate answer. */
export function runStateNumber(state: VcpuRunstateName): number {
  switch (state) {
    case 'running':
      return RunState.RUNNING;
    case 'runnable':
      return RunState.RUNNABLE;
    case 'blocked':
      return RunState.BLOCKED;
    case 'offline':
      return RunState.OFFLINE;
  }
}

/**
 * Write every vCPU's runstate of `d` to HvLayout.VCPU_RUNSTATE (read-only to the guest): at the
 * start of each of its vCPUs' runs and whenever one is woken or blocked, so while any vCPU of the
 * domain runs the words are true (the others' physical CPUs do not run meanwhile: the simulator
 * runs one at a time). A kernel's spinlock reads its holder's word (pvops VCPU_PREEMPTED).
 */
export function publishRunstate(host: PvHost, d: PvDomain): void {
  const mem = host.platform.mem;
  const base = (d.idtMfn << 10) + RUNSTATE_WORD;
  if (d.idtMfn < 0) return;
  for (const pv of d.vcpus) {
    const state = pv.online ? runStateNumber(host.platform.vcpuRunstate(pv.vcpu)) : RunState.OFFLINE;
    mem.i32[base + pv.vcpu.id] = state;
  }
}
