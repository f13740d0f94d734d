// The bare XL32 platform: physical memory, the event queue, the I/O bus with its devices (PIC,
// timer, UART, block device, NIC, system control) and the CPUs (one by default; several with a
// local interrupt controller each, interleaved by a seeded schedule), wired together, and the run
// loop that advances simulated time. No hypervisor here: an exit a bare machine cannot take is a bug.

import { IoPortBus } from './bus.ts';
import { END_OF_TIME, END_OF_TIME_DETAIL, EventQueue, runLimit } from './clock.ts';
import { DEFAULT_PROFILE, getProfile, type CostProfile } from './costs.ts';
import { ConsoleLog } from './console-log.ts';
import { Cpu } from './cpu.ts';
import { Ev } from './ledger.ts';
import { BlockDevice, type BlockTiming } from './devices/block.ts';
import { Nic } from './devices/nic.ts';
import { Pic } from './devices/pic.ts';
import { LapicPorts, LocalApic } from './devices/lapic.ts';
import { SysCtl } from './devices/sysctl.ts';
import { Timer } from './devices/timer.ts';
import { Uart } from './devices/uart.ts';
import type { Image, ImageSymbol } from './image.ts';
import { Flag, REG_SP } from './isa.ts';
import { PhysicalMemory } from './memory.ts';
import { parseEngine, type Engine } from './translator.ts';
import { Exit, type DeviceContext } from './types.ts';
import { hex } from './hex.ts';
import { MAX_CPUS } from './limits.ts';

export interface MachineOptions {
  /** installed memory, a multiple of 4 KiB (default 32 MiB) */
  memoryBytes?: number;
  /** cost profile name (default 'p4-2003'; see machine/costs.ts) */
  profile?: string;
  /** the block device's bytes (default: an empty disk) */
  disk?: Uint8Array;
  diskTiming?: BlockTiming;
  /** bytes typed on the console before the guest starts */
  input?: string;
  /** called with each byte the guest writes to the UART */
  onOutput?: (byte: number) => void;
  /** called with each frame the NIC sends */
  onTransmit?: (frame: Uint8Array) => void;
  /** the NIC's station address (default NIC_DEFAULT_MAC) and the IPv4 address its NIC_IP reports (default 0: none) */
  mac?: number;
  ip?: number;
  /** the CPU engine: 'interpreter' or 'translator' (default machine/translator.ts DEFAULT_ENGINE) */
  engine?: Engine;
  /** number of CPUs, 1..MAX_CPUS (default 1: no local interrupt controllers, today's machine) */
  cpus?: number;
  /** how several CPUs interleave (ignored with one CPU) */
  schedule?: SmpSchedule;
}

export { MAX_CPUS } from './limits.ts';

/**
 * The interleaving of several CPUs on one host thread. The CPU that runs next is always the
 * started, runnable one with the least cycles (the lowest number on a tie), for a slice drawn
 * from a xorshift32 generator seeded with `seed`: 1..quantumCycles cycles (the slice ends at the
 * first block boundary past it) or, with quantumInstructions, exactly 1..quantumInstructions
 * instructions (on the general path). The same seed gives the same run, cycle for cycle.
 */
export interface SmpSchedule {
  /** the generator's seed (default 1; 0 is taken as 1) */
  seed?: number;
  /** the longest slice in cycles (default 2000) */
  quantumCycles?: number;
  /** if set: slices counted in instructions, at most this many (1: a switch after every instruction) */
  quantumInstructions?: number;
}

/** Why Machine.run() stopped. */
export type StopReason =
  /** the guest wrote the system-control power-off port; `status` is the value written */
  | 'poweroff'
  /** HLT with nothing that could ever wake the CPU (IF = 0, or no event left to come) */
  | 'halted'
  /** a fault while delivering a double fault */
  | 'triple-fault'
  /** maxCycles simulated cycles went by */
  | 'limit'
  /** Machine.stop() was called */
  | 'stopped';

