// The hypervisor core, KVM-shaped: it owns one real XL32 Machine (its CPU, physical memory and
// event queue - the machine's own bus devices are never given to guests), a machine-frame
// allocator, the domains and their vCPUs, a pluggable scheduler, and the outer exit loop - KVM's
// userspace `for (;;) { exit = KVM_RUN; switch (exit->reason) ... }` - that runs vCPUs through their
// mode and hands I/O to the domain's device model. Simulated time is the real CPU's one cycle
// counter; every device event of every domain is on the machine's one event queue, and a vCPU
// never runs past the next event, so a run is deterministic.

import { END_OF_TIME, END_OF_TIME_DETAIL, runLimit, type EventQueue } from '../../machine/clock.ts';
import type { CostProfile } from '../../machine/costs.ts';
import type { Cpu, CpuState } from '../../machine/cpu.ts';
import { MAX_CPUS, Machine } from '../../machine/machine.ts';
import type { Engine } from '../../machine/translator.ts';
import type { PhysicalMemory } from '../../machine/memory.ts';
import { Ev } from '../../machine/ledger.ts';
import { DeviceModel } from '../devices/model.ts';
import { LogDirtyTracker } from './log-dirty.ts';
import { Domain, type DomainConfig } from './domain.ts';
import { FrameAllocator, OWNER_HYPERVISOR } from './frames.ts';
import { GuestMemory } from './guest-memory.ts';
import type { BootSpec, Mode } from './mode.ts';
import { RoundRobinScheduler, type Scheduler } from './scheduler.ts';
import { Vcpu, type VcpuRunstateName } from './vcpu.ts';
import { TraceKind, type TraceBuffer } from './trace.ts';
import { countSpin, inSpin, shouldYield } from './spin-watch.ts';
import { assertNever } from '../../machine/never.ts';

export interface HypervisorOptions {
  /** the real machine's memory (default 64 MiB): every domain's memory plus the hypervisor's */
  memoryBytes?: number;
  /** CPU cost profile (default 'p4-2003') */
  profile?: string;
  /** the vCPU scheduler (default round robin with a 1 ms slice); with several physical CPUs, physical CPU 0's */
  scheduler?: Scheduler;
  /**
   * physical CPUs, 1..MAX_CPUS (default 1). With several, each vCPU is pinned to one (in creation
   * order, round robin) and each has its own scheduler (makeScheduler's) and clock; see runMulti.
   */
  pcpus?: number;
  /** the scheduler of each physical CPU after the first (default round robin with a 1 ms slice) */
  makeScheduler?: (pcpu: number) => Scheduler;
  /** the CPU engine guest code runs on (default: the machine's) */
  engine?: Engine;
  /**
   * a hosted monitor (VMware Workstation's shape): every I/O exit also pays a world switch to the
   * host, where the device model runs, and back (the profile's hostedWorldSwitch). Default false.
   */
  hosted?: boolean;
  /**
   * Co-scheduling (gang scheduling) of several physical CPUs: time goes in gang slices, each one
   * domain's - its vCPUs run together, each on its own physical CPU, and a physical CPU whose vCPU
   * of that domain is blocked (or that has none) idles: no other domain's vCPU runs in the slice.
   * A lock holder is then never descheduled while another vCPU of its domain runs. Needs several
   * physical CPUs and every domain's vCPUs on different ones (vcpus <= pcpus). Slices are
   * `sliceCycles` long; inside one, the physical CPUs take turns of 1..quantumCycles cycles drawn
   * from xorshift32 seeded with `seed` (the same seed, the same run). See runGang.
   */
  cosched?: { sliceCycles: number; quantumCycles: number; seed?: number };
}

/** What co-scheduling did (Hypervisor.gang), since creation. */
export class GangStats {
  /** gang slices begun */
  slices = 0;
  /** physical-CPU cycles idled inside gang slices while a vCPU of another domain pinned to that CPU was runnable: what co-scheduling costs */
  heldCycles = 0;
  /** all physical-CPU cycles idled inside gang slices (the slice's domain had nothing runnable there) */
  idleCycles = 0;
}

/** Why Hypervisor.run() returned. */
export type HypervisorStopReason =
  /** every domain has stopped */
  | 'all-stopped'
  /** maxCycles went by */
  | 'limit'
  /** stop() was called */
  | 'stopped'
  /** every live vCPU is blocked and no event is left that could wake one */
  | 'deadlock';

export interface HypervisorRunResult {
  reason: HypervisorStopReason;
  detail?: string;
  /** cycles and instructions of this run() call (all domains, hypervisor work included) */
  cycles: number;
  instructions: number;
  /** cycles of this call with no vCPU runnable */
  idleCycles: number;
}

/** The domain cannot be created (not enough machine memory, bad size); the message says why. */
export class DomainCreateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DomainCreateError';
  }
}

const PAGE = 4096;

/** One run of several physical CPUs (Hypervisor.startMultiRun). */
interface MultiRun {
  readonly limit: number;
  /** idle cycles counted so far */
  idle: number;
  done(reason: HypervisorStopReason, detail?: string): HypervisorRunResult;
}

