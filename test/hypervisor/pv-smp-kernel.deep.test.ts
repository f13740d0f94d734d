// The whole usertests suite in a pv domain of two vCPUs (one physical CPU each) under 100 seeds
// (each seed draws the vCPUs' slices from 1..Q cycles, Q in 500, 8000, 100000): every test passes
// as on the bare machine; smp-parallel, a timing assertion inside the guest, is printed, not
// judged (docs/hypervisor.md "Several vCPUs"); a seed gives the same run twice. Deep: `npm run test:deep`.

import { describe, expect, it } from 'vitest';
import { bootPvKernel } from './pv-harness.ts';

describe('pv usertests on two vCPUs, 100 seeds', () => {
  for (let seed = 1; seed <= 100; seed++) {
    const quantumCycles = [500, 8000, 100_000][seed % 3]!;
    it(`seed ${seed} (slices from 1..${quantumCycles} cycles): all pass (smp-parallel printed)`, () => {
      const r = bootPvKernel({ cmdline: 'usertests', vcpus: 2, seed, quantumCycles, maxCycles: 8_000_000_000 });
      expect(r.result.reason).toBe('poweroff');
      const fails = r.output.split('\n').filter((l) => l.startsWith('FAIL ') && !l.startsWith('FAIL smp-parallel'));
      expect(fails).toEqual([]);
      expect(r.output).toMatch(/usertests: (31 passed, 0|30 passed, 1) failed\n/);
      process.stdout.write(`seed ${seed} pv: smp-parallel ${/PASS smp-parallel/.test(r.output) ? 'PASS' : 'FAIL'}\n`);
      if (seed % 25 === 0) {
        const again = bootPvKernel({ cmdline: 'usertests', vcpus: 2, seed, quantumCycles, maxCycles: 8_000_000_000 });
        expect(again.result.cycles).toBe(r.result.cycles);
      }
    }, 300_000);
  }
});