export interface RunResult {
  reason: StopReason;
  /** power-off status (0 unless reason is 'poweroff') */
  status: number;
  /** a human-readable explanation for 'halted' and 'triple-fault' */
  detail?: string;
  /** cycles and instructions of this run() call */
  cycles: number;
  instructions: number;
  /** cycles of this call spent halted, waiting for an event */
  idleCycles: number;
}

export class Machine {
  readonly profile: CostProfile;
  readonly mem: PhysicalMemory;
  readonly events: EventQueue;
  readonly bus: IoPortBus;
  readonly pic: Pic;
  readonly timer: Timer;
  readonly uart: Uart;
  readonly block: BlockDevice;
  readonly nic: Nic;
  readonly sysctl: SysCtl;
  /** CPU 0, the boot CPU (the only one unless `cpus` > 1) */
  readonly cpu: Cpu;
  /** every CPU, by number; cpus[0] === cpu */
  readonly cpus: readonly Cpu[];
  /** the local interrupt controllers, by CPU (empty with one CPU) */
  readonly apics: readonly LocalApic[];
  /** their shared port window (null with one CPU) */
  readonly lapicPorts: LapicPorts | null;
  /** started[n]: CPU n runs (CPU 0 from power-on; the others once LAPIC_START names them) */
  readonly started: boolean[];
  /** the CPU the run loop is running now (devices and the local-APIC ports act for it) */
  private cur = 0;
  /** per CPU: the time an interrupt last became pending for it (a halted CPU wakes then) */
  private readonly wakeAt: number[];
  private readonly quantumCycles: number;
  private readonly quantumInstructions: number;
  private rng: number;
  /**
   * runSmp: the CPU whose slice run()'s limit cut (short of the slice's own end and of every
   * event), or -1, and that slice's own end (a cycle, or with quantumInstructions an instruction
   * count). The next run() goes on with that slice first, without choosing or drawing again, as
   * the run never stopped would have: so where a run of several CPUs is stopped changes nothing.
   */
  private cutCpu = -1;
  private cutEnd = 0;
  /**
   * runSmp: the CPU chosen when run()'s limit came between that choice (and the events it ran,
   * which may have woken another CPU) and its slice, or -1: the next run() runs it without
   * choosing again (a new choice could break a tie of clocks otherwise).
   */
  private pickedCpu = -1;
  /** slices run (the SMP schedule's turns) since power-on */
  slices = 0;
  /** the platform as the devices see it (its clock, event queue, interrupt lines and DMA), for host-side models such as a network uplink */
  readonly deviceContext: DeviceContext;
  /** symbols of the loaded image, for backtraces */
  symbols: ImageSymbol[] = [];
  /** total cycles spent halted since power-on */
  idleCycles = 0;

  /** what the guest wrote to the UART (the last CONSOLE_LOG_BYTES of it) */
  private readonly output = new ConsoleLog();
  private poweredOff = false;
  private powerStatus = 0;
  private readonly onOutput?: (byte: number) => void;

