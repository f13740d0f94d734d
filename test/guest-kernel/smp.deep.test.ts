// The whole usertests suite on two CPUs under 100 interleaving seeds (cycle quanta of 1..Q for
// Q in 500, 2000, 8000): every test passes under every seed, as on one CPU; and the tests that
// stress the kernel's locking under instruction quanta down to one instruction (a CPU switch
// after any instruction). Deep: `npm run test:deep`.

import { describe, expect, it } from 'vitest';
import { bootKernel } from './harness.ts';

describe('usertests on two CPUs, 100 seeds', () => {
  for (let seed = 1; seed <= 100; seed++) {
    const quantumCycles = [500, 2000, 8000][seed % 3]!;
    it(`seed ${seed} (quantum ${quantumCycles} cycles): all pass`, () => {
      const r = bootKernel({ cmdline: 'usertests', cpus: 2, schedule: { seed, quantumCycles }, maxCycles: 4_000_000_000 });
      expect(r.output).toMatch(/usertests: 31 passed, 0 failed\n/);
      expect(r.result.reason).toBe('poweroff');
    }, 120_000);
  }
});

describe('the two-CPU usertests under instruction quanta', () => {
  for (const [seed, quantumInstructions] of [[1, 1], [2, 3], [3, 7], [4, 20], [5, 50]] as const) {
    it(`seed ${seed}, slices of 1..${quantumInstructions} instructions: all pass`, () => {
      const r = bootKernel({ cmdline: 'usertests forkwait pipe smp-parallel smp-unmap sleep kill', cpus: 2, schedule: { seed, quantumInstructions }, maxCycles: 2_000_000_000 });
      expect(r.output).toMatch(/usertests: 6 passed, 0 failed\n/);
    }, 120_000);
  }
});
