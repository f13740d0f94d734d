// The kernel's own guest test suites, run unchanged against the kernel built with --arch pv and
// booted as a PV domain: the native harness's bootKernel is replaced by the PV one, so every
// transcript the native kernel is held to, the PV kernel is held to as well.
import { vi } from 'vitest';

vi.mock('../guest-kernel/harness.ts', async (importOriginal) => {
  const native = await importOriginal<typeof import('../guest-kernel/harness.ts')>();
  const pv = await import('./pv-harness.ts');
  return { ...native, bootKernel: pv.bootPvKernel, guest: pv.pvGuest };
});

await import('../guest-kernel/shell.test.ts');
await import('../guest-kernel/syscalls.test.ts');
