// What bench/bt-exits.ts and bench/bt-chains.ts share: their command line (WARM boots before the
// ones they count, TOP rows listed, the kernel's command line, `lmbench all` by default) and a
// boot of the native kernel in a bt domain under the translator engine, at kernel-steady's
// KS_UNIT_HEAT, to power-off with status 0, every boot's simulated figures checked equal to the
// first's.
import { runImageInMode } from '../hypervisor/index.ts';
import { withTranslatorLimits } from '../machine/translator.ts';
import { buildGuestKernel, type GuestKernelBuild } from '../toolchain/guest-kernel.ts';
import { lmbenchCmdline } from './compare.ts';
import { unitHeatLimits } from './timing.ts';

/** The arguments after the script: [WARM] [TOP] [CMDLINE]; a usage line and exit 2 when WARM < minWarm or TOP < 1. */
export function btBenchArgs(usage: string, topDefault: number, minWarm: number): { warm: number; top: number; cmdline: string } {
  const warm = Number(process.argv[2] ?? 4);
  const top = Number(process.argv[3] ?? topDefault);
  const cmdline = process.argv[4] ?? lmbenchCmdline(0);
  if (!(warm >= minWarm) || !(top >= 1)) {
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }
  return { warm, top, cmdline };
}

/** The kernel build, and a boot of it running `cmdline` in a bt domain (checked as above). */
export function btBooter(cmdline: string): { build: GuestKernelBuild; boot: () => ReturnType<typeof runImageInMode> } {
  const build = buildGuestKernel({ arch: 'native' });
  const limits = unitHeatLimits();
  let first: { cycles: number; instructions: number } | null = null;
  const boot = (): ReturnType<typeof runImageInMode> => {
    const r = withTranslatorLimits(limits, () => runImageInMode('bt', build.kernel, { initrd: build.initrd, cmdline, engine: 'translator', maxCycles: Number.MAX_SAFE_INTEGER }));
    if (r.reason !== 'poweroff' || r.status !== 0) throw new Error(`${cmdline} stopped with ${r.reason} (status ${r.status})`);
    first ??= { cycles: r.cycles, instructions: r.instructions };
    if (r.cycles !== first.cycles || r.instructions !== first.instructions) throw new Error('the boots differ in simulated figures');
    return r;
  };
  return { build, boot };
}
