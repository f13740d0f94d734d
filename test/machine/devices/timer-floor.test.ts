// The timer's host-set floor on its periodic period (machine/devices/timer.ts minPeriodCycles):
// a hypervisor's device model stretches a guest's tiny periods, as KVM's min_timer_period_us
// does; one-shot expiries and the bare machine's timer (floor 0) are unchanged.

import { describe, expect, it } from 'vitest';
import { Irq, TIMER_CONTROL, TIMER_ENABLE, TIMER_PERIOD, TIMER_PERIODIC, TIMER_TICKS } from '../../../machine/devices/ports.ts';
import { Timer } from '../../../machine/devices/timer.ts';
import { FakeContext } from './fake-context.ts';

describe('Timer with a floor on the period', () => {
  it('periodic: a shorter PERIOD expires every minPeriodCycles; PERIOD still reads what was written', () => {
    const ctx = new FakeContext();
    const timer = new Timer(ctx, 1000);
    timer.write(TIMER_PERIOD, 4, 1);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE | TIMER_PERIODIC);
    ctx.advanceTo(3500);
    expect(ctx.raises(Irq.Timer)).toEqual([1000, 2000, 3000]);
    expect(timer.read(TIMER_PERIOD, 4)).toBe(1);
    expect(timer.read(TIMER_TICKS, 4)).toBe(3);
  });

  it('periodic at or above the floor, one-shot below it, and a timer without a floor are as on the bare machine', () => {
    const ctx = new FakeContext();
    const timer = new Timer(ctx, 1000);
    timer.write(TIMER_PERIOD, 4, 1500);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE | TIMER_PERIODIC);
    ctx.advanceTo(3000);
    expect(ctx.raises(Irq.Timer)).toEqual([1500, 3000]);
    timer.write(TIMER_PERIOD, 4, 10);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE); // one-shot: 10 cycles
    ctx.advanceTo(4000);
    expect(ctx.raises(Irq.Timer)).toEqual([1500, 3000, 3010]);

    const bare = new FakeContext();
    const t2 = new Timer(bare);
    t2.write(TIMER_PERIOD, 4, 10);
    t2.write(TIMER_CONTROL, 4, TIMER_ENABLE | TIMER_PERIODIC);
    bare.advanceTo(35);
    expect(bare.raises(Irq.Timer)).toEqual([10, 20, 30]);
  });
});
