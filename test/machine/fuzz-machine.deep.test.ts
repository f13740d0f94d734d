// The machine fuzzer's long run (npm run test:deep): fixtures/machine-fuzz.ts's property over
// several seeds, 2,000 programs each. Seed 424242 found the fast loop's CALL reading its own
// extension word after the push had overwritten it (cpu-instructions.test.ts pins the fix).

import { describe, it } from 'vitest';
import { checkMachineFuzz } from './fixtures/machine-fuzz.ts';

describe('the bare machine and its devices, driven by random port I/O (long run)', () => {
  for (const seed of [0x3a57, 424242, 1001, 1006]) {
    it(`interpreter and translator agree on 2,000 programs (seed ${seed})`, () => {
      checkMachineFuzz(seed, 2000);
    }, 1_200_000);
  }
});
