// bt mode on both CPU engines (issue 15): under the translator, bt's translation units run as
// compiled JavaScript (a hot unit with the units chained to it in its page, one function), with
// the same cycles, instructions, console, translation-cache counters (units run, chained entries,
// lookups, callouts, inline rewrites), domain counters and cost ledger as on the interpreter,
// where they run instruction by instruction on the general path. A cheap slice here (a short
// command, the translator compiling every unit entered 20 times); usertests and lmbench, at
// thresholds 2 and the default, in bt-engines.deep.test.ts. The differential fuzzer's programs
// under bt on both engines are compared too (every unit compiled at its first entry), and
// `--bt-adaptive` (a store callout in the middle of a compiled unit).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BtMode, btCache } from '../../hypervisor/bt/index.ts';
import { HYPERVISOR_RESERVE_BYTES } from '../../hypervisor/trap/index.ts';
import { withTranslatorLimits } from '../../machine/translator.ts';
import { runBtEngine } from './fixtures/bt-engines.ts';
import { diffArb, runModeDiff } from './fixtures/differential.ts';

describe('bt mode under the translator agrees exactly with the interpreter', () => {
  it('the guest kernel: echo hi, with every counter, and the compiled units chained inside', () => {
    const i = runBtEngine('interpreter', 'echo hi', { threshold: 20, unitHeat: 1 });
    const t = runBtEngine('translator', 'echo hi', { threshold: 20, unitHeat: 1 });
    expect(i.sim.reason).toBe('poweroff');
    expect(i.sim.output).toMatch(/^hi$/m);
    expect(t.sim).toEqual(i.sim);
    // bt honours the engine: the interpreter makes no translator and compiles nothing
    expect([i.straightRuns, i.chainedInline]).toEqual([null, 0]);
    // the translator compiled units, and most chained entries were made inside compiled code
    const chained = (t.sim.bt as { chained: number }).chained;
    expect(t.straightRuns).toBeGreaterThan(50);
    expect(t.chainedInline).toBeGreaterThan(chained / 2);
  });

  it('--bt-adaptive on the traced shadow: a store retranslated as a callout inside a compiled unit', () => {
    const opts = { shadow: 'traced' as const, adaptive: true };
    const i = runBtEngine('interpreter', 'lmbench exec 1', { threshold: 10, unitHeat: 1 }, opts);
    const t = runBtEngine('translator', 'lmbench exec 1', { threshold: 10, unitHeat: 1 }, opts);
    expect((i.sim.bt as { adaptive: unknown }).adaptive).toEqual({ retranslations: 1, emulatedStores: 3, emulatedTraceStores: 2 });
    expect(t.sim).toEqual(i.sim);
    expect(t.chainedInline).toBeGreaterThan(0);
  });

  it("the differential fuzzer's programs (faults, IRET frames, paging changes, interrupts at instruction counts)", () => {
    let compared = 0;
    let compiled = 0;
    fc.assert(
      fc.property(diffArb(true), (c) => {
        const seen: Record<string, unknown> = {};
        for (const engine of ['interpreter', 'translator'] as const) {
          const o = withTranslatorLimits({ threshold: 1, unitHeat: 1 }, () =>
            runModeDiff(new BtMode(), HYPERVISOR_RESERVE_BYTES, c, {
              engine,
              after: (hv, d) => {
                seen[`${engine}-cycles`] = hv.cpu.cycles;
                seen[`${engine}-bt`] = { ...btCache(d).stats };
                if (engine === 'translator') compiled += hv.cpu.translator?.stats.straightRuns ?? 0;
              },
            }),
          );
          seen[engine] = o;
        }
        expect(seen.translator).toEqual(seen.interpreter);
        expect(seen['translator-cycles']).toBe(seen['interpreter-cycles']);
        expect(seen['translator-bt']).toEqual(seen['interpreter-bt']);
        compared++;
      }),
      // (FUZZ_SEED and FUZZ_RUNS choose other cases, as the other fuzzers' do)
      { seed: Number(process.env.FUZZ_SEED ?? 12), numRuns: Number(process.env.FUZZ_RUNS ?? 8) },
    );
    expect(compared).toBe(Number(process.env.FUZZ_RUNS ?? 8));
    // every unit compiled at its first entry (no chaining inside: the fuzzer's instruction-count
    // hook is armed throughout, and a boundary inside compiled code would not call it)
    expect(compiled).toBeGreaterThan(50);
  });
});
