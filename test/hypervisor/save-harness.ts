// The standard guest booted in one of the modes, with what save/restore tests need of it: the root
// of its state, a way to run it on, its clock and its console. A fresh one is also a restore's
// template. Test helper (not a test file).
import type { Engine } from '../../machine/translator.ts';
import { Machine } from '../../machine/machine.ts';
import { bootNative } from '../../hypervisor/boot/native.ts';
import { runImageInMode } from '../../hypervisor/index.ts';
import type { SaveMode } from '../../hypervisor/save/format.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { CONSOLE_EOF } from '../../cli/image-files.ts';

/** The modes, with hvm's two translations. */
export const VARIANTS = ['native', 'pv', 'trap', 'bt', 'hvm-shadow', 'hvm-ept'] as const;
/** The shadow-paging modes with the caching shadow (`--shadow traced`: a shadow per address space, kept in the graph). */
export const TRACED_VARIANTS = ['trap-traced', 'bt-traced', 'hvm-traced'] as const;
export type Variant = (typeof VARIANTS)[number] | (typeof TRACED_VARIANTS)[number];

export interface BootedGuest {
  mode: SaveMode;
  root: object;
  /** run up to maxCycles more cycles; true once the guest has stopped for good */
  run(maxCycles: number): boolean;
  cycles(): number;
  /** every CPU's clock (native with several CPUs: one each; under a hypervisor: its one CPU's) */
  clocks(): number[];
  instructions(): number;
  output(): string;
}

/** Boot the standard guest in `variant` with `input` typed on its console, then end of input (4 MiB: small files, quick saves), on `cpus` CPUs (vCPUs; seed 1), on `engine` (a domain's only; default the process's). Not run yet. */
export function bootGuest(variant: Variant, input: string, memoryBytes = 4 << 20, cpus = 1, engine?: Engine): BootedGuest {
  const arch = variant === 'pv' ? 'pv' : 'native';
  const build = buildGuestKernel({ arch });
  const typed = `${input}\n${CONSOLE_EOF}`;
  if (variant === 'native') {
    const m = new Machine({ memoryBytes, input: typed, ...(cpus > 1 ? { cpus } : {}) });
    bootNative(m, { kernel: build.kernel, initrd: build.initrd });
    return {
      mode: 'native',
      root: m,
      run: (maxCycles) => {
        const r = m.run({ maxCycles });
        return r.reason !== 'limit' && r.reason !== 'stopped';
      },
      cycles: () => m.cpu.cycles,
      clocks: () => m.cpus.map((c) => c.cycles),
      instructions: () => m.cpus.reduce((n, c) => n + c.instructions, 0),
      output: () => m.consoleOutput(),
    };
  }
  const mode = variant.startsWith('hvm') ? 'hvm' : (variant.replace('-traced', '') as 'pv' | 'trap' | 'bt');
  const opts: Parameters<typeof runImageInMode>[2] = { memoryBytes, input: typed, initrd: build.initrd, maxCycles: 0, ...(cpus > 1 ? { vcpus: cpus } : {}), ...(engine !== undefined ? { engine } : {}) };
  if (variant === 'hvm-shadow') opts.hvm = { mmu: 'shadow' };
  if (variant === 'hvm-ept') opts.hvm = { mmu: 'ept' };
  if (variant === 'hvm-traced') opts.hvm = { mmu: 'shadow', shadow: 'traced' };
  if (variant === 'trap-traced') opts.trap = { shadow: 'traced' };
  if (variant === 'bt-traced') opts.bt = { shadow: 'traced' };
  const { hypervisor: hv, domain } = runImageInMode(mode, build.kernel, opts);
  return {
    mode,
    root: hv,
    run: (maxCycles) => {
      const r = hv.run({ maxCycles });
      return r.reason === 'all-stopped' || r.reason === 'deadlock';
    },
    cycles: () => hv.cpu.cycles,
    clocks: () => [hv.cpu.cycles],
    instructions: () => hv.cpu.instructions,
    output: () => domain.consoleOutput(),
  };
}

/** Run to the end (the guest powers off after its input). */
export function runToEnd(g: BootedGuest): void {
  if (!g.run(2_000_000_000)) throw new Error('the guest did not stop within 2e9 cycles');
}
