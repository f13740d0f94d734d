// Slicing a run of several vCPUs does not change it (the quick test, pv's two vCPUs: slicing.test.ts):
// trap, bt and hvm (shadow paging and second stage) with two vCPUs on two physical CPUs, cut into
// slices of 997 cycles, and pv's with one-cycle slices over a stretch of its two vCPUs' run, and
// trap, bt and hvm co-scheduled (--cosched) in slices of 997 cycles; the same console output, cycles, instructions, idle cycles and cost ledger as the run in one go.
import { describe, expect, it } from 'vitest';
import { bootGuest, type Variant } from './save-harness.ts';
import { ORACLE_INPUT } from './save-oracle.ts';
import { standardGuest } from '../../cli/guest.ts';
import { runImageInMode } from '../../hypervisor/index.ts';
import { CONSOLE_EOF } from '../../cli/image-files.ts';

function run(v: Variant, slice: (sofar: number) => number) {
  const g = bootGuest(v, ORACLE_INPUT, 4 << 20, 2);
  const hv = g.root as { cpu: { evCount: Float64Array; baseCycles: number }; idleCycles: number };
  while (!g.run(slice(g.cycles())));
  return { output: g.output(), cycles: g.cycles(), instructions: g.instructions(), idle: hv.idleCycles, ledger: [...hv.cpu.evCount], base: hv.cpu.baseCycles };
}

describe('slicing a run of two vCPUs does not change it', () => {
  for (const v of ['trap', 'bt', 'hvm-shadow', 'hvm-ept'] as const) {
    it(`${v}, two vCPUs: in slices of 997 cycles as in one go`, () => {
      const whole = run(v, () => 2_000_000_000);
      expect(whole.output).toContain('$ echo saved\nsaved\n');
      expect(run(v, () => 997)).toEqual(whole);
    });
  }
  it('pv, two vCPUs: in one-cycle slices while both run, 997 cycles elsewhere, as in one go', () => {
    const whole = run('pv', () => 2_000_000_000);
    expect(run('pv', (c) => (c >= 580_000 && c < 700_000 ? 1 : 997))).toEqual(whole);
  });
  // co-scheduling (Hypervisor.runGang; a cut inside a turn: slicing.test.ts)
  for (const mode of ['trap', 'bt', 'hvm'] as const) {
    it(`${mode} co-scheduled (--cosched), two vCPUs: in slices of 997 cycles as in one go`, () => {
      const gang = (slice: (sofar: number) => number) => {
        const guest = standardGuest('native');
        const { hypervisor: hv, domain: d } = runImageInMode(mode, guest.kernel, { memoryBytes: 4 << 20, maxCycles: 0, input: `${ORACLE_INPUT}\n${CONSOLE_EOF}`, initrd: guest.initrd, vcpus: 2, smp: { cosched: true } });
        let cycles = 0;
        for (;;) {
          const r = hv.run({ maxCycles: slice(cycles) });
          cycles += r.cycles;
          if (r.reason !== 'limit') break;
        }
        return { output: d.consoleOutput(), cycles, instructions: hv.cpu.instructions, idle: hv.idleCycles, ledger: [...hv.cpu.evCount], gang: { ...hv.gang } };
      };
      // typed as bootGuest types it: the line, then the end of input, so the shell exits and the run ends
      const whole = gang(() => 2_000_000_000);
      expect(whole.output).toContain('$ echo saved\nsaved\n');
      expect(whole.gang.slices).toBeGreaterThan(0);
      expect(gang(() => 997)).toEqual(whole);
    });
  }
});
