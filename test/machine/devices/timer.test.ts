// Tests for machine/devices/timer.ts: exact expiry cycles in periodic and one-shot modes, TICKS,
// COUNT, re-arming on CONTROL writes, PERIOD latching, and delivery through the Pic.

import { describe, expect, it } from 'vitest';
import { Pic } from '../../../machine/devices/pic.ts';
import {
  Irq,
  PIC_MASK,
  TIMER_CONTROL,
  TIMER_COUNT,
  TIMER_ENABLE,
  TIMER_PERIOD,
  TIMER_PERIODIC,
  TIMER_TICKS,
} from '../../../machine/devices/ports.ts';
import { Timer } from '../../../machine/devices/timer.ts';
import { FakeContext } from './fake-context.ts';

function setup(start = 0): { ctx: FakeContext; timer: Timer } {
  const ctx = new FakeContext();
  ctx.cycle = start;
  return { ctx, timer: new Timer(ctx) };
}

describe('Timer', () => {
  it('occupies ports 0x40..0x43 and resets disabled', () => {
    const { timer } = setup();
    expect([timer.portBase, timer.portCount]).toEqual([0x40, 4]);
    expect(timer.read(TIMER_CONTROL, 4)).toBe(0);
    expect(timer.read(TIMER_COUNT, 4)).toBe(0);
    expect(timer.read(TIMER_TICKS, 4)).toBe(0);
  });

  it('periodic: raises IRQ 0 exactly every PERIOD cycles from the CONTROL write', () => {
    const { ctx, timer } = setup(1000);
    timer.write(TIMER_PERIOD, 4, 250);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE | TIMER_PERIODIC);
    ctx.advanceTo(2200);
    expect(ctx.raises(Irq.Timer)).toEqual([1250, 1500, 1750, 2000]);
    expect(timer.read(TIMER_TICKS, 4)).toBe(4);
    expect(timer.read(TIMER_COUNT, 4)).toBe(50);
    expect(ctx.events.nextDeadline()).toBe(2250);
  });

  it('periodic ticks do not drift when time jumps past several expiries at once', () => {
    const { ctx, timer } = setup();
    timer.write(TIMER_PERIOD, 4, 100);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE | TIMER_PERIODIC);
    ctx.cycle = 350; // e.g. one long run-loop slice
    ctx.events.runDue();
    expect(timer.read(TIMER_TICKS, 4)).toBe(3);
    expect(ctx.events.nextDeadline()).toBe(400);
    expect(timer.read(TIMER_COUNT, 4)).toBe(50);
  });

  it('one-shot: expires once, PERIOD cycles after the CONTROL write, then COUNT reads 0', () => {
    const { ctx, timer } = setup(10);
    timer.write(TIMER_PERIOD, 4, 5000);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE);
    expect(timer.read(TIMER_COUNT, 4)).toBe(5000);
    ctx.advanceTo(3010);
    expect(timer.read(TIMER_COUNT, 4)).toBe(2000);
    ctx.advanceTo(100_000);
    expect(ctx.raises(Irq.Timer)).toEqual([5010]);
    expect(timer.read(TIMER_TICKS, 4)).toBe(1);
    expect(timer.read(TIMER_COUNT, 4)).toBe(0);
    expect(timer.read(TIMER_CONTROL, 4)).toBe(TIMER_ENABLE);
    expect(ctx.events.nextDeadline()).toBe(Infinity);
  });

  it('writing CONTROL re-arms from the current cycle, cancelling the pending expiry', () => {
    const { ctx, timer } = setup();
    timer.write(TIMER_PERIOD, 4, 1000);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE);
    ctx.advanceTo(900);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE); // re-arm: now 1900
    ctx.advanceTo(5000);
    expect(ctx.raises(Irq.Timer)).toEqual([1900]);
  });

  it('PERIOD takes effect only when CONTROL is written', () => {
    const { ctx, timer } = setup();
    timer.write(TIMER_PERIOD, 4, 100);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE | TIMER_PERIODIC);
    ctx.advanceTo(150);
    timer.write(TIMER_PERIOD, 4, 1000);
    expect(timer.read(TIMER_PERIOD, 4)).toBe(1000);
    ctx.advanceTo(450);
    expect(ctx.raises(Irq.Timer)).toEqual([100, 200, 300, 400]);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE | TIMER_PERIODIC); // at 450: next 1450, 2450
    ctx.advanceTo(2500);
    expect(ctx.raises(Irq.Timer)).toEqual([100, 200, 300, 400, 1450, 2450]);
  });

  it('disabling stops expiries and keeps TICKS', () => {
    const { ctx, timer } = setup();
    timer.write(TIMER_PERIOD, 4, 10);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE | TIMER_PERIODIC);
    ctx.advanceTo(35);
    timer.write(TIMER_CONTROL, 4, TIMER_PERIODIC);
    ctx.advanceTo(1000);
    expect(timer.read(TIMER_TICKS, 4)).toBe(3);
    expect(timer.read(TIMER_COUNT, 4)).toBe(0);
    expect(ctx.events.size).toBe(0);
  });

  it('a zero PERIOD arms nothing', () => {
    const { ctx, timer } = setup();
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE | TIMER_PERIODIC);
    ctx.advanceTo(1_000_000);
    expect(ctx.events.size).toBe(0);
    expect(timer.read(TIMER_TICKS, 4)).toBe(0);
  });

  it('keeps only the defined CONTROL bits and accepts a full 32-bit PERIOD', () => {
    const { ctx, timer } = setup();
    timer.write(TIMER_CONTROL, 4, 0xfffffffc);
    expect(timer.read(TIMER_CONTROL, 4)).toBe(0);
    timer.write(TIMER_PERIOD, 4, 0xffffffff);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE);
    expect(timer.read(TIMER_COUNT, 4)).toBe(0xffffffff);
    expect(ctx.events.nextDeadline()).toBe(0xffffffff);
  });

  it('reset cancels the pending expiry', () => {
    const { ctx, timer } = setup();
    timer.write(TIMER_PERIOD, 4, 10);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE | TIMER_PERIODIC);
    ctx.advanceTo(25);
    timer.reset();
    ctx.advanceTo(100);
    expect(ctx.raises(Irq.Timer)).toEqual([10, 20]);
    expect(timer.read(TIMER_TICKS, 4)).toBe(0);
    expect(timer.read(TIMER_PERIOD, 4)).toBe(0);
  });

  it('its ticks reach the CPU through the Pic as vector 32', () => {
    const ctx = new FakeContext();
    const pic = new Pic(() => {});
    ctx.onRaise = (line) => pic.raise(line);
    const timer = new Timer(ctx);
    pic.write(PIC_MASK, 2, 0xfffe);
    timer.write(TIMER_PERIOD, 4, 100);
    timer.write(TIMER_CONTROL, 4, TIMER_ENABLE | TIMER_PERIODIC);
    ctx.advanceTo(99);
    expect(pic.pendingVector()).toBe(-1);
    ctx.advanceTo(100);
    expect(pic.acknowledge()).toBe(32);
  });
});
