// bench/perf-summary.ts reads `perf script` output: samples of the busiest thread from a fraction
// of the recording on, each symbol's share, and the JavaScript function nearest below a symbol.
import { describe, expect, it } from 'vitest';
import { parsePerfScript, perfShares } from '../../bench/perf-summary.ts';

const SCRIPT = `
 100 10.000000: 
\t    7f01 JS:*runFast file:///w/machine/cpu.ts:3414:10
\t    7f02 JS:*run file:///w/machine/machine.ts:9:1

 100 11.000000: 
\t    8e01 Builtins_LoadIC
\t    7f03 JS:*runUnit file:///w/hypervisor/bt/mode.ts:626:3
\t    7f04 JS:*runVcpu file:///w/hypervisor/bt/mode.ts:578:3

 200 11.500000: 
\t    9901 start_thread

 100 12.000000: 
\t    8e01 Builtins_LoadIC
\t    9902 [unknown]
\t    7f05 JS:^inject file:///w/hypervisor/bt/mode.ts:900:3

 100 13.000000: 
\t    7f06 JS:*run_1044c0 :4:27
`;

describe('perf script summaries', () => {
  it('parses each sample: thread, time, frames innermost first without their addresses', () => {
    const s = parsePerfScript(SCRIPT);
    expect(s.map((x) => [x.tid, x.time, x.frames.length])).toEqual([[100, 10, 2], [100, 11, 3], [200, 11.5, 1], [100, 12, 3], [100, 13, 1]]);
    expect(s[1]!.frames[1]).toBe('JS:*runUnit file:///w/hypervisor/bt/mode.ts:626:3');
  });

  it("shares of the busiest thread's late samples, and the JavaScript below a builtin", () => {
    const r = perfShares(parsePerfScript(SCRIPT), 0.3, 'LoadIC');
    // thread 100's recording spans 10-13 s: from 30% on is 10.9 s on, three samples
    expect(r.samples).toBe(3);
    expect(r.top).toEqual([['Builtins_LoadIC', (200 / 3)], ['JS:*run_1044c0', 100 / 3]]);
    expect(r.callers).toEqual([['JS:*runUnit', 100 / 3], ['JS:^inject', 100 / 3]]);
    expect(perfShares([], 0.5).samples).toBe(0);
  });
});
