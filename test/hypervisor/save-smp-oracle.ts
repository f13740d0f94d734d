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
