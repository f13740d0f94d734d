// The save/restore oracle as a property over the save cycle, shared by the quick and the deep
// tests: save the run at n cycles drawn by fast-check, restore each save onto a fresh machine, and
// check each restored run ends exactly as the uninterrupted one. Test helper (not a test file).
import { expect } from 'vitest';
import fc from 'fast-check';
import { loadSaveFile, restoreRun, saveRun } from '../../hypervisor/save/state.ts';
import { bootGuest, runToEnd, type Variant } from './save-harness.ts';

export const ORACLE_INPUT = 'echo saved';

/** The run's end without any save, and its length (the property's range). */
function reference(v: Variant): { cycles: number; instructions: number; output: string } {
  const g = bootGuest(v, ORACLE_INPUT);
  runToEnd(g);
  return { cycles: g.cycles(), instructions: g.instructions(), output: g.output() };
}

/** Check `points` save cycles of variant v (fast-check, seeded). */
export function checkSavePoints(v: Variant, points: number, seed: number): void {
  const u = reference(v);
  expect(u.output).toContain('$ echo saved\nsaved\n');
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: u.cycles - 1 }), { minLength: points, maxLength: points }), (ats) => {
      ats.sort((x, y) => x - y);
      // one run saved at every point: saving does not change the run it saves
      const a = bootGuest(v, ORACLE_INPUT);
      const files: { at: number; bytes: Uint8Array }[] = [];
      for (const at of ats) {
        if (a.cycles() < at && a.run(at - a.cycles())) break;
        files.push({ at: a.cycles(), bytes: saveRun(a.mode, a.root, { setup: { variant: v }, cycles: a.cycles(), counters: {}, vcpus: [] }) });
      }
      runToEnd(a);
      expect([a.cycles(), a.instructions(), a.output()]).toEqual([u.cycles, u.instructions, u.output]);
      for (const f of files) {
        const b = bootGuest(v, ORACLE_INPUT);
        restoreRun(loadSaveFile(f.bytes), b.root);
        expect(b.cycles()).toBe(f.at);
        runToEnd(b);
        expect({ at: f.at, cycles: b.cycles(), instructions: b.instructions(), output: b.output() }).toEqual({ at: f.at, cycles: u.cycles, instructions: u.instructions, output: u.output });
      }
    }),
    { numRuns: 1, seed },
  );
}
