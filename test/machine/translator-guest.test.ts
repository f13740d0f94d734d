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
