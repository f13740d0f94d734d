// The xenolith kernel built with --arch pv on a domain of two vCPUs: vCPU 0 starts vCPU 1 with
// VCPUOP_INITIALISE + UP, nproc counts it, IPIs travel as events, and the two-CPU usertests give
// native's results except smp-parallel (the vCPUs time-share the hypervisor's one physical CPU,
// so two processes at once take twice one's time: docs/hypercalls.md "Several vCPUs"). A seed
// (the vCPUs' slice) gives the same run every time: pv-smp-kernel.deep.test.ts, 100 seeds.
import { describe, expect, it } from 'vitest';
import { bootPvKernel } from './pv-harness.ts';
import { formatVcpuLines } from '../../cli/pv-stats.ts';
import { Hc } from '../../hypercalls/numbers.ts';

/** the run's cycles at seed 2 (re-derive from a real run when the pv kernel changes) */
const CYCLES_SEED_2 = 12616164;

describe('the pv kernel on two vCPUs', () => {
  it('starts vCPU 1 through vcpu_op (nproc prints 2) and runs the two-CPU usertests as native does, but for smp-parallel', () => {
    const r = bootPvKernel({ input: 'nproc\nusertests smp-parallel smp-unmap forkwait pipe\nexit\n', vcpus: 2, seed: 2 });
    expect(r.output).toContain('timer: 1000 Hz\nsmp: 2 CPUs\n');
    expect(r.output).toContain('$ nproc\n2\n');
    const pv = r.mode.pv(r.domain);
    expect(pv.vcpus.map((v) => [v.online, v.initialised])).toEqual([[true, true], [true, true]]);
    expect(pv.stats.failed[Hc.VCPU_OP]).toBe(0);
    expect(r.output).toContain('PASS forkwait\nPASS pipe\n');
    expect(r.output).toContain('PASS smp-unmap\n');
    expect(r.output).toMatch(/FAIL smp-parallel: two at once took 1.5x one or more \(tenths\) \(got 2\d\)\n/);
    expect(r.output).toContain('usertests: 3 passed, 1 failed\n');
    expect(r.result.cycles).toBe(CYCLES_SEED_2);
    // run --stats: each vCPU's share, and the yields of its spinning locks
    expect(formatVcpuLines(r.mode, r.domain)).toEqual([
      '  vcpu 0: up, run 8842168 cycles, blocked 669463, offline 0; spin yields 7 (65440 cycles spun before them); TLB flushes asked by others 0, by itself 0',
      '  vcpu 1: up, run 3502616 cycles, blocked 2905772, offline 1818737; spin yields 52 (486748 cycles spun before them); TLB flushes asked by others 0, by itself 0',
    ]);
  });
});
