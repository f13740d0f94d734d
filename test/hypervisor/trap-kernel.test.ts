// The unmodified native guest kernel (guest-kernel/, arch native) booted in a trap-and-emulate
// domain with its initrd: its test suite passes except the probes of the critical instructions
// (which trap-and-emulate cannot catch), and every console transcript matches the bare machine's,
// except the cycle counts the benchmark programs print (timing, which equivalence allows). Its
// ordinary use of PUSHF/POPF (irqSave/irqRestore) is harmless: the kernel saves with interrupts
// already off, so the lost IF change restores what was.
import { describe, expect, it } from 'vitest';
import { runTrapMode } from '../../hypervisor/trap/index.ts';
import { Op } from '../../machine/isa.ts';
import { buildNativeKernel, nativeAndUnder, shellAndDiskTests, untimed } from './fixtures/native-kernel.ts';

buildNativeKernel();

describe('the native kernel under trap mode', () => {
  it('boots and runs its test suite: every test passes except the critical-instruction probes, which fail as documented', () => {
    const { native, nativeStatus, guest: trap } = nativeAndUnder(runTrapMode, { cmdline: 'usertests' });
    expect(nativeStatus).toBe(0);
    expect(native).toMatch(/^usertests: (\d+) passed, 0 failed$/m);
    expect(trap.reason).toBe('poweroff');
    // RDCPL shows ring 1; PUSHF shows IF = 1 inside irqSave's CLI; POPF's restore is lost, so no
    // tick arrives; SIDT shows the hypervisor's table (docs/hypervisor.md, the critical instructions)
    const failing = trap.output.split('\n').filter((l) => l.startsWith('FAIL'));
    expect(failing).toEqual([
      'FAIL critical-rdcpl: observed (got 1)',
      'FAIL critical-pushf: observed (got 1)',
      'FAIL critical-popf: observed (got 0)',
      'FAIL critical-sidt: observed (got 0)',
    ]);
    expect(trap.status).toBe(failing.length);
    // everything else is the bare machine's transcript, line for line
    const rest = (text: string) =>
      text
        .replace(/^(PASS|FAIL) (critical-[a-z]+).*$/gm, '$2')
        .replace(/^usertests: \d+ passed, \d+ failed$/m, 'usertests: (summary)')
        .replace(/^init exited with status \d+/m, 'init exited');
    expect(rest(trap.output)).toBe(rest(native));
    const s = trap.domain.stats;
    // it really was trapped and emulated: every kind of exit happened
    expect(s.traps[13]).toBeGreaterThan(0); // privileged instructions
    expect(s.traps[14]).toBeGreaterThan(0); // shadow faults
    expect(s.traps[0x80]).toBeGreaterThan(0); // system calls
    expect(s.hiddenFaults).toBeGreaterThan(s.trueFaults);
    expect(s.trueFaults).toBeGreaterThan(0); // demand-zero, COW, the user fault test
    expect(s.injectedInterrupts).toBeGreaterThan(0);
    expect(s.emulated[Op.MOVTOCR]).toBeGreaterThan(0);
    expect(s.emulated[Op.INVLPG]).toBeGreaterThan(0);
    expect(s.emulated[Op.IRET]).toBeGreaterThan(0);
    expect(s.loopExits.hlt).toBeGreaterThan(0);
  });

  shellAndDiskTests(runTrapMode);

  it('kills a faulting user program and preempts a spinning one with the same transcript', () => {
    const kinds = ['null-read', 'null-write', 'text-write', 'kernel-read', 'kernel-write', 'divide', 'privileged', 'undefined', 'breakpoint'];
    const { native, guest: trap } = nativeAndUnder(runTrapMode, { input: `${kinds.map((k) => `crash ${k}\n`).join('')}spin 3\nexit\n` });
    expect(trap.output).toBe(native);
    expect(trap.output).toMatch(/page fault at 0x00000004 \(write, not present\), pc 0x[0-9a-f]{8}: killed/);
    expect(trap.output).toContain('spin: done');
  });

  it('runs the benchmark programs: the same lines, slower cycle figures', () => {
    for (const cmdline of ['lmbench all 3', 'nanobench 20']) {
      const { native, guest: trap } = nativeAndUnder(runTrapMode, { cmdline });
      expect(untimed(trap.output)).toBe(untimed(native));
      expect(trap.output).not.toBe(native);
    }
  });
});
