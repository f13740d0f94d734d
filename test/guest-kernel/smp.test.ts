// The guest kernel on two CPUs (native): the secondary comes up and nproc counts it, the
// two-CPU usertests pass under a handful of interleaving seeds (100 in smp.deep.test.ts), and the
// parallel workload shows its speedup in simulated time; a seed gives the same run every time.

import { describe, expect, it } from 'vitest';
import { bootKernel } from './harness.ts';

const SMP_TESTS = 'usertests smp-parallel smp-unmap forkwait pipe';
/** the run's cycles under seed 2 (re-derive from a real run when the kernel changes) */
const CYCLES_SEED_2 = 16577442;
const PARBENCH_TWO = 'parbench: 2 workers x 50000 rounds on 2 CPUs: one alone 952 kcycles, all together 1451 kcycles, speedup 1.31x\n';

describe('guest kernel on two CPUs', () => {
  it('starts the secondary CPU: the boot log says so and nproc prints 2 (1 on one CPU, without the smp line)', () => {
    const two = bootKernel({ cmdline: 'nproc', cpus: 2, schedule: { seed: 1 } });
    expect(two.result.reason).toBe('poweroff');
    expect(two.output).toContain('timer: 1000 Hz\nsmp: 2 CPUs\n2\n');
    expect(two.machine.started).toEqual([true, true]);
    const one = bootKernel({ cmdline: 'nproc' });
    expect(one.output).toContain('timer: 1000 Hz\n1\n');
    expect(one.output).not.toContain('smp:');
  });

  it('the two-CPU usertests pass (seed 2; 100 seeds in the deep suite), and the seed fixes the run to the cycle', () => {
    const r = bootKernel({ cmdline: SMP_TESTS, cpus: 2, schedule: { seed: 2 } });
    expect(r.output).toContain('PASS smp-parallel\n');
    expect(r.output).toContain('PASS smp-unmap\n');
    expect(r.output).toContain('usertests: 4 passed, 0 failed\n');
    expect(r.result.status).toBe(0);
    const again = bootKernel({ cmdline: SMP_TESTS, cpus: 2, schedule: { seed: 2 } });
    expect([again.result.cycles, again.result.instructions]).toEqual([r.result.cycles, r.result.instructions]);
    expect(r.result.cycles).toBe(CYCLES_SEED_2);
  });

  it('parbench: two workers together take less than twice one worker\'s time on two CPUs, more on one', () => {
    const two = bootKernel({ cmdline: 'parbench 2 50000', cpus: 2, schedule: { seed: 1 } });
    expect(two.output).toContain(PARBENCH_TWO);
    const one = bootKernel({ cmdline: 'parbench 2 50000' });
    expect(one.output).toContain('parbench: 2 workers x 50000 rounds on 1 CPUs: one alone 951 kcycles, all together 2421 kcycles, speedup 0.78x\n');
  });
});
