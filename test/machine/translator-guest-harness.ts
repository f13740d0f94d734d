// The standard guest booted under a given engine and mode, for the translator's differential
// tests (translator-guest.test.ts and its deep suite).

import { bootNative } from '../../hypervisor/boot/native.ts';
import { runImageInMode } from '../../hypervisor/index.ts';
import type { VirtualizationMode } from '../../hypervisor/modes.ts';
import { Machine } from '../../machine/machine.ts';
import { withTranslatorLimits, type Engine, type Translator, type TranslatorLimits } from '../../machine/translator.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';

export interface EngineRun {
  reason: string;
  cycles: number;
  instructions: number;
  output: string;
}

/** The standard guest booted with cmdline in `mode` ('native': the bare machine) under `engine`; `seen` gets the CPU's translator after the run (null under the interpreter). */
export function runGuest(mode: 'native' | VirtualizationMode, engine: Engine, cmdline: string, limits: Partial<TranslatorLimits> = { threshold: 2, coldSlice: 0 }, seen?: (tx: Translator | null) => void): EngineRun {
  return withTranslatorLimits(limits, () => {
    if (mode === 'native') {
      const g = buildGuestKernel({ arch: 'native' });
      const m = new Machine({ engine });
      bootNative(m, { kernel: g.kernel, initrd: g.initrd, cmdline });
      const r = m.run({ maxCycles: 20_000_000_000 });
      seen?.(m.cpu.translator);
      return { reason: r.reason, cycles: r.cycles, instructions: r.instructions, output: m.consoleOutput() };
    }
    const g = buildGuestKernel({ arch: mode === 'pv' ? 'pv' : 'native' });
    const r = runImageInMode(mode, g.kernel, { initrd: g.initrd, cmdline, engine, maxCycles: 20_000_000_000 });
    seen?.(r.hypervisor.cpu.translator);
    return { reason: r.reason, cycles: r.cycles, instructions: r.instructions, output: r.output };
  });
}