  constructor(opts: MachineOptions = {}) {
    this.profile = getProfile(opts.profile ?? DEFAULT_PROFILE);
    this.mem = new PhysicalMemory(opts.memoryBytes ?? 32 * 1024 * 1024);
    this.onOutput = opts.onOutput;
    const ncpu = opts.cpus ?? 1;
    if (!Number.isInteger(ncpu) || ncpu < 1 || ncpu > MAX_CPUS) throw new RangeError(`cpus must be a whole number 1..${MAX_CPUS}, not ${ncpu}`);
    const sched = opts.schedule ?? {};
    this.quantumCycles = checkedQuantum('quantumCycles', sched.quantumCycles ?? 2000);
    this.quantumInstructions = sched.quantumInstructions === undefined ? 0 : checkedQuantum('quantumInstructions', sched.quantumInstructions);
    this.rng = (sched.seed ?? 1) >>> 0 || 1;
    this.wakeAt = new Array<number>(ncpu).fill(0);
    this.started = new Array<boolean>(ncpu).fill(false);
    this.started[0] = true;
    // The CPUs are created last; the PIC and devices reach them through these closures.
    let cpus: Cpu[] = [];
    const now = (): number => cpus[this.cur]!.cycles;
    this.events = new EventQueue(now);
    this.pic = new Pic(() => {
      if (cpus.length === 0) return;
      this.noteWake(0);
      cpus[0]!.interruptLineChanged();
    });
    const ctx: DeviceContext = {
      now,
      schedule: (at, fn) => {
        const handle = this.events.schedule(at, fn);
        cpus[this.cur]?.shortenDeadline(at); // scheduled during a run: stop there in time
        return handle;
      },
      cancel: (h) => this.events.cancel(h),
      raiseIrq: (line) => this.pic.raise(line),
      lowerIrq: (line) => this.pic.lower(line),
      dmaWrite: (pa, data) => this.mem.writeBytes(pa, data),
      dmaRead: (pa, len) => this.mem.readBytes(pa, len),
      powerOff: (status) => {
        this.poweredOff = true;
        this.powerStatus = status;
        cpus[this.cur]!.requestStop();
      },
    };
    this.deviceContext = ctx;
    this.bus = new IoPortBus();
    this.timer = new Timer(ctx);
    this.uart = new Uart(ctx, (b) => this.emit(b));
    this.block = new BlockDevice(ctx, opts.disk ?? new Uint8Array(0), opts.diskTiming);
    this.nic = new Nic(ctx, opts.onTransmit ?? (() => {}), opts.mac, opts.ip);
    this.sysctl = new SysCtl(ctx);
    for (const dev of [this.pic, this.timer, this.uart, this.block, this.nic, this.sysctl]) this.bus.register(dev);
    if (ncpu === 1) {
      this.apics = [];
      this.lapicPorts = null;
      cpus = [new Cpu(this.mem, this.bus, this.pic, this.profile)];
    } else {
      const apics: LocalApic[] = [];
      for (let n = 0; n < ncpu; n++) {
        apics.push(new LocalApic(n, ctx, n === 0 ? this.pic : null, () => {
          this.noteWake(n);
          cpus[n]?.interruptLineChanged();
        }));
      }
      this.apics = apics;
      this.lapicPorts = new LapicPorts(apics, {
        currentCpu: () => this.cur,
        startCpu: (n, pc, sp) => this.startCpu(n, pc, sp),
        onlineMask: () => this.started.reduce((m, on, n) => (on ? m | (1 << n) : m), 0),
      });
      this.bus.register(this.lapicPorts);
      // one mark array for translated code, so a store on any CPU finds every CPU's translations
      const codeMarks = new Uint8Array(this.mem.frames);
      cpus = apics.map((a) => new Cpu(this.mem, this.bus, a, this.profile, codeMarks));
      for (const c of cpus) c.smpPeers = cpus;
    }
    for (const c of cpus) if (opts.engine !== undefined) c.engine = parseEngine(opts.engine);
    this.cpus = cpus;
    this.cpu = cpus[0]!;
    if (opts.input) this.uart.feed(opts.input);
  }

  /**
   * The owner is done with this machine: its memory goes to the next machine of the same size
   * (PhysicalMemory.release: no fresh host pages to fault in). The machine must not run again.
   */
  release(): void {
    this.mem.release();
  }

  /** release() was called (its memory, never empty before, has no buffer left): the memory is another machine's now, and this one must not run (run(), and the hypervisor's run(), refuse) */
  get released(): boolean {
    return this.mem.buffer.byteLength === 0;
  }

  /** Throw if the machine was released (a host programming error: its memory belongs to another machine now). */
  checkNotReleased(): void {
    if (this.released) throw new Error('this machine was released (Machine.release): its memory belongs to another machine now, and it cannot run');
  }

