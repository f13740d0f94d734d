// `bench mechanisms` measures what it says: each loop with the mechanism makes the domain count
// one occurrence per iteration, its baseline loop none (the timing itself is only in the
// benchmark), and each iteration of the loop with it costs the same simulated cycles more than
// one of its baseline, so the difference per iteration is the mechanism's cost alone.
import { describe, expect, it } from 'vitest';
import { coldAfterWarmUp, mechanismCounts, mechanismEntries } from '../../bench/mechanisms.ts';
import { forgetChainRecipes } from '../../hypervisor/bt/mode.ts';

const ROWS: Array<[string, string]> = [
  ['hypercall (xen_version)', 'pv'],
  ['trapped-and-emulated privileged instruction (CLI)', 'trap'],
  ['privileged instruction rewritten in line by binary translation (CLI)', 'bt'],
  ['VM exit (CPUID)', 'hvm'],
  ['hidden shadow page fault (INVLPG, then a load)', 'trap'],
];

describe('bench mechanisms', () => {
  it('one pv hypercall, one trapped-and-emulated CLI, one CLI rewritten by bt, one CPUID VM exit and one hidden shadow fault per iteration; none in the baseline', () => {
    const rows = mechanismCounts(100);
    expect(rows.map((r) => [r.mechanism, r.mode, r.withIt, r.without])).toEqual(ROWS.map(([m, mode]) => [m, mode, 100, 0]));
    for (const r of rows) expect(r.cycles[0]).toBeGreaterThan(r.cycles[1]);
  });

  it('the cycles the mechanism adds are the same in every iteration (twice the iterations, twice the difference)', () => {
    const a = mechanismCounts(50);
    const b = mechanismCounts(100);
    for (let k = 0; k < a.length; k++) {
      expect(b[k]!.cycles[0] - b[k]!.cycles[1], a[k]!.mechanism).toBe(2 * (a[k]!.cycles[0] - a[k]!.cycles[1]));
    }
  });

  it('the translator sees the same occurrences and cycles as the interpreter', () => {
    expect(mechanismCounts(100, 'translator')).toEqual(mechanismCounts(100, 'interpreter'));
  });
});

describe('bench mechanisms under the translator: leaving translated code and coming back', () => {
  it('each iteration enters translated code once per exit (twice for the shadow fault: the INVLPG trap and the fault) and runs nothing cold: the instruction after the exit is an entry of the loop\'s translation; bt\'s rewritten CLI leaves its compiled loop never', () => {
    // (bt's loop compiled by its heat in both runs, not sooner in the second from the first's recipe)
    forgetChainRecipes();
    const a = mechanismEntries(100);
    forgetChainRecipes();
    const b = mechanismEntries(200);
    const perIteration = a.map((r, k) => [r.mechanism, (b[k]!.entries - r.entries) / 100, b[k]!.coldInstructions - r.coldInstructions, b[k]!.translations - r.translations]);
    expect(perIteration).toEqual(ROWS.map(([m, mode]) => [m, m.startsWith('hidden') ? 2 : mode === 'bt' ? 0 : 1, 0, 0]));
  });
});

describe('bench mechanisms: both loops of a row run translated after the warm-up', () => {
  it('after the warm-up (five times the timed iterations), a timed run of each loop, baseline or not, runs in cold slices only what comes before the loop: about its first slice, not its 800,000-odd instructions', () => {
    // (a baseline left cold ran three times slower, and the mechanism looked cheaper by that: at
    // a warm-up of a tenth of the iterations the trap and hvm baselines ran all 800,002 of their
    // instructions cold.) What stays cold is the first slice or two from _start before the loop's
    // entry is landed on, and the shadow row's mapping loop and more: 1,500 to 21,756 instructions
    // here, as the process's earlier machines left the translator's kept heat. (A warm machine
    // slices shorter and needs ten times the landings for an entry to become hot; the shadow row's
    // timed machine is warm when its mapping loop's head, translated on the warm-up machine, is
    // landed on, and the entry after each trapped INVLPG, landed on once an iteration, then waits
    // for 5,000 landings: docs/engine.md "The twenty-ninth round".) bt's units are its own code,
    // not the translator's entries: none.
    const rows = coldAfterWarmUp(200_000);
    expect(rows.map((r) => r.mechanism)).toEqual(ROWS.map(([m]) => m));
    for (const r of rows) {
      expect(r.without, r.mechanism).toBeLessThan(40_000);
      expect(r.withIt, r.mechanism).toBeLessThan(40_000);
    }
    expect(rows[2]!.without + rows[2]!.withIt).toBe(0);
  });
});
