// The xenolith kernel built with --arch pv, booted as a PV domain: the same transcript as the
// native kernel at the shell, the disk through the split driver, system calls on the fast path,
// the statistics report, and the identity placement the shared kernel needs.
import { describe, expect, it } from 'vitest';
import { bootKernel } from '../guest-kernel/harness.ts';
import { bootPvKernel, pvGuest } from './pv-harness.ts';
import { Hc } from '../../hypercalls/numbers.ts';
import { formatPvStats, pvStatsReport } from '../../hypervisor/pv/stats.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { PvMode } from '../../hypervisor/pv/mode.ts';

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
      '$ exit',
      'init exited with status 0: powering off',
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
    expect(run.hv.cpu.stats.delivered[0x80]).toBeGreaterThan(400);
    expect(run.domain.stats.traps[0x80]).toBe(0);
    // the kernel's page tables went through the hypervisor: pins and batched updates
    expect(run.domain.stats.hypercalls[Hc.MMUEXT_OP]).toBeGreaterThan(100);
    expect(run.domain.stats.hypercalls[Hc.MMU_UPDATE]).toBeGreaterThan(100);
    expect(run.domain.stats.hypercalls[Hc.SET_TRAP_TABLE]).toBe(1);
  });

  it('reports hypercalls by number with calls and cycles, events, bounces and page-table work', () => {
    const run = bootPvKernel({ cmdline: 'echo stats' });
    const r = pvStatsReport(run.mode, run.domain);
    const byName = Object.fromEntries(r.hypercalls.map((h) => [h.name, h]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['set_trap_table', 'mmu_update', 'sched_op', 'event_channel_op', 'console_io', 'vcpu_op', 'mmuext_op', 'set_callbacks']));
    for (const h of r.hypercalls) expect(h.cycles).toBeGreaterThanOrEqual(h.calls * run.hv.profile.hypercallEntry);
    expect(byName.console_io!.calls).toBe(run.domain.consoleBytes().length);
    const text = formatPvStats(run.mode, run.domain);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^domain 1 \(pv\), pv: \d+ cycles, \d+ instructions; hypervisor software \d+ cycles \(\d+\.\d%\)$/);
    expect(lines[1]).toBe('  hypercall              calls     cycles  cycles/call  failed');
    expect(lines).toContain(`  18 console_io         ${String(byName.console_io!.calls).padStart(7)} ${String(byName.console_io!.cycles).padStart(10)} ${String(Math.round(byName.console_io!.cycles / byName.console_io!.calls)).padStart(12)}       0`);
    const total = r.hypercalls.reduce((s, h) => s + h.calls, 0);
    expect(lines.find((l) => l.trim().startsWith('total'))).toMatch(new RegExp(`^ {5}total {14}${String(total).padStart(7)} +\\d+$`));
    expect(text).toContain(`  page tables: ${r.mmuRequests} entries written, ${r.pins} pins\n`);
  });

  it('is deterministic: the same input gives the same transcript, cycles and instructions', () => {
    const a = bootPvKernel({ input: 'echo hi\nps\nexit 2\n' });
    const b = bootPvKernel({ input: 'echo hi\nps\nexit 2\n' });
    expect([b.output, b.run.cycles, b.hv.cpu.instructions]).toEqual([a.output, a.run.cycles, a.hv.cpu.instructions]);
  });

  it('refuses to start a second kernel domain that cannot be identity-placed, and the first is unaffected', () => {
    const build = pvGuest();
    const hv = new Hypervisor({ memoryBytes: 48 * 1024 * 1024 });
    const mode = new PvMode();
    const first = hv.createDomain(mode, { name: 'first', memoryBytes: 16 * 1024 * 1024, devices: false }, { kernel: build.kernel, initrd: build.initrd, cmdline: 'echo first' });
    const second = hv.createDomain(mode, { name: 'second', memoryBytes: 16 * 1024 * 1024, devices: false }, { kernel: build.kernel, initrd: build.initrd, cmdline: 'echo second' });
    hv.run({ maxCycles: 500_000_000 });
    expect(second.consoleOutput()).toBe('pv kernel: this domain is not identity-placed (pseudo-physical frame 1 is not machine frame 1): shutting down\n');
    expect(second.stopStatus).toBe(1);
    expect(first.consoleOutput()).toContain('\nfirst\ninit exited with status 0: powering off\n');
  });
});
