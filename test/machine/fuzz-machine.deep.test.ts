// The machine fuzzer's long run (npm run test:deep): fixtures/machine-fuzz.ts's property over
// several seeds, 2,000 programs each. Seed 424242 found the fast loop's CALL reading its own
// extension word after the push had overwritten it (cpu-instructions.test.ts pins the fix).
// Seed 1006's 101st program slides through memory the block device's DMA filled with
// instruction-like words, faulting about every two instructions; each fault's return is a new
// entry, and at the fuzzer's threshold of 1 each was translated at once up to 256 instructions
// ahead and used for one or two (29,495 translations, 3.1 G characters of JavaScript, 186
// whole-cache flushes: 353 s on the translator against 31 ms on the interpreter). The fuzzer now
// translates an entry inside another translation at its 16th landing
// (TranslatorLimits.insideEntryHeat): 0.8 s, and the seed is in the list.

import { describe, it } from 'vitest';
import { checkMachineFuzz } from './fixtures/machine-fuzz.ts';

describe('the bare machine and its devices, driven by random port I/O (long run)', () => {
  for (const seed of [0x3a57, 424242, 1001, 1005, 1006]) {
    it(`interpreter and translator agree on 2,000 programs (seed ${seed})`, () => {
      checkMachineFuzz(seed, 2000);
    }, 1_200_000);
  }
});
