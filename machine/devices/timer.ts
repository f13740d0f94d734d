// The XL32 timer: counts CPU cycles and raises IRQ 0 on each expiry, one-shot or periodic,
// registers per machine/devices/ports.ts. Device model only: reaches the platform through its
// DeviceContext (time, event scheduling, interrupt line).

import type { DeviceContext, IoDevice } from '../types.ts';
import { deferred } from '../deferred.ts';
import {
  Irq,
  TIMER_CONTROL,
  TIMER_COUNT,
  TIMER_ENABLE,
  TIMER_PERIOD,
  TIMER_PERIODIC,
  TIMER_TICKS,
} from './ports.ts';
import { doubleFields } from '../shapes.ts';

const CONTROL_BITS = TIMER_ENABLE | TIMER_PERIODIC;

/*
 * Expiry times are exact: the first is (cycle of the CONTROL write) + PERIOD, each periodic one
 * is the previous expiry + PERIOD (not "now + PERIOD" when the callback happens to run), so the
 * tick train never drifts, whatever the run loop's granularity. A PERIOD of 0 arms nothing (a
 * zero-cycle periodic timer would fire forever without time advancing). After a one-shot expiry
 * CONTROL keeps its value and COUNT reads 0 until CONTROL is written again.
 *
 * A host may set a floor on the periodic timer's period (`minPeriodCycles`, 0 on the bare
 * machine): a shorter PERIOD then expires every minPeriodCycles, as KVM's min_timer_period_us
 * stretches a guest's tiny periods, so one guest cannot flood the event queue every domain shares.
 * (A one-shot expiry needs a CONTROL write each, so it cannot flood anything.)
 */
export class Timer implements IoDevice {
  readonly name = 'timer';
  readonly portBase = TIMER_PERIOD;
  readonly portCount = TIMER_TICKS - TIMER_PERIOD + 1;

  /** PERIOD as last written */
  private period = 0;
  /** the period latched by the last CONTROL write: PERIOD writes take effect only then */
  private activePeriod = 0;
  private control = 0;
  private ticks = 0;
  /** cycle of the next expiry, or -1 when not armed */
  private deadline = -1;
  /** event-queue handle of the next expiry */
  private handle = 0;

  constructor(
    private readonly ctx: DeviceContext,
    /** the shortest period this timer expires at (a host's floor; 0: none) */
    readonly minPeriodCycles = 0,
  ) {
    // a cycle count (machine/shapes.ts)
    doubleFields(this, ['deadline']);
  }

  reset(): void {
    this.disarm();
    this.period = 0;
    this.activePeriod = 0;
    this.control = 0;
    this.ticks = 0;
  }

  /** Expirations since power-on (the full count; TIMER_TICKS reads it modulo 2^32). */
  get expirations(): number {
    return this.ticks;
  }

  read(port: number, _size: number): number {
    switch (port) {
      case TIMER_PERIOD:
        return this.period;
      case TIMER_CONTROL:
        return this.control;
      case TIMER_COUNT:
        return this.deadline < 0 ? 0 : Math.max(0, this.deadline - this.ctx.now()) >>> 0;
      case TIMER_TICKS:
        return this.ticks >>> 0;
      default:
        return 0;
    }
  }

  write(port: number, _size: number, value: number): void {
    switch (port) {
      case TIMER_PERIOD:
        this.period = value >>> 0;
        return;
      case TIMER_CONTROL:
        this.control = value & CONTROL_BITS;
        this.activePeriod = this.period > 0 && (this.control & TIMER_PERIODIC) !== 0 ? Math.max(this.period, this.minPeriodCycles) : this.period;
        this.disarm();
        if (this.control & TIMER_ENABLE && this.activePeriod > 0) this.arm(this.ctx.now() + this.activePeriod);
        return;
      default:
        return; // COUNT and TICKS are read-only
    }
  }

  private arm(atCycle: number): void {
    this.deadline = atCycle;
    this.handle = this.ctx.schedule(atCycle, deferred(this, 'expire'));
  }

  private disarm(): void {
    if (this.deadline >= 0) this.ctx.cancel(this.handle);
    this.deadline = -1;
  }

  private expire(): void {
    const at = this.deadline;
    this.deadline = -1;
    this.ticks++;
    // Re-arm before raising, so a handler reading COUNT from the onChange path sees the next expiry.
    if (this.control & TIMER_PERIODIC) this.arm(at + this.activePeriod);
    this.ctx.raiseIrq(Irq.Timer);
  }
}
