import { describe, expect, it } from 'vitest';
import { alternating, KERNEL_WARMUP_RUNS, RUNS, type Timed } from '../../bench/cpu.ts';
import type { Engine } from '../../machine/translator.ts';

/** A run that records which engine ran when, with the given simulated figures. */
function recorder(figures: (engine: Engine, k: number) => { instructions: number; cycles: number }) {
  const order: Engine[] = [];
  const run = (engine: Engine): Timed => {
    const k = order.length;
    order.push(engine);
    return { seconds: k + 1, cpuSeconds: k + 1, ...figures(engine, k) };
  };
  return { order, run };
}

describe("bench cpu's kernel rows: the engines' runs alternate", () => {
  it('runs each engine in turn, the warm-ups first, and keeps the first run and the timed ones of each', () => {
    const { order, run } = recorder(() => ({ instructions: 1000, cycles: 2000 }));
    const out = alternating(['interpreter', 'translator'], run, 'differ');
    const rounds = KERNEL_WARMUP_RUNS + RUNS;
    expect(order).toEqual(Array.from({ length: rounds }, () => ['interpreter', 'translator'] as Engine[]).flat());
    // run k (0-based) took k + 1 seconds: the interpreter's are 1, 3, 5, ..., the translator's 2, 4, 6, ...
    const timed = (offset: number): number[] => Array.from({ length: RUNS }, (_, i) => 2 * (KERNEL_WARMUP_RUNS + i) + offset + 1);
    expect(out.get('interpreter')!.first.seconds).toBe(1);
    expect(out.get('translator')!.first.seconds).toBe(2);
    expect(out.get('interpreter')!.runs.map((r) => r.seconds)).toEqual(timed(0));
    expect(out.get('translator')!.runs.map((r) => r.seconds)).toEqual(timed(1));
  });

  it('refuses runs whose simulated figures differ: between runs, between engines, in a warm-up', () => {
    const total = 2 * (KERNEL_WARMUP_RUNS + RUNS);
    for (const bad of [1, 2, total - 1]) {
      const { run } = recorder((_, k) => ({ instructions: 1000, cycles: k === bad ? 2001 : 2000 }));
      expect(() => alternating(['interpreter', 'translator'], run, 'the runs differ')).toThrow('the runs differ');
    }
  });
});
