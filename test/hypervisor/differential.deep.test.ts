// Differential fuzzing against native, the long run (`npm run test:deep`; DIFF_SEED and
// DIFF_RUNS choose the seed and the number of cases per suite, default 1,000): the same
// properties as differential.test.ts's fixed-seed slice, with the tallies printed.
import { describe, expect, it } from 'vitest';
import { differentialRun } from './fixtures/differential-suite.ts';

describe('differential fuzzing against the bare machine (long run)', () => {
  it('trap (no critical instructions), bt and hvm observe what the bare machine observes, in every compared case', () => {
    const seed = Number(process.env.DIFF_SEED ?? 0x5eed);
    const runs = Number(process.env.DIFF_RUNS ?? 1000);
    const { trap, btHvm } = differentialRun({ trap: seed, btHvm: seed + 1 }, runs);
    console.log(`differential (seed ${seed}, ${runs} cases per suite): trap ${JSON.stringify(trap)}; bt and hvm ${JSON.stringify(btHvm)}`);
    expect(trap['trap: compared']).toBeGreaterThan(0);
    expect(btHvm['bt: compared']).toBeGreaterThan(0);
  });
});
