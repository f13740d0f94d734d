// The XL32 local interrupt controllers of a multiprocessor machine: one LocalApic per CPU (its
// identity, a cycle timer, inter-processor interrupts, start-up of a waiting CPU) and the port
// window all of them share (LapicPorts), through which each CPU reaches its own. Registers per
// machine/devices/ports.ts (LAPIC_*); docs/isa.md "Multiprocessor". Device model only: touches its
// own state, the event queue through DeviceContext, and calls back into the platform to wake or
// start a CPU.

import type { DeviceContext, InterruptController, IoDevice } from '../types.ts';
import { deferred } from '../deferred.ts';
import {
  LAPIC_CPUS,
  LAPIC_EOI,
  LAPIC_ICR,
  LAPIC_ICR_ALL_BUT_SELF,
  LAPIC_ID,
  LAPIC_ONLINE,
  LAPIC_START,
  LAPIC_START_PC,
  LAPIC_START_SP,
  LAPIC_TIMER_CONTROL,
  LAPIC_TIMER_PERIOD,
  LAPIC_TIMER_PERIODIC,
  LAPIC_TIMER_ENABLE,
} from './ports.ts';

/*
 * Vectors, not lines: a local APIC holds requests (IRR) and in-service bits (ISR) per vector
 * 0..255, like x86's. The deliverable vector is the highest requested one above the highest in
 * service; EOI ends the highest in service. CPU 0's controller also passes through the shared
 * 8259-like PIC (the "virtual wire"): when no local vector is deliverable, the PIC's is, and the
 * kernel ends it with the PIC's own EOI. Other CPUs never see device interrupts.
 *
 * An IPI is a write of (vector | destination << 8) to ICR, or with LAPIC_ICR_ALL_BUT_SELF set, to
 * every other CPU; it sets the vector in the destination's IRR at once (the interleaving
 * schedule decides when the destination next runs and so takes it). The timer counts the
 * machine's clock (DeviceContext.now: the running CPU's cycles), one-shot or periodic, with exact
 * expiries as the platform timer's (machine/devices/timer.ts); the period is latched by the
 * CONTROL write.
 */
export class LocalApic implements InterruptController {
  private readonly irr = new Uint32Array(8);
  private readonly isr = new Uint32Array(8);
  private timerPeriod = 0;
  private timerControl = 0;
  private timerDeadline = -1;
  private timerHandle = 0;
  /** IPIs received since power-on (statistics) */
  ipisReceived = 0;
  /** timer expiries since power-on */
  timerExpiries = 0;

  constructor(
    /** this CPU's number, 0..cpus-1 (LAPIC_ID) */
    readonly index: number,
    private readonly ctx: DeviceContext,
    /** the shared PIC passed through on CPU 0, null on the others */
    private readonly pic: InterruptController | null,
    /** called when a vector may have become deliverable (the CPU re-checks and wakes) */
    private readonly onChange: () => void,
  ) {}

  reset(): void {
    this.irr.fill(0);
    this.isr.fill(0);
    this.disarm();
    this.timerPeriod = 0;
    this.timerControl = 0;
  }

  /** Request vector v on this CPU (an IPI or the local timer). */
  accept(v: number): void {
    v &= 0xff;
    this.irr[v >>> 5]! |= 1 << (v & 31);
    this.onChange();
  }

  pendingVector(): number {
    const v = highest(this.irr);
    if (v >= 0 && v > highest(this.isr)) return v;
    return this.pic !== null ? this.pic.pendingVector() : -1;
  }

  acknowledge(): number {
    const v = highest(this.irr);
    if (v >= 0 && v > highest(this.isr)) {
      this.irr[v >>> 5]! &= ~(1 << (v & 31));
      this.isr[v >>> 5]! |= 1 << (v & 31);
      return v;
    }
    return this.pic !== null ? this.pic.acknowledge() : -1;
  }

  /** End the highest local vector in service (nothing if none is). */
  eoi(): void {
    const v = highest(this.isr);
    if (v < 0) return;
    this.isr[v >>> 5]! &= ~(1 << (v & 31));
    this.onChange();
  }

  timerRead(port: number): number {
    if (port === LAPIC_TIMER_PERIOD) return this.timerPeriod;
    return this.timerControl;
  }

