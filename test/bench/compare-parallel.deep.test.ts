// `compare --jobs 2` through the real worker pool (piscina, bench/compare-worker-entry.mjs) gives
// the serial run's report, but for the date and the wall times. Long: two whole comparisons of
// two modes (npm run test:deep).
import { describe, expect, it } from 'vitest';
import { runCompare, type CompareReport } from '../../bench/compare.ts';
import { runCompareParallel } from '../../bench/compare-parallel.ts';
import type { ModeName } from '../../bench/runners.ts';

function simulated(r: CompareReport): unknown {
  return { ...r, meta: { ...r.meta, date: '' }, summaries: r.summaries.map((s) => ({ ...s, lmbench: { ...s.lmbench, wallMs: [], wallMedianMs: 0 } })) };
}

describe('compare --jobs 2 (worker threads)', () => {
  it('gives the serial report for native and trap', async () => {
    const opts = { modes: ['native', 'trap'] as ModeName[], profile: 'p4-2003', runs: 1, maxCycles: 20_000_000_000 };
    const parallel = await runCompareParallel(opts, 2);
    const serial = runCompare(opts);
    expect(serial.unexplained).toEqual([]);
    expect(simulated(parallel)).toEqual(simulated(serial));
  }, 600_000);
});
