// The comparison's renderers consume a CompareReport and nothing else: a hand-made report (no guest
// runs) renders to exact text, Markdown, HTML and JSON, and a report read back from its JSON
// renders the same as the original.
import { describe, expect, it } from 'vitest';
import type { CompareReport } from '../../bench/compare.ts';
import { RENDERERS, renderJson, renderMarkdown, renderText } from '../../bench/compare-render.ts';
import { ZERO_COUNTERS } from '../../bench/runners.ts';

const REPORT: CompareReport = {
  meta: { date: '2026-01-02T03:04:05.000Z', commit: 'abc1234', profile: 'p4-2003', host: 'test host', node: 'v20.0.0', runs: 1 },
  profile: 'p4-2003',
  modes: ['native', 'trap'],
  matrix: [
    { test: 'getpid', results: { native: 'PASS', trap: 'PASS' }, observed: {}, notes: {} },
    { test: 'critical-sidt', results: { native: 'PASS', trap: 'FAIL' }, observed: { native: 1, trap: 0 }, notes: { trap: 'SIDT returns the real IDT base' } },
  ],
  lmbench: [{ name: 'null', unit: 'cycles/op', values: { native: 100, trap: 250 } }],
  nanobench: [{ name: 'syscall', unit: 'cycles/op', values: { native: 50, trap: null } }],
  summaries: (['native', 'trap'] as const).map((mode, k) => ({
    mode,
    suite: { ...ZERO_COUNTERS, cycles: 1000, instructions: 900, status: 0, stopped: 'poweroff' },
    lmbench: { ...ZERO_COUNTERS, traps: 7 * k, cycles: 2000 + k, instructions: 1500, wallMs: [12], wallMedianMs: 12 },
    nanobench: { ...ZERO_COUNTERS, cycles: 3000, instructions: 2500 },
  })),
  breakdown: [
    {
      name: 'null',
      ops: 4,
      modes: {
        native: { base: 120, cycles: 400, events: { 'INT n deliveries': { count: 4, unit: 70 } } },
        trap: { base: 120, cycles: 962, events: { 'INT n deliveries': { count: 4, unit: 70 }, 'monitor trap paths': { count: 5, unit: 104 }, 'returns from intercepts (IRET)': { count: 1, unit: 42 } } },
      },
    },
  ],
  unexplained: [],
};

