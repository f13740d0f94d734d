// Domains of several vCPUs under trap, bt and hvm: the unmodified kernel brings its second vCPU
// up through the virtual local APIC (I/O exits to the device model), takes IPIs and local-timer
// interrupts on the right vCPU, and its two-CPU usertests give native's results. The vCPUs'
// interleaving is the seeded round-robin slices of their physical CPUs: a seed fixes the run to
// the cycle. (Every usertest at 100 seeds against native: smp-domains.deep.test.ts.)

import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import type { Vcpu } from '../../hypervisor/core/vcpu.ts';
import { runImageInMode } from '../../hypervisor/index.ts';
import { collectRun } from '../../hypervisor/run.ts';
import { shouldYield } from '../../hypervisor/core/spin-watch.ts';
import { TrapMode } from '../../hypervisor/trap/index.ts';
import { guest } from '../guest-kernel/harness.ts';
import { ScriptMode } from './core-harness.ts';
import { assemble } from '../../toolchain/asm/index.ts';
import { Machine } from '../../machine/machine.ts';
import { btCache } from '../../hypervisor/bt/index.ts';

const MiB = 1024 * 1024;

describe('RoundRobinScheduler with a seed', () => {
  it('draws each slice 1..sliceCycles from xorshift32: the same seed the same slices, another seed others', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB });
    const d = hv.createDomain(new ScriptMode(), { name: 'd', memoryBytes: 4096 * 4, vcpus: 2 });
    const slices = (seed: number): number[] => {
      const s = new RoundRobinScheduler(1000, seed);
      for (const v of d.vcpus) s.add(v);
      const out: number[] = [];
      for (let k = 0; k < 6; k++) {
        const v = s.pick(0)!;
        const b = s.budget(v);
        out.push(b);
        s.account(v, b);
      }
      return out;
    };
    // xorshift32 (13, 17, 5) from 1: 270369, 67634689, 2647435461, ...; each mod 1000, plus 1
    expect(slices(1)).toEqual([370, 690, 462, 696, 234, 505]);
    expect(slices(1)).toEqual(slices(1));
    expect(slices(2)).not.toEqual(slices(1));
    expect(new RoundRobinScheduler(1000).budget(d.vcpus[0]!)).toBe(1000);
  });
});

describe('the lock-holder preemption remedy (Domain.spinYield)', () => {
  it('yields a slice only in the acquire loop, behind another runnable vCPU that waits for the same physical CPU', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB, pcpus: 2 });
    const d = hv.createDomain(new ScriptMode(), { name: 'd', memoryBytes: 4096 * 4, vcpus: 3 });
    const [v0, v1, v2] = d.vcpus as [Vcpu, Vcpu, Vcpu];
    // pinned 0, 1, 0: v2 shares v0's physical CPU
    const w = { pcStart: 0x1000, pcEnd: 0x1100, holderGpa: 0x2004 };
    expect(shouldYield(w, 0x1010, 3, d.vcpus, v0)).toBe(true);
    expect(shouldYield(w, 0x1100, 3, d.vcpus, v0)).toBe(false); // not in the loop
    expect(shouldYield(w, 0x1010, 1, d.vcpus, v0)).toBe(false); // it holds the lock itself
    expect(shouldYield(w, 0x1010, 0, d.vcpus, v0)).toBe(false); // free
    expect(shouldYield(w, 0x1010, 2, d.vcpus, v0)).toBe(false); // the holder has a physical CPU of its own
    v2.runState = 'blocked';
    expect(shouldYield(w, 0x1010, 3, d.vcpus, v0)).toBe(false); // nothing to yield to
    expect(v1.pcpu).toBe(1);
  });
});

describe('physical CPUs', () => {
  it('pins vCPUs round robin in creation order; each physical CPU schedules its own', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB, pcpus: 2 });
    const a = hv.createDomain(new ScriptMode(), { name: 'a', memoryBytes: 4096 * 4, vcpus: 3 });
    const b = hv.createDomain(new ScriptMode(), { name: 'b', memoryBytes: 4096 * 4 });
    expect([...a.vcpus, ...b.vcpus].map((v: Vcpu) => v.pcpu)).toEqual([0, 1, 0, 1]);
    expect((hv.pcpuSchedulers[0] as RoundRobinScheduler).runnable().map((v) => v.label)).toEqual(['d1v0', 'd1v2']);
    expect((hv.pcpuSchedulers[1] as RoundRobinScheduler).runnable().map((v) => v.label)).toEqual(['d1v1', 'd2v0']);
    expect(() => new Hypervisor({ memoryBytes: 4 * MiB, pcpus: 9 })).toThrow('pcpus must be a whole number 1..8, not 9');
  });

  it('trap mode makes the secondary vCPUs down, with a shadow each', () => {
    const hv = new Hypervisor({ memoryBytes: 8 * MiB });
    const free = hv.frames.freeFrames;
    const d = hv.createDomain(new TrapMode(), { name: 't', memoryBytes: MiB, vcpus: 2 });
    expect(d.vcpus.map((v) => [v.up, v.runState])).toEqual([[true, 'runnable'], [false, 'blocked']]);
    // the memory, and each vCPU's shadow directory with its reserved tables
    expect(free - hv.frames.freeFrames).toBe(256 + 2 * 5);
  });
});

