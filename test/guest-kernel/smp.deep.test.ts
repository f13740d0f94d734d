// The whole usertests suite on two CPUs under 100 interleaving seeds (cycle quanta of 1..Q for
// Q in 500, 2000, 8000): every test passes under every seed, as on one CPU. Deep: `npm run test:deep`.

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