describe('compare renderers (from a report, no run)', () => {
  it('text: the matrix with its notes, ratios to native, n/a, the counters', () => {
    const text = renderText(REPORT);
    expect(text.split('\n').slice(0, 2)).toEqual([
      'xenolith compare — CPU cost profile: p4-2003; modes: native, trap',
      '2026-01-02T03:04:05.000Z, commit abc1234, profile p4-2003, test host, Node v20.0.0, wall time: median of 1 run after a warm-up',
    ]);
    expect(text).toMatch(/^critical-sidt +PASS +FAIL +trap: SIDT returns the real IDT base$/m);
    expect(text).toMatch(/^null +100 +250 2\.50x$/m);
    expect(text).toMatch(/^syscall +50 +n\/a$/m);
    expect(text).toMatch(/^traps to the hypervisor +0 +7$/m);
    // the breakdown: per operation, events per operation in parentheses, kinds in the ledger's order
    expect(text).toContain('null (4 ops): cycles per operation by cause (events per operation in parentheses)');
    expect(text).toMatch(/^base: the instructions' own costs +30 +30$/m);
    expect(text).toMatch(/^INT n deliveries \(70 each\) +70 \(1\) +70 \(1\)$/m);
    expect(text).toMatch(/^returns from intercepts \(IRET\) \(42 each\) +10\.5 \(0\.25\)$/m);
    expect(text).toMatch(/^monitor trap paths \(104 each\) +130 \(1\.25\)$/m);
    expect(text).toMatch(/^total per operation +100 +240\.5$/m);
    expect(text).toMatch(/^timed region, cycles \(= base \+ events x cost\) +400 +962$/m);
    expect(text.endsWith('Every difference from native is explained.\n')).toBe(true);
  });

  it('Markdown: the same rows as table lines', () => {
    const md = renderMarkdown(REPORT);
    expect(md).toContain('| critical-sidt | PASS | FAIL | trap: SIDT returns the real IDT base |');
    expect(md).toContain('| null | 100 | 250 (2.50x) |');
    expect(md).toContain('| simulated cycles | 2000 | 2001 |');
    expect(md).toContain('### null (4 ops): cycles per operation by cause (events per operation in parentheses)');
    expect(md).toContain('| monitor trap paths (104 each) |  | 130 (1.25) |');
  });

  it('HTML: one bar per benchmark and mode with a figure, n/a for the missing one', () => {
    const html = RENDERERS.html(REPORT);
    const bars = [...html.matchAll(/<rect [^>]*><title>([^<]*)<\/title>/g)].map((m) => m[1]!);
    expect(bars).toEqual(['null, native: 100 cycles/op, 1.000 of native', 'null, trap: 250 cycles/op, 0.400 of native', 'syscall, native: 50 cycles/op, 1.000 of native']);
    expect(html).toMatch(/>n\/a<\/text>/);
    expect(html).toContain('<h3>null (4 ops): cycles per operation by cause (events per operation in parentheses)</h3>');
    expect(html).toContain('<tr><td>monitor trap paths (104 each)</td><td class="n"></td><td class="n">130 (1.25)</td></tr>');
  });

  it('a breakdown that does not add up says so beside the region\'s cycles', () => {
    const bad = structuredClone(REPORT);
    bad.breakdown![0]!.modes.trap!.cycles = 963;
    expect(renderText(bad)).toMatch(/^timed region, cycles \(= base \+ events x cost\) +400 +963 \(ledger: 962\)$/m);
  });

  it('the nanobenchmarks\' breakdown renders as its own section after lmbench\'s, in text, Markdown and HTML; none when absent', () => {
    const withNano: CompareReport = {
      ...REPORT,
      nanoBreakdown: [{ name: 'syscall', ops: 2, modes: { native: { base: 60, cycles: 100, events: { 'INT n deliveries': { count: 2, unit: 20 } } } } }],
    };
    const title = "Why each nanobenchmark costs what it does: the kernel's timed loop less its empty loop (syscall: the user-timed loop), by cause (machine/ledger.ts)";
    const text = renderText(withNano);
    expect(text.indexOf(title)).toBeGreaterThan(text.indexOf('null (4 ops): cycles per operation by cause'));
    expect(text).toContain('syscall (2 ops): cycles per operation by cause (events per operation in parentheses)');
    expect(text).toMatch(/^INT n deliveries \(20 each\) +20 \(1\) +n\/a$/m);
    expect(renderMarkdown(withNano)).toContain(`## ${title}`);
    expect(RENDERERS.html(withNano)).toContain('<h3>syscall (2 ops): cycles per operation by cause (events per operation in parentheses)</h3>');
    expect(renderText(REPORT)).not.toContain(title);
  });

  it('HTML: a timeline strip per kind of trace record and mode, shaded by count, with totals; none without timelines', () => {
    const zeros = () => [0, 0, 0, 0];
    const counts = { exit: [2, 0, 0, 1], trap: [2, 0, 0, 1], hypercall: zeros(), event: zeros(), interrupt: zeros(), switch: [1, 0, 0, 0] };
    const html = RENDERERS.html({ ...REPORT, timelines: [{ mode: 'trap', cmdline: 'true', cycles: 3_000_000, bins: 4, records: 7, dropped: 0, counts }] });
    expect(html).toContain('<h2>Timeline: the first 3000000 cycles of a boot (cmdline true), per hypervisor mode</h2>');
    // bin 0 of exits: the busiest (opacity 1), 150 px of labels, 600 px / 4 bins
    expect(html).toContain('<rect x="150.0" y="16" width="150.0" height="10" fill="#c0392b" fill-opacity="1.00"><title>trap exit: 2</title></rect>');
    expect(html).toContain('<rect x="600.0" y="16" width="150.0" height="10" fill="#c0392b" fill-opacity="0.57"><title>trap exit: 1</title></rect>');
    expect(html).toContain('<text x="758" y="26" fill="#555">3</text>');
    expect(html).not.toContain('trap hypercall:');
    expect(RENDERERS.html(REPORT)).not.toContain('Timeline');
  });

  it('network rows: ratios to native, n/a with the reason for a mode without a network, in every form; none without them', () => {
    const net: CompareReport = {
      ...REPORT,
      modes: ['native', 'trap', 'pv'],
      summaries: [...REPORT.summaries, { ...REPORT.summaries[1]!, mode: 'pv' }],
      network: [{ name: 'udp round trip, 64 bytes (us)', unit: 'us', values: { native: 10, trap: 25, pv: null } }],
      networkNotes: { pv: 'no netfront yet' },
    };
    const text = renderText(net);
    expect(text).toContain("\nNetwork, after the Xen paper's ttcp table: netbench against the peer simulated in the host, and (domain to domain) against udpecho in a second domain on a bridge (simulated time, exact; relative to native)\n");
    expect(text).toMatch(/^udp round trip, 64 bytes \(us\) +10 +25 2\.50x +n\/a\npv: n\/a, no netfront yet$/m);
    const md = renderMarkdown(net);
    expect(md).toContain('| udp round trip, 64 bytes (us) | 10 | 25 (2.50x) | n/a |\n\n- pv: n/a, no netfront yet\n');
    const html = RENDERERS.html(net);
    expect(html).toContain('<tr><td>udp round trip, 64 bytes (us)</td><td class="n">10</td><td class="n">25 (2.50x)</td><td class="n">n/a</td></tr>');
    expect(html).toContain('<p>pv: n/a, no netfront yet</p>');
    for (const format of ['text', 'md', 'html'] as const) expect(RENDERERS[format](REPORT)).not.toContain('ttcp');
  });

  it('JSON: the report itself; read back, every renderer gives the same output', () => {
    const json = renderJson(REPORT);
    const back = JSON.parse(json) as CompareReport;
    expect(back).toEqual(REPORT);
    for (const format of ['text', 'md', 'html', 'json'] as const) expect(RENDERERS[format](back)).toBe(RENDERERS[format](REPORT));
  });
});