  /** Load an image and reset the CPU to run it: pc = entry, CPL 0, IF 0, paging off. */
  loadImage(image: Image): void {
    this.mem.loadImage(image);
    for (const c of this.cpus) c.reset();
    for (let n = 1; n < this.cpus.length; n++) this.started[n] = false;
    this.cpu.pc = image.entry >>> 0;
    this.symbols = image.symbols;
    this.poweredOff = false;
    this.powerStatus = 0;
  }

  /**
   * Run until the guest powers off, halts for good, triple-faults, maxCycles simulated cycles go
   * by, or stop() is called. May be called again to continue (except after power-off).
   */
  run(opts: { maxCycles?: number } = {}): RunResult {
    this.checkNotReleased();
    if (this.cpus.length > 1) return this.runSmp(opts);
    const cpu = this.cpu;
    const start = cpu.cycles;
    const startInsns = cpu.instructions;
    const limit = runLimit(start, opts.maxCycles);
    let idle = 0;
    const done = (reason: StopReason, detail?: string): RunResult => {
      this.idleCycles += idle;
      const res: RunResult = {
        reason,
        status: reason === 'poweroff' ? this.powerStatus : 0,
        cycles: cpu.cycles - start,
        instructions: cpu.instructions - startInsns,
        idleCycles: idle,
      };
      if (detail !== undefined) res.detail = detail;
      return res;
    };
    for (;;) {
      if (this.poweredOff) return done('poweroff');
      this.events.runDue();
      if (this.poweredOff) return done('poweroff');
      if (cpu.cycles >= limit) return limit === END_OF_TIME ? done('limit', END_OF_TIME_DETAIL) : done('limit');
      const exit = cpu.run(Math.min(this.events.nextDeadline(), limit));
      switch (exit) {
        case Exit.Deadline:
          continue;
        case Exit.Halted: {
          if (this.poweredOff) return done('poweroff');
          if ((cpu.flags & Flag.IF) === 0) {
            return done('halted', `hlt with interrupts disabled at pc ${hex(cpu.pc)}`);
          }
          if (this.pic.pendingVector() >= 0) {
            cpu.interruptLineChanged(); // deliverable now: the CPU takes it at once
            continue;
          }
          // Nothing to do until the next event: fast-forward simulated time to it.
          const next = this.events.nextDeadline();
          if (next === Infinity) {
            return done('halted', `hlt at pc ${hex(cpu.pc)} with no event left that could wake the CPU`);
          }
          const target = Math.min(next, limit);
          if (target > cpu.cycles) {
            idle += target - cpu.cycles;
            cpu.charge(Ev.Idle, target - cpu.cycles);
          }
          continue;
        }
        case Exit.Stopped:
          return done(this.poweredOff ? 'poweroff' : 'stopped');
        case Exit.TripleFault:
          return done('triple-fault', `triple fault at pc ${hex(cpu.pc)}`);
        default:
          throw new Error(
            `Machine.run: the bare machine cannot take CPU exit ${exit} (at pc ${hex(cpu.pc)}); ` +
              `only a hypervisor claims exits`,
          );
      }
    }
  }

  /** Make run() return with reason 'stopped' at the next block boundary (e.g. from an output callback). */
  stop(): void {
    this.cpus[this.cur]!.requestStop();
  }

  /** The machine's clock: the running CPU's cycles (with one CPU, its only clock). */
  get now(): number {
    return this.cpus[this.cur]!.cycles;
  }

  /**
   * The machine's figures over all its CPUs: their instructions, and each counter of their stats
   * (CpuStats) summed, in CpuStats' order (run --stats, the daemon's domstats; with one CPU, its own).
   */
  totals(): { instructions: number; counters: Map<string, number> } {
    let instructions = 0;
    const counters = new Map<string, number>();
    for (const c of this.cpus) {
      instructions += c.instructions;
      for (const [k, v] of Object.entries(c.stats)) if (typeof v === 'number') counters.set(k, (counters.get(k) ?? 0) + v);
    }
    return { instructions, counters };
  }

