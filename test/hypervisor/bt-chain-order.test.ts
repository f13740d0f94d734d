// Which units bt's compiled chain of a hot unit takes in (hypervisor/bt/mode.ts compileChain):
// of the units its units lead to, the hottest first - a loop's own units before the way out of
// it - so that when the chain is full (CHAIN_MAX_UNITS) what is left out is the colder code. With
// no heat to tell them apart it takes them as a breadth-first search would.
import { describe, expect, it } from 'vitest';
import { BtMode, btCache, btStatsSummary } from '../../hypervisor/bt/index.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import type { Image } from '../../machine/image.ts';
import { withTranslatorLimits, type Engine } from '../../machine/translator.ts';
import { passesGuest } from './fixtures/bt-small.ts';

// 40 passes of a loop whose head (again) ends with a branch taken once, at pass 2, to `rare`,
// else falling through to `common` (the loop's way back); the first pass enters the head too
const image = passesGuest(
  `        cmpi    r1, 2
        jeq     rare
common:
        addi    r2, r2, 1`,
  {
    setup: '        jmp     again',
    after: `rare:
        addi    r2, r2, 100
        jmp     common`,
    file: 'order.s',
  },
);
const at = (img: Image, name: string): number => img.symbols.find((s) => s.name === name)!.addr;

function boot(engine: Engine) {
  const hv = new Hypervisor({ memoryBytes: 8 * 1024 * 1024, engine });
  const d = hv.createDomain(new BtMode(), { name: 'k', memoryBytes: 4 * 1024 * 1024 }, { image });
  expect(hv.run({ maxCycles: 50_000_000 }).reason).toBe('all-stopped');
  const head = [...btCache(d).units.values()].find((u) => u.pc === at(image, 'again'));
  return { sim: { status: d.stopStatus, cycles: hv.cpu.cycles, instructions: hv.cpu.instructions, bt: btStatsSummary(d) }, chain: head?.chain?.pcs ?? null };
}

describe("the units bt's compiled chains take in", () => {
  it('the hottest of those reached first: the loop head compiled takes the way round the loop before the branch taken once', () => {
    const interpreter = boot('interpreter');
    expect(interpreter.sim.status).toBe(40 + 100);
    expect(interpreter.chain).toBe(null);
    // compiled at its 8th heat (a few passes in): the branch's taken side (rare) was reached first,
    // but common, entered every pass, is the hotter
    const translator = withTranslatorLimits({ threshold: 8, unitHeat: 1 }, () => boot('translator'));
    expect(translator.sim).toEqual(interpreter.sim);
    expect(translator.chain).toEqual(['again', 'common', 'rare'].map((l) => at(image, l)));
  });
});
