// bt's cold units under the translator engine (hypervisor/bt/mode.ts runInsns, enterInLoop): a unit
// entered fewer times than threshold x unitHeat (the translator's limits) runs in the CPU's fast
// loop, and from it the unit loop goes on into the next cold unit itself (nextUnit, the fast loop's
// probe), as under the interpreter engine, without a pass through the vCPU loop; a unit about to
// run compiled - compiled already, or the entry that makes it hot - is handed back to runUnit,
// which runs its compiled chain. What runs and what is counted are the interpreter engine's.
import { describe, expect, it } from 'vitest';
import { withTranslatorLimits, type Engine } from '../../machine/translator.ts';
import { forgetChainRecipes } from '../../hypervisor/bt/mode.ts';
import { runNative } from './trap-harness.ts';
import { runBtSmall, threeUnits } from './fixtures/bt-small.ts';
import { puthexOutput } from './fixtures/small-guest.ts';

function runBt(n: number, engine: Engine) {
  const r = runBtSmall(threeUnits(n), engine);
  const h = r.host;
  return {
    sim: r.sim,
    /** unit entries through the vCPU loop (runUnit), the rest made by the unit loop itself or inside compiled code */
    viaVcpuLoop: r.unitsRun - h.chainedInline - h.loopEntries - h.indirectInline,
    chainedInline: h.chainedInline,
    fastRuns: h.fastRuns,
  };
}

describe("bt's cold units under the translator", () => {
  it('a loop of cold units goes on from unit to unit in the unit loop, not through the vCPU loop, with the figures of the interpreter', () => {
    // 300 passes: every unit entered 300 times, below threshold x unitHeat (2,000): none compiled
    const interpreter = runBt(300, 'interpreter');
    const translator = runBt(300, 'translator');
    expect(runNative(threeUnits(300)).output).toBe(`${puthexOutput(900)}\n`);
    expect(interpreter.sim.output).toBe(`${puthexOutput(900)}\n`);
    expect(translator.sim).toEqual(interpreter.sim);
    // 900 unit entries in the loop, run in the fast loop; few through the vCPU loop (the boot's
    // code, the loop's first units, the deadlines: 1,299 when every cold unit came back to it)
    expect(translator.fastRuns).toBeGreaterThan(900);
    expect(translator.viaVcpuLoop).toBeLessThan(100);
  });

  it('a unit runs compiled from its entry number threshold x unitHeat: below it the loop stays cold, above it every pass chains inside', () => {
    // (each boot by heat alone: no recipe of an earlier boot's chains)
    const at = (unitHeat: number, n: number) => {
      forgetChainRecipes();
      return withTranslatorLimits({ threshold: 100, unitHeat }, () => runBt(n, 'translator'));
    };
    for (const n of [200, 300]) expect(at(4, n).sim).toEqual(runBt(n, 'interpreter').sim);
    // at 100 x 4 the loop's units (entered 200 or 300 times) are never compiled: the same
    // entries chained inside compiled code either way (the boot's code alone)
    expect(at(4, 300).chainedInline).toBe(at(4, 200).chainedInline);
    // at 100 x 1 they are, from the hundredth pass: the 100 passes more chain their 3 entries inside
    expect(at(1, 300).chainedInline - at(1, 200).chainedInline).toBe(300);
  });

  it('a unit that becomes hot while the unit loop goes on without runUnit is handed back to it and runs compiled; its entries there count toward its heat', () => {
    // threshold 100: the loop's units are entered from the unit loop itself (never through
    // runUnit after the first pass) and become hot at their hundredth entry all the same
    const interpreter = runBt(2000, 'interpreter');
    const translator = withTranslatorLimits({ threshold: 100, unitHeat: 1 }, () => runBt(2000, 'translator'));
    expect(translator.sim).toEqual(interpreter.sim);
    // after about a hundred passes in the fast loop (the boot's code has its own), the rest
    // chained inside the compiled loop: 6,000 unit entries in all
    expect(translator.viaVcpuLoop).toBeLessThan(100);
    expect(translator.fastRuns).toBeLessThan(1000);
    expect(translator.chainedInline).toBeGreaterThan(5000);
  });
});
