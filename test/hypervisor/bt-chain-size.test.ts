// The size of bt's compiled chains (hypervisor/bt/mode.ts compileChain): V8 never optimizes a
// function of more than 61,440 bytes of bytecode, and a chain left unoptimized runs several
// times slower than the fast loop would run its units (docs/engine.md, "The twenty-first
// round": 100-280 ns a guest instruction in V8's baseline tier). So a chain whose JavaScript would be
// longer than CHAIN_MAX_CHARS leaves out its last units (the coldest it took in) until it is
// not, with the same figures; the process's memo remembers the cut, so a later boot of the
// same code generates nothing, and a chain's recipe holds the cut units alone, so a boot
// compiling from the recipes tries no longer chain at all.
import { describe, expect, it } from 'vitest';
import { BtMode, btCache, btStatsSummary } from '../../hypervisor/bt/index.ts';
import { CHAIN_MAX_CHARS, forgetChainRecipes } from '../../hypervisor/bt/mode.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { straightChars, withTranslatorLimits, type Engine } from '../../machine/translator.ts';
import { passesGuest } from './fixtures/bt-small.ts';

// a loop body of 16 units, each 11 stores and a jump to the next (the last falls into the loop's end)
const body = Array.from({ length: 16 }, (_, k) => `${'        stw     [r6], r2\n'.repeat(11)}        jmp     .Lu${k}\n.Lu${k}:\n`).join('') + '        addi    r2, r2, 1\n';
const image = passesGuest(body, { setup: '        li      r6, 0x3000', file: 'size.s' });

function boot(engine: Engine) {
  const hv = new Hypervisor({ memoryBytes: 8 * 1024 * 1024, engine });
  const d = hv.createDomain(new BtMode(), { name: 'k', memoryBytes: 4 * 1024 * 1024 }, { image });
  expect(hv.run({ maxCycles: 50_000_000 }).reason).toBe('all-stopped');
  const c = btCache(d);
  const chains = [...c.units.values()].filter((u) => u.chain !== null && u.runs?.[0]).map((u) => ({ units: u.chain!.u.length, chars: straightChars(u.runs![0]!) }));
  return { sim: { status: d.stopStatus, cycles: hv.cpu.cycles, instructions: hv.cpu.instructions, bt: btStatsSummary(d) }, chains, leftOut: c.host.chainUnitsLeftOut, generated: c.host.chainsGenerated, fromRecipes: c.host.chainsFromRecipes };
}

describe("the size of bt's compiled chains", () => {
  it("a chain whose code would be longer than V8 optimizes leaves out its last units, with the interpreter's figures; a later boot takes the cut from the memo", () => {
    const interpreter = boot('interpreter');
    expect(interpreter.sim.status).toBe(40);
    withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => {
      forgetChainRecipes();
      const first = boot('translator');
      // the later boot by heat, as the first: it meets the cuts in the memo
      forgetChainRecipes();
      const later = boot('translator');
      const fromRecipes = boot('translator');
      expect(first.sim).toEqual(interpreter.sim);
      expect(later.sim).toEqual(interpreter.sim);
      expect(fromRecipes.sim).toEqual(interpreter.sim);
      // 16 units of 11 stores and a jump are longer than the bound: the chains took fewer, each
      // within it
      expect(first.leftOut).toBeGreaterThan(0);
      expect(Math.max(...first.chains.map((c) => c.units))).toBeLessThan(16);
      expect(Math.max(...first.chains.map((c) => c.chars))).toBeLessThanOrEqual(CHAIN_MAX_CHARS);
      // the later boot: the same cuts, every chain from the memo
      expect(later.chains).toEqual(first.chains);
      expect([later.leftOut, later.generated, later.fromRecipes]).toEqual([first.leftOut, 0, 0]);
      // from the recipes: the same chains, no unit left out again, nothing generated
      expect(fromRecipes.chains).toEqual(first.chains);
      expect([fromRecipes.leftOut, fromRecipes.generated, fromRecipes.fromRecipes]).toEqual([0, 0, first.chains.length]);
    });
  });
});
