// The bare XL32 platform: physical memory, the event queue, the I/O bus with its devices (PIC,
// timer, UART, block device, NIC, system control) and the CPU, wired together, and the run loop
// that advances simulated time. No hypervisor here: an exit a bare machine cannot take is a bug.

import { IoPortBus } from './bus.ts';
import { END_OF_TIME, END_OF_TIME_DETAIL, EventQueue, runLimit } from './clock.ts';
import { DEFAULT_PROFILE, getProfile, type CostProfile } from './costs.ts';
import { ConsoleLog } from './console-log.ts';
import { Cpu } from './cpu.ts';
import { Ev } from './ledger.ts';
import { BlockDevice, type BlockTiming } from './devices/block.ts';
import { Nic } from './devices/nic.ts';
import { Pic } from './devices/pic.ts';
import { SysCtl } from './devices/sysctl.ts';
import { Timer } from './devices/timer.ts';
import { Uart } from './devices/uart.ts';
import type { Image, ImageSymbol } from './image.ts';
import { Flag } from './isa.ts';
import { PhysicalMemory } from './memory.ts';
import type { Engine } from './translator.ts';
import { Exit, type DeviceContext } from './types.ts';
import { hex } from './hex.ts';

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
  /** the CPU engine: 'interpreter' or 'translator' (default machine/translator.ts DEFAULT_ENGINE) */
  engine?: Engine;
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
  readonly cpu: Cpu;
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
    // The CPU is created last; the PIC and devices reach it through these closures.
    let cpu: Cpu | undefined;
    this.events = new EventQueue(() => cpu!.cycles);
    this.pic = new Pic(() => cpu?.interruptLineChanged());
    const ctx: DeviceContext = {
      now: () => cpu!.cycles,
      schedule: (at, fn) => {
        const handle = this.events.schedule(at, fn);
        cpu?.shortenDeadline(at); // scheduled during a run: stop there in time
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
        cpu!.requestStop();
      },
    };
    this.deviceContext = ctx;
    this.bus = new IoPortBus();
    this.timer = new Timer(ctx);
    this.uart = new Uart(ctx, (b) => this.emit(b));
    this.block = new BlockDevice(ctx, opts.disk ?? new Uint8Array(0), opts.diskTiming);
    this.nic = new Nic(ctx, opts.onTransmit ?? (() => {}));
    this.sysctl = new SysCtl(ctx);
    for (const dev of [this.pic, this.timer, this.uart, this.block, this.nic, this.sysctl]) this.bus.register(dev);
    cpu = new Cpu(this.mem, this.bus, this.pic, this.profile);
    if (opts.engine !== undefined) cpu.engine = opts.engine;
    this.cpu = cpu;
    if (opts.input) this.uart.feed(opts.input);
  }

  /** Load an image and reset the CPU to run it: pc = entry, CPL 0, IF 0, paging off. */
  loadImage(image: Image): void {
    this.mem.loadImage(image);
    this.cpu.reset();
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
    this.cpu.requestStop();
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
