// The whole usertests suite in a pv domain of two vCPUs under 100 seeds (each seed a vCPU slice
// of 1..Q cycles, Q in 500, 8000, 100000): every test passes as on one vCPU but smp-parallel (the
// vCPUs time-share the hypervisor's one physical CPU: two processes at once take twice one's
// time), and a seed gives the same run twice. Deep: `npm run test:deep`.

import { describe, expect, it } from 'vitest';
import { bootPvKernel } from './pv-harness.ts';

describe('pv usertests on two vCPUs, 100 seeds', () => {
  for (let seed = 1; seed <= 100; seed++) {
    const quantumCycles = [500, 8000, 100_000][seed % 3]!;
    it(`seed ${seed} (slice from 1..${quantumCycles} cycles): all pass but smp-parallel`, () => {
      const r = bootPvKernel({ cmdline: 'usertests', vcpus: 2, seed, quantumCycles, maxCycles: 8_000_000_000 });
      expect(r.output).toMatch(/FAIL smp-parallel: two at once took 1\.5x one or more \(tenths\) \(got \d+\)\n/);
      expect(r.output).toMatch(/usertests: 30 passed, 1 failed\n/);
      expect(r.result.reason).toBe('poweroff');
      if (seed % 25 === 0) {
        const again = bootPvKernel({ cmdline: 'usertests', vcpus: 2, seed, quantumCycles, maxCycles: 8_000_000_000 });
        expect(again.result.cycles).toBe(r.result.cycles);
      }
    }, 300_000);
  }
});