/*
 * One short run per mode (a usertest that needs the second CPU: a process moving between CPUs
 * across an unmap; its child dies of the removed page, as natively - test/guest-kernel/smp.test.ts).
 * bt and hvm here (bt's monitor is trap mode's; trap itself, and every usertest at 100 seeds
 * against native, in the deep file: the test-time budget). The kernel lock's spin loop is
 * watched (hypervisor/core/spin-watch.ts), as `run --stats` does. Figures from real runs
 * (docs/hypervisor.md quotes the spin figures).
 */
const CASES = [
  // bt's two vCPUs share one physical CPU: world switches between them, and lock-holder preemption
  { mode: 'bt', pcpus: 1, tests: ['smp-unmap'], cycles: 39399368, ipis: 4, spin: [54, 2547321, 0, 0] },
  // hvm on two: smp-parallel too (two processes at once, under 1.5x one alone: the kernel's lock
  // operations find the CPU number on the stack, without the LAPIC_ID read's I/O exit)
  { mode: 'hvm', pcpus: 2, tests: ['smp-parallel', 'smp-unmap'], cycles: 81436506, ipis: 5, spin: [0, 0, 98, 4908507] },
] as const;

describe('the kernel on two vCPUs', () => {
  for (const c of CASES) {
    it(`${c.mode} on ${c.pcpus} physical CPU(s): starts vCPU 1 through its virtual local APIC, the two-CPU usertests pass, the lock's spin slices are told apart`, () => {
      const g = guest();
      const booted = runImageInMode(c.mode, g.kernel, { initrd: g.initrd, cmdline: `usertests ${c.tests.join(' ')}`, maxCycles: 0, vcpus: 2, smp: { seed: 1, pcpus: c.pcpus } });
      const sym = (name: string) => g.kernel.symbols.find((x) => x.name === name)!;
      booted.domain.spinWatch = { pcStart: sym('smp.spinAcquire').addr, pcEnd: sym('smp.spinAcquire').addr + sym('smp.spinAcquire').size, holderGpa: sym('smp.kernelLock').addr + 4 };
      const r = collectRun(booted.hypervisor, booted.domain, booted.hypervisor.run({ maxCycles: 2_000_000_000 }));
      expect(r.reason).toBe('poweroff');
      expect(r.output).toContain('timer: 1000 Hz\nsmp: 2 CPUs\n');
      expect(r.output).toContain('(usertests): page fault at 0x00424000 (write, not present)');
      for (const t of c.tests) expect(r.output).toContain(`PASS ${t}\n`);
      expect(r.output).toContain(`usertests: ${c.tests.length} passed, 0 failed\n`);
      const d = r.domain;
      expect(d.stats.vcpuStarts).toBe(1);
      expect(d.vcpus.map((v) => v.up)).toEqual([true, true]);
      expect(r.hypervisor.pcpus).toBe(c.pcpus);
      expect([r.cycles, d.devices!.lapicPorts!.ipisSent]).toEqual([c.cycles, c.ipis]);
      // on one physical CPU a holder not running is always descheduled; on two, it runs beside the spinner
      const sp = d.spinStats;
      expect([sp.preemptedSlices, sp.preemptedCycles, sp.contendedSlices, sp.contendedCycles]).toEqual(c.spin);
    });
  }
});

/*
 * Cross-modifying code: CPU 0 starts CPU 1 and calls f until f returns 2; CPU 1, after a delay,
 * overwrites f's first instruction (mov r3, r8 -> mov r3, r9; r8 = 1, r9 = 2). CPU 0 ran f translated from the
 * domain's one translation cache; the store by the other vCPU must drop that unit for it too, or
 * CPU 0 would spin on the stale translation forever.
 */
const CROSS_MODIFYING = `
        .arch bare
        .org 0x1000
_start:
        li      sp, 0x2000
        li      r1, ap
        out     0x606, r1
        li      r1, 0x3000
        out     0x607, r1
        li      r1, 1
        out     0x608, r1
        li      r8, 1
        li      r9, 2
.Lspin:
        call    f
        cmpi    r3, 2
        jne     .Lspin
        li      r0, 0x42
        out     0x501, r0
        hlt
f:
        mov     r3, r8
        ret
ap:
        li      r5, 3000
.Ldelay:
        addi    r5, r5, -1
        cmpi    r5, 0
        jne     .Ldelay
        li      r2, f
        li      r4, g
        ldw     r5, [r4]
        stw     [r2], r5
.Lidle:
        jmp     .Lidle
g:
        mov     r3, r9
`;

describe('bt: one translation cache for the vCPUs of a domain', () => {
  it('a store by one vCPU into translated code drops the unit for the other, which then runs the new code', () => {
    const image = assemble(CROSS_MODIFYING, 'x.s').image;
    const m = new Machine({ cpus: 2 });
    m.loadImage(image);
    expect(m.run({ maxCycles: 50_000_000 }).status).toBe(0x42);
    const r = runImageInMode('bt', image, { memoryBytes: 4 * MiB, maxCycles: 50_000_000, vcpus: 2, smp: { seed: 1 } });
    expect([r.reason, r.status]).toEqual(['poweroff', 0x42]);
    expect(r.domain.stats.vcpuStarts).toBe(1);
    // CPU 0 found f's word changed under its unit: the frame's 11 units went, and the 3 it ran next were translated again
    const st = btCache(r.domain).stats;
    expect([st.invalidations, st.translations]).toEqual([11, 14]);
  });
});
