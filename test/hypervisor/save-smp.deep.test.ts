// Save and restore of runs on several CPUs, at more save points and in every mode with them (the
// quick test: save-smp.test.ts): the restored run ends as the run that went on from the save
// cycle; trap, bt and hvm's shadow paging also as the run never stopped.
import { describe, test } from 'vitest';
import { checkSmpSavePoint } from './save-smp-oracle.ts';

describe('runs of several CPUs, saved and restored', () => {
  const cases: [Parameters<typeof checkSmpSavePoint>[0], boolean][] = [
    ['native', false],
    ['trap', true],
    ['bt', true],
    ['hvm-shadow', true],
    ['hvm-ept', false],
  ];
  for (const [v, uninterrupted] of cases) {
    for (const at of [150_001, 1_500_000, 4_100_000]) {
      test(`${v}, two CPUs: at ${at} cycles`, () => checkSmpSavePoint(v, at, uninterrupted));
    }
    test(`${v}, four CPUs: at 2,500,000 cycles`, () => checkSmpSavePoint(v, 2_500_000, false, 4));
  }
});
