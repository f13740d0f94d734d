// Compiler code quality, pinned by exact instruction counts (deterministic, not timed): each
// benchmark kernel compiled from the guest subset retires at most twice the instructions of the
// hand-written XL32 assembly version, and both compute the same result.
import { describe, expect, it } from 'vitest';
import { KERNELS, runCompilerBench, type Row } from '../../bench/compiler.ts';

const MAX_RATIO = 2.0;

describe('compiled guest code vs hand-written assembly (bench/compiler.ts)', () => {
  let rows: Row[] | undefined;
  const bench = (): Row[] => (rows ??= runCompilerBench());

  for (const k of KERNELS) {
    it(`${k.name}: compiled and hand-written versions both power off with ${k.expectedStatus}`, () => {
      const row = bench().find((r) => r.kernel === k.name)!;
      expect(row.status).toBe(k.expectedStatus | 0);
    });
    it(`${k.name}: compiled code retires at most ${MAX_RATIO}x the hand-written instructions`, () => {
      const row = bench().find((r) => r.kernel === k.name)!;
      expect(row.handInstructions).toBeGreaterThan(1000);
      expect(row.ratio, `${row.compiledInstructions} compiled vs ${row.handInstructions} hand-written instructions`).toBeLessThanOrEqual(MAX_RATIO);
    });
  }

  it('instruction and cycle counts are identical from run to run', () => {
    const again = runCompilerBench();
    expect(again).toEqual(bench());
  });
});
