// The comparison's renderers: a CompareReport (bench/compare.ts's data, from a run or from a
// saved JSON report) as terminal text, Markdown, a self-contained HTML page or JSON. Pure
// functions of the report: they run nothing and read nothing else.

import type { Counters, ModeName } from './runners.ts';
import type { BenchRow, BreakdownRow, CompareReport, RunMeta } from './compare.ts';
import type { LedgerSnapshot } from '../machine/ledger.ts';
import { textTable } from './text-table.ts';
import { EV_NAMES, ledgerTotal } from '../machine/ledger.ts';

function rel(value: number | null | undefined, native: number | null | undefined): string {
  if (value == null || native == null || native === 0) return '';
  return `${(value / native).toFixed(2)}x`;
}

const COUNTER_LABELS: [keyof Counters, string][] = [
  ['traps', 'traps to the hypervisor'],
  ['hypercalls', 'hypercalls'],
  ['ioExits', 'I/O exits'],
  ['shadowHidden', 'shadow faults (hidden)'],
  ['shadowTrue', 'shadow faults (true, reflected)'],
  ['interrupts', 'interrupts/events delivered'],
];


/** A benchmark row's cells per mode: native's figure, the others' with their ratio to it. */
function benchCells(row: BenchRow, modes: readonly ModeName[], ratio: (v: number, native: number | null | undefined) => string): string[] {
  return modes.map((m) => {
    const v = row.values[m];
    return v == null ? 'n/a' : m === 'native' ? String(v) : `${v} ${ratio(v, row.values.native)}`.trimEnd();
  });
}

/** The counters table: [label, value per mode] rows, from one lmbench run (wall time: median). */
function counterRows(r: CompareReport): string[][] {
  const s = (m: ModeName) => r.summaries.find((x) => x.mode === m)!;
  return [
    ['simulated cycles', ...r.modes.map((m) => String(s(m).lmbench.cycles))],
    ['guest instructions', ...r.modes.map((m) => String(s(m).lmbench.instructions))],
    ...COUNTER_LABELS.map(([key, label]) => [label, ...r.modes.map((m) => String(s(m).lmbench[key]))]),
    [`wall time, ms (median of ${r.meta.runs})`, ...r.modes.map((m) => s(m).lmbench.wallMedianMs.toFixed(0))],
  ];
}

/** A per-operation figure: at most `digits` decimals (two significant digits below 1), trailing zeros dropped. */
function perOp(x: number, digits: number): string {
  return String(Number(x !== 0 && Math.abs(x) < 1 ? x.toPrecision(2) : x.toFixed(digits)));
}

/** Title of one row's breakdown table. */
function breakdownTitle(b: BreakdownRow): string {
  return `${b.name} (${b.ops} ops): cycles per operation by cause (events per operation in parentheses)`;
}

/**
 * One lmbench row's breakdown as [cause, cell per mode] rows: base (the instructions' own
 * costs), each kind of event with its unit cost (kinds no mode had are left out), the total per
 * operation, and the timed region's exact cycles, which base + events x costs equal exactly.
 */
function breakdownRows(b: BreakdownRow, modes: readonly ModeName[]): string[][] {
  const units = new Map<string, number>();
  for (const m of modes) for (const [name, e] of Object.entries(b.modes[m]?.events ?? {})) units.set(name, e.unit);
  const kinds = EV_NAMES.filter((n) => units.has(n));
  const cell = (m: ModeName, f: (s: LedgerSnapshot) => string) => (b.modes[m] ? f(b.modes[m]!) : 'n/a');
  return [
    ['base: the instructions\' own costs', ...modes.map((m) => cell(m, (s) => perOp(s.base / b.ops, 1)))],
    ...kinds.map((k) => [
      `${k} (${units.get(k)} each)`,
      ...modes.map((m) =>
        cell(m, (s) => {
          const e = s.events[k];
          return e ? `${perOp((e.count * e.unit) / b.ops, 1)} (${perOp(e.count / b.ops, 2)})` : '';
        }),
      ),
    ]),
    ['total per operation', ...modes.map((m) => cell(m, (s) => perOp(s.cycles / b.ops, 1)))],
    ['timed region, cycles (= base + events x cost)', ...modes.map((m) => cell(m, (s) => (ledgerTotal(s) === s.cycles ? String(s.cycles) : `${s.cycles} (ledger: ${ledgerTotal(s)})`)))],
  ];
}

