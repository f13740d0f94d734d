// Co-scheduling (HypervisorOptions.cosched) and the remedies row (bench/smp.ts): the mechanisms,
// never which remedy wins. Under co-scheduling a domain's vCPUs run only together, so the spin
// watch never sees a spinner whose holder is descheduled - spin wasted is 0 by construction - while
// the gang slices and the physical-CPU time held from the other domain are counted. Under
// --spin-yield on one physical CPU, the slices given up are counted.

import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { runSmpCase } from '../../bench/smp.ts';
import { ScriptMode } from './core-harness.ts';

const MiB = 1024 * 1024;

describe('co-scheduling: the checks', () => {
  it('needs two physical CPUs or more, whole-cycle slices, and a physical CPU for each vCPU of a domain', () => {
    expect(() => new Hypervisor({ memoryBytes: 4 * MiB, cosched: { sliceCycles: 1000, quantumCycles: 100 } })).toThrow("cosched: co-scheduling runs a domain's vCPUs together on several physical CPUs; it needs pcpus of 2 or more");
    expect(() => new Hypervisor({ memoryBytes: 4 * MiB, pcpus: 2, cosched: { sliceCycles: 0, quantumCycles: 100 } })).toThrow('cosched: the slice and the quantum must be whole numbers of cycles, at least 1 (got 0, 100)');
    const hv = new Hypervisor({ memoryBytes: 4 * MiB, pcpus: 2, cosched: { sliceCycles: 1000, quantumCycles: 100 } });
    expect(() => hv.createDomain(new ScriptMode(), { name: 'three', memoryBytes: 4096 * 4, vcpus: 3 })).toThrow("domain 'three': co-scheduling runs its 3 vCPUs together, one on each physical CPU, but there are only 2");
    const d = hv.createDomain(new ScriptMode(), { name: 'two', memoryBytes: 4096 * 4, vcpus: 2 });
    expect(d.vcpus.map((v) => v.pcpu)).toEqual([0, 1]);
  });
});

describe('the remedies on the kernel two-CPU usertest smp-unmap (trap)', () => {
  it('co-scheduling two domains of two vCPUs on two physical CPUs: no spin wasted, gang slices and held cycles counted', () => {
    const r = runSmpCase('trap', '2x2/2', 'cosched', 'usertests smp-unmap');
    expect([r.passed, r.failed]).toEqual([2, 0]);
    // by construction: a holder is never descheduled while a vCPU of its domain runs
    expect([r.preemptedSlices, r.wastedCycles, r.yields]).toEqual([0, 0, 0]);
    // exact for seed 1 (re-derive from a run if the kernel image changes)
    expect([r.cycles, r.gangSlices, r.heldCycles, r.contendedSlices]).toEqual([25976160, 26, 1156133, 90]);
  });

  it('--spin-yield with two vCPUs on one physical CPU: the slices given up are counted', () => {
    const r = runSmpCase('trap', '1x2/1', 'spin-yield', 'usertests smp-unmap');
    expect([r.passed, r.failed]).toEqual([1, 0]);
    expect([r.gangSlices, r.heldCycles]).toEqual([0, 0]);
    expect([r.cycles, r.yields, r.preemptedSlices, r.wastedCycles]).toEqual([13142782, 40, 0, 0]);
  });
});

describe('run --cosched: the checks, one line each', () => {
  it('needs --smp 2 or more under trap, bt or hvm, enough physical CPUs, and not --spin-yield', async () => {
    const { xenolith } = await import('../cli/run-in-process.ts');
    expect((await xenolith('run', '--mode', 'trap', '--cosched')).stderr).toBe('xenolith: --cosched schedules the vCPUs of a trap, bt or hvm domain together; it needs --smp 2 or more and one of those modes\n');
    expect((await xenolith('run', '--mode', 'pv', '--smp', '2', '--cosched')).stderr).toBe('xenolith: --cosched schedules the vCPUs of a trap, bt or hvm domain together; it needs --smp 2 or more and one of those modes\n');
    expect((await xenolith('run', '--mode', 'bt', '--smp', '2', '--pcpus', '1', '--cosched')).stderr).toBe("xenolith: --cosched runs the domain's 2 vCPUs together, one on each physical CPU; --pcpus 1 is too few\n");
    expect((await xenolith('run', '--mode', 'hvm', '--smp', '2', '--cosched', '--spin-yield')).stderr).toBe('xenolith: --cosched and --spin-yield are two remedies for lock-holder preemption; under co-scheduling the holder always runs beside its spinners, so give one of them\n');
  });

  it('--stats shows the gang slices and the idle physical-CPU cycles they cost (one domain: none held from another)', async () => {
    const { xenolith } = await import('../cli/run-in-process.ts');
    const r = await xenolith('run', '--mode', 'trap', '--smp', '2', '--cosched', '--cmdline', 'usertests smp-unmap', '--input', '', '--stats');
    const out = r.stdout + r.stderr;
    expect(out).toContain('PASS smp-unmap\n');
    expect(out).toContain("lock spin (whole slices in the kernel lock's acquire loop): holder descheduled 0 slices, 0 cycles wasted (lock-holder preemption); holder running 63 slices, 2607561 cycles\n");
    expect(out).toContain('co-scheduling (--cosched): 24 gang slices of 1000000 cycles; physical CPUs idle in them 20419175 cycles, of which 0 with another domain\'s vCPU waiting\n');
  });
});
