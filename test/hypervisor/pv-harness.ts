// Test helper: boot the xenolith kernel built with --arch pv (cached like the native build) as
// a PV domain on a fresh hypervisor, with a command line, console input and an optional disk, and
// return what it printed in the shape of the native harness (test/guest-kernel/harness.ts).
import type { Hypervisor, HypervisorRunResult } from '../../hypervisor/core/hypervisor.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import type { PvMode } from '../../hypervisor/pv/mode.ts';
import { createPvSystem, type PvSystemOptions } from '../../hypervisor/pv/system.ts';
import { smpHypervisorOptions } from '../../hypervisor/run.ts';
import { consoleWriter } from '../../cli/console.ts';
import { buildGuestKernel, type GuestKernelBuild } from '../../toolchain/guest-kernel.ts';

export interface PvBootRun {
  output: string;
  /** the native harness's RunResult fields the suites look at */
  result: { reason: string; status: number; cycles: number; detail?: string };
  hv: Hypervisor;
  mode: PvMode;
  domain: Domain;
  build: GuestKernelBuild;
  run: HypervisorRunResult;
}

export function pvGuest(): GuestKernelBuild {
  return buildGuestKernel({ arch: 'pv' });
}

/** Boot the PV kernel as the first domain of a machine with room for it; run until it stops. */
export function bootPvKernel(opts: { cmdline?: string; input?: string; maxCycles?: number; memoryMiB?: number; disk?: Uint8Array; profile?: string; vcpus?: number; seed?: number; quantumCycles?: number; pcpus?: number; setup?: (s: { hv: Hypervisor; mode: PvMode; domain: Domain }) => void } = {}): PvBootRun {
  const build = pvGuest();
  const sys: PvSystemOptions = { kernel: build.kernel, initrd: build.initrd, memoryBytes: (opts.memoryMiB ?? 32) * 1024 * 1024 };
  if (opts.cmdline !== undefined) sys.cmdline = opts.cmdline;
  if (opts.input !== undefined) sys.input = opts.input;
  if (opts.disk !== undefined) sys.disk = opts.disk;
  if (opts.profile !== undefined) sys.profile = opts.profile;
  if ((opts.vcpus ?? 1) > 1) {
    sys.vcpus = opts.vcpus!;
    const smp: { seed?: number; quantumCycles?: number; pcpus?: number } = {};
    if (opts.seed !== undefined) smp.seed = opts.seed;
    if (opts.quantumCycles !== undefined) smp.quantumCycles = opts.quantumCycles;
    if (opts.pcpus !== undefined) smp.pcpus = opts.pcpus;
    Object.assign(sys, smpHypervisorOptions(opts.vcpus!, smp));
  }
  const { hv, mode, domain } = createPvSystem(sys);
  opts.setup?.({ hv, mode, domain });
  const run = hv.run({ maxCycles: opts.maxCycles ?? 2_000_000_000 });
  const reason = domain.stopReason === 'poweroff' ? 'poweroff' : (domain.stopReason ?? run.reason);
  const result: PvBootRun['result'] = { reason, status: domain.stopStatus, cycles: run.cycles };
  if (domain.stopDetail) result.detail = domain.stopDetail;
  return { output: symbolizeConsole(domain.consoleOutput(), build), result, hv, mode, domain, build, run };
}

/**
 * The console as `xenolith run` shows it: a kernel panic's backtrace and a killed program's
 * symbolized (the guest-kernel harness's symbolizeConsole; not imported from it, since
 * pv-kernel-suite.test.ts replaces that module with this one's functions).
 */
function symbolizeConsole(text: string, build: GuestKernelBuild): string {
  const out: Buffer[] = [];
  const write = consoleWriter(() => build.kernel.symbols, (b) => out.push(b), { kernelNotes: () => build.kernel.notes, programs: () => build.userImages });
  for (const b of Buffer.from(text, 'latin1')) write(b);
  return Buffer.concat(out).toString('latin1');
}
