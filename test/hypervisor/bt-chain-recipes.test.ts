// The recipes of bt's compiled chains (hypervisor/bt/mode.ts recipeReady, compileChain): a chain
// compiled from a unit's heat leaves, for the rest of the process, which units it took in; a later
// boot of the same code compiles that chain again - the same key, from the process's memo - as
// soon as those units are translated and linked to each other as they were, instead of after the
// unit's heat again. Host side only: every boot has the interpreter engine's figures. A recipe
// whose units were translated from other words does not hold, and the unit waits for its heat.
import { describe, expect, it } from 'vitest';
import { forgetChainRecipes } from '../../hypervisor/bt/mode.ts';
import { withTranslatorLimits } from '../../machine/translator.ts';
import { runBtSmall, threeUnits } from './fixtures/bt-small.ts';
import { puthexOutput } from './fixtures/small-guest.ts';

// 300 passes of the three-unit loop, adding step + 2 per pass; threshold 100 x unitHeat 1: by
// heat alone the loop's units are compiled at about their hundredth pass
const boot = (step: number, engine: 'interpreter' | 'translator' = 'translator') =>
  withTranslatorLimits({ threshold: 100, unitHeat: 1 }, () => {
    const r = runBtSmall(threeUnits(300, step), engine);
    return { sim: r.sim, chainedInline: r.host.chainedInline, fromRecipes: r.host.chainsFromRecipes, generated: r.host.chainsGenerated, fromMemo: r.host.chainMemoHits };
  });

const bootLi = (add: number, engine: 'interpreter' | 'translator' = 'translator') =>
  withTranslatorLimits({ threshold: 100, unitHeat: 1 }, () => {
    const r = runBtSmall(threeUnits(300, add, true), engine);
    return { sim: r.sim, fromRecipes: r.host.chainsFromRecipes, generated: r.host.chainsGenerated, fromMemo: r.host.chainMemoHits };
  });

describe("the recipes of bt's compiled chains", () => {
  it("a later boot of the same code compiles each chain from the earlier boot's recipe, passes sooner than by heat, from the memo, with the interpreter's figures", () => {
    const interpreter = boot(1, 'interpreter');
    expect(interpreter.sim.output).toBe(`${puthexOutput(900)}\n`);
    forgetChainRecipes();
    const first = boot(1);
    const later = boot(1);
    expect(first.sim).toEqual(interpreter.sim);
    expect(later.sim).toEqual(interpreter.sim);
    // the first boot chose its chains by heat; the later one took every chain from a recipe, each
    // the same chain (from the memo: nothing generated)
    // (each chain compiled is generated or taken from the memo: an earlier test may have compiled it)
    const chains = first.generated + first.fromMemo;
    expect(first.fromRecipes).toBe(0);
    expect(chains).toBeGreaterThan(0);
    expect(later.fromRecipes).toBe(chains);
    expect(later.generated).toBe(0);
    expect(later.fromMemo).toBe(chains);
    // compiled sooner: more of the loop's 900 unit entries chained inside compiled code (a recipe
    // is tried at every eighth heat, once the units are translated and linked)
    expect(later.chainedInline - first.chainedInline).toBeGreaterThan(3 * 50);
  });

  it('a recipe whose units were translated from other words does not hold: that unit waits for its heat, with the figures of the interpreter', () => {
    const expected = boot(2, 'interpreter').sim;
    expect(expected.output).toBe(`${puthexOutput(1200)}\n`);
    forgetChainRecipes();
    const byHeat = boot(2);
    const same = boot(2);
    forgetChainRecipes();
    boot(1);
    // the loop's first unit differs in its immediate from step 1's, for which its recipe was left
    const other = boot(2);
    for (const r of [byHeat, same, other]) expect(r.sim).toEqual(expected);
    // (each chain compiled is generated or taken from the memo)
    expect(same.fromRecipes).toBe(byHeat.generated + byHeat.fromMemo);
    // every chain but the loop's (the boot code's: the same words) from a recipe; the loop's by
    // its heat, so fewer of the loop's entries chained inside compiled code
    expect(other.fromRecipes).toBe(same.fromRecipes - 1);
    expect(other.chainedInline).toBeLessThan(same.chainedInline);
  });

  it("a recipe that holds (the same units, instruction words and links) with another extension word in memory (an LI's immediate) makes its chain anew, with the interpreter's figures", () => {
    // (immediates no other test uses: their chains are this test's own in the process's memo)
    const expected = bootLi(0x5a17, 'interpreter').sim;
    expect(expected.output).toBe(`${puthexOutput(300 * (0x5a17 + 2))}\n`);
    forgetChainRecipes();
    const first = bootLi(0x5a15);
    // the loop's chain is new (its immediate); the boot code's may come from the memo
    expect(first.generated).toBe(1);
    const other = bootLi(0x5a17);
    expect(other.sim).toEqual(expected);
    // every chain the first boot compiled has its recipe held; the loop's, whose code holds the
    // immediate, was generated again, the others' functions taken as made
    expect(other.fromRecipes).toBe(first.generated + first.fromMemo);
    expect(other.generated).toBe(1);
    expect(other.fromMemo).toBe(first.fromMemo);
  });
});