const BREAKDOWN_TITLE = 'Why each lmbench row costs what it does: the timed region\'s cycles by cause (machine/ledger.ts)';
const NANO_BREAKDOWN_TITLE =
  'Why each nanobenchmark costs what it does: the kernel\'s timed loop less its empty loop (syscall: the user-timed loop), by cause (machine/ledger.ts)';

/** The report's breakdown sections: lmbench's, then the nanobenchmarks' (each absent from reports saved before it). */
function breakdownSections(r: CompareReport): { title: string; rows: BreakdownRow[] }[] {
  return [
    { title: BREAKDOWN_TITLE, rows: r.breakdown ?? [] },
    { title: NANO_BREAKDOWN_TITLE, rows: r.nanoBreakdown ?? [] },
  ].filter((s) => s.rows.length > 0);
}

const NETWORK_TITLE = 'Network, after the Xen paper\'s ttcp table: netbench against the peer simulated in the host, and (domain to domain) against udpecho in a second domain on a bridge (simulated time, exact; relative to native)';

/** The network rows' cells ([] for a report without them) and the notes on modes without a network. */
function networkTable(r: CompareReport, ratio: (v: number, native: number | null | undefined) => string): { rows: string[][]; notes: string[] } {
  const rows = (r.network ?? []).map((row) => [row.name, ...benchCells(row, r.modes, ratio)]);
  const notes = Object.entries(r.networkNotes ?? {}).map(([m, why]) => `${m}: n/a, ${why}`);
  return { rows, notes };
}

const BENCH_TITLES = {
  lmbench: 'lmbench-style benchmarks (simulated cycles per operation, exact; relative to native)',
  nanobench: 'Nanobenchmarks (cycles per operation, after Adams & Agesen, ASPLOS 2006)',
} as const;

function metaLine(m: RunMeta): string {
  return `${m.date}, commit ${m.commit}, profile ${m.profile}, ${m.host}, Node ${m.node}, wall time: median of ${m.runs} run${m.runs === 1 ? '' : 's'} after a warm-up`;
}

/** Plain-text tables for the terminal. */
/** The title of the several-CPU matrix, and its rows as cells (test, a result per mode, notes). */
function smpTitle(r: CompareReport): string {
  return `Equivalence matrix on ${r.smp!.cpus} CPUs (usertests; native's ${r.smp!.cpus} CPUs are the reference; ${r.smp!.modes.filter((m) => m !== 'native').join(', ')}: ${r.smp!.cpus} vCPUs, seed 1${r.smp!.ple ? '; hvm with pause-loop exiting' : ''})`;
}
function smpCells(r: CompareReport): string[][] {
  const s = r.smp!;
  return s.matrix.map((row) => [row.test, ...s.modes.map((m) => String(row.results[m])), Object.entries(row.notes).map(([m, n]) => `${m}: ${n}`).join('; ')]);
}

