// The event queue's lazy deletion stays bounded: cancelled events that never reach the top (a
// guest re-arming its timer ever earlier, a PV set_timer_op moved earlier and earlier) are dropped
// when they are most of the heap, and the order events run in is unchanged by it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../machine/clock.ts';

describe('EventQueue compaction', () => {
  it('holds a bounded number of cancelled events when each re-arm is earlier than the last', () => {
    let now = 0;
    const q = new EventQueue(() => now);
    let h = q.schedule(1e12, () => {});
    for (let k = 1; k <= 100_000; k++) {
      q.cancel(h);
      h = q.schedule(1e12 - k, () => {});
    }
    expect(q.size).toBe(1);
    expect(q.cancelledHeld).toBeLessThanOrEqual(64);
    let ran = 0;
    q.schedule(5, () => ran++);
    now = 1e12;
    q.runDue();
    expect(ran).toBe(1);
    expect(q.size).toBe(0);
  });

  it('runs events in (time, scheduling order) whatever is scheduled and cancelled, as a plain list would', () => {
    // mostly far-off events and cancels, so cancelled ones pile up below the top and get compacted
    const op = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('add' as const), at: fc.integer({ min: 0, max: 5000 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 40 }) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600, size: 'max' }), (ops) => {
        let now = 0;
        const q = new EventQueue(() => now);
        const ran: number[] = [];
        const model: { at: number; seq: number }[] = [];
        const expected: number[] = [];
        const handles: number[] = [];
        for (const o of ops) {
          if (o.kind === 'add') {
            const at = now + o.at;
            const seq = q.schedule(at, () => ran.push(seq));
            handles.push(seq);
            model.push({ at, seq });
          } else if (o.kind === 'cancel') {
            if (handles.length === 0) continue;
            const seq = handles[o.pick % handles.length]!;
            q.cancel(seq);
            const k = model.findIndex((e) => e.seq === seq);
            if (k >= 0) model.splice(k, 1);
          } else {
            now += o.by;
            q.runDue();
            const due = model.filter((e) => e.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
            for (const e of due) {
              expected.push(e.seq);
              model.splice(model.indexOf(e), 1);
            }
          }
          expect(q.size).toBe(model.length);
          expect(q.nextDeadline()).toBe(model.length ? Math.min(...model.map((e) => e.at)) : Infinity);
        }
        expect(ran).toEqual(expected);
      }),
      { seed: 0xc10c, numRuns: 80 },
    );
  });
});
