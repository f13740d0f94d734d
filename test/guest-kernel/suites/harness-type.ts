// What the kernel's guest test suites (shell, syscalls) need of a harness: the native one
// (test/guest-kernel/harness.ts) and the pv one (test/hypervisor/pv-harness.ts) both provide it.
import type { GuestKernelBuild } from '../../../toolchain/guest-kernel.ts';

/** One boot of the kernel: its console output and how it ended. */
export interface SuiteRun {
  output: string;
  result: { reason: string; status: number };
}

export interface KernelHarness {
  bootKernel: (opts?: { cmdline?: string; input?: string; maxCycles?: number; memoryMiB?: number; disk?: Uint8Array }) => SuiteRun;
  guest: () => GuestKernelBuild;
}