export function renderText(r: CompareReport): string {
  const modes = r.modes;
  const out: string[] = [`xenolith compare — CPU cost profile: ${r.profile}; modes: ${modes.join(', ')}`, metaLine(r.meta), ''];
  out.push('Equivalence matrix (guest test suite; native is the reference)');
  out.push(
    textTable(
      ['test', ...modes, 'notes'],
      r.matrix.map((row) => [row.test, ...modes.map((m) => String(row.results[m])), Object.entries(row.notes).map(([m, n]) => `${m}: ${n}`).join('; ')]),
      ['left', ...modes.map(() => 'right' as const), 'left'],
    ),
  );
  if (r.smp) out.push('', smpTitle(r), textTable(['test', ...r.smp.modes, 'notes'], smpCells(r), ['left', ...r.smp.modes.map(() => 'right' as const), 'left']));
  for (const which of ['lmbench', 'nanobench'] as const) {
    out.push('', BENCH_TITLES[which], textTable(['benchmark', ...modes], r[which].map((row) => [row.name, ...benchCells(row, modes, rel)])));
  }
  const net = networkTable(r, rel);
  if (net.rows.length > 0) out.push('', NETWORK_TITLE, textTable(['benchmark', ...modes], net.rows), ...net.notes);
  for (const sec of breakdownSections(r)) {
    out.push('', sec.title);
    for (const b of sec.rows) out.push('', breakdownTitle(b), textTable(['cause', ...modes], breakdownRows(b, modes)));
  }
  out.push('', 'Per-mode counts behind the figures (one lmbench run), and wall time', textTable(['counter', ...modes], counterRows(r)));
  out.push('', r.unexplained.length === 0 ? 'Every difference from native is explained.' : `UNEXPLAINED differences:\n  ${r.unexplained.join('\n  ')}`);
  return `${out.join('\n')}\n`;
}

