// The save/restore oracle at many save cycles per mode (npm run test:deep): each restored run ends
// with exactly the uninterrupted run's console output, cycles and instructions.
import { describe, test } from 'vitest';
import { TRACED_VARIANTS, VARIANTS } from './save-harness.ts';
import { checkSavePoints } from './save-oracle.ts';

describe('a restored run ends as the uninterrupted one, at many save cycles', () => {
  for (const v of [...VARIANTS, ...TRACED_VARIANTS]) {
    for (const seed of [1, 2, 3, 4]) {
      test(`${v}: eight save cycles (seed ${seed})`, () => {
        checkSavePoints(v, 8, seed);
      }, 600_000);
    }
  }
});
