// The xenolith kernel built with --arch pv, booted as a PV domain: the same transcript as the
// native kernel at the shell, the disk through the split driver, system calls on the fast path,
// page tables in batches, the console on its ring, and the statistics report.
import { describe, expect, it } from 'vitest';
import { bootKernel } from '../guest-kernel/harness.ts';
import { bootPvKernel, pvGuest } from './pv-harness.ts';
import { Hc } from '../../hypercalls/numbers.ts';
import { formatPvStats, pvStatsReport } from '../../hypervisor/pv/stats.ts';
import { feedConsole } from '../../hypervisor/pv/hypercalls.ts';
import { createPvSystem } from '../../hypervisor/pv/system.ts';

/** The transcript from the first user program's output on (boot lines differ: the arch name, free pages). */
const fromInit = (out: string) => out.slice(out.indexOf('init: starting sh\n'));

describe('the xenolith kernel under the pv mode', () => {
  it('behaves as the native kernel at the shell: the same transcript, the same exit status', () => {
    const input = 'echo hello world\nps\necho a b | cat\nnosuch\ncat\nline one\n\x04crash\nexit 3\n';
    const pv = bootPvKernel({ input });
    const native = bootKernel({ input });
    expect(pv.output).toContain('xenolith kernel 0.1 (pv) booting\n');
    expect(fromInit(pv.output)).toBe(fromInit(native.output));
    expect([pv.result.reason, pv.result.status]).toEqual(['poweroff', 3]);
  });

  it('reads and writes the disk through the split driver: ring, grants and one event channel each way', () => {
    const disk = new Uint8Array(64 * 512);
    disk.set(new TextEncoder().encode('hello from sector one'), 512);
    const run = bootPvKernel({ input: 'disk\ndisk read 1\ndisk write 2 written by the guest\ndisk read 2\ndisk read 64\nexit\n', disk });
    const out = run.output.slice(run.output.indexOf('$ disk\n'));
    expect(out.split('\n')).toEqual([
      '$ disk',
      'disk: 64 sectors',
      '$ disk read 1',
      'hello from sector one',
      '$ disk write 2 written by the guest',
      '$ disk read 2',
      'written by the guest',
      '$ disk read 64',
      'disk: read failed (error -22)',
      // exit without a status passes on the last command's: the failed read's 1
      '$ exit',
      'init exited with status 1: powering off',
      '',
    ]);
    expect(new TextDecoder().decode(disk.subarray(1024, 1044))).toBe('written by the guest');
    const s = run.mode.pv(run.domain).stats;
    // three requests reached the back end (the out-of-range read never left the kernel), plus the
    // connect notification; each completion was notified (one request in flight at a time)
    expect([s.blkNotifyIn, s.blkNotifyOut]).toEqual([4, 3]);
  });

  it('takes every system call on the fast path: INT 0x80 is delivered by the CPU, never intercepted', () => {
    const run = bootPvKernel({ cmdline: 'usertests' });
    expect([run.result.reason, run.result.status]).toEqual(['poweroff', 0]);
    expect(run.hv.cpu.stats.delivered[0x80]).toBe(507);
    expect(run.domain.stats.traps[0x80]).toBe(0);
    expect(run.domain.stats.hypercalls[Hc.SET_TRAP_TABLE]).toBe(1);
  });

  it('sends page-table work in batches: an address space is pinned, loaded and released in one multicall each, fork\'s copy in one', () => {
    const run = bootPvKernel({ cmdline: 'usertests' });
    const calls = run.domain.stats.hypercalls;
    const inMulticalls = run.mode.pv(run.domain).stats.multicalled;
    // every mmu_update of the run went inside a multicall, paired with an mmuext_op (pin and
    // load, unpin, or the TLB flush after fork's copy-on-write marking)
    expect([calls[Hc.MMU_UPDATE], inMulticalls[Hc.MMU_UPDATE], inMulticalls[Hc.MMUEXT_OP], calls[Hc.MULTICALL]]).toEqual([0, 184, 184, 184]);
    // single entries (a demand-zero page, a copy-on-write break) with their INVLPG: update_va_mapping
    expect(calls[Hc.UPDATE_VA_MAPPING]).toBe(200);
    // the mmuext_ops of their own: loading a directory already pinned
    expect(calls[Hc.MMUEXT_OP]).toBe(94);
    const pv = run.mode.pv(run.domain).stats;
    // (mmuRequests counts the update_va_mappings too)
    expect([pv.mmuRequests, pv.pins]).toEqual([981, 64]);
  });

  it('writes the console through its ring: one notification per kernel entry that printed, no console_io', () => {
    const run = bootPvKernel({ cmdline: 'usertests' });
    const s = run.mode.pv(run.domain).stats;
    expect(run.domain.stats.hypercalls[Hc.CONSOLE_IO]).toBe(0);
    expect(s.consoleBytesOut).toBe(run.domain.consoleBytes().length);
    expect([s.consoleBytesOut, s.consoleNotifyIn]).toEqual([1497, 126]);
  });

  it('types console input into the ring, notifying only when the kernel asked to hear (hold-off)', () => {
    const build = pvGuest();
    const sys = createPvSystem({ kernel: build.kernel, initrd: build.initrd, input: 'echo one\n' });
    const d = sys.mode.pv(sys.domain);
    // before the kernel connects its ring, input waits for console_io(READ)
    expect(d.consoleIn.length).toBe(9);
    sys.hv.run({ maxCycles: 4_000_000 });
    expect(sys.domain.consoleOutput()).toMatch(/\$ echo one\none\n\$ $/);
    expect([d.stats.consoleBytesIn, d.stats.consoleNotifyOut, d.stats.consoleHeldOff]).toEqual([9, 1, 0]);
    // two lines typed before the kernel looks: the second finds the first unread and holds off
    feedConsole(d, 'echo two\n');
    feedConsole(d, 'exit 4\n');
    sys.hv.run({ maxCycles: 200_000_000 });
    // (the shell's line editor echoes each line as it reads it, the second after the first ran)
    expect(sys.domain.consoleOutput()).toMatch(/\$ echo one\none\n\$ echo two\ntwo\n\$ exit 4\ninit exited with status 4: powering off\n$/);
    expect([d.stats.consoleBytesIn, d.stats.consoleNotifyOut, d.stats.consoleHeldOff]).toEqual([25, 2, 1]);
    expect(sys.domain.stats.hypercalls[Hc.CONSOLE_IO]).toBe(0);
  });

  it('reports hypercalls by number with calls and cycles, events, bounces and page-table work', () => {
    const run = bootPvKernel({ cmdline: 'echo stats' });
    const r = pvStatsReport(run.mode, run.domain);
    const byName = Object.fromEntries(r.hypercalls.map((h) => [h.name, h]));
    expect(Object.keys(byName)).toEqual(['set_trap_table', 'mmu_update', 'stack_switch', 'set_callbacks', 'sched_op', 'multicall', 'update_va_mapping', 'event_channel_op', 'vcpu_op', 'mmuext_op']);
    for (const h of r.hypercalls) expect(h.cycles).toBeGreaterThanOrEqual(h.calls * run.hv.profile.hypercallEntry);
    // mmu_update only inside multicalls: no entries of its own, no cycles of its own
    expect(byName.mmu_update).toEqual({ nr: 1, name: 'mmu_update', calls: 0, cycles: 0, failed: 0, batched: 2 });
    const text = formatPvStats(run.mode, run.domain);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^domain 1 \(pv\), pv: \d+ cycles, \d+ instructions; hypervisor software \d+ cycles \(\d+\.\d%\)$/);
    expect(lines[1]).toBe('  hypercall              calls     cycles  cycles/call  failed  in multicalls');
    const uvm = byName.update_va_mapping!;
    expect(lines).toContain(`  14 update_va_mapping  ${String(uvm.calls).padStart(7)} ${String(uvm.cycles).padStart(10)} ${String(Math.round(uvm.cycles / uvm.calls)).padStart(12)}       0              0`);
    expect(lines).toContain('   1 mmu_update               0          0            0       0              2');
    expect(text).toContain(`  console ring: ${run.domain.consoleBytes().length} bytes out, 0 in; 5 notifications in, 0 out, 0 held off\n`);
    const total = r.hypercalls.reduce((s, h) => s + h.calls, 0);
    expect(lines.find((l) => l.trim().startsWith('total'))).toMatch(new RegExp(`^ {5}total {14}${String(total).padStart(7)} +\\d+$`));
    expect(text).toContain(`  page tables: ${r.mmuRequests} entries written, ${r.pins} pins\n`);
  });

  it('is deterministic: the same input gives the same transcript, cycles and instructions', () => {
    const a = bootPvKernel({ input: 'echo hi\nps\nexit 2\n' });
    const b = bootPvKernel({ input: 'echo hi\nps\nexit 2\n' });
    expect([b.output, b.run.cycles, b.hv.cpu.instructions]).toEqual([a.output, a.run.cycles, a.hv.cpu.instructions]);
  });

});