/** GitHub-flavoured Markdown. */
export function renderMarkdown(r: CompareReport): string {
  const modes = r.modes;
  const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const out: string[] = [`# xenolith compare`, '', `CPU cost profile: **${r.profile}**. Modes: ${modes.join(', ')}.`, '', `Run: ${metaLine(r.meta)}.`, ''];
  out.push('## Equivalence matrix', '', row(['test', ...modes, 'notes']), `|---|${modes.map(() => '---').join('|')}|---|`);
  for (const m of r.matrix) out.push(row([m.test, ...modes.map((x) => String(m.results[x])), Object.entries(m.notes).map(([x, n]) => `${x}: ${n}`).join('; ')]));
  if (r.smp) {
    out.push('', `## ${smpTitle(r)}`, '', row(['test', ...r.smp.modes, 'notes']), `|---|${r.smp.modes.map(() => '---').join('|')}|---|`);
    for (const cells of smpCells(r)) out.push(row(cells));
  }
  for (const which of ['lmbench', 'nanobench'] as const) {
    out.push('', `## ${BENCH_TITLES[which]}`, '', row(['benchmark', ...modes]), `|---|${modes.map(() => '---:').join('|')}|`);
    for (const b of r[which]) out.push(row([b.name, ...benchCells(b, modes, (v, n) => (rel(v, n) ? `(${rel(v, n)})` : ''))]));
  }
  const net = networkTable(r, (v, n) => (rel(v, n) ? `(${rel(v, n)})` : ''));
  if (net.rows.length > 0) {
    out.push('', `## ${NETWORK_TITLE}`, '', row(['benchmark', ...modes]), `|---|${modes.map(() => '---:').join('|')}|`);
    for (const c of net.rows) out.push(row(c));
    if (net.notes.length > 0) out.push('', ...net.notes.map((n) => `- ${n}`));
  }
  for (const sec of breakdownSections(r)) {
    out.push('', `## ${sec.title}`);
    for (const b of sec.rows) {
      out.push('', `### ${breakdownTitle(b)}`, '', row(['cause', ...modes]), `|---|${modes.map(() => '---:').join('|')}|`);
      for (const c of breakdownRows(b, modes)) out.push(row(c));
    }
  }
  out.push('', '## Counts behind the figures (one lmbench run)', '', row(['counter', ...modes]), `|---|${modes.map(() => '---:').join('|')}|`);
  for (const c of counterRows(r)) out.push(row(c));
  out.push('', r.unexplained.length === 0 ? 'Every difference from native is explained.' : `**Unexplained differences:** ${r.unexplained.join('; ')}`, '');
  return out.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const MODE_COLOURS: Record<string, string> = { native: '#4c72b0', trap: '#dd8452', bt: '#937860', hvm: '#8172b3', pv: '#55a868' };

function htmlTable(head: readonly string[], rows: readonly (readonly string[])[], numeric: (col: number) => boolean): string {
  const th = head.map((h, c) => `<th${numeric(c) ? ' class="n"' : ''}>${esc(h)}</th>`).join('');
  const body = rows.map((cells) => `<tr>${cells.map((x, c) => `<td${numeric(c) ? ' class="n"' : ''}>${esc(x)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * The relative-performance chart, after the Xen paper's figure (Barham et al., SOSP 2003,
 * Fig. 3): one group of bars per benchmark, lmbench-style then nanobenchmarks, native = 1.0,
 * higher is better — the score is native cycles / mode cycles. Scores above the axis's top are
 * drawn to the top with their value printed; a mode without the benchmark gets "n/a".
 */
function chartSvg(r: CompareReport): string {
  const modes = r.modes;
  const sections = (['lmbench', 'nanobench'] as const).map((which) => ({ which, rows: r[which].filter((row) => row.values.native) }));
  const scores = sections.flatMap((s) => s.rows.flatMap((row) => modes.map((m) => (row.values[m] ? row.values.native! / row.values[m]! : 0))));
  const top = Math.min(2.5, Math.max(1.25, Math.ceil(Math.max(...scores, 1) * 4) / 4));
  const barW = 16;
  const groupGap = 14;
  const groupW = modes.length * barW + groupGap;
  const sectionGap = 30;
  const left = 44;
  const plotTop = 44;
  const plotH = 240;
  // rotated benchmark names under the axis: about 6 px per character at 11 px, at 40 degrees
  const longest = Math.max(...sections.flatMap((s) => s.rows.map((row) => row.name.length)));
  const labelSpace = Math.ceil(longest * 6.2 * Math.sin((40 * Math.PI) / 180)) + 22;
  const y = (score: number) => plotTop + plotH - (Math.min(score, top) / top) * plotH;
  const parts: string[] = [];
  let x = left + 8;
  for (const { which, rows } of sections) {
    const x0 = x;
    for (const row of rows) {
      modes.forEach((m, k) => {
        const v = row.values[m];
        const bx = x + k * barW;
        if (!v) {
          parts.push(`<text x="${bx + barW / 2}" y="${plotTop + plotH - 4}" class="v" transform="rotate(-90 ${bx + barW / 2} ${plotTop + plotH - 4})">n/a</text>`);
          return;
        }
        const score = row.values.native! / v;
        const by = y(score);
        parts.push(`<rect x="${bx}" y="${by.toFixed(1)}" width="${barW - 2}" height="${(plotTop + plotH - by).toFixed(1)}" fill="${MODE_COLOURS[m] ?? '#999'}"><title>${esc(`${row.name}, ${m}: ${v} cycles/op, ${score.toFixed(3)} of native`)}</title></rect>`);
        // value labels stand vertically above their bar, so neighbours never overlap
        const ly = Math.max(by - 3, plotTop + 26);
        parts.push(`<text x="${bx + barW / 2 + 3}" y="${ly.toFixed(1)}" class="v" transform="rotate(-90 ${bx + barW / 2 + 3} ${ly.toFixed(1)})">${score >= 10 ? score.toFixed(0) : score.toFixed(2)}</text>`);
      });
      const cx = x + (modes.length * barW) / 2;
      parts.push(`<text x="${cx}" y="${plotTop + plotH + 12}" class="b" transform="rotate(-40 ${cx} ${plotTop + plotH + 12})">${esc(row.name)}</text>`);
      x += groupW;
    }
    parts.push(`<text x="${x0}" y="${plotTop - 8}" class="s">${which === 'lmbench' ? 'lmbench-style' : 'nanobenchmarks'}</text>`);
    x += sectionGap;
  }
  const width = x - sectionGap + 10;
  const ticks: string[] = [];
  for (let t = 0; t <= top + 1e-9; t += 0.25) {
    ticks.push(`<line x1="${left}" x2="${width}" y1="${y(t)}" y2="${y(t)}" stroke="${Math.abs(t - 1) < 1e-9 ? '#888' : '#e4e4e4'}"/><text x="${left - 5}" y="${y(t) + 3}" class="t">${t.toFixed(2)}</text>`);
  }
  const legend = modes.map((m, k) => `<rect x="${left + k * 80}" y="2" width="12" height="12" fill="${MODE_COLOURS[m] ?? '#999'}"/><text x="${left + k * 80 + 16}" y="12" class="l">${esc(m)}</text>`);
  const height = plotTop + plotH + labelSpace;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="relative performance, native = 1.0">
<style>text{font-family:system-ui,sans-serif;fill:#222}.v{font-size:9px}.b{font-size:11px;text-anchor:end}.s{font-size:12px;font-weight:600}.t{font-size:10px;text-anchor:end}.l{font-size:11px}</style>
${ticks.join('')}
${parts.join('\n')}
${legend.join('')}
</svg>`;
}

const TIMELINE_COLORS: Record<string, string> = { exit: '#c0392b', trap: '#d68910', hypercall: '#2471a3', event: '#229954', interrupt: '#8e44ad', switch: '#7f8c8d' };

/**
 * The timelines: for each hypervisor mode, a strip per kind of record (exits, traps, hypercalls,
 * events, interrupts, switches) over the traced stretch, each slice's shade its count against the
 * busiest slice of that kind in any mode, with the kind's total. Empty for reports without them.
 */
function timelineHtml(r: CompareReport): string {
  const ts = r.timelines ?? [];
  if (ts.length === 0) return '';
  const kinds = Object.keys(TIMELINE_COLORS);
  const first = ts[0]!;
  const rowH = 12;
  const labelW = 150;
  const totalW = 130;
  const barW = 600;
  const blocks: string[] = [];
  let y = 0;
  const max: Record<string, number> = {};
  for (const k of kinds) max[k] = Math.max(1, ...ts.flatMap((t) => t.counts[k as keyof typeof t.counts] ?? []));
  for (const t of ts) {
    blocks.push(`<text x="0" y="${y + 11}" font-weight="600">${esc(t.mode)}${t.dropped > 0 ? ` (${t.dropped} dropped)` : ''}</text>`);
    y += 16;
    for (const k of kinds) {
      const counts = t.counts[k as keyof typeof t.counts] ?? [];
      const total = counts.reduce((a, b) => a + b, 0);
      blocks.push(`<text x="12" y="${y + 10}" fill="#555">${k}</text>`);
      counts.forEach((n, b) => {
        if (n === 0) return;
        const x = labelW + (barW * b) / t.bins;
        const op = (0.15 + (0.85 * n) / max[k]!).toFixed(2);
        blocks.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${(barW / t.bins).toFixed(1)}" height="${rowH - 2}" fill="${TIMELINE_COLORS[k]}" fill-opacity="${op}"><title>${esc(t.mode)} ${k}: ${n}</title></rect>`);
      });
      blocks.push(`<text x="${labelW + barW + 8}" y="${y + 10}" fill="#555">${total}</text>`);
      y += rowH;
    }
    y += 8;
  }
  return `<h2>Timeline: the first ${esc(String(first.cycles))} cycles of a boot (cmdline ${esc(first.cmdline)}), per hypervisor mode</h2>
<p>Each strip is one kind of trace record (xenolith run --trace) in ${first.bins} slices of time; the darker, the more records in the slice; the figure on the right is the total. Native has no hypervisor to trace.</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + totalW}" height="${y + 4}" viewBox="0 0 ${labelW + barW + totalW} ${y + 4}" font-family="system-ui,sans-serif" font-size="11" role="img" aria-label="trace records per kind and mode over time">
<rect x="${labelW}" y="0" width="${barW}" height="${y}" fill="none"/>
${blocks.join('\n')}
</svg>`;
}

