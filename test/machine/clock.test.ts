// Tests for machine/clock.ts: the EventQueue's ordering (time, then scheduling order), events
// scheduled from callbacks, cancel, nextDeadline and determinism.

import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../machine/clock.ts';

function queueAt(start = 0): { q: EventQueue; set: (t: number) => void } {
  let t = start;
  return { q: new EventQueue(() => t), set: (v) => (t = v) };
}

describe('EventQueue', () => {
  it('reports Infinity as the next deadline when empty', () => {
    const { q } = queueAt();
    expect(q.nextDeadline()).toBe(Infinity);
    expect(q.size).toBe(0);
  });

  it('runs only events whose time is <= now, ordered by time', () => {
    const { q, set } = queueAt();
    const ran: string[] = [];
    q.schedule(30, () => ran.push('c30'));
    q.schedule(10, () => ran.push('a10'));
    q.schedule(20, () => ran.push('b20'));
    q.schedule(40, () => ran.push('d40'));
    expect(q.nextDeadline()).toBe(10);
    set(30);
    q.runDue();
    expect(ran).toEqual(['a10', 'b20', 'c30']);
    expect(q.nextDeadline()).toBe(40);
    expect(q.size).toBe(1);
  });

  it('breaks ties between equal times by scheduling order', () => {
    const { q, set } = queueAt();
    const ran: number[] = [];
    for (let i = 0; i < 20; i++) q.schedule(i % 2 === 0 ? 50 : 25, () => ran.push(i));
    set(100);
    q.runDue();
    expect(ran).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });

  it('runs in the same call events a callback schedules for a time <= now, in time order', () => {
    const { q, set } = queueAt();
    const ran: string[] = [];
    q.schedule(10, () => {
      ran.push('a10');
      q.schedule(15, () => ran.push('child15'));
      q.schedule(10, () => ran.push('child10'));
      q.schedule(101, () => ran.push('late101'));
    });
    q.schedule(20, () => ran.push('b20'));
    set(100);
    q.runDue();
    expect(ran).toEqual(['a10', 'child10', 'child15', 'b20']);
    expect(q.nextDeadline()).toBe(101);
  });

  it('runs an event scheduled in the past at the next runDue', () => {
    const { q, set } = queueAt(500);
    const ran: number[] = [];
    q.schedule(100, () => ran.push(100));
    expect(q.nextDeadline()).toBe(100);
    set(500);
    q.runDue();
    expect(ran).toEqual([100]);
  });

  it('cancel removes an event; cancelling twice or an unknown or run handle is a no-op', () => {
    const { q, set } = queueAt();
    const ran: number[] = [];
    const h1 = q.schedule(10, () => ran.push(1));
    const h2 = q.schedule(20, () => ran.push(2));
    q.schedule(30, () => ran.push(3));
    q.cancel(h1);
    q.cancel(h1);
    q.cancel(9999);
    expect(q.nextDeadline()).toBe(20);
    set(20);
    q.runDue();
    q.cancel(h2);
    set(30);
    q.runDue();
    expect(ran).toEqual([2, 3]);
    expect(q.size).toBe(0);
  });

  it('lets a callback cancel a later due event in the same runDue', () => {
    const { q, set } = queueAt();
    const ran: number[] = [];
    let victim = 0;
    q.schedule(5, () => {
      ran.push(5);
      q.cancel(victim);
    });
    victim = q.schedule(6, () => ran.push(6));
    q.schedule(7, () => ran.push(7));
    set(10);
    q.runDue();
    expect(ran).toEqual([5, 7]);
  });

  it('gives distinct non-zero handles', () => {
    const { q } = queueAt();
    const hs = [q.schedule(1, () => {}), q.schedule(1, () => {}), q.schedule(0, () => {})];
    expect(new Set(hs).size).toBe(3);
    expect(hs.every((h) => h > 0)).toBe(true);
  });

  it('clear drops every event', () => {
    const { q, set } = queueAt();
    const ran: number[] = [];
    q.schedule(1, () => ran.push(1));
    q.clear();
    set(10);
    q.runDue();
    expect(ran).toEqual([]);
    expect(q.nextDeadline()).toBe(Infinity);
  });

  it('is deterministic: the same schedule gives the same order, over many events', () => {
    function run(): number[] {
      const { q, set } = queueAt();
      const order: number[] = [];
      let seed = 12345;
      const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 1000;
      const handles: number[] = [];
      for (let i = 0; i < 500; i++) {
        const t = rand();
        handles.push(
          q.schedule(t, () => {
            order.push(i);
            if (i % 7 === 0) q.schedule(t + (i % 13), () => order.push(10_000 + i));
          }),
        );
      }
      for (let i = 0; i < 500; i += 11) q.cancel(handles[i]!);
      for (let now = 0; now <= 1100; now += 37) {
        set(now);
        q.runDue();
      }
      return order;
    }
    const a = run();
    expect(a.length).toBeGreaterThan(400);
    expect(run()).toEqual(a);
  });

  it('agrees with a stable sort by (time, scheduling order)', () => {
    const { q, set } = queueAt();
    const times = Array.from({ length: 300 }, (_, i) => (i * 7919) % 97);
    const order: number[] = [];
    times.forEach((t, i) => q.schedule(t, () => order.push(i)));
    set(1000);
    q.runDue();
    const expected = times.map((t, i) => ({ t, i })).sort((x, y) => x.t - y.t || x.i - y.i).map((x) => x.i);
    expect(order).toEqual(expected);
  });
});
