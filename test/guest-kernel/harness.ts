// Test helper: build the standard guest kernel + initrd (cached across runs), boot it on a bare
// XL32 machine with a command line and console input, and return what it printed.
import { Machine, type RunResult, type SmpSchedule } from '../../machine/machine.ts';
import { bootNative } from '../../hypervisor/boot/native.ts';
import { consoleWriter } from '../../cli/console.ts';
import { buildGuestKernel, type GuestKernelBuild } from '../../toolchain/guest-kernel.ts';

export interface BootRun {
  output: string;
  result: RunResult;
  machine: Machine;
  build: GuestKernelBuild;
}

export function guest(): GuestKernelBuild {
  return buildGuestKernel({ arch: 'native' });
}

/** Boot the kernel; run until power-off (or maxCycles). */
export function bootKernel(opts: { cmdline?: string; input?: string; maxCycles?: number; memoryMiB?: number; disk?: Uint8Array; cpus?: number; schedule?: SmpSchedule } = {}): BootRun {
  const build = guest();
  const machine = new Machine({ memoryBytes: (opts.memoryMiB ?? 32) * 1024 * 1024, input: opts.input, disk: opts.disk, cpus: opts.cpus, schedule: opts.schedule });
  bootNative(machine, { kernel: build.kernel, initrd: build.initrd, cmdline: opts.cmdline });
  const result = machine.run({ maxCycles: opts.maxCycles ?? 2_000_000_000 });
  return { output: symbolizeConsole(machine.consoleOutput(), build), result, machine, build };
}

/** The console as `xenolith run` shows it: backtraces (a kernel panic's, a killed program's) symbolized. */
export function symbolizeConsole(text: string, build: GuestKernelBuild): string {
  const out: Buffer[] = [];
  const write = consoleWriter(() => build.kernel.symbols, (b) => out.push(b), { kernelNotes: () => build.kernel.notes, programs: () => build.userImages });
  for (const b of Buffer.from(text, 'latin1')) write(b);
  return Buffer.concat(out).toString('latin1');
}

/** The console lines after the kernel's boot messages (from the first line a user program wrote). */
export function lines(output: string): string[] {
  return output.split('\n');
}