  /** An interrupt may have become pending for CPU n: a halted n wakes no earlier than now. */
  private noteWake(n: number): void {
    const t = this.cpus[this.cur]?.cycles ?? 0;
    if (t > this.wakeAt[n]!) this.wakeAt[n] = t;
  }

  /** LAPIC_START: CPU n, waiting since power-on, starts now at pc with sp (CPL 0, paging off, IF 0). */
  private startCpu(n: number, pc: number, sp: number): boolean {
    const c = this.cpus[n];
    if (c === undefined || this.started[n]) return false;
    const t = this.now;
    c.reset();
    if (t > c.cycles) c.charge(Ev.Idle, t - c.cycles); // it waited for its start until now
    c.pc = pc >>> 0;
    c.regs[REG_SP] = sp;
    this.started[n] = true;
    return true;
  }

  /** The next slice length from the schedule's generator (xorshift32), 1..max. */
  private slice(max: number): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return 1 + (this.rng % max);
  }

  /**
   * run() with several CPUs. Each turn: the events due at the chosen CPU's clock run, then that
   * CPU runs one slice, never past the next event or the limit. A halted CPU is runnable again
   * once an interrupt is pending for it (its clock jumps, as idle, to when that happened); when
   * every started CPU is halted, time jumps to the next event. Any CPU halting with IF = 0 stops
   * the machine ('halted'), as with one CPU. `cycles` is the machine clock's advance (the clock
   * of the CPU that ran last), `instructions` and `idleCycles` are totals over the CPUs.
   */
  private runSmp(opts: { maxCycles?: number }): RunResult {
    const cpus = this.cpus;
    const start = this.now;
    const startInsns = cpus.reduce((n, c) => n + c.instructions, 0);
    const startIdle = cpus.map((c) => c.evCount[Ev.Idle]!);
    const limit = runLimit(start, opts.maxCycles);
    const done = (reason: StopReason, detail?: string): RunResult => {
      let idle = 0;
      for (let n = 0; n < cpus.length; n++) idle += cpus[n]!.evCount[Ev.Idle]! - startIdle[n]!;
      this.idleCycles += idle;
      const res: RunResult = {
        reason,
        status: reason === 'poweroff' ? this.powerStatus : 0,
        cycles: this.now - start,
        instructions: cpus.reduce((n, c) => n + c.instructions, 0) - startInsns,
        idleCycles: idle,
      };
      if (detail !== undefined) res.detail = detail;
      return res;
    };
    for (;;) {
      if (this.poweredOff) return done('poweroff');
      // choose: the CPU whose slice the last run() cut or that it had chosen, else the runnable
      // CPU with the least cycles (a halted one counts from its wake time)
      const goOn = this.cutCpu;
      const again = goOn < 0 ? this.pickedCpu : -1;
      this.cutCpu = -1;
      this.pickedCpu = -1;
      const chosen = goOn >= 0 ? goOn : again;
      let best = chosen;
      let bestAt = chosen >= 0 ? Math.max(cpus[chosen]!.cycles, cpus[chosen]!.halted ? this.wakeAt[chosen]! : 0) : Infinity;
      for (let n = 0; n < cpus.length && chosen < 0; n++) {
        if (!this.started[n]) continue;
        const c = cpus[n]!;
        let at = c.cycles;
        if (c.halted) {
          if ((c.flags & Flag.IF) === 0 || c.pic.pendingVector() < 0) continue;
          at = Math.max(at, this.wakeAt[n]!);
        }
        if (at < bestAt) {
          best = n;
          bestAt = at;
        }
      }
      if (best < 0) {
        // every started CPU waits: fast-forward to the next event
        const next = this.events.nextDeadline();
        if (next === Infinity) return done('halted', `every CPU halted with no event left that could wake one (cpu 0 at pc ${hex(cpus[0]!.pc)})`);
        const target = Math.min(next, limit);
        let low = 0;
        for (let n = 0; n < cpus.length; n++) {
          const c = cpus[n]!;
          if (this.started[n] && c.cycles < target) c.charge(Ev.Idle, target - c.cycles);
          if (this.started[n] && c.cycles < cpus[low]!.cycles) low = n;
        }
        this.cur = low;
        this.events.runDue();
        if (this.now >= limit) return done('limit');
        continue;
      }
      this.cur = best;
      const c = cpus[best]!;
      if (c.cycles < bestAt) c.charge(Ev.Idle, bestAt - c.cycles); // woken: it was idle until then
      if (c.halted) c.interruptLineChanged();
      this.events.runDue();
      if (this.poweredOff) return done('poweroff');
      if (c.cycles >= limit) {
        // the next run() goes on with this CPU, chosen before the events ran
        if (goOn >= 0) {
          this.cutCpu = goOn;
        } else this.pickedCpu = best;
        return limit === END_OF_TIME ? done('limit', END_OF_TIME_DETAIL) : done('limit');
      }
      // a cut slice goes on to its own end; a new one draws its length
      let end: number;
      if (goOn >= 0) end = this.cutEnd;
      else {
        this.slices++;
        end = this.quantumInstructions > 0 ? c.instructions + this.slice(this.quantumInstructions) : c.cycles + this.slice(this.quantumCycles);
      }
      let deadline = Math.min(this.events.nextDeadline(), limit);
      if (this.quantumInstructions > 0) {
        c.monitorStop = true;
        c.stopAtInstruction = end;
      } else {
        deadline = Math.min(deadline, end);
      }
      const exit = c.run(deadline);
      if (this.quantumInstructions > 0) {
        c.monitorStop = false;
        c.stopAtInstruction = Infinity;
      }
      switch (exit) {
        case Exit.Deadline:
          if (c.cycles >= limit && limit !== END_OF_TIME && c.cycles < this.events.nextDeadline() && (this.quantumInstructions > 0 ? c.instructions < end : c.cycles < end)) {
            // run()'s limit cut the slice: return now, before another CPU runs up to the limit
            this.cutCpu = best;
            this.cutEnd = end;
            return done('limit');
          }
          continue;
        case Exit.Halted:
          if (this.poweredOff) return done('poweroff');
          if ((c.flags & Flag.IF) === 0) return done('halted', `cpu ${best}: hlt with interrupts disabled at pc ${hex(c.pc)}`);
          if (c.pic.pendingVector() >= 0) c.interruptLineChanged();
          continue;
        case Exit.Stopped:
          if (c.monitorStopped) {
            c.monitorStopped = false;
            continue;
          }
          return done(this.poweredOff ? 'poweroff' : 'stopped');
        case Exit.TripleFault:
          return done('triple-fault', `cpu ${best}: triple fault at pc ${hex(c.pc)}`);
        default:
          throw new Error(`Machine.run: the bare machine cannot take CPU exit ${exit} (cpu ${best} at pc ${hex(c.pc)}); only a hypervisor claims exits`);
      }
    }
  }

  /** Type bytes on the console. */
  feedInput(input: string | Uint8Array): void {
    this.uart.feed(input);
  }

  /** Everything the guest wrote to the UART, decoded as UTF-8. */
  consoleOutput(): string {
    return this.output.text();
  }

  /** Everything the guest wrote to the UART, as bytes. */
  consoleBytes(): Uint8Array {
    return this.output.bytes();
  }

  /** Whether the guest has powered the machine off, and with which status. */
  get powerOffStatus(): number | null {
    return this.poweredOff ? this.powerStatus : null;
  }

  private emit(byte: number): void {
    this.output.push(byte);
    this.onOutput?.(byte);
  }
}

function checkedQuantum(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1 || v > 1_000_000_000) throw new RangeError(`schedule.${name} must be a whole number 1..1000000000, not ${v}`);
  return v;
}
