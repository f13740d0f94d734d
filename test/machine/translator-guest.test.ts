// The guest kernel under both engines (issue 15): the translator must agree exactly with the
// interpreter (cycles, instructions, console, how the run stopped) for the native kernel and for
// the guest code of each virtualization mode's domain. A cheap slice here (a short command, the
// translator translating nearly everything: threshold 2); usertests and lmbench in every mode in
// translator-guest.deep.test.ts.

import { describe, expect, it } from 'vitest';
import { bootNative } from '../../hypervisor/boot/native.ts';
import { runImageInMode } from '../../hypervisor/index.ts';
import type { VirtualizationMode } from '../../hypervisor/modes.ts';
import { Machine } from '../../machine/machine.ts';
import { withTranslatorLimits, type Engine } from '../../machine/translator.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';

export interface EngineRun {
  reason: string;
  cycles: number;
  instructions: number;
  output: string;
}

/** The standard guest booted with cmdline in `mode` ('native': the bare machine) under `engine`. */
export function runGuest(mode: 'native' | VirtualizationMode, engine: Engine, cmdline: string, threshold = 2): EngineRun {
  return withTranslatorLimits({ threshold }, () => {
    if (mode === 'native') {
      const g = buildGuestKernel({ arch: 'native' });
      const m = new Machine({ engine });
      bootNative(m, { kernel: g.kernel, initrd: g.initrd, cmdline });
      const r = m.run({ maxCycles: 20_000_000_000 });
      return { reason: r.reason, cycles: r.cycles, instructions: r.instructions, output: m.consoleOutput() };
    }
    const g = buildGuestKernel({ arch: mode === 'pv' ? 'pv' : 'native' });
    const r = runImageInMode(mode, g.kernel, { initrd: g.initrd, cmdline, engine, maxCycles: 20_000_000_000 });
    return { reason: r.reason, cycles: r.cycles, instructions: r.instructions, output: r.output };
  });
}

describe('the guest kernel under the translator agrees with the interpreter', () => {
  for (const mode of ['native', 'hvm'] as const) {
    it(`${mode}: echo hi, same cycles, instructions and console`, () => {
      const i = runGuest(mode, 'interpreter', 'echo hi');
      const t = runGuest(mode, 'translator', 'echo hi');
      expect(i.reason).toBe('poweroff');
      expect(i.output).toMatch(/^hi$/m);
      expect(t).toEqual(i);
    });
  }
});