export class Hypervisor {
  /** the real hardware */
  readonly machine: Machine;
  readonly cpu: Cpu;
  readonly mem: PhysicalMemory;
  /** the one event queue of every domain's devices */
  readonly events: EventQueue;
  readonly profile: CostProfile;
  readonly frames: FrameAllocator;
  readonly scheduler: Scheduler;
  /** physical CPUs (HypervisorOptions.pcpus) */
  readonly pcpus: number;
  /** each physical CPU's scheduler, over the vCPUs pinned to it ([0] is `scheduler`) */
  readonly pcpuSchedulers: readonly Scheduler[];
  /** with several physical CPUs: each one's clock (the real CPU shows pCPU `curPcpu`'s while it runs) */
  private readonly clocks: number[];
  /** the vCPU last run on each physical CPU */
  private readonly resident: (Vcpu | null)[];
  /** a physical CPU found with nothing runnable (its clock waits; a wake-up brings it to wakeAt) */
  private readonly pIdle: boolean[];
  private readonly wakeAt: number[];
  /** the physical CPU the real CPU is running now */
  private curPcpu = 0;
  private clocksSet = false;
  private nextPcpu = 0;
  /**
   * runMulti: the physical CPU whose slice the host's limit cut (slicedByHost), or -1. The next
   * run() goes on with that slice first, as the run never stopped would have: the other physical
   * CPUs do not run up to the limit in between (that changed the vCPUs' interleaving and refilled
   * the cut vCPU's TLB), so stopping a run of several physical CPUs changes nothing.
   */
  private cutPcpu = -1;
  /**
   * runMulti: the physical CPU chosen to run next when the host's limit came between that choice
   * (and the device events it ran, which may have woken a vCPU elsewhere) and its slice, or -1.
   * The next run() runs it without choosing again: with the woken physical CPU now runnable, a
   * new choice could fall on another one (a tie of clocks goes to the lower index), which the
   * run never stopped did not make.
   */
  private pickedPcpu = -1;
  /** runGang: where the turn the host's limit cut (cutPcpu) ends: the next run() gives it the rest, drawing none */
  private gangTurnEnd = 0;
  /** the last runSlice ended at run()'s limit alone: a deadline exit, not a yield, at slicedByHost() */
  private cutByHost = false;
  /** live and stopped domains, in creation order (destroyDomain removes one) */
  readonly domains: Domain[] = [];
  /** the vCPU whose state is on the real CPU */
  current: Vcpu | null = null;
  /** cycles with nothing runnable, since creation */
  idleCycles = 0;
  private nextDomainId = 1;
  /** domains not yet stopped */
  private liveDomains = 0;
  private stopRequested = false;
  /**
   * Where the running vCPU's run would stop were the host not slicing it: the next device event
   * or the end of its scheduling budget, that is its deadline without run()'s maxCycles (set
   * before each runVcpu). See slicedByHost().
   */
  guestDeadline = -Infinity;
  /** the current run()'s end (its maxCycles from its start); Infinity outside run() */
  hostLimit = Infinity;
  private readonly attached = new Set<Mode>();
  /** the trace buffer every domain's tracepoints write to, or null (setTrace) */
  trace: TraceBuffer | null = null;

  /** I/O exits pay a world switch to the host (HypervisorOptions.hosted) */
  readonly hosted: boolean;
  /** co-scheduling's settings (HypervisorOptions.cosched), or null */
  readonly cosched: { sliceCycles: number; quantumCycles: number; seed?: number } | null;
  /** what co-scheduling did (all zero without it) */
  readonly gang = new GangStats();
  /** the domain whose gang slice it is (co-scheduling), or null between slices */
  private gangDomain: Domain | null = null;
  /** the end of the current gang slice (a physical-CPU clock) */
  private gangEnd = 0;
  /** the domain index the next gang slice's search starts from */
  private gangNext = 0;
  /** co-scheduling's xorshift32 state */
  private gangRng = 1;
  /** the budget of a turn in a gang slice (runSlice's scheduler for it) */
  private readonly gangTurn = new GangTurn();

  constructor(opts: HypervisorOptions = {}) {
    const machineOpts: { memoryBytes: number; profile?: string; engine?: Engine } = { memoryBytes: opts.memoryBytes ?? 64 * 1024 * 1024 };
    if (opts.profile !== undefined) machineOpts.profile = opts.profile;
    if (opts.engine !== undefined) machineOpts.engine = opts.engine;
    this.machine = new Machine(machineOpts);
    this.cpu = this.machine.cpu;
    this.mem = this.machine.mem;
    this.events = this.machine.events;
    this.profile = this.machine.profile;
    // frame 0 stays the hypervisor's, so machine address 0 never belongs to a guest
    this.frames = new FrameAllocator(this.mem.size, 1);
    this.scheduler = opts.scheduler ?? new RoundRobinScheduler();
    const np = opts.pcpus ?? 1;
    if (!Number.isInteger(np) || np < 1 || np > MAX_CPUS) throw new RangeError(`pcpus must be a whole number 1..${MAX_CPUS}, not ${np}`);
    this.pcpus = np;
    const scheds = [this.scheduler];
    for (let p = 1; p < np; p++) scheds.push(opts.makeScheduler?.(p) ?? new RoundRobinScheduler());
    this.pcpuSchedulers = scheds;
    this.clocks = new Array<number>(np).fill(0);
    this.resident = new Array<Vcpu | null>(np).fill(null);
    this.pIdle = new Array<boolean>(np).fill(false);
    this.wakeAt = new Array<number>(np).fill(0);
    this.hosted = opts.hosted ?? false;
    const cs = opts.cosched;
    if (cs !== undefined) {
      if (np < 2) throw new RangeError('cosched: co-scheduling runs a domain\'s vCPUs together on several physical CPUs; it needs pcpus of 2 or more');
      if (!(Number.isInteger(cs.sliceCycles) && cs.sliceCycles >= 1 && Number.isInteger(cs.quantumCycles) && cs.quantumCycles >= 1)) {
        throw new RangeError(`cosched: the slice and the quantum must be whole numbers of cycles, at least 1 (got ${cs.sliceCycles}, ${cs.quantumCycles})`);
      }
      this.gangRng = (cs.seed ?? 1) >>> 0 || 1;
    }
    this.cosched = cs ?? null;
    // a store's first write to a log-dirty frame: the running domain's tracker takes the fault
    this.cpu.mmu.onLogDirtyFault = () => {
      const d = this.current?.domain;
      const t = d?.logDirty;
      if (!d || !t) return;
      t.chargeFault(d.mode.name === 'hvm', (ev, n) => this.chargeMonitor(d, ev, n));
    };
  }

  // ================================================================================ domains

