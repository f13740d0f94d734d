// The whole usertests suite with two vCPUs under trap, bt and hvm against the bare two-CPU machine,
// at 100 interleaving seeds (the vCPU slices' seed and the bare machine's schedule seed are the
// same number; their interleavings differ, as two machines' would): each test passes or fails as
// natively, except (1) under trap the four documented critical-instruction tests
// (docs/hypervisor.md), as on one CPU, and (2) smp-parallel, which is a timing assertion inside the
// guest ("two processes together take under 1.5x one alone"): the virtualized modes pass or fail it
// by their costs (exits; docs/hypervisor.md "Several vCPUs"), so it is left out of the comparison
// and its outcome printed. Deep: `npm run test:deep`.

import { describe, expect, it } from 'vitest';
import { runImageInMode } from '../../hypervisor/index.ts';
import { bootKernel, guest } from '../guest-kernel/harness.ts';

const CRITICAL = ['critical-rdcpl', 'critical-pushf', 'critical-popf', 'critical-sidt'];
const TIMED = 'smp-parallel';

/** test name -> PASS or FAIL, from a usertests console */
function results(output: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of output.split('\n')) {
    const r = /^(PASS|FAIL) ([a-z0-9-]+)/.exec(line);
    if (r) m.set(r[2]!, r[1]!);
  }
  return m;
}

describe('usertests on two vCPUs = on the bare two-CPU machine, 100 seeds', () => {
  const g = guest();
  for (let seed = 1; seed <= 100; seed++) {
    it(`seed ${seed}`, () => {
      const native = results(bootKernel({ cmdline: 'usertests', cpus: 2, schedule: { seed }, maxCycles: 4_000_000_000 }).output);
      expect(native.size).toBe(31);
      for (const mode of ['trap', 'bt', 'hvm'] as const) {
        const r = runImageInMode(mode, g.kernel, { initrd: g.initrd, cmdline: 'usertests', maxCycles: 8_000_000_000, vcpus: 2, smp: { seed } });
        expect(r.reason, mode).toBe('poweroff');
        const got = results(r.output);
        expect([...got.keys()], mode).toEqual([...native.keys()]);
        for (const [name, verdict] of native) {
          if (name === TIMED) continue;
          const want = mode === 'trap' && CRITICAL.includes(name) ? 'FAIL' : verdict;
          expect(`${mode} ${name} ${got.get(name)}`).toBe(`${mode} ${name} ${want}`);
        }
        process.stdout.write(`seed ${seed} ${mode}: smp-parallel ${got.get(TIMED)}\n`);
      }
    }, 600_000);
  }
});

describe('lock-holder preemption and its remedy (two vCPUs on one physical CPU)', () => {
  const g = guest();
  for (const mode of ['trap', 'bt', 'hvm'] as const) {
    it(`${mode}: spinning behind a descheduled holder is counted; with spinYield no slice is spun so (the cycles of both runs are printed, not judged)`, () => {
      const run = (spinYield: boolean) => {
        const b = runImageInMode(mode, g.kernel, { initrd: g.initrd, cmdline: 'usertests forkwait pipe smp-unmap', maxCycles: 0, vcpus: 2, smp: { seed: 1, pcpus: 1 } });
        const sym = (name: string) => g.kernel.symbols.find((x) => x.name === name)!;
        b.domain.spinWatch = { pcStart: sym('smp.spinAcquire').addr, pcEnd: sym('smp.spinAcquire').addr + sym('smp.spinAcquire').size, holderGpa: sym('smp.kernelLock').addr + 4 };
        b.domain.spinYield = spinYield;
        const r = b.hypervisor.run({ maxCycles: 4_000_000_000 });
        expect(b.domain.consoleOutput()).toContain('usertests: 3 passed, 0 failed\n');
        return { cycles: r.cycles, s: b.domain.spinStats };
      };
      const plain = run(false);
      const yielding = run(true);
      expect(plain.s.preemptedSlices).toBeGreaterThan(0);
      expect(plain.s.contendedSlices).toBe(0);
      expect(yielding.s.preemptedSlices).toBe(0);
      expect(yielding.s.yields).toBeGreaterThan(0);
      process.stdout.write(`${mode}: ${plain.cycles} cycles, ${plain.s.preemptedCycles} wasted in ${plain.s.preemptedSlices} slices; with spinYield ${yielding.cycles} cycles, ${yielding.s.yields} yields\n`);
    }, 600_000);
  }
});
