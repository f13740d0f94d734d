// Save and restore of runs on several CPUs, at more save points and in every mode with them (the
// quick test: save-smp.test.ts): the restored run ends as the run that went on from the save
// cycle; under a hypervisor also as the run never stopped (a slice cut at run()'s limit goes on
// first at the next run(): Hypervisor.runMulti), to the idle cycles and the cost ledger.
import { describe, test } from 'vitest';
import { checkSmpSavePoint, checkSmpSavePoints } from './save-smp-oracle.ts';

describe('runs of several CPUs, saved and restored', () => {
  const cases: [Parameters<typeof checkSmpSavePoint>[0], boolean][] = [
    ['native', false],
    ['trap', true],
    ['bt', true],
    ['hvm-shadow', true],
    ['hvm-ept', true],
  ];
  for (const [v, uninterrupted] of cases) {
    // (native's two CPUs end at 2.83 M cycles since the kernel's stack-based CPU number: its last point is earlier)
    for (const at of [150_001, 1_500_000, v === 'native' ? 2_700_000 : 4_100_000]) {
      test(`${v}, two CPUs: at ${at} cycles`, () => checkSmpSavePoint(v, at, uninterrupted));
    }
    test(`${v}, four CPUs: at 2,500,000 cycles`, () => checkSmpSavePoint(v, 2_500_000, false, 4));
  }
  for (const v of ['trap', 'hvm-ept'] as const) {
    test(`${v}, two vCPUs: four save points drawn by fast-check, as the run never stopped`, () => checkSmpSavePoints(v, 4, 7));
  }
  for (const seed of [1, 2, 3, 4]) {
    test(`pv, two vCPUs: six save points drawn by fast-check (seed ${seed}), as the run never stopped`, () => checkSmpSavePoints('pv', 6, seed));
  }
  test('pv, four vCPUs: four save points drawn by fast-check, as the run never stopped', () => checkSmpSavePoints('pv', 4, 5, 4));
});
