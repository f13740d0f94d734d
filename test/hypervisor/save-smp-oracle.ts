// The save/restore oracle for runs of several CPUs, shared by the quick and the deep tests. Test
// helper (not a test file).
//
// Why "the run that went on" and not always the uninterrupted run: a run of several CPUs stopped at
// a cycle and started again is not always the run never stopped (seen with native's machine of
// several CPUs and hvm with a second stage, without any save: where run() stops moves the CPUs'
// interleaving - a property of stopping, not of saving, and not examined here), so the oracle
// for save/restore compares with the same run stopped at the save cycle and gone on without a
// save; where stopping changes nothing (trap, bt, hvm's shadow paging), `uninterrupted` also
// checks it against the run never stopped.
import { expect } from 'vitest';
import fc from 'fast-check';
import { loadSaveFile, restoreRun, saveRun } from '../../hypervisor/save/state.ts';
import { bootGuest, runToEnd, type Variant } from './save-harness.ts';
import { ORACLE_INPUT } from './save-oracle.ts';

const end = (g: ReturnType<typeof bootGuest>) => ({ clocks: g.clocks(), instructions: g.instructions(), output: g.output() });

export function checkSmpSavePoint(v: Variant, at: number, uninterrupted = false, cpus = 2): void {
  const a = bootGuest(v, ORACLE_INPUT, 4 << 20, cpus);
  expect(a.run(at)).toBe(false);
  const savedAt = a.cycles();
  const file = saveRun(a.mode, a.root, { setup: { variant: v, cpus }, cycles: savedAt, counters: {}, vcpus: [] });
  runToEnd(a);
  const wentOn = end(a);
  expect(wentOn.output).toContain('$ echo saved\nsaved\n');
  const b = bootGuest(v, ORACLE_INPUT, 4 << 20, cpus);
  restoreRun(loadSaveFile(file), b.root);
  expect(b.cycles()).toBe(savedAt);
  runToEnd(b);
  expect(end(b)).toEqual(wentOn);
  if (uninterrupted) {
    const u = bootGuest(v, ORACLE_INPUT, 4 << 20, cpus);
    runToEnd(u);
    expect(end(u)).toEqual(wentOn);
  }
}

/** What a run under a hypervisor ends with: console, every physical CPU's clock, instructions, idle cycles and the cost ledger. */
function hvEnd(g: ReturnType<typeof bootGuest>) {
  const hv = g.root as { clocks: Float64Array | number[]; idleCycles: number; cpu: { evCount: Float64Array; baseCycles: number } };
  return { cycles: g.cycles(), clocks: [...hv.clocks], instructions: g.instructions(), idle: hv.idleCycles, ledger: [...hv.cpu.evCount], base: hv.cpu.baseCycles, output: g.output() };
}

/**
 * The property over the save cycle for a run of `cpus` vCPUs under a hypervisor (fast-check,
 * seeded): one run saved at `points` cycles drawn below its length ends as the run never saved,
 * and so does each save restored onto a fresh machine - console output, every physical CPU's
 * clock, instructions, idle cycles and every kind of event in the cost ledger.
 */
export function checkSmpSavePoints(v: Variant, points: number, seed: number, cpus = 2): void {
  const u = bootGuest(v, ORACLE_INPUT, 4 << 20, cpus);
  runToEnd(u);
  const whole = hvEnd(u);
  expect(whole.output).toContain('$ echo saved\nsaved\n');
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: whole.cycles - 1 }), { minLength: points, maxLength: points }), (ats) => {
      ats.sort((x, y) => x - y);
      const a = bootGuest(v, ORACLE_INPUT, 4 << 20, cpus);
      const files: { at: number; bytes: Uint8Array }[] = [];
      for (const at of ats) {
        if (a.cycles() < at && a.run(at - a.cycles())) break;
        files.push({ at: a.cycles(), bytes: saveRun(a.mode, a.root, { setup: { variant: v, cpus }, cycles: a.cycles(), counters: {}, vcpus: [] }) });
      }
      runToEnd(a);
      expect(hvEnd(a)).toEqual(whole);
      for (const f of files) {
        const b = bootGuest(v, ORACLE_INPUT, 4 << 20, cpus);
        restoreRun(loadSaveFile(f.bytes), b.root);
        expect(b.cycles()).toBe(f.at);
        runToEnd(b);
        expect({ at: f.at, ...hvEnd(b) }).toEqual({ at: f.at, ...whole });
      }
    }),
    { numRuns: 1, seed },
  );
}
