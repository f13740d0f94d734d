import { beforeAll, describe, expect, it } from 'vitest';
import { runCompare, renderText, renderMarkdown, renderHtml, parseSuite, parseFigures, type CompareReport } from '../../bench/compare.ts';

const CRITICAL = ['critical-rdcpl', 'critical-pushf', 'critical-popf', 'critical-sidt'];
const LMBENCH = ['null', 'fork', 'exec', 'ctx', 'pipe', 'pagefault', 'sbrk'];
const NANO = ['irq-save-restore', 'pte-update', 'address-space-switch', 'port-read', 'cr4-write', 'divide-fault', 'syscall'];

let report: CompareReport;
const progress: string[] = [];

beforeAll(() => {
  report = runCompare({ modes: ['native', 'trap', 'bt', 'hvm', 'pv'], profile: 'p4-2003', runs: 2, maxCycles: 20_000_000_000, onProgress: (_d, _t, what) => progress.push(what) });
});

describe('xenolith compare (native, trap, bt, hvm, pv)', () => {
  it('reports progress for every guest run, in order', () => {
    expect(progress).toEqual([
      'native: usertests', 'native: lmbench all (1/2)', 'native: lmbench all (2/2)', 'native: nanobench',
      'trap: usertests', 'trap: lmbench all (1/2)', 'trap: lmbench all (2/2)', 'trap: nanobench',
      'bt: usertests', 'bt: lmbench all (1/2)', 'bt: lmbench all (2/2)', 'bt: nanobench',
      'hvm: usertests', 'hvm: lmbench all (1/2)', 'hvm: lmbench all (2/2)', 'hvm: nanobench',
      'pv: usertests', 'pv: lmbench all (1/2)', 'pv: lmbench all (2/2)', 'pv: nanobench',
    ]);
  });

  it('the equivalence matrix: native, bt, hvm and pv pass everything; trap fails exactly the documented critical-instruction tests', () => {
    expect(report.matrix.every((r) => r.results.native === 'PASS')).toBe(true);
    expect(report.matrix.every((r) => r.results.bt === 'PASS')).toBe(true);
    expect(report.matrix.every((r) => r.results.hvm === 'PASS')).toBe(true);
    expect(report.matrix.every((r) => r.results.pv === 'PASS')).toBe(true);
    const trapFails = report.matrix.filter((r) => r.results.trap !== 'PASS').map((r) => r.test);
    expect(trapFails).toEqual(CRITICAL);
    for (const t of CRITICAL) expect(report.matrix.find((r) => r.test === t)!.notes.trap).toMatch(/sensitive but not privileged|silently|real/);
    expect(report.unexplained).toEqual([]);
  });

  it('every benchmark row is present for every mode, and trap-and-emulate never beats native in simulated cycles', () => {
    expect(report.lmbench.map((r) => r.name)).toEqual(LMBENCH);
    expect(report.nanobench.map((r) => r.name)).toEqual(NANO);
    for (const row of [...report.lmbench, ...report.nanobench]) {
      expect(row.values.native).toBeGreaterThan(0);
      expect(row.values.trap!).toBeGreaterThanOrEqual(row.values.native!);
    }
  });

  it('binary translation: privileged primitives cost less than trap-and-emulate\'s traps, and more than native', () => {
    for (const name of ['irq-save-restore', 'pte-update', 'cr4-write', 'port-read', 'divide-fault']) {
      const v = report.nanobench.find((r) => r.name === name)!.values;
      expect(v.bt!).toBeLessThan(v.trap!);
      expect(v.bt!).toBeGreaterThan(v.native!);
    }
  });

  it('hardware assist: a port read costs a VM exit and entry, more than trap-and-emulate\'s software trap (Adams & Agesen\'s direction)', () => {
    const port = report.nanobench.find((r) => r.name === 'port-read')!.values;
    expect(port.hvm!).toBeGreaterThan(port.trap!);
    const cr4 = report.nanobench.find((r) => r.name === 'cr4-write')!.values;
    expect(cr4.hvm).toBe(cr4.native);
  });

  it('pv reads device state from shared memory instead of a port, and keeps the interrupt flag in memory: both beat native', () => {
    const nano = (name: string) => report.nanobench.find((r) => r.name === name)!.values;
    expect(nano('port-read').pv!).toBeLessThan(nano('port-read').native!);
    expect(nano('irq-save-restore').pv!).toBeLessThan(nano('irq-save-restore').native!);
    expect(nano('cr4-write').pv).toBeNull();
  });

  it('the counters explain the cost: native never enters a hypervisor; trap takes traps, I/O exits and shadow faults, and no hypercalls', () => {
    const [native, trap] = report.summaries;
    expect(native!.lmbench).toMatchObject({ traps: 0, hypercalls: 0, ioExits: 0, shadowHidden: 0, shadowTrue: 0 });
    expect(trap!.lmbench.traps).toBeGreaterThan(0);
    expect(trap!.lmbench.ioExits).toBeGreaterThan(0);
    expect(trap!.lmbench.shadowHidden).toBeGreaterThan(0);
    expect(trap!.lmbench.hypercalls).toBe(0);
    expect(trap!.lmbench.wallMs).toHaveLength(2);
    expect(native!.suite).toMatchObject({ stopped: 'poweroff', status: 0 });
    expect(trap!.suite).toMatchObject({ stopped: 'poweroff', status: 4 });
    const bt = report.summaries[2]!;
    expect(bt.lmbench.hypercalls).toBe(0);
    expect(bt.lmbench.ioExits).toBeGreaterThan(0);
    const hvm = report.summaries[3]!;
    expect(hvm.lmbench).toMatchObject({ traps: 0, hypercalls: 0, shadowHidden: 0, shadowTrue: 0 });
    expect(hvm.lmbench.ioExits).toBeGreaterThan(0);
    const pv = report.summaries[4]!;
    expect(pv.lmbench).toMatchObject({ ioExits: 0, shadowHidden: 0, shadowTrue: 0 });
    expect(pv.lmbench.hypercalls).toBeGreaterThan(0);
    expect(pv.suite).toMatchObject({ stopped: 'poweroff', status: 0 });
  });

  it('renders text, Markdown and a self-contained HTML chart with one bar per benchmark and mode', () => {
    expect(renderText(report)).toContain('Every difference from native is explained.');
    const md = renderMarkdown(report);
    expect(md).toContain('| test | native | trap | bt | hvm | pv | notes |');
    expect(md).toContain('| critical-sidt | PASS | FAIL | PASS | PASS | PASS | trap: SIDT returns the real IDT base');
    const html = renderHtml(report);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<rect [^>]*fill="#(4c72b0|dd8452|937860|8172b3|55a868)"><title>/g)).toHaveLength(LMBENCH.length * 5);
    expect(html).not.toContain('<script');
  });
});

describe('parsing guest output', () => {
  it('reads PASS/FAIL lines and "name: N cycles/op" figures, with n/a as null', () => {
    expect([...parseSuite('PASS a\nFAIL b: why (got 1)\nnoise\n').entries()]).toEqual([['a', 'PASS'], ['b', 'FAIL']]);
    const re = /^nanobench (\S+): (?:(\d+) cycles\/op|(n\/a))/;
    expect([...parseFigures('nanobench x: 12 cycles/op\nnanobench y: n/a\n', re).entries()]).toEqual([['x', 12], ['y', null]]);
  });
});
