// Hostile-program fuzzing of the bare machine with its real devices (cpu-properties.test.ts covers
// the CPU alone, on a fake bus), the fixed-seed slice (fixtures/machine-fuzz.ts; FUZZ_SEED and
// FUZZ_RUNS explore further; fuzz-machine.deep.test.ts is the long run). Whatever a program does,
// Machine.run() returns with one of its stop reasons, never throws, and the translator runs it
// exactly as the interpreter does.

import { describe, it } from 'vitest';
import { checkMachineFuzz } from './fixtures/machine-fuzz.ts';

describe('the bare machine and its devices, driven by random port I/O', () => {
  it('never throws out of run(), stops for one of its reasons, and runs the same way twice (interpreter, then translator)', () => {
    checkMachineFuzz(Number(process.env.FUZZ_SEED ?? 0x3a57), Number(process.env.FUZZ_RUNS ?? 150));
  });
});
