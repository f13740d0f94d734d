// The pv-domain save/restore oracle of pv-domain-save.test.ts at many more save points: each
// restored on a machine with the same frames (exact) and with other frames (exact but for the
// guest's own m2p TLB walks). Deep: npm run test:deep.
import { describe, test } from 'vitest';
import { checkPvSavePoints } from './pv-domain-harness.ts';

describe('a pv domain restored on another machine ends as the uninterrupted one (deep)', () => {
  for (const seed of [0x11, 0x22, 0x33, 0x44]) {
    test(`8 save slices, seed ${seed}`, () => {
      checkPvSavePoints(8, seed);
    }, 600_000);
  }
});
