// bench/boot.ts: booting the standard guest to its shell prompt and through `true`, with exact
// simulated figures (the same on every run) and a table. Wall-clock figures are not asserted.
import { describe, expect, it } from 'vitest';
import { runBootBench, bootTable, bootWarmUpLine, runCommandStartBench, commandStartTable } from '../../bench/boot.ts';
import { getProfile, DEFAULT_PROFILE } from '../../machine/costs.ts';

describe('boot benchmark', () => {
  it('boots to the first shell prompt and through `true`, with the same simulated cycles on every run', () => {
    const rows = runBootBench({ runs: 2 });
    expect(rows.map((r) => [r.target, r.cmdline])).toEqual([['shell prompt', ''], ['true', 'true']]);
    const again = runBootBench({ runs: 1 });
    const mhz = getProfile(DEFAULT_PROFILE).clockMHz;
    rows.forEach((r, k) => {
      expect(r.cycles).toBeGreaterThan(0);
      expect(r.instructions).toBeGreaterThan(0);
      expect(r.idleCycles).toBeLessThanOrEqual(r.cycles);
      expect(r.simulatedMs).toBeCloseTo(r.cycles / (mhz * 1000), 9);
      expect(r.wallMs).toBeGreaterThan(0);
      expect(r.warmUpMs).toBeGreaterThan(0);
      expect(r.runs).toBe(2);
      expect([again[k]!.cycles, again[k]!.instructions]).toEqual([r.cycles, r.instructions]);
    });
    const table = bootTable(rows).split('\n');
    expect(table).toHaveLength(3);
    expect(table[0]).toMatch(/^boot to +cmdline +sim\. cycles +instructions +idle cycles +sim\. ms +wall ms +wall: median of$/);
    expect(table[1]).toMatch(new RegExp(`^shell prompt +\\(init\\) +${rows[0]!.cycles} +${rows[0]!.instructions} `));
    expect(table[2]).toMatch(new RegExp(`^true +true +${rows[1]!.cycles} +${rows[1]!.instructions} `));
    expect(bootWarmUpLine(rows)).toMatch(/^warm-up boot before the timed runs \(the first: fresh host memory, V8 not yet settled\): shell prompt \d+\.\d ms, true \d+\.\d ms$/);
  });

  it('refuses a run count that is not a positive integer', () => {
    expect(() => runBootBench({ runs: 0 })).toThrow('runBootBench: runs must be a positive integer, got 0');
    expect(() => runCommandStartBench({ runs: 0 })).toThrow('runCommandStartBench: runs must be a positive integer, got 0');
  });

  it('times the command from the shell: the runtime alone, the command starting, and a boot through `true`, each exiting 0', () => {
    const rows = runCommandStartBench({ runs: 1, engine: 'interpreter' });
    expect(rows.map((r) => [r.command, r.runs])).toEqual([
      ['node -e 0', 1],
      ['xenolith --version', 1],
      ['xenolith run --cmdline true --engine interpreter', 1],
    ]);
    for (const r of rows) expect(Math.min(r.wallMs, r.warmUpMs)).toBeGreaterThan(0);
    const table = commandStartTable(rows).split('\n');
    expect(table[0]).toMatch(/^command +wall ms +warm-up ms +wall: median of$/);
    expect(table.slice(1).map((l) => l.replace(/ {2,}.*/, ''))).toEqual(rows.map((r) => r.command));
  });
});
