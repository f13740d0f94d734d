// The unmodified native guest kernel (guest-kernel/, arch native) booted in an hvm domain with its
// initrd: its whole test suite passes - the four critical-instruction probes included, since
// PUSHF, POPF, RDCPL and SIDT behave natively in non-root mode - and every console transcript is
// the bare machine's, byte for byte, except the cycle figures the benchmark programs print.
import { beforeAll, describe, expect, it } from 'vitest';
import { bootNative } from '../../hypervisor/boot/native.ts';
import { runHvmMode } from '../../hypervisor/hvm/index.ts';
import type { GuestRunResult } from '../../hypervisor/run.ts';
import { Machine } from '../../machine/machine.ts';
import { Exit } from '../../machine/types.ts';
import { buildGuestKernel, type GuestKernelBuild } from '../../toolchain/guest-kernel.ts';

let build: GuestKernelBuild;

beforeAll(() => {
  build = buildGuestKernel({ arch: 'native' });
});

function disk(): Uint8Array {
  const d = new Uint8Array(64 * 512);
  for (let k = 0; k < d.length; k++) d[k] = k & 0xff;
  new TextEncoder().encodeInto('hello from sector one', d.subarray(512));
  return d;
}

function runBoth(opts: { cmdline?: string; input?: string; disk?: boolean }): { native: string; nativeStatus: number; hvm: GuestRunResult } {
  const m = new Machine({ input: opts.input, disk: opts.disk ? disk() : undefined });
  bootNative(m, { kernel: build.kernel, initrd: build.initrd, cmdline: opts.cmdline });
  const n = m.run({ maxCycles: 4_000_000_000 });
  const hvm = runHvmMode(
    { kernel: build.kernel, initrd: build.initrd, ...(opts.cmdline !== undefined ? { cmdline: opts.cmdline } : {}) },
    { maxCycles: 8_000_000_000, ...(opts.input !== undefined ? { input: opts.input } : {}), ...(opts.disk ? { disk: disk() } : {}) },
  );
  return { native: m.consoleOutput(), nativeStatus: n.status, hvm };
}

/** Cycle figures the benchmark programs print, blanked. */
function untimed(text: string): string {
  return text.replace(/\d+ cycles\/op/g, 'N cycles/op');
}

describe('the native kernel under hvm mode', () => {
  it('passes its whole test suite, the critical-instruction probes included, with the bare machine transcript', () => {
    const { native, nativeStatus, hvm } = runBoth({ cmdline: 'usertests' });
    expect(nativeStatus).toBe(0);
    expect(native).toMatch(/^usertests: (\d+) passed, 0 failed$/m);
    expect([hvm.reason, hvm.status]).toEqual(['poweroff', 0]);
    expect(hvm.output).toBe(native);
    for (const probe of ['critical-rdcpl', 'critical-pushf', 'critical-popf', 'critical-sidt']) {
      expect(hvm.output).toMatch(new RegExp(`^PASS ${probe}`, 'm'));
    }
    const s = hvm.domain.stats;
    // it really ran in non-root mode: I/O, HLT and interrupt injection went through the monitor;
    // nothing trapped, nothing was shadowed, no CR access or INVLPG exited
    expect(s.cpuExits[Exit.Io]).toBe(s.ioExits);
    expect(s.ioExits).toBeGreaterThan(0);
    expect(s.loopExits.hlt).toBeGreaterThan(0);
    expect(s.injectedInterrupts).toBeGreaterThan(0);
    expect(s.cpuExits[Exit.InterruptWindow]).toBeGreaterThan(0); // the critical-popf probe's tick
    expect(s.cpuExits[Exit.Cpuid]).toBeGreaterThan(0); // the kernel asks for the clock
    expect([s.cpuExits[Exit.CrAccess], s.cpuExits[Exit.Invlpg], s.cpuExits[Exit.Exception], s.cpuExits[Exit.EptViolation]]).toEqual([0, 0, 0, 0]);
    expect(s.traps.reduce((a, b) => a + b, 0)).toBe(0);
    expect([s.hiddenFaults, s.trueFaults]).toEqual([0, 0]);
  });

  it('runs the shell, pipelines and ps with the same transcript', () => {
    const { native, hvm } = runBoth({ input: 'echo hello world\nps\necho a b | cat\necho one | cat | cat\nexit 3\n' });
    expect(hvm.output).toBe(native);
    expect(hvm.status).toBe(3);
  });

  it('drives the block device through the device model (DMA through the p2m) with the same transcript', () => {
    const { native, hvm } = runBoth({ input: 'disk\ndisk read 1\ndisk write 2 written by the guest\ndisk read 2\ndisk read 64\nexit\n', disk: true });
    expect(hvm.output).toBe(native);
    expect(hvm.output).toContain('hello from sector one');
    expect(hvm.domain.devices!.block.reads).toBeGreaterThan(0);
    expect(hvm.domain.devices!.block.writes).toBeGreaterThan(0);
  });

  it('kills a faulting user program and preempts a spinning one with the same transcript', () => {
    const kinds = ['null-read', 'null-write', 'text-write', 'kernel-read', 'kernel-write', 'divide', 'privileged', 'undefined', 'breakpoint'];
    const { native, hvm } = runBoth({ input: `${kinds.map((k) => `crash ${k}\n`).join('')}spin 3\nexit\n` });
    expect(hvm.output).toBe(native);
    expect(hvm.output).toContain('spin: done');
  });

  it('runs the benchmark programs: the same lines, other cycle figures', () => {
    for (const cmdline of ['lmbench all 3', 'nanobench 20']) {
      const { native, hvm } = runBoth({ cmdline });
      expect(untimed(hvm.output)).toBe(untimed(native));
      expect(hvm.output).not.toBe(native);
    }
  });
});
