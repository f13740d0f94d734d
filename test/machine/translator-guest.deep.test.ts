// The guest kernel's suites under both engines in every mode (issue 15): usertests and lmbench,
// the translator translating nearly everything (threshold 2, every block boundary a dispatch),
// with its default limits, and with loops found by their backward jumps alone (loopHeat 2),
// must agree exactly with the interpreter. `npm run test:deep`.

import { describe, expect, it } from 'vitest';
import { runGuest } from './translator-guest-harness.ts';

describe('usertests and lmbench under the translator agree with the interpreter in every mode', () => {
  for (const mode of ['native', 'trap', 'bt', 'hvm', 'pv'] as const) {
    for (const cmdline of ['usertests', 'lmbench all 20']) {
      it(`${mode}: ${cmdline}`, () => {
        const i = runGuest(mode, 'interpreter', cmdline);
        expect(i.reason).toBe('poweroff');
        expect(runGuest(mode, 'translator', cmdline)).toEqual(i);
        expect(runGuest(mode, 'translator', cmdline, {})).toEqual(i);
        // loop heads translated at their second backward jump, in long cold slices
        expect(runGuest(mode, 'translator', cmdline, { threshold: 60000, coldSlice: 2000, loopHeat: 2 })).toEqual(i);
      });
    }
  }
});
