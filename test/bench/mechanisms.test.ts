// `bench mechanisms` measures what it says: each loop with the mechanism makes the domain count
// one occurrence per iteration, the same loop with a NOP none (the timing itself is only in the
// benchmark).
import { describe, expect, it } from 'vitest';
import { mechanismCounts } from '../../bench/mechanisms.ts';

describe('bench mechanisms', () => {
  it('one trapped-and-emulated CLI (trap mode) and one CPUID VM exit (hvm) per iteration; none without', () => {
    const rows = mechanismCounts(100);
    expect(rows.map((r) => [r.mechanism, r.withIt, r.without])).toEqual([
      ['trapped-and-emulated privileged instruction (CLI)', 100, 0],
      ['VM exit (CPUID)', 100, 0],
    ]);
    for (const r of rows) expect(r.cycles[0]).toBeGreaterThan(r.cycles[1]);
  });
});
