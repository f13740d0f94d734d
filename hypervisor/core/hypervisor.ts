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
import { Machine } from '../../machine/machine.ts';
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
import { Vcpu } from './vcpu.ts';
import { TraceKind, type TraceBuffer } from './trace.ts';
import { assertNever } from '../../machine/never.ts';

export interface HypervisorOptions {
  /** the real machine's memory (default 64 MiB): every domain's memory plus the hypervisor's */
  memoryBytes?: number;
  /** CPU cost profile (default 'p4-2003') */
  profile?: string;
  /** the vCPU scheduler (default round robin with a 1 ms slice) */
  scheduler?: Scheduler;
  /** the CPU engine guest code runs on (default: the machine's) */
  engine?: Engine;
  /**
   * a hosted monitor (VMware Workstation's shape): every I/O exit also pays a world switch to the
   * host, where the device model runs, and back (the profile's hostedWorldSwitch). Default false.
   */
  hosted?: boolean;
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
    this.hosted = opts.hosted ?? false;
    // a store's first write to a log-dirty frame: the running domain's tracker takes the fault
    this.cpu.onLogDirtyFault = () => {
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
    if (!this.attached.has(mode)) {
      mode.attach(this);
      this.attached.add(mode);
    }
    const id = this.nextDomainId++;
    const p2m = this.frames.allocMany(id, nframes);
    // a frame may have been another domain's: never let a guest see what was there
    // (zeroed in runs of consecutive machine frames, one fill each)
    for (let k = 0; k < nframes; ) {
      let n = 1;
      while (k + n < nframes && p2m[k + n] === p2m[k]! + n) n++;
      this.mem.fill(p2m[k]! * PAGE, n * PAGE, 0);
      k += n;
    }
    const domain = new Domain(id, config.name, mode, new GuestMemory(this.mem, p2m), config);
    if (config.devices !== false) {
      domain.devices = new DeviceModel(this.cpu, this.events, domain, () => this.interruptPending(domain));
    }
    for (let k = 0; k < nvcpus; k++) domain.vcpus.push(new Vcpu(domain, k));
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
      throw e;
    }
    domain.stats.trace = this.trace;
    this.domains.push(domain);
    this.liveDomains++;
    for (const v of domain.vcpus) this.scheduler.add(v);
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
  }

  /**
   * Stop scheduling a running domain's vCPUs until unpauseDomain (xm pause). Its devices and
   * timers go on; events wait for it. False if it was not running.
   */
  pauseDomain(domain: Domain): boolean {
    if (domain.state !== 'running') return false;
    domain.state = 'paused';
    for (const v of domain.vcpus) if (v.runState === 'runnable') this.scheduler.block(v);
    return true;
  }

  /** Schedule a paused domain again (its runnable vCPUs rejoin, with no credit for the pause). */
  unpauseDomain(domain: Domain): boolean {
    if (domain.state !== 'paused') return false;
    domain.state = 'running';
    for (const v of domain.vcpus) if (v.runState === 'runnable') this.scheduler.wake(v);
    return true;
  }

  /**
   * Turn tracing on (a buffer: every domain's exits, traps, hypercalls, event-channel
   * notifications, interrupts and the scheduler's switches go to it) or off (null). A runnable vCPU
   * on the CPU when tracing begins gets a switch record at once, so its run slice is in the trace.
   */
  setTrace(trace: TraceBuffer | null): void {
    this.trace = trace;
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
    for (const v of domain.vcpus) this.scheduler.remove(v);
    domain.devices?.reset(); // cancels its pending device events
  }

  // ================================================================================ vCPUs

  /** A blocked vCPU becomes runnable (it is scheduled once its domain is not paused). */
  wake(vcpu: Vcpu): void {
    if (vcpu.runState !== 'blocked') return;
    vcpu.runState = 'runnable';
    if (vcpu.domain.state !== 'paused') this.scheduler.wake(vcpu);
  }

  /** The vCPU waits for an event (HLT), unless its mode says one is already there. */
  block(vcpu: Vcpu): void {
    if (vcpu.runState !== 'runnable' || vcpu.domain.mode.hasPendingEvent(vcpu)) return;
    vcpu.runState = 'blocked';
    this.scheduler.block(vcpu);
  }

  /** The domain's virtual interrupt controller may have something: wake its blocked vCPUs that can take it. */
  interruptPending(domain: Domain): void {
    for (const v of domain.vcpus) if (v.runState === 'blocked' && domain.mode.hasPendingEvent(v)) this.wake(v);
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
  private switchTo(vcpu: Vcpu): void {
    if (this.current === vcpu) return;
    if (this.current) this.unloadCurrent();
    const cpu = this.cpu;
    const arch = vcpu.arch;
    arch.cycles = cpu.cycles;
    arch.instructions = cpu.instructions;
    cpu.loadState(arch);
    vcpu.loaded = true;
    this.current = vcpu;
    vcpu.domain.mode.load(vcpu);
    const d = vcpu.domain;
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
    vcpu.domain.mode.load(vcpu);
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

      this.switchTo(vcpu);
      const domain = vcpu.domain;
      this.guestDeadline = Math.min(this.events.nextDeadline(), cpu.cycles + this.scheduler.budget(vcpu));
      const deadline = Math.min(this.guestDeadline, limit);
      const c0 = cpu.cycles;
      const i0 = cpu.instructions;
      const exit = domain.mode.runVcpu(vcpu, deadline);
      const used = cpu.cycles - c0;
      vcpu.runCycles += used;
      domain.stats.runCycles += used;
      domain.stats.instructions += cpu.instructions - i0;
      this.scheduler.account(vcpu, used);
      domain.stats.loopExits[exit.reason]++;

      switch (exit.reason) {
        case 'io':
          // KVM_EXIT_IO: the device model answers (its work charged, and a hosted monitor's world
          // switch to it); an IN completes when the vCPU next runs
          this.chargeMonitor(domain, Ev.DeviceModel, 1);
          if (this.hosted) this.chargeMonitor(domain, Ev.HostedSwitch, 1);
          if (domain.devices) domain.devices.handleIo(exit);
          else if (!exit.isWrite) exit.data = exit.size === 1 ? 0xff : 0xffffffff;
          if (!exit.isWrite) vcpu.ioPending = true;
          break;
        case 'hlt':
          this.block(vcpu);
          break;
        case 'deadline':
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
            return done('stopped');
          }
          break;
        default:
          assertNever(exit.reason, 'vCPU exit reason');
      }
      if (vcpu.runState === 'stopped' && this.current === vcpu) this.unloadCurrent();
    }
  }
}
