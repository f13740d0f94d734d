// The xenolith kernel built with --arch pv on a domain of two vCPUs: vCPU 0 starts vCPU 1 with
// VCPUOP_INITIALISE + UP, nproc counts it, IPIs travel as events, and the two-CPU usertests give
// native's results, smp-parallel too (one physical CPU per vCPU, the seeded slices of trap, bt and
// hvm: docs/hypervisor.md "Several vCPUs"). A seed gives the same run every time:
// pv-smp-kernel.deep.test.ts, 100 seeds.
import { describe, expect, it } from 'vitest';
import { bootPvKernel } from './pv-harness.ts';
import { formatVcpuLines } from '../../cli/pv-stats.ts';
import { Hc } from '../../hypercalls/numbers.ts';
import { GuestVirt } from '../../hypervisor/pv/guest-virt.ts';

/** the run's cycles at seed 2 (re-derive from a real run when the pv kernel changes) */
const CYCLES_SEED_2 = 17604877;

describe('the pv kernel on two vCPUs', () => {
  it('starts vCPU 1 through vcpu_op (nproc prints 2) and runs the two-CPU usertests as native does, on a physical CPU per vCPU', () => {
    const r = bootPvKernel({ input: 'nproc\nusertests smp-parallel smp-unmap forkwait pipe\nexit\n', vcpus: 2, seed: 2 });
    expect(r.output).toContain('timer: 1000 Hz\nsmp: 2 CPUs\n');
    expect(r.output).toContain('$ nproc\n2\n');
    const pv = r.mode.pv(r.domain);
    expect(pv.vcpus.map((v) => [v.online, v.initialised])).toEqual([[true, true], [true, true]]);
    expect(pv.stats.failed[Hc.VCPU_OP]).toBe(0);
    expect(r.output).toContain('PASS forkwait\nPASS pipe\n');
    expect(r.output).toContain('PASS smp-unmap\n');
    // one physical CPU per vCPU (the default, as under trap, bt and hvm): two processes run at once
    expect(r.output).toContain('PASS smp-parallel\n');
    expect(r.output).toContain('usertests: 4 passed, 0 failed\n');
    expect(r.result.cycles).toBe(CYCLES_SEED_2);
    // run --stats: each vCPU's share, and the yields of its spinning locks: none - the kernel lock
    // was found taken 7 times (the kernel's count), but its holder always had its physical CPU (RUNNING),
    // so the spinner spun on (pv-spin-preempted.test.ts: the holder preempted)
    expect(formatVcpuLines(r.mode, r.domain)).toEqual([
      '  vcpu 0: up, run 11772176 cycles, blocked 5831471, offline 0; spin yields 0 (0 cycles spun before them); TLB flushes asked by others 0, by itself 0',
      '  vcpu 1: up, run 14251910 cycles, blocked 1533284, offline 1818810; spin yields 0 (0 cycles spun before them); TLB flushes asked by others 5, by itself 0',
    ]);
    const lockContended = r.build.kernel.symbols.find((x) => x.name === 'kernel.smp.lockContended')!.addr;
    const ma = new GuestVirt(r.hv.mem).translate(r.hv.vcpuState(r.domain.vcpus[0]!).cr3, lockContended, false);
    expect(r.hv.mem.i32[ma >>> 2]).toBe(7);
  });
});