  /**
   * Create a domain run by `mode`: take its memory quota from the machine frames (zeroed), give it
   * a device model (unless config.devices is false) and vCPUs, let the mode set up its state,
   * and, if `boot` is given, build the guest. Its vCPUs are then runnable.
   */
  createDomain(mode: Mode, config: DomainConfig, boot?: BootSpec): Domain {
    const bytes = config.memoryBytes;
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes % PAGE !== 0) {
      throw new DomainCreateError(`domain '${config.name}': memory must be a positive multiple of 4 KiB (got ${bytes})`);
    }
    const nframes = bytes / PAGE;
    if (nframes > this.frames.freeFrames) {
      throw new DomainCreateError(
        `domain '${config.name}': ${bytes >> 10} KiB requested, but only ${(this.frames.freeFrames * PAGE) >> 10} KiB of machine memory is free`,
      );
    }
    const nvcpus = config.vcpus ?? 1;
    if (!Number.isInteger(nvcpus) || nvcpus < 1) throw new DomainCreateError(`domain '${config.name}': vcpus must be at least 1`);
    if (this.cosched !== null && nvcpus > this.pcpus) {
      throw new DomainCreateError(`domain '${config.name}': co-scheduling runs its ${nvcpus} vCPUs together, one on each physical CPU, but there are only ${this.pcpus}`);
    }
    if (!this.attached.has(mode)) {
      mode.attach(this);
      this.attached.add(mode);
    }
    const id = this.nextDomainId++;
    const dirty = new Uint8Array(nframes);
    const p2m = this.frames.allocMany(id, nframes, dirty);
    // a frame may have been another domain's: never let a guest see what was there (zeroed in
    // runs of consecutive machine frames, one fill each). A frame never handed out is still as
    // the machine's memory came, zeros: not written, so the host does not fault in its page
    // before the guest touches it (host page faults were much of a boot's wall time)
    for (let k = 0; k < nframes; ) {
      if (dirty[k] === 0) {
        k++;
        continue;
      }
      let n = 1;
      while (k + n < nframes && dirty[k + n] !== 0 && p2m[k + n] === p2m[k]! + n) n++;
      this.mem.fill(p2m[k]! * PAGE, n * PAGE, 0);
      k += n;
    }
    const domain = new Domain(id, config.name, mode, new GuestMemory(this.mem, p2m), config);
    if (config.devices !== false) {
      domain.devices = new DeviceModel(this.cpu, this.events, domain, () => this.interruptPending(domain), {
        startVcpu: (n, pc, sp) => this.startGuestVcpu(domain, n, pc, sp),
        onlineMask: () => domain.vcpus.reduce((m, v) => (v.up ? m | (1 << v.id) : m), 0),
        interruptFor: (n) => {
          const v = domain.vcpus[n];
          if (v !== undefined && v.runState === 'blocked' && domain.mode.hasPendingEvent(v)) this.wake(v);
        },
      });
    }
    for (let k = 0; k < nvcpus; k++) {
      const v = new Vcpu(domain, k);
      v.pcpu = (this.nextPcpu + k) % this.pcpus;
      domain.vcpus.push(v);
    }
    domain.onStop = (d) => this.domainStopped(d);
    domain.makeLogDirty = (d) => new LogDirtyTracker(this.cpu, this.mem, d);
    try {
      mode.createDomain(domain);
      if (boot) mode.build(domain, boot);
    } catch (e) {
      // the mode refused (or the image does not fit): leave nothing behind
      domain.onStop = null;
      domain.shutdown('destroyed');
      domain.devices?.reset();
      if (domain.modeState !== null || domain.vcpus.some((v) => v.modeState !== null)) mode.destroyDomain(domain);
      this.frames.releaseAll(id);
      this.detachIfUnused(mode);
      throw e;
    }
    domain.stats.trace = this.trace;
    this.domains.push(domain);
    this.liveDomains++;
    this.nextPcpu = (this.nextPcpu + nvcpus) % this.pcpus;
    for (const v of domain.vcpus) this.schedOf(v).add(v);
    return domain;
  }

  /** Stop a domain (if running) and give its memory and the mode's state back. */
  destroyDomain(domain: Domain): void {
    domain.shutdown('destroyed');
    if (this.current && this.current.domain === domain) this.unloadCurrent();
    domain.mode.destroyDomain(domain);
    this.frames.releaseAll(domain.id);
    const k = this.domains.indexOf(domain);
    if (k >= 0) this.domains.splice(k, 1);
    this.detachIfUnused(domain.mode);
  }

  /**
   * A mode with no domain left here gives back what attach took (Mode.detach) and is forgotten:
   * a long-lived hypervisor that runs one mode object per domain (as bt's callers make them)
   * keeps neither the modes nor their hooks into the CPU and memory.
   */
  private detachIfUnused(mode: Mode): void {
    if (mode.detach === undefined || !this.attached.has(mode) || this.domains.some((d) => d.mode === mode)) return;
    this.attached.delete(mode);
    mode.detach(this);
  }

  /**
   * Stop scheduling a running domain's vCPUs until unpauseDomain (xm pause). Its devices and
   * timers go on; events wait for it. False if it was not running.
   */
  pauseDomain(domain: Domain): boolean {
    if (domain.state !== 'running') return false;
    domain.state = 'paused';
    for (const v of domain.vcpus) if (v.runState === 'runnable') this.schedOf(v).block(v);
    return true;
  }

  /** Schedule a paused domain again (its runnable vCPUs rejoin, with no credit for the pause). */
  unpauseDomain(domain: Domain): boolean {
    if (domain.state !== 'paused') return false;
    domain.state = 'running';
    for (const v of domain.vcpus) if (v.runState === 'runnable') this.schedOf(v).wake(v);
    return true;
  }

  /**
   * Turn tracing on (a buffer: every domain's exits, traps, hypercalls, event-channel
   * notifications, interrupts and the scheduler's switches go to it) or off (null). A runnable vCPU
   * on the CPU when tracing begins gets a switch record at once, so its run slice is in the trace.
   */
  setTrace(trace: TraceBuffer | null): void {
    this.trace = trace;
    if (trace !== null) trace.vcpuNow = this.current?.id ?? 0;
    for (const d of this.domains) d.stats.trace = trace;
    // the vCPU on the CPU now: its run slice begins the trace (a switch record, not a world switch)
    const v = this.current;
    if (trace !== null && v !== null && v.runState === 'runnable' && v.domain.state === 'running') trace.record(TraceKind.Switch, v.domain.id, v.id, 0);
  }

  /** The domain with this id, if it exists. */
  domain(id: number): Domain | undefined {
    return this.domains.find((d) => d.id === id);
  }

  /** A frame for the hypervisor's own use (shadow tables ...), zeroed; its machine frame number. */
  allocHypervisorFrame(): number {
    const f = this.frames.alloc(OWNER_HYPERVISOR);
    this.mem.fill(f * PAGE, PAGE, 0);
    return f;
  }

  releaseHypervisorFrame(frame: number): void {
    this.frames.release(frame, OWNER_HYPERVISOR);
  }

  private domainStopped(domain: Domain): void {
    this.liveDomains--;
    for (const v of domain.vcpus) this.schedOf(v).remove(v);
    domain.devices?.reset(); // cancels its pending device events
  }

  // ================================================================================ vCPUs

  /** A blocked vCPU becomes runnable (it is scheduled once its domain is not paused). A down vCPU stays down. */
  wake(vcpu: Vcpu): void {
    if (vcpu.runState !== 'blocked' || !vcpu.up) return;
    vcpu.runState = 'runnable';
    vcpu.domain.mode.runstateChanged?.(vcpu.domain);
    if (vcpu.domain.state === 'paused') return;
    const p = vcpu.pcpu;
    // an idle physical CPU starts again no earlier than now (the waking CPU's clock)
    if (this.pcpus > 1 && this.pIdle[p] && this.cpu.cycles > this.wakeAt[p]!) this.wakeAt[p] = this.cpu.cycles;
    this.schedOf(vcpu).wake(vcpu);
  }

  /** The vCPU waits for an event (HLT), unless its mode says one is already there. */
  block(vcpu: Vcpu): void {
    if (vcpu.runState !== 'runnable' || vcpu.domain.mode.hasPendingEvent(vcpu)) return;
    vcpu.runState = 'blocked';
    this.schedOf(vcpu).block(vcpu);
    vcpu.domain.mode.runstateChanged?.(vcpu.domain);
  }

  /** The domain's virtual interrupt controller may have something: wake its blocked vCPUs that can take it. */
  interruptPending(domain: Domain): void {
    for (const v of domain.vcpus) if (v.runState === 'blocked' && domain.mode.hasPendingEvent(v)) this.wake(v);
  }

  /**
   * Bring a down vCPU up: it becomes runnable (the mode has set its entry state). False if it is
   * up already or its domain has stopped.
   */
  startVcpu(vcpu: Vcpu): boolean {
    if (vcpu.up || vcpu.domain.stopped) return false;
    vcpu.up = true;
    vcpu.runState = 'blocked';
    this.wake(vcpu);
    return true;
  }

  /** A guest's start-up of its vCPU n (the virtual local APIC's LAPIC_START) at pc with sp. */
  private startGuestVcpu(domain: Domain, n: number, pc: number, sp: number): boolean {
    const v = domain.vcpus[n];
    const mode = domain.mode;
    if (v === undefined || v.up || domain.stopped || mode.startVcpu === undefined) return false;
    // it waited since power-on: its clock (the world switch's) is the CPU's; its state is the start-up's
    mode.startVcpu(v, pc, sp);
    domain.stats.vcpuStarts++;
    return this.startVcpu(v);
  }

  /** The architectural state of a vCPU, wherever it lives now (a copy). */
  vcpuState(vcpu: Vcpu): CpuState {
    return vcpu.loaded ? this.cpu.saveState() : structuredClone(vcpu.arch);
  }

  /**
   * Charge `n` events of ledger kind `ev` (machine/ledger.ts) of hypervisor software work done
   * for `domain` (monitor paths, world switches, callouts, pv's hypercall work).
   */
  chargeMonitor(domain: Domain, ev: number, n: number): void {
    const c0 = this.cpu.cycles;
    this.cpu.charge(ev, n);
    domain.stats.monitorCycles += this.cpu.cycles - c0;
  }

  /**
   * Put `vcpu` on the real CPU: save the current one, restore this one's registers (time is not
   * part of a vCPU's state: the cycle and instruction counters keep running), and let the mode
   * set its hooks. A world switch is charged as one monitor path plus a CR3 load.
   */
  private switchTo(vcpu: Vcpu, worldSwitch = true): void {
    if (this.current === vcpu) return;
    if (this.current) this.unloadCurrent();
    const cpu = this.cpu;
    const arch = vcpu.arch;
    arch.cycles = cpu.cycles;
    arch.instructions = cpu.instructions;
    cpu.loadState(arch);
    vcpu.loaded = true;
    this.current = vcpu;
    if (this.trace !== null) this.trace.vcpuNow = vcpu.id;
    vcpu.domain.mode.load(vcpu);
    const d = vcpu.domain;
    if (!worldSwitch) return;
    d.stats.worldSwitches++;
    if (this.trace !== null) this.trace.record(TraceKind.Switch, d.id, vcpu.id, 0);
    this.chargeMonitor(d, Ev.WorldSwitch, 1);
  }

  /**
   * Make `vcpu` the one on the real CPU without a world switch: a restored domain's vCPU that was
   * on its CPU when it was saved (hypervisor/save/pv-domain.ts) goes on as if it never left, its
   * TLB laid in by the caller. The vCPU on the CPU now is saved as a world switch saves it (the
   * switch back to it is charged when it is next picked).
   */
  adoptCurrent(vcpu: Vcpu): void {
    if (this.current) this.unloadCurrent();
    const arch = vcpu.arch;
    arch.cycles = this.cpu.cycles;
    arch.instructions = this.cpu.instructions;
    this.cpu.loadState(arch);
    vcpu.loaded = true;
    this.current = vcpu;
    if (this.trace !== null) this.trace.vcpuNow = vcpu.id;
    vcpu.domain.mode.load(vcpu);
  }

  /**
   * Domain.spinYield: `vcpu`, picked, would spin behind a holder waiting for this physical CPU -
   * its slice is given up (the scheduler rotates; no cycles pass, no world switch to it).
   */
  private spinYield(vcpu: Vcpu, sched: Scheduler): boolean {
    const d = vcpu.domain;
    const w = d.spinWatch;
    if (w === null || !d.spinYield) return false;
    const pc = vcpu.loaded ? this.cpu.pc : vcpu.arch.pc;
    if (!shouldYield(w, pc, d.memory.read32(w.holderGpa), d.vcpus, vcpu)) return false;
    d.spinStats.yields++;
    sched.account(vcpu, sched.budget(vcpu));
    return true;
  }

  /** Is `vcpu` on its physical CPU now (running, or the one its CPU runs when the CPU next gets a turn)? */
  private onPcpu(vcpu: Vcpu): boolean {
    if (vcpu.runState !== 'runnable' || !vcpu.up) return false;
    // co-scheduled: every runnable vCPU of the slice's domain has its physical CPU for the slice
    if (this.cosched !== null) return vcpu.domain === this.gangDomain;
    return this.pcpus > 1 ? this.resident[vcpu.pcpu] === vcpu : this.current === vcpu;
  }

  /**
   * Xen's runstate of `vcpu` (public/vcpu.h RUNSTATE_*) as the hypervisor sees it now: 'running'
   * while it has its physical CPU (it runs, or is the one its CPU runs when that CPU next gets a
   * turn; co-scheduled: its domain has the gang slice), 'runnable' while it waits for it
   * (preempted), 'blocked', 'offline' (down, or its domain stopped).
   */
  vcpuRunstate(vcpu: Vcpu): VcpuRunstateName {
    if (!vcpu.up || vcpu.runState === 'stopped') return 'offline';
    if (vcpu.runState === 'blocked') return 'blocked';
    return this.onPcpu(vcpu) ? 'running' : 'runnable';
  }

  /** The scheduler of the physical CPU `vcpu` is pinned to. */
  private schedOf(vcpu: Vcpu): Scheduler {
    return this.pcpuSchedulers[vcpu.pcpu]!;
  }

  /**
   * `vcpu` gives up the rest of its slice to the others on its physical CPU (pv's sched_op
   * yield, hvm's pause-loop exit), if its scheduler can be told so. True if its scheduler says
   * another runs first.
   */
  yieldVcpu(vcpu: Vcpu): boolean {
    return this.schedOf(vcpu).yield?.(vcpu) === true;
  }

  /** Make the real CPU run physical CPU p: its vCPU, if loaded, leaves it; the cycle counter becomes p's clock. */
  private enterPcpu(p: number): void {
    if (p === this.curPcpu) return;
    this.unloadCurrent();
    this.clocks[this.curPcpu] = this.cpu.cycles;
    this.curPcpu = p;
    this.cpu.cycles = this.clocks[p]!;
  }

  private unloadCurrent(): void {
    const v = this.current;
    if (!v) return;
    v.domain.mode.unload(v);
    v.arch = this.cpu.saveState();
    v.loaded = false;
    this.current = null;
  }

  // ================================================================================ the exit loop

  /** Is the running vCPU's CPU (at cpu.cycles) short of its guestDeadline and of every device event? */
  beforeGuestDeadline(): boolean {
    return this.cpu.cycles < Math.min(this.guestDeadline, this.events.nextDeadline());
  }

  /**
   * Did the running vCPU's CPU stop (at cpu.cycles) for the host's slicing alone - at run()'s
   * maxCycles (the CLI's interactive slices, a replay's run to an input's cycle) and short of its
   * guestDeadline and of every device event? Such a stop is no entry into the hypervisor the
   * guest could tell from running on (a device event or the budget's end is one: a timer
   * interrupt would make it, in any slicing; so is a stop a device model asked for by
   * cpu.shortenDeadline before the host's limit). A mode does nothing there the guest could see
   * (no event delivered, no time restamped, no timer re-armed), so slicing does not change a run
   * (test/hypervisor/slicing.test.ts).
   */
  slicedByHost(): boolean {
    return this.cpu.cycles >= this.hostLimit && this.beforeGuestDeadline();
  }

  /** Make run() return 'stopped' soon (at the next block boundary of the running vCPU). */
  stop(): void {
    this.stopRequested = true;
    this.cpu.requestStop();
  }

  /**
   * Run domains until every one has stopped, maxCycles go by, stop() is called, or nothing can
   * ever run again. May be called again to continue.
   */
  run(opts: { maxCycles?: number } = {}): HypervisorRunResult {
    this.machine.checkNotReleased();
    if (this.cosched !== null) return this.runGang(opts);
    if (this.pcpus > 1) return this.runMulti(opts);
    const cpu = this.cpu;
    const start = cpu.cycles;
    const startInsns = cpu.instructions;
    const limit = runLimit(start, opts.maxCycles);
    this.hostLimit = limit;
    let idle = 0;
    const done = (reason: HypervisorStopReason, detail?: string): HypervisorRunResult => {
      this.idleCycles += idle;
      this.hostLimit = Infinity;
      const res: HypervisorRunResult = { reason, cycles: cpu.cycles - start, instructions: cpu.instructions - startInsns, idleCycles: idle };
      if (detail !== undefined) res.detail = detail;
      return res;
    };
    this.stopRequested = false;
    for (;;) {
      this.events.runDue();
      if (this.stopRequested) {
        this.stopRequested = false;
        return done('stopped');
      }
      if (this.liveDomains === 0) return done('all-stopped');
      if (cpu.cycles >= limit) return limit === END_OF_TIME ? done('limit', END_OF_TIME_DETAIL) : done('limit');

      const vcpu = this.scheduler.pick(cpu.cycles);
      if (vcpu === null) {
        // Nothing runnable: the CPU idles until the next device event (which may wake a vCPU).
        const next = this.events.nextDeadline();
        if (next === Infinity) return done('deadlock', 'every vCPU is blocked and no device event is left that could wake one');
        const target = Math.min(next, limit);
        if (target > cpu.cycles) {
          idle += target - cpu.cycles;
          cpu.charge(Ev.Idle, target - cpu.cycles);
        }
        continue;
      }

      if (this.spinYield(vcpu, this.scheduler)) continue;
      this.switchTo(vcpu);
      if (this.runSlice(vcpu, this.scheduler, limit)) return done('stopped');
      if (vcpu.runState === 'stopped' && this.current === vcpu) this.unloadCurrent();
    }
  }

  /**
   * The start both runs of several physical CPUs share (runMulti, runGang): every clock set at the
   * first run, the running one's from the CPU, the host limit; `done` ends the run (the clocks, the
   * idle cycles the loop counted in `idle`, the host limit cleared) and gives its result.
   */
  private startMultiRun(maxCycles: number | undefined): MultiRun {
    const cpu = this.cpu;
    const clocks = this.clocks;
    if (!this.clocksSet) {
      clocks.fill(cpu.cycles);
      this.clocksSet = true;
    }
    clocks[this.curPcpu] = cpu.cycles;
    const start = cpu.cycles;
    const startInsns = cpu.instructions;
    const run: MultiRun = {
      limit: runLimit(start, maxCycles),
      idle: 0,
      done: (reason, detail) => {
        clocks[this.curPcpu] = cpu.cycles;
        this.idleCycles += run.idle;
        this.hostLimit = Infinity;
        const res: HypervisorRunResult = { reason, cycles: cpu.cycles - start, instructions: cpu.instructions - startInsns, idleCycles: run.idle };
        if (detail !== undefined) res.detail = detail;
        return res;
      },
    };
    this.hostLimit = run.limit;
    return run;
  }

  /**
   * Run `vcpu` (on the real CPU now) for one slice - until the next event, the end of its
   * scheduler's budget or the limit - and handle its exit. True: the run must return 'stopped'.
   */
  private runSlice(vcpu: Vcpu, sched: Scheduler, limit: number): boolean {
    const cpu = this.cpu;
    const domain = vcpu.domain;
    this.guestDeadline = Math.min(this.events.nextDeadline(), cpu.cycles + sched.budget(vcpu));
    const deadline = Math.min(this.guestDeadline, limit);
    const c0 = cpu.cycles;
    const i0 = cpu.instructions;
    const watch = domain.spinWatch;
    const spinning = watch !== null && inSpin(watch, cpu.pc);
    const exit = domain.mode.runVcpu(vcpu, deadline);
    this.cutByHost = exit.reason === 'deadline' && !exit.yielded && this.slicedByHost();
    const used = cpu.cycles - c0;
    if (spinning && (exit.reason === 'deadline' || exit.reason === 'yield') && vcpu.loaded && inSpin(watch, cpu.pc)) {
      countSpin(domain.spinStats, domain.memory.read32(watch.holderGpa), domain.vcpus, vcpu, used, (h) => this.onPcpu(h));
    }
    vcpu.runCycles += used;
    domain.stats.runCycles += used;
    domain.stats.instructions += cpu.instructions - i0;
    sched.account(vcpu, used);
    domain.stats.loopExits[exit.reason]++;

    switch (exit.reason) {
      case 'io':
        // KVM_EXIT_IO: the device model answers (its work charged, and a hosted monitor's world
        // switch to it); an IN completes when the vCPU next runs
        this.chargeMonitor(domain, Ev.DeviceModel, 1);
        if (this.hosted) this.chargeMonitor(domain, Ev.HostedSwitch, 1);
        if (domain.devices) domain.devices.handleIo(exit, vcpu.id);
        else if (!exit.isWrite) exit.data = exit.size === 1 ? 0xff : 0xffffffff;
        if (!exit.isWrite) vcpu.ioPending = true;
        break;
      case 'hlt':
        this.block(vcpu);
        break;
      case 'deadline':
        break;
      case 'yield':
        // the vCPU spins on a lock (hvm's pause-loop exit): the others on its physical CPU go
        // first (KVM's kvm_vcpu_on_spin yields so; with nobody else runnable it runs on)
        if (this.yieldVcpu(vcpu)) domain.stats.yieldsToOthers++;
        break;
      case 'shutdown':
      case 'crash':
        // the mode has stopped the domain (domain.shutdown); make sure of it
        if (!domain.stopped) domain.shutdown(exit.reason === 'crash' ? 'crashed' : 'poweroff', 0, exit.detail);
        break;
      case 'stopped':
        // stop() asked for it, or the CPU stopped for the monitor (an exact breakpoint or step)
        if (this.stopRequested || cpu.monitorStopped) {
          this.stopRequested = false;
          return true;
        }
        break;
      default:
        assertNever(exit.reason, 'vCPU exit reason');
    }
    return false;
  }

  /*
   * Several physical CPUs (HypervisorOptions.pcpus), simulated as the bare multiprocessor is
   * (machine/machine.ts runSmp): each has its own clock, and the one whose clock is lowest runs
   * next, one slice of the vCPU its scheduler picks, on the one real Cpu - its registers are the
   * vCPU's as always; its cycle counter shows that physical CPU's clock. Events run when the
   * running CPU's clock passes them. A physical CPU with nothing runnable waits (its clock stands)
   * until a wake-up, and then starts no earlier than the time of the wake-up. Moving the real
   * Cpu from one physical CPU's vCPU to another's is the simulator's doing, not a world switch:
   * none is charged or counted (the mode's unload and load still run: under hvm it is an
   * external-interrupt exit, as a host timer tick would give; the TLB is refilled, which real
   * CPUs, each with its own TLB, would not need - a documented overcharge, docs/hypervisor.md).
   */
  private runMulti(opts: { maxCycles?: number }): HypervisorRunResult {
    const cpu = this.cpu;
    const clocks = this.clocks;
    const P = this.pcpus;
    // the machine's clock is the running physical CPU's (as the bare multiprocessor's)
    const run = this.startMultiRun(opts.maxCycles);
    const { limit, done } = run;
    const enter = (p: number): void => this.enterPcpu(p);
    /** physical CPU p waits until `t` */
    const idleTo = (p: number, t: number): void => {
      if (clocks[p]! >= t) return;
      enter(p);
      run.idle += t - cpu.cycles;
      cpu.charge(Ev.Idle, t - cpu.cycles);
      clocks[p] = cpu.cycles;
    };
    this.stopRequested = false;
    for (;;) {
      if (this.stopRequested) {
        this.stopRequested = false;
        return done('stopped');
      }
      if (this.liveDomains === 0) return done('all-stopped');
      clocks[this.curPcpu] = cpu.cycles;
      // the physical CPU to run: the one whose slice the last run() cut, else the lowest clock
      // among those with a runnable vCPU
      const cut = this.cutPcpu;
      this.cutPcpu = -1;
      const goOn = cut >= 0 && cut === this.curPcpu && this.pcpuSchedulers[cut]!.pick(clocks[cut]!) === this.current;
      const picked = this.pickedPcpu;
      this.pickedPcpu = -1;
      const again = !goOn && picked >= 0 && picked === this.curPcpu;
      let best = goOn || again ? this.curPcpu : -1;
      let bestAt = goOn || again ? clocks[this.curPcpu]! : Infinity;
      for (let p = 0; p < P && !goOn && !again; p++) {
        if (this.pcpuSchedulers[p]!.pick(clocks[p]!) === null) {
          if (!this.pIdle[p]) {
            this.pIdle[p] = true;
            this.wakeAt[p] = clocks[p]!;
          }
          continue;
        }
        const at = this.pIdle[p] ? Math.max(clocks[p]!, this.wakeAt[p]!) : clocks[p]!;
        if (at < bestAt) {
          best = p;
          bestAt = at;
        }
      }
      if (best < 0) {
        // nothing runnable anywhere: every physical CPU idles until the next device event
        const next = this.events.nextDeadline();
        if (next === Infinity) return done('deadlock', 'every vCPU is blocked and no device event is left that could wake one');
        const target = Math.min(next, limit);
        for (let p = 0; p < P; p++) idleTo(p, target);
        let low = 0;
        for (let p = 1; p < P; p++) if (clocks[p]! < clocks[low]!) low = p;
        enter(low);
        this.events.runDue();
        if (cpu.cycles >= limit) return limit === END_OF_TIME ? done('limit', END_OF_TIME_DETAIL) : done('limit');
        continue;
      }
      idleTo(best, bestAt);
      this.pIdle[best] = false;
      enter(best);
      this.events.runDue();
      if (this.stopRequested || this.liveDomains === 0) continue;
      if (cpu.cycles >= limit) {
        // the next run() goes on with this physical CPU, chosen before the events ran
        this.pickedPcpu = best;
        return limit === END_OF_TIME ? done('limit', END_OF_TIME_DETAIL) : done('limit');
      }
      const sched = this.pcpuSchedulers[best]!;
      const vcpu = sched.pick(cpu.cycles);
      if (vcpu === null) continue;
      // the vCPU last run on this physical CPU comes back without a world switch; another one is one
      // (a cut slice goes on: no yield is considered in the middle of a slice)
      if (!goOn && this.spinYield(vcpu, sched)) continue;
      const back = this.resident[best] === vcpu;
      this.switchTo(vcpu, !back);
      this.resident[best] = vcpu;
      const stop = this.runSlice(vcpu, sched, limit);
      clocks[best] = cpu.cycles;
      if (stop) return done('stopped');
      if (vcpu.runState === 'stopped' && this.current === vcpu) this.unloadCurrent();
      else if (this.current === vcpu && this.cutByHost) {
        // the host's limit cut the slice: return now, before another physical CPU runs
        this.cutPcpu = best;
        return done('limit');
      }
    }
  }

  /*
   * Co-scheduling (HypervisorOptions.cosched): the physical CPUs keep their own clocks as in
   * runMulti, but time goes in gang slices. A slice begins when every physical CPU's clock has
   * reached the last one's end: those behind idle up to the latest (they all start it together),
   * and the next domain in creation order (round robin) with a runnable vCPU gets it, for
   * sliceCycles. Inside, the physical CPU with the lowest clock whose vCPU of that domain is
   * runnable takes a turn of 1..quantumCycles (seeded) cycles, as runMulti's do; one whose vCPU is
   * blocked, down or absent idles - other domains' vCPUs wait for their own slice (the cost,
   * GangStats.heldCycles) - until a wake-up or the slice's end. --spin-yield does not apply: the
   * holder is never waiting for its physical CPU while a vCPU of its domain runs.
   */
  private runGang(opts: { maxCycles?: number }): HypervisorRunResult {
    const cpu = this.cpu;
    const clocks = this.clocks;
    const P = this.pcpus;
    const cs = this.cosched!;
    const run = this.startMultiRun(opts.maxCycles);
    const { limit, done } = run;
    const enter = (p: number): void => this.enterPcpu(p);
    /** physical CPU p waits until `t` (inside a gang slice: counted in GangStats) */
    const idleTo = (p: number, t: number): void => {
      if (clocks[p]! >= t) return;
      enter(p);
      const n = t - cpu.cycles;
      run.idle += n;
      cpu.charge(Ev.Idle, n);
      clocks[p] = cpu.cycles;
      const g = this.gangDomain;
      if (g !== null) {
        this.gang.idleCycles += n;
        if (this.othersRunnable(g, p)) this.gang.heldCycles += n;
      }
    };
    const lowest = (): number => {
      let low = 0;
      for (let p = 1; p < P; p++) if (clocks[p]! < clocks[low]!) low = p;
      return low;
    };
    this.stopRequested = false;
    for (;;) {
      if (this.stopRequested) {
        this.stopRequested = false;
        return done('stopped');
      }
      if (this.liveDomains === 0) return done('all-stopped');
      clocks[this.curPcpu] = cpu.cycles;
      let g = this.gangDomain;
      // a domain stopped or paused in its slice ends it now
      if (g !== null && g.state !== 'running') g = this.gangDomain = null;
      if (g === null) {
        const n = this.domains.length;
        for (let k = 0; k < n && g === null; k++) {
          const i = (this.gangNext + k) % n;
          const d = this.domains[i]!;
          if (d.state === 'running' && d.vcpus.some((v) => v.up && v.runState === 'runnable')) {
            g = d;
            this.gangNext = i + 1;
          }
        }
        if (g === null) {
          // nothing runnable anywhere: every physical CPU idles until the next device event
          const next = this.events.nextDeadline();
          if (next === Infinity) return done('deadlock', 'every vCPU is blocked and no device event is left that could wake one');
          const target = Math.min(next, limit);
          for (let p = 0; p < P; p++) idleTo(p, target);
          enter(lowest());
          this.events.runDue();
          if (cpu.cycles >= limit) return limit === END_OF_TIME ? done('limit', END_OF_TIME_DETAIL) : done('limit');
          continue;
        }
        // a new gang slice: every physical CPU begins it at the same time
        this.gangDomain = g;
        let t = 0;
        for (let p = 0; p < P; p++) t = Math.max(t, clocks[p]!);
        for (let p = 0; p < P; p++) {
          idleTo(p, t);
          this.pIdle[p] = false;
        }
        this.gangEnd = t + cs.sliceCycles;
        this.gang.slices++;
      }
      // the turn the last run() stopped in (the host's limit cut it, or came between its choice
      // and its start) goes on first, as in the run never stopped: no other choice, no new draw
      const cut = this.cutPcpu;
      this.cutPcpu = -1;
      const picked = this.pickedPcpu;
      this.pickedPcpu = -1;
      const goOn = cut >= 0 && cut === this.curPcpu && this.gangVcpu(g, cut) === this.current;
      const again = !goOn && picked >= 0 && picked === this.curPcpu;
      // a turn: the physical CPU with the lowest clock whose vCPU of the slice's domain can run
      let best = goOn || again ? this.curPcpu : -1;
      let bestAt = Infinity;
      for (let p = 0; p < P && !goOn && !again; p++) {
        if (clocks[p]! >= this.gangEnd) continue;
        if (this.gangVcpu(g, p) === null) {
          if (!this.pIdle[p]) {
            this.pIdle[p] = true;
            this.wakeAt[p] = clocks[p]!;
          }
          continue;
        }
        const at = this.pIdle[p] ? Math.max(clocks[p]!, this.wakeAt[p]!) : clocks[p]!;
        if (at < this.gangEnd && at < bestAt) {
          best = p;
          bestAt = at;
        }
      }
      if (best < 0) {
        // none can before the slice ends, unless a device event wakes one: wait for it or the end
        const target = Math.min(this.events.nextDeadline(), this.gangEnd, limit);
        for (let p = 0; p < P; p++) idleTo(p, target);
        if (target >= this.gangEnd) this.gangDomain = null;
        enter(lowest());
        this.events.runDue();
        if (cpu.cycles >= limit) return limit === END_OF_TIME ? done('limit', END_OF_TIME_DETAIL) : done('limit');
        continue;
      }
      if (goOn) {
        if (cpu.cycles >= limit) {
          this.cutPcpu = best;
          return limit === END_OF_TIME ? done('limit', END_OF_TIME_DETAIL) : done('limit');
        }
      } else {
        if (!again) {
          idleTo(best, bestAt);
          this.pIdle[best] = false;
          enter(best);
          this.events.runDue();
          if (this.stopRequested || this.liveDomains === 0) continue;
        }
        if (cpu.cycles >= limit) {
          // the next run() goes on with this physical CPU, chosen before the events ran
          this.pickedPcpu = best;
          return limit === END_OF_TIME ? done('limit', END_OF_TIME_DETAIL) : done('limit');
        }
      }
      const vcpu = this.gangVcpu(g, best);
      if (vcpu === null || g.state !== 'running') continue;
      const c0 = cpu.cycles;
      this.gangTurn.cycles = goOn ? this.gangTurnEnd - c0 : Math.max(1, Math.min(this.gangEnd - c0, this.drawTurn(cs.quantumCycles)));
      const back = this.resident[best] === vcpu;
      this.switchTo(vcpu, !back);
      this.resident[best] = vcpu;
      // the turn ends its length after the world switch (runSlice's budget counts from there)
      const turnEnd = cpu.cycles + this.gangTurn.cycles;
      const stop = this.runSlice(vcpu, this.gangTurn, limit);
      clocks[best] = cpu.cycles;
      if (stop) return done('stopped');
      if (vcpu.runState === 'stopped' && this.current === vcpu) this.unloadCurrent();
      else if (this.current === vcpu && this.cutByHost) {
        // the host's limit cut the turn: return now, before another physical CPU runs; the next
        // run() gives this one the rest of the turn
        this.cutPcpu = best;
        this.gangTurnEnd = turnEnd;
        return done('limit');
      }
    }
  }

  /** The vCPU of domain `g` pinned to physical CPU `p` that can run now, or null. */
  private gangVcpu(g: Domain, p: number): Vcpu | null {
    for (const v of g.vcpus) if (v.pcpu === p && v.up && v.runState === 'runnable') return v;
    return null;
  }

  /** Has a running domain other than `g` a runnable vCPU pinned to physical CPU `p`? */
  private othersRunnable(g: Domain, p: number): boolean {
    for (const d of this.domains) {
      if (d === g || d.state !== 'running') continue;
      for (const v of d.vcpus) if (v.pcpu === p && v.up && v.runState === 'runnable') return true;
    }
    return false;
  }

  /** A turn's length inside a gang slice: 1..quantum cycles from xorshift32. */
  private drawTurn(quantum: number): number {
    let x = this.gangRng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.gangRng = x >>> 0;
    return 1 + (this.gangRng % quantum);
  }
}

/** runSlice's scheduler for a turn inside a gang slice: only its budget matters (runGang picks). */
class GangTurn implements Scheduler {
  readonly name = 'gang turn';
  cycles = 1;
  add(): void {}
  remove(): void {}
  wake(): void {}
  block(): void {}
  pick(): Vcpu | null {
    return null;
  }
  budget(): number {
    return this.cycles;
  }
  account(): void {}
}
