// The process-wide memo of bt's compiled chains (the translator engine, hypervisor/bt/mode.ts
// compileChain): a later boot of the same code takes its chains from the memo instead of
// generating their JavaScript again, with the same figures; code that differs in anything the
// generated JavaScript depends on (here: one instruction's immediate) is never given another's.
import { describe, expect, it } from 'vitest';
import { BtMode, TranslationUnit, btCache, btStatsSummary } from '../../hypervisor/bt/index.ts';
import { chainInputs } from '../../hypervisor/bt/mode.ts';
import { Op } from '../../machine/isa.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { withTranslatorLimits, type Engine } from '../../machine/translator.ts';
import { passesGuest } from './fixtures/bt-small.ts';

/** A bare guest looping 40 times over `body` (r1 counts the passes), then stopping with status r2; `after`: more code. */
function passes(body: string, after = '') {
  return passesGuest(body, { after, file: 'memo.s' });
}

/** A loop of 40 passes over two units in two pages (a call there and back), adding `step` per pass. */
function loop(step: number) {
  return passes(
    '        call    far',
    `        .org 0x3000
far:
        addi    r2, r2, ${step}
        ret
`,
  );
}

/** A loop of 40 passes over one unit with a callout in its middle (MOVFCR): after it, the rest of the unit runs as a straight run of its own. */
function calloutLoop(step: number) {
  return passes(`        movfcr  r3, cr0
        addi    r2, r2, ${step}`);
}

function boot(step: number, engine: Engine, image = loop(step)) {
  const hv = new Hypervisor({ memoryBytes: 8 * 1024 * 1024, engine });
  const d = hv.createDomain(new BtMode(), { name: 'k', memoryBytes: 4 * 1024 * 1024 }, { image });
  expect(hv.run({ maxCycles: 50_000_000 }).reason).toBe('all-stopped');
  const h = btCache(d).host;
  return { sim: { status: d.stopStatus, cycles: hv.cpu.cycles, instructions: hv.cpu.instructions, bt: btStatsSummary(d) }, generated: h.chainsGenerated, fromMemo: h.chainMemoHits, runsFromMemo: h.runMemoHits, runsGenerated: h.runsGenerated };
}

describe("the process's memo of bt's compiled chains", () => {
  it('a later boot of the same code takes every chain from the memo, with the figures of the first and of the interpreter', () => {
    const interpreter = boot(1, 'interpreter');
    expect(interpreter.sim.status).toBe(40);
    withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => {
      boot(1, 'translator');
      const later = boot(1, 'translator');
      expect(later.sim).toEqual(interpreter.sim);
      expect(later.generated).toBe(0);
      expect(later.fromMemo).toBeGreaterThan(0);
    });
  });

  it('boots of code differing in one immediate, alternating, each get their own chains (the key holds every word)', () => {
    const expected = [1, 2, 3].map((step) => boot(step, 'interpreter').sim);
    expect(expected.map((e) => e.status)).toEqual([40, 80, 120]);
    withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => {
      for (let round = 0; round < 2; round++) {
        for (const step of [1, 2, 3]) expect(boot(step, 'translator').sim).toEqual(expected[step - 1]);
      }
    });
  });

  it("a unit's straight run after a callout is taken from the memo too, keyed by its words: later boots of the same code and of code differing in one immediate", () => {
    const expected = [1, 2].map((step) => boot(step, 'interpreter', calloutLoop(step)).sim);
    expect(expected.map((e) => e.status)).toEqual([40, 80]);
    withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => {
      const first = boot(1, 'translator', calloutLoop(1));
      expect(first.sim).toEqual(expected[0]);
      expect(first.runsGenerated).toBeGreaterThan(0);
      for (let round = 0; round < 2; round++) {
        for (const step of [1, 2]) {
          const r = boot(step, 'translator', calloutLoop(step));
          expect(r.sim).toEqual(expected[step - 1]);
          // the first boot of step 2 compiles its own run (its immediate differs); every other boot takes it from the memo
          // the first boot of step 2 generates its own run (its immediate differs); every other boot takes its runs from the memo
          expect(r.runsGenerated).toBe(round === 0 && step === 2 ? 1 : 0);
          expect(r.runsFromMemo).toBeGreaterThan(0);
        }
      }
    });
  });

  it("a chain's key holds its units' links (the boundaries its code trusts) and every word", () => {
    // two units of one instruction word each: a JMP-less pair (the kinds and words are all the key reads)
    const unit = (ma: number, w: number) => new TranslationUnit(ma, ma, Int32Array.of(w), Uint16Array.of(0), Uint8Array.of(w & 0xff), Uint8Array.of(0));
    const m32 = new Int32Array(4096);
    const nop = Op.NOP;
    const a = unit(0x1000, nop);
    const b = unit(0x1004, nop);
    const key = () => chainInputs([a, b], [0x1000, 0x1004], m32).key.join(',');
    const unlinked = key();
    a.links = [b];
    const linked = key();
    expect(linked).not.toBe(unlinked);
    b.dead = true;
    expect(key()).toBe(unlinked);
    b.dead = false;
    expect(key()).toBe(linked);
    const c = unit(0x1004, Op.HLT);
    c.links = [a];
    expect(chainInputs([a, c], [0x1000, 0x1004], m32).key.join(',')).not.toBe(chainInputs([a, b], [0x1000, 0x1004], m32).key.join(','));
  });
});
