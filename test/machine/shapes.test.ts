// The hidden classes of the objects compiled code reads stay what they were when the objects were
// built (machine/shapes.ts): a number field that comes to hold a double during a run is a double
// from the start. V8 gives an object built after a run the widened class and leaves one built
// before it, untouched since, with the old one, so the two differ exactly when a run widened a
// field. Each object here is read by the bt unit loop or by compiled code, and is widened by this
// boot without doubleFields (each one seen failing so). (A widening after functions are optimized
// throws them away: every chain of bt's second boot was compiled again. The trap virtual CPU's
// state, the translator's counters and the bt cache's host counters widened too in longer boots
// traced with --trace-generalization, but not in this one, so they are not listed here.)
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../machine/machine.ts';
import { Vmcs } from '../../machine/vmx.ts';
import { runImageInMode } from '../../hypervisor/index.ts';
import { DomainStats } from '../../hypervisor/core/stats.ts';
import { VcpuExit, resetCpuState } from '../../hypervisor/core/vcpu.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { TranslationUnit } from '../../hypervisor/bt/cache.ts';
import { doubleFields } from '../../machine/shapes.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { lmbenchCmdline } from '../../bench/compare.ts';

v8.setFlagsFromString('--allow-natives-syntax');
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

/** One object of each class (or literal) whose hidden class the run must keep. */
function build(): Record<string, object> {
  const machine = new Machine({ memoryBytes: 1 << 20 });
  const one = new Uint8Array(1);
  return {
    cpu: machine.cpu,
    timer: machine.timer,
    'domain stats': new DomainStats(),
    'vCPU exit': new VcpuExit(),
    'saved CPU state': resetCpuState(),
    scheduler: new RoundRobinScheduler(),
    'bt unit': new TranslationUnit(0, 0, new Int32Array(1), new Uint16Array(1), one, one),
  };
}

describe('hidden classes kept through a run (machine/shapes.ts)', () => {
  it('objects built before a bt boot of the kernel have the class of those built after it', () => {
    const before = build();
    const k = buildGuestKernel({ arch: 'native' });
    const r = runImageInMode('bt', k.kernel, { initrd: k.initrd, cmdline: lmbenchCmdline(1), engine: 'translator', maxCycles: Number.MAX_SAFE_INTEGER });
    expect(r.reason).toBe('poweroff');
    const after = build();
    const widened = Object.keys(before).filter((name) => !sameMap(before[name]!, after[name]!));
    expect(widened).toEqual([]);
  });

  it('and through an hvm boot: the CPU and the VMCS, whose exit qualification holds 32-bit addresses', () => {
    const before = { cpu: new Machine({ memoryBytes: 1 << 20 }).cpu, vmcs: new Vmcs() };
    const k = buildGuestKernel({ arch: 'native' });
    const r = runImageInMode('hvm', k.kernel, { initrd: k.initrd, cmdline: lmbenchCmdline(1), engine: 'translator', maxCycles: Number.MAX_SAFE_INTEGER });
    expect(r.reason).toBe('poweroff');
    const after = { cpu: new Machine({ memoryBytes: 1 << 20 }).cpu, vmcs: new Vmcs() };
    expect(sameMap(before.cpu, after.cpu)).toBe(true);
    expect(sameMap(before.vmcs, after.vmcs)).toBe(true);
  });

  it('doubleFields keeps the values and refuses a name that is not a number field', () => {
    const o = { a: 7, b: -3, s: 'x' };
    doubleFields(o, ['a', 'b']);
    expect(o).toEqual({ a: 7, b: -3, s: 'x' });
    expect(Object.is(o.a, 7)).toBe(true);
    expect(() => doubleFields(o, ['s'])).toThrow('doubleFields: s is not a number field of Object');
    expect(() => doubleFields(o, ['c'])).toThrow('doubleFields: c is not a number field of Object');
  });
});
