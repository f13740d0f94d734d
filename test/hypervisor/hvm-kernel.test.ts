// The unmodified native guest kernel (guest-kernel/, arch native) booted in an hvm domain with its
// initrd: its whole test suite passes - the four critical-instruction probes included, since
// PUSHF, POPF, RDCPL and SIDT behave natively in non-root mode - and every console transcript is
// the bare machine's, byte for byte, except the cycle figures the benchmark programs print.
import { describe, expect, it } from 'vitest';
import { runHvmMode } from '../../hypervisor/hvm/index.ts';
import { Exit } from '../../machine/types.ts';
import { buildNativeKernel, nativeAndUnder, shellAndDiskTests, untimed, type ModeRunner } from './fixtures/native-kernel.ts';

buildNativeKernel();

describe('the native kernel under hvm mode', () => {
  const withEpt: ModeRunner = (boot, opts = {}) => runHvmMode(boot, { ...opts, hvm: { mmu: 'ept' } });

  it('passes its whole test suite with a second stage, the critical-instruction probes included, with the bare machine transcript', () => {
    const { native, nativeStatus, guest: hvm } = nativeAndUnder(withEpt, { cmdline: 'usertests' });
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

  it('passes its whole test suite on shadow page tables (first-generation VT-x), with the bare machine transcript', () => {
    const { native, guest: hvm } = nativeAndUnder(runHvmMode, { cmdline: 'usertests' });
    expect([hvm.reason, hvm.status]).toEqual(['poweroff', 0]);
    expect(hvm.output).toBe(native);
    const s = hvm.domain.stats;
    // the MMU's events reach the monitor: every page fault (hidden or true), every CR3 load and
    // store and CR0 write, every INVLPG; nothing else changed
    expect(s.cpuExits[Exit.Exception]).toBe(s.hiddenFaults + s.trueFaults);
    expect(s.hiddenFaults).toBeGreaterThan(s.trueFaults);
    expect(s.trueFaults).toBeGreaterThan(0); // the kernel's own demand faults and the crash probes
    expect(s.reflected[14]).toBe(s.trueFaults);
    expect(s.cpuExits[Exit.Invlpg]).toBe(s.shadowInvlpgs);
    expect(s.cpuExits[Exit.CrAccess]).toBeGreaterThanOrEqual(s.shadowFlushes);
    expect(s.shadowFlushes).toBeGreaterThan(0);
    expect(s.cpuExits[Exit.EptViolation]).toBe(0);
    expect(s.traps.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('passes its whole test suite on the traced shadow (a shadow per address space), with the bare machine transcript', () => {
    const traced: ModeRunner = (boot, opts = {}) => runHvmMode(boot, { ...opts, hvm: { mmu: 'shadow', shadow: 'traced' } });
    const { native, guest: hvm } = nativeAndUnder(traced, { cmdline: 'usertests' });
    expect([hvm.reason, hvm.status]).toEqual(['poweroff', 0]);
    expect(hvm.output).toBe(native);
    const s = hvm.domain.stats;
    // every CR3 load switches shadows (one CR0 write, paging on, drops them all); trace faults are
    // page-fault exits resumed as hidden faults; the shadows never ran out of frames
    expect(s.cpuExits[Exit.Exception]).toBe(s.hiddenFaults + s.trueFaults);
    expect(s.reflected[14]).toBe(s.trueFaults);
    expect(s.shadowFlushes).toBe(1);
    expect(s.shadowSpaceHits).toBeGreaterThan(s.shadowSpaceMisses);
    expect(s.shadowSpaceMisses).toBeGreaterThan(0);
    expect(s.cpuExits[Exit.CrAccess]).toBeGreaterThanOrEqual(s.shadowSpaceHits + s.shadowSpaceMisses + s.shadowFlushes);
    expect(s.traceFaults).toBeGreaterThan(0);
    expect(s.traceFaults).toBeLessThan(s.hiddenFaults);
    expect(s.shadowRecycles).toBe(0);
  });

  shellAndDiskTests(runHvmMode);

  it('kills a faulting user program and preempts a spinning one with the same transcript', () => {
    const kinds = ['null-read', 'null-write', 'text-write', 'kernel-read', 'kernel-write', 'divide', 'privileged', 'undefined', 'breakpoint'];
    const { native, guest: hvm } = nativeAndUnder(runHvmMode, { input: `${kinds.map((k) => `crash ${k}\n`).join('')}spin 3\nexit\n` });
    expect(hvm.output).toBe(native);
    expect(hvm.output).toContain('spin: done');
  });

  it('runs the benchmark programs: the same lines, other cycle figures', () => {
    for (const cmdline of ['lmbench all 3', 'nanobench 20']) {
      const { native, guest: hvm } = nativeAndUnder(runHvmMode, { cmdline });
      expect(untimed(hvm.output)).toBe(untimed(native));
      expect(hvm.output).not.toBe(native);
    }
  });
});
