// pv's yielding spinlock yields only for a preempted holder: the hypervisor keeps each vCPU's
// runstate in read-only words (HvLayout.VCPU_RUNSTATE, Xen's RUNSTATE_* numbers), the kernel's
// VCPU_PREEMPTED pvop reads the holder's (Linux's vcpu_is_preempted / xen_vcpu_stolen: RUNNABLE),
// and SPIN_WAIT (sched_op yield) runs only then. With a physical CPU per vCPU the holder always
// runs: no yield (pv-smp-kernel.test.ts pins that run); with two vCPUs on one physical CPU a
// spinner's holder is always waiting for it: every spin yields at once.
import { describe, expect, it } from 'vitest';
import { bootPvKernel, pvGuest } from './pv-harness.ts';
import { formatVcpuLines } from '../../cli/pv-stats.ts';
import { Hc, HvLayout, RunState, SchedOp } from '../../hypercalls/numbers.ts';
import { pvDomain } from '../../hypervisor/pv/state.ts';
import type { HcHandler } from '../../hypervisor/pv/hypercalls.ts';

const RUNSTATE_WORD = ((HvLayout.VCPU_RUNSTATE as number) - (HvLayout.IDT as number)) >>> 2;

describe('pv spinlock: yield only while the holder is preempted', () => {
  it('runstate words follow the vCPUs; two vCPUs on one physical CPU: each spin yield sees its holder RUNNABLE, at once', () => {
    /** at each spin yield: the spinner, the lock's holder word, the runstate words the guest read */
    const seen: { spinner: number; holder: number; words: number[]; hv: string[]; spun: number }[] = [];
    const r = bootPvKernel({
      input: 'nproc\nexit\n', vcpus: 2, seed: 2, pcpus: 1,
      setup: ({ hv, mode, domain }) => {
        const lock = pvGuest().kernel.symbols.find((x) => x.name === 'kernel.smp.kernelLock')!.addr;
        const e = mode.table.entries[Hc.SCHED_OP]!;
        const inner: HcHandler = e.handler;
        mode.table.entries[Hc.SCHED_OP] = {
          name: e.name,
          handler: (ctx, cmd, arg, a3, a4, a5) => {
            if (cmd === SchedOp.YIELD && arg > 0) {
              const base = (pvDomain(domain).idtMfn << 10) + RUNSTATE_WORD;
              seen.push({
                spinner: ctx.vcpu.id,
                holder: ctx.r32(lock + 4),
                words: [hv.mem.i32[base]!, hv.mem.i32[base + 1]!],
                hv: domain.vcpus.map((v) => hv.vcpuRunstate(v)),
                spun: arg,
              });
            }
            return inner(ctx, cmd, arg, a3, a4, a5);
          },
        };
      },
    });
    expect(r.output).toContain('$ nproc\n2\n');
    // vCPU 1 comes up while vCPU 0 holds the kernel lock (CPU 0 started it under the lock)
    expect(seen.length).toBe(12);
    for (const s of seen) {
      const other = 1 - s.spinner;
      // the holder is the other vCPU (CPU number + 1), waiting for the one physical CPU
      expect(s.holder).toBe(other + 1);
      expect(s.hv[s.spinner]).toBe('running');
      expect(s.hv[other]).toBe('runnable');
      expect(s.words[s.spinner]).toBe(RunState.RUNNING);
      expect(s.words[other]).toBe(RunState.RUNNABLE);
    }
    // vCPU 1 spins each time (vCPU 0 holds the lock from boot to its first idle); the first read of
    // the taken lock finds the holder preempted: one turn of the loop, some 250 cycles (TSC) from
    // the spin's start (the SPIN_WAIT argument) - where 1,024 reads came first before
    expect(seen.map((s) => s.spinner)).toEqual(new Array(12).fill(1));
    expect(seen.map((s) => s.spun)).toEqual([179, 251, 251, 251, 251, 251, 251, 215, 251, 251, 251, 251]);
    expect(formatVcpuLines(r.mode, r.domain)).toEqual([
      '  vcpu 0: up, run 3196845 cycles, blocked 0, offline 0; spin yields 0 (0 cycles spun before them); TLB flushes asked by others 0, by itself 0',
      '  vcpu 1: up, run 60150 cycles, blocked 549223, offline 1818810; spin yields 12 (2904 cycles spun before them); TLB flushes asked by others 0, by itself 0',
    ]);
  });
});