/** A self-contained HTML report, rendered from the report's data (no scripts, no external files). */
export function renderHtml(r: CompareReport): string {
  const modes = r.modes;
  const isNum = (first: number) => (c: number) => c >= first && c < first + modes.length;
  const matrix = htmlTable(
    ['test', ...modes, 'notes'],
    r.matrix.map((row) => [row.test, ...modes.map((m) => String(row.results[m])), Object.entries(row.notes).map(([m, n]) => `${m}: ${n}`).join('; ')]),
    () => false,
  );
  const bench = (which: 'lmbench' | 'nanobench') =>
    htmlTable(['benchmark', ...modes], r[which].map((row) => [row.name, ...benchCells(row, modes, (v, n) => (rel(v, n) ? `(${rel(v, n)})` : ''))]), isNum(1));
  const net = networkTable(r, (v, n) => (rel(v, n) ? `(${rel(v, n)})` : ''));
  const network =
    net.rows.length > 0
      ? `<h2>${esc(NETWORK_TITLE)}</h2>\n${htmlTable(['benchmark', ...modes], net.rows, isNum(1))}\n${net.notes.map((n) => `<p>${esc(n)}</p>`).join('\n')}${net.notes.length > 0 ? '\n' : ''}`
      : '';
  const m = r.meta;
  const meta = htmlTable(
    ['date', 'commit', 'profile', 'host', 'Node', 'runs'],
    [[m.date, m.commit, m.profile, m.host, m.node, `${m.runs} timed lmbench run${m.runs === 1 ? '' : 's'} per mode, after a warm-up`]],
    () => false,
  );
  const verdict = r.unexplained.length === 0 ? 'Every difference from native is explained.' : `Unexplained differences: ${r.unexplained.join('; ')}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xenolith compare (${esc(r.profile)})</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222}
h1{margin:0 0 .3em}h2{margin:1.4em 0 .4em;font-size:1.15em}
table{border-collapse:collapse;margin:.3em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td:first-child{white-space:nowrap}
p.verdict{font-weight:600}
svg{max-width:100%;height:auto;display:block}
</style>
</head><body>
<h1>xenolith compare</h1>
${meta}
<h2>Relative performance (native = 1.0, higher is better)</h2>
${chartSvg(r)}
<p class="verdict">${esc(verdict)}</p>
<h2>Equivalence matrix (guest test suite; native is the reference)</h2>
${matrix}
${r.smp ? `<h2>${esc(smpTitle(r))}</h2>\n${htmlTable(['test', ...r.smp.modes, 'notes'], smpCells(r), () => false)}\n` : ''}<h2>${esc(BENCH_TITLES.lmbench)}</h2>
${bench('lmbench')}
<h2>${esc(BENCH_TITLES.nanobench)}</h2>
${bench('nanobench')}
${network}${breakdownSections(r).map((sec) => `<h2>${esc(sec.title)}</h2>\n${sec.rows.map((b) => `<h3>${esc(breakdownTitle(b))}</h3>\n${htmlTable(['cause', ...modes], breakdownRows(b, modes), isNum(1))}`).join('\n')}\n`).join('')}<h2>Counts behind the figures (one lmbench run), and wall time</h2>
${htmlTable(['counter', ...modes], counterRows(r), isNum(1))}
${timelineHtml(r)}
</body></html>
`;
}

/** The report itself, as JSON (what --json prints; a saved report renders again with the others). */
export function renderJson(r: CompareReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** The forms a report renders to. */
export type ReportFormat = 'text' | 'md' | 'html' | 'json';

/** Every renderer, by format. */
export const RENDERERS: Record<ReportFormat, (r: CompareReport) => string> = {
  text: renderText,
  md: renderMarkdown,
  html: renderHtml,
  json: renderJson,
};
