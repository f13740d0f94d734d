// TLB shootdown, reachable: an idle CPU keeps the last process's address space loaded (lazy TLB),
// so when that process runs on another CPU and shrinks its heap (usertests smp-unmap), the CPU it
// left has to be shot down - natively an IPI whose handler flushes the TLB, under pv one
// mmuext TLB_FLUSH_MULTI naming the other vCPU, under hvm the IPI through the virtual local APIC.
// Seeds are chosen where the child moves CPUs (it does at every native seed tried, at some under
// the hypervisors' 100,000-cycle slices); the kernel's counters say the flush was sent and taken.

import { describe, expect, it } from 'vitest';
import { Machine } from '../../machine/machine.ts';
import { INVALID } from '../../machine/mmu.ts';
import { bootNative } from '../../hypervisor/boot/native.ts';
import { runImageInMode } from '../../hypervisor/index.ts';
import { guest } from './harness.ts';
import { bootPvKernel } from '../hypervisor/pv-harness.ts';

const CMDLINE = 'usertests smp-unmap';
const PASSED = 'usertests: 1 passed, 0 failed';

describe('TLB shootdown under lazy TLB (usertests smp-unmap)', () => {
  it('natively: the CPU the child left holds a writable translation the fork made read-only, and the shootdown IPI flushes it', () => {
    const build = guest();
    const m = new Machine({ memoryBytes: 32 << 20, cpus: 2, schedule: { seed: 1 } });
    bootNative(m, { kernel: build.kernel, initrd: build.initrd, cmdline: CMDLINE });
    const shootdowns = build.kernel.symbols.find((s) => s.name === 'smp.shootdowns')!.addr;
    const seen: { cpu: number; writableBefore: string[]; userEntriesAfter: number }[] = [];
    for (const k of [0, 1]) {
      const mmu = m.cpus[k]!.mmu;
      const flush = mmu.flushTlb.bind(mmu);
      const user = (t: Int32Array): number[] => [...t].filter((x) => x !== INVALID);
      let counted = 0;
      // the flush of a shootdown: the first TLB flush after the kernel counted one for this CPU
      mmu.flushTlb = () => {
        const n = m.mem.read32(shootdowns + k * 4);
        if (n === counted) return flush();
        counted = n;
        const writableBefore = user(mmu.tlbWU).map((x) => (x >>> 0).toString(16));
        flush();
        seen.push({ cpu: k, writableBefore, userEntriesAfter: user(mmu.tlbRU).length + user(mmu.tlbWU).length });
      };
    }
    const r = m.run({ maxCycles: 200_000_000 });
    expect(r.reason).toBe('poweroff');
    expect(m.consoleOutput()).toContain(PASSED);
    // CPU 1 idles with the child's space loaded; the child, moved to CPU 0, forks: its data page
    // 0x40a000 becomes copy-on-write (read-only), and CPU 1's writable translation of it must go;
    // then the heap shrinks, and CPU 1 is shot down again
    expect(seen).toEqual([
      { cpu: 1, writableBefore: ['40a000'], userEntriesAfter: 0 },
      { cpu: 1, writableBefore: [], userEntriesAfter: 0 },
    ]);
    expect([m.mem.read32(shootdowns), m.mem.read32(shootdowns + 4)]).toEqual([0, 2]);
  });

  it('natively, at each hand-off of the kernel lock: a CPU outside it whose TLB is not marked stale holds no user translation its page tables no longer grant (fork under lazy TLB included)', () => {
    const build = guest();
    // usertests moves between CPUs while it sleeps; preempt's fork then makes its data pages
    // copy-on-write while the CPU it left still has its space loaded (lazy TLB)
    const m = new Machine({ memoryBytes: 32 << 20, cpus: 2, schedule: { seed: 1 } });
    bootNative(m, { kernel: build.kernel, initrd: build.initrd, cmdline: 'usertests forkwait sleep preempt' });
    const sym = (name: string) => build.kernel.symbols.find((s) => s.name === name)!.addr;
    const holder = sym('smp.kernelLock') + 4;
    const stale = sym('smp.tlbStale');
    let checks = 0;
    let lastHolder = -1;
    const incoherent = new Set<string>();
    const scan = (): void => {
      for (let k = 0; k < 2; k++) {
        // the lock's holder may be between a page-table write and its flush; a CPU marked stale
        // flushes at its IPI or next address-space load (smp.ts tlbShootdown)
        if (m.mem.read32(holder) === k + 1 || m.mem.read32(stale + k * 4) !== 0) continue;
        const mmu = m.cpus[k]!.mmu;
        checks++;
        for (const [tags, write] of [[mmu.tlbRU, false], [mmu.tlbWU, true]] as const) {
          for (let e = 0; e < tags.length; e++) {
            const va = tags[e]!;
            if (va === INVALID) continue;
            if (mmu.translate(va, write, true) !== ((va + mmu.tlbAdd[e]!) | 0)) incoherent.add(`cpu ${k} ${write ? 'write' : 'read'} ${(va >>> 0).toString(16)}`);
          }
        }
      }
    };
    // every 8 instructions of either CPU: a scan whenever the lock changed hands since the last look
    for (const cpu of m.cpus) {
      cpu.instructionHook = () => {
        const h = m.mem.read32(holder);
        if (h !== lastHolder) {
          lastHolder = h;
          scan();
        }
        cpu.instructionHookAt = cpu.instructions + 8;
      };
      cpu.instructionHookAt = cpu.instructions + 8;
    }
    const r = m.run({ maxCycles: 200_000_000 });
    expect(r.reason).toBe('poweroff');
    expect(m.consoleOutput()).toContain('usertests: 3 passed, 0 failed');
    expect([...incoherent]).toEqual([]);
    expect(checks).toBeGreaterThan(50);
  });

  it('under pv: the shootdown is one multi-vCPU flush (mmuext TLB_FLUSH_MULTI) of the vCPU the child left', () => {
    // seed 10: the child moves to the other vCPU (with the spinlock yielding only to a preempted
    // holder, seeds 1-9 keep it where it was, and nothing is shot down)
    const r = bootPvKernel({ cmdline: CMDLINE, vcpus: 2, seed: 10 });
    expect(r.output).toContain(PASSED);
    const pv = r.mode.pv(r.domain);
    expect(pv.vcpus.map((v) => [v.remoteFlushes, v.localFlushes])).toEqual([[2, 0], [0, 0]]);
  });

  it('under hvm: the shootdown IPI goes through the virtual local APIC and the other vCPU flushes (seed 5)', () => {
    const build = guest();
    const r = runImageInMode('hvm', build.kernel, { initrd: build.initrd, cmdline: CMDLINE, memoryBytes: 16 << 20, vcpus: 2, smp: { seed: 5 }, maxCycles: 2e9 });
    expect(r.output).toContain(PASSED);
    const shootdowns = build.kernel.symbols.find((s) => s.name === 'smp.shootdowns')!.addr;
    expect([r.domain.memory.read32(shootdowns), r.domain.memory.read32(shootdowns + 4)]).toEqual([1, 0]);
    // vCPU 0 takes three IPIs (the shootdown among them: the kernel counted it), vCPU 1 one
    expect(r.domain.devices!.apics.map((a) => a.ipisReceived)).toEqual([3, 1]);
  });
});
