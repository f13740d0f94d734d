import { beforeAll, describe, expect, it } from 'vitest';
import { runCompare, parseSuite, parseFigures, type CompareReport } from '../../bench/compare.ts';
import { renderText, renderMarkdown, renderHtml } from '../../bench/compare-render.ts';

const CRITICAL = ['critical-rdcpl', 'critical-pushf', 'critical-popf', 'critical-sidt'];
const LMBENCH = ['null', 'fork', 'exec', 'ctx', 'pipe', 'pagefault', 'sbrk'];
const NANO = ['irq-save-restore', 'pte-update', 'address-space-switch', 'port-read', 'cr4-write', 'divide-fault', 'syscall'];

let report: CompareReport;
const progress: string[] = [];

// Twenty guest runs: about 30 s on an idle 2-core machine; the hook gets room for a loaded one.
beforeAll(() => {
  report = runCompare({ modes: ['native', 'trap', 'bt', 'hvm', 'pv'], profile: 'p4-2003', runs: 1, maxCycles: 20_000_000_000, onProgress: (_d, _t, what) => progress.push(what) });
}, 240_000);

describe('xenolith compare (native, trap, bt, hvm, pv)', () => {
  it('warms every mode up before any timed run, then times lmbench round the modes', () => {
    const warm = (m: string) => [`${m}: usertests`, `${m}: nanobench`, `${m}: lmbench all (warm-up)`];
    expect(progress).toEqual([...['native', 'trap', 'bt', 'hvm', 'pv'].flatMap(warm), ...['native', 'trap', 'bt', 'hvm', 'pv'].map((m) => `${m}: lmbench all (1/1)`)]);
  });

  it('carries the run metadata: date, commit, profile, host, Node version, runs', () => {
    expect(Object.keys(report.meta)).toEqual(['date', 'commit', 'profile', 'host', 'node', 'runs']);
    expect(report.meta).toMatchObject({ profile: 'p4-2003', node: process.version, runs: 1 });
    expect(report.meta.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(report.meta.commit).toMatch(/^([0-9a-f]{7,}(\+dirty)?|unknown)$/);
    expect(report.meta.host).toMatch(/, \d+ cores, \w+ \w+$/);
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
    expect(trap!.lmbench.wallMs).toHaveLength(1);
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

  it('renders text and Markdown tables from the same data', () => {
    const text = renderText(report);
    expect(text).toContain('Every difference from native is explained.');
    expect(text).toMatch(/^critical-sidt +PASS +FAIL +PASS +PASS +PASS  trap: SIDT returns the real IDT base/m);
    const fork = report.lmbench.find((r) => r.name === 'fork')!.values;
    expect(text).toMatch(new RegExp(`^fork +${fork.native} +${fork.trap} ${(fork.trap! / fork.native!).toFixed(2)}x +`, 'm'));
    const md = renderMarkdown(report);
    expect(md).toContain('| test | native | trap | bt | hvm | pv | notes |');
    expect(md).toContain('| critical-sidt | PASS | FAIL | PASS | PASS | PASS | trap: SIDT returns the real IDT base');
    expect(md).toContain(`Run: ${report.meta.date}, commit ${report.meta.commit}, profile p4-2003, `);
  });

  it('renders self-contained HTML from the data: a bar per benchmark (lmbench and nano) and mode, n/a where a mode lacks one, the metadata', () => {
    const html = renderHtml(report);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toContain('<script');
    const bars = [...html.matchAll(/<rect [^>]*fill="#(?:4c72b0|dd8452|937860|8172b3|55a868)"><title>([^<]*)<\/title>/g)].map((m) => m[1]!);
    // pv has no cr4-write (it is a hypercall's job there): no bar, an n/a label
    expect(bars).toHaveLength((LMBENCH.length + NANO.length) * 5 - 1);
    const fork = report.lmbench.find((r) => r.name === 'fork')!.values;
    expect(bars).toContain(`fork, trap: ${fork.trap} cycles/op, ${(fork.native! / fork.trap!).toFixed(3)} of native`);
    expect(bars.filter((b) => b.startsWith('cr4-write, '))).toHaveLength(4);
    expect(html).toMatch(/>n\/a<\/text>/);
    expect(html).toContain(`<td>${report.meta.date}</td><td>${report.meta.commit}</td><td>p4-2003</td>`);
    expect(html).toContain('<td>critical-sidt</td><td>PASS</td><td>FAIL</td>');
  });
});

describe('parsing guest output', () => {
  it('reads PASS/FAIL lines and "name: N cycles/op" figures, with n/a as null', () => {
    expect([...parseSuite('PASS a\nFAIL b: why (got 1)\nnoise\n').entries()]).toEqual([['a', 'PASS'], ['b', 'FAIL']]);
    const re = /^nanobench (\S+): (?:(\d+) cycles\/op|(n\/a))/;
    expect([...parseFigures('nanobench x: 12 cycles/op\nnanobench y: n/a\n', re).entries()]).toEqual([['x', 12], ['y', null]]);
  });
});
