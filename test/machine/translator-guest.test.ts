// The guest kernel under both engines (issue 15): the translator must agree exactly with the
// interpreter (cycles, instructions, console, how the run stopped) for the native kernel and for
// the guest code of each virtualization mode's domain. A cheap slice here (a short command, the
// translator translating nearly everything: threshold 2); usertests and lmbench in every mode in
// translator-guest.deep.test.ts.

import { describe, expect, it } from 'vitest';
import { runGuest } from './translator-guest-harness.ts';

describe('the guest kernel under the translator agrees with the interpreter', () => {
  for (const mode of ['native', 'hvm'] as const) {
    it(`${mode}: echo hi, same cycles, instructions and console`, () => {
      const i = runGuest(mode, 'interpreter', 'echo hi');
      const t = runGuest(mode, 'translator', 'echo hi');
      expect(i.reason).toBe('poweroff');
      expect(i.output).toMatch(/^hi$/m);
      expect(t).toEqual(i);
    });
  }
});

describe('loop heads found by their backward jumps in cold slices (limits.loopHeat), in the guest kernel', () => {
  // the translator's counters for this boot (loop heads translated, cold slices ended at one)
  const expected = { native: [21, 9510], trap: [21, 17163], pv: [29, 9546] };
  for (const mode of ['native', 'trap', 'pv'] as const) {
    it(`${mode}: every loop's head translated at its second backward jump, in long cold slices: the same run as the interpreter's`, () => {
      // landings far from making anything hot: only the fast loop's counts translate here
      const limits = { threshold: 60000, coldSlice: 2000, loopHeat: 2 };
      const i = runGuest(mode, 'interpreter', 'echo hi', limits);
      let heads = 0;
      let stops = 0;
      const t = runGuest(mode, 'translator', 'echo hi', limits, (tx) => {
        heads = tx!.stats.loopHeads;
        stops = tx!.stats.loopStops;
      });
      expect(i.reason).toBe('poweroff');
      expect(i.output).toMatch(/^hi$/m);
      expect(t).toEqual(i);
      expect([heads, stops]).toEqual(expected[mode]);
    });
  }
});
