// Differential fuzzing against native, the long run (`npm run test:deep`; DIFF_SEED (one seed,
// or several separated by commas) and DIFF_RUNS choose the seeds and the number of cases per suite
// and seed, default 1,000; DIFF_SHRINK=1 shrinks a failing case, which for these programs can take
// an hour, so by default the first failing case is reported as generated): the same properties as differential.test.ts's fixed-seed slice, with
// the tallies printed. The default seeds include those that found the differences
// docs/hypervisor.md lists under "Found and fixed" (0xd1ff under trap, 12 under bt and hvm, 0x2026
// under hvm on shadow paging).
import { describe, expect, it } from 'vitest';
import { differentialRun } from './fixtures/differential-suite.ts';

const seeds = (process.env.DIFF_SEED ?? '0x5eed,0xd1ff,12,0x2026').split(',').map(Number);
const runs = Number(process.env.DIFF_RUNS ?? 1000);
const shrink = process.env.DIFF_SHRINK === '1';

describe('differential fuzzing against the bare machine (long run)', () => {
  for (const seed of seeds) {
    it(`trap (no critical instructions), bt and hvm observe what the bare machine observes, in every compared case (seed ${seed})`, () => {
      const { trap, btHvm } = differentialRun({ trap: seed, btHvm: seed }, runs, shrink);
      console.log(`differential (seed ${seed}, ${runs} cases per suite): trap ${JSON.stringify(trap)}; bt and hvm ${JSON.stringify(btHvm)}`);
      expect(trap['trap: compared']).toBeGreaterThan(0);
      expect(btHvm['bt: compared']).toBeGreaterThan(0);
    }, 1_800_000);
  }
});
