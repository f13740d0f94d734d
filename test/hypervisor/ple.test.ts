// Pause-loop exiting under hvm (`run --mode hvm --ple`): a vCPU spinning with PAUSE on a lock
// whose holder waits for the same physical CPU exits once its loop outlasts PLE_Window, and the
// hypervisor gives the physical CPU to the holder; without the control it spins its slices away.
// A bare two-vCPU guest on one physical CPU, fixed round-robin slices: the counts are exact.

import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { HvmMode, PLE_DEFAULTS, formatHvmStats, hvmVcpu } from '../../hypervisor/hvm/index.ts';
import { Exit } from '../../machine/types.ts';
import { assemble } from '../../toolchain/asm/index.ts';

const MiB = 1024 * 1024;
const SLICE = 20_000;

// vCPU 0 takes the lock, starts vCPU 1, works WORK turns (longer than several slices), lets the
// lock go and waits for vCPU 1 to have taken it. vCPU 1 spins for the lock with PAUSE.
const SOURCE = `
        .arch bare
        .org 0x1000
_start:
        li      sp, 0x2000
        li      r1, lock
        li      r2, 1
        xchg    r3, r1, r2
        stw     [r1 + 4], r2
        li      r1, ap
        out     0x606, r1
        li      r1, 0x3000
        out     0x607, r1
        li      r1, 1
        out     0x608, r1
        li      r5, 30000
.Lwork:
        addi    r5, r5, -1
        cmpi    r5, 0
        jne     .Lwork
        li      r1, lock
        li      r2, 0
        stw     [r1 + 4], r2
        stw     [r1], r2
        li      r1, got
.Lwait:
        ldw     r2, [r1]
        cmpi    r2, 0
        jeq     .Lwait
        li      r0, 0x42
        out     0x501, r0
        hlt
ap:
        li      r1, lock
        li      r2, 1
spin:
        ldw     r3, [r1]
        cmpi    r3, 0
        jeq     take
        pause
        jmp     spin
take:
        xchg    r3, r1, r2
        cmpi    r3, 0
        jne     spin
        li      r1, got
        stw     [r1], r2
.Lidle:
        jmp     .Lidle
        .align 4
lock:   .word 0, 0
got:    .word 0
`;

function run(ple: boolean) {
  const image = assemble(SOURCE, 'ple.s').image;
  const hv = new Hypervisor({ memoryBytes: 8 * MiB, pcpus: 1, scheduler: new RoundRobinScheduler(SLICE) });
  const d = hv.createDomain(new HvmMode({ mmu: 'ept', ...(ple ? { ple: PLE_DEFAULTS } : {}) }), { name: 'g', memoryBytes: MiB, vcpus: 2 }, { image });
  const sym = (n: string) => image.symbols.find((s) => s.name === n)!.addr;
  // the spin loop (spin .. take) and the lock's holder word (vCPU 0 + 1 = 1 while it holds it, as the kernel's)
  d.spinWatch = { pcStart: sym('spin'), pcEnd: sym('take'), holderGpa: sym('lock') + 4 };
  const r = hv.run({ maxCycles: 50_000_000 });
  return { hv, d, r };
}

describe('pause-loop exiting (hvm --ple)', () => {
  it('a vCPU spinning behind a descheduled holder exits at each slice and yields to it; without PLE it spins the slices away', () => {
    const on = run(true);
    const off = run(false);
    for (const { d, r } of [on, off]) expect([r.reason, d.stopDetail]).toEqual(['all-stopped', '']);
    const exits = (x: typeof on) => x.d.vcpus.map((v) => hvmVcpu(v).vmcs.exitCounts[Exit.Pause]);
    // vCPU 0's work is 120,000 cycles, six slices and a bit: vCPU 1 gets the physical CPU 7 times
    // while the lock is held (its first turn begins at its start-up code, so the watch counts 6)
    expect(exits(off)).toEqual([0, 0]);
    expect([off.d.stats.loopExits.yield, off.d.stats.yieldsToOthers]).toEqual([0, 0]);
    expect([off.d.spinStats.preemptedSlices, off.d.spinStats.preemptedCycles]).toEqual([6, 6 * 20_005]);
    // with PLE each of those 7 turns ends in a pause-loop exit that hands the CPU back to vCPU 0:
    // a turn is the entry, 4,096 cycles of spin and the exit with its monitor path, not a slice
    expect(exits(on)).toEqual([0, 7]);
    expect([on.d.stats.loopExits.yield, on.d.stats.yieldsToOthers]).toEqual([7, 7]);
    expect([on.d.spinStats.preemptedSlices, on.d.spinStats.preemptedCycles]).toEqual([6, 6 * 11_324]);
    expect([on.d.stats.cpuExits[Exit.Pause], off.d.stats.cpuExits[Exit.Pause]]).toEqual([7, 0]);
    expect(formatHvmStats(on.d)).toContain('pause-loop exiting (--ple, gap 128, window 4096 cycles): 7 exits (by vCPU: 0, 7), 7 gave the physical CPU to another vCPU');
    expect(formatHvmStats(off.d)).not.toContain('pause-loop');
  });
});

describe('run --ple: the checks, one line each', () => {
  it('needs --mode hvm (recorded and replayed: test/cli/record-replay.deep.test.ts)', async () => {
    const { xenolith } = await import('../cli/run-in-process.ts');
    expect((await xenolith('run', '--mode', 'trap', '--smp', '2', '--ple')).stderr).toBe("xenolith: --ple turns on hardware assist's pause-loop exiting; it needs --mode hvm (not trap)\n");
  });
});