  timerWrite(port: number, value: number): void {
    if (port === LAPIC_TIMER_PERIOD) {
      this.timerPeriod = value >>> 0;
      return;
    }
    this.timerControl = value & (0xff | LAPIC_TIMER_ENABLE | LAPIC_TIMER_PERIODIC);
    this.disarm();
    if ((this.timerControl & LAPIC_TIMER_ENABLE) !== 0 && this.timerPeriod > 0) this.arm(this.ctx.now() + this.timerPeriod);
  }

  private arm(at: number): void {
    this.timerDeadline = at;
    // a deferred call, not a closure: a saved machine's pending expiry is data (hypervisor/save/)
    this.timerHandle = this.ctx.schedule(at, deferred(this, 'expire'));
  }

  private disarm(): void {
    if (this.timerDeadline >= 0) this.ctx.cancel(this.timerHandle);
    this.timerDeadline = -1;
  }

  private expire(): void {
    const at = this.timerDeadline;
    this.timerDeadline = -1;
    this.timerExpiries++;
    if ((this.timerControl & LAPIC_TIMER_PERIODIC) !== 0) this.arm(at + this.timerPeriod);
    this.accept(this.timerControl & 0xff);
  }
}

/** Index of the highest set bit of a 256-bit set, or -1. */
function highest(bits: Uint32Array): number {
  for (let k = 7; k >= 0; k--) {
    const w = bits[k]!;
    if (w !== 0) return (k << 5) + 31 - Math.clz32(w);
  }
  return -1;
}

/** What the port window needs of the platform. */
export interface LapicPlatform {
  /** the CPU whose instruction is accessing the ports now */
  currentCpu(): number;
  /** start CPU n (waiting since power-on) at pc with stack pointer sp; false if it cannot be */
  startCpu(n: number, pc: number, sp: number): boolean;
  /** bit n set: CPU n is running (started) */
  onlineMask(): number;
}

/** The LAPIC_* ports: each access goes to the accessing CPU's LocalApic. */
export class LapicPorts implements IoDevice {
  readonly name = 'lapic';
  readonly portBase = LAPIC_ID;
  readonly portCount = LAPIC_ONLINE - LAPIC_ID + 1;
  private startPc = 0;
  private startSp = 0;
  /** IPIs sent since power-on */
  ipisSent = 0;

  constructor(
    readonly apics: readonly LocalApic[],
    private readonly platform: LapicPlatform,
  ) {}

  reset(): void {
    this.startPc = this.startSp = 0;
    for (const a of this.apics) a.reset();
  }

  read(port: number, _size: number): number {
    const me = this.apics[this.platform.currentCpu()]!;
    switch (port) {
      case LAPIC_ID:
        return me.index;
      case LAPIC_CPUS:
        return this.apics.length;
      case LAPIC_TIMER_PERIOD:
      case LAPIC_TIMER_CONTROL:
        return me.timerRead(port);
      case LAPIC_ONLINE:
        return this.platform.onlineMask();
      default:
        return 0; // EOI, ICR and the start registers are write-only
    }
  }

  write(port: number, _size: number, value: number): void {
    const me = this.apics[this.platform.currentCpu()]!;
    switch (port) {
      case LAPIC_EOI:
        me.eoi();
        return;
      case LAPIC_ICR: {
        const vector = value & 0xff;
        if ((value & LAPIC_ICR_ALL_BUT_SELF) !== 0) {
          for (const a of this.apics) {
            if (a === me) continue;
            this.ipisSent++;
            a.ipisReceived++;
            a.accept(vector);
          }
          return;
        }
        const dest = this.apics[(value >>> 8) & 0xff];
        if (dest === undefined) return; // no such CPU: the message is lost, as on a real bus
        this.ipisSent++;
        dest.ipisReceived++;
        dest.accept(vector);
        return;
      }
      case LAPIC_TIMER_PERIOD:
      case LAPIC_TIMER_CONTROL:
        me.timerWrite(port, value);
        return;
      case LAPIC_START_PC:
        this.startPc = value | 0;
        return;
      case LAPIC_START_SP:
        this.startSp = value | 0;
        return;
      case LAPIC_START:
        this.platform.startCpu(value >>> 0, this.startPc, this.startSp);
        return;
      default:
        return; // ID, CPUS and ONLINE are read-only
    }
  }
}
