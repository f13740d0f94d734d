// Self time by symbol from Linux perf, for what V8's own sampling profiler does not show: the
// builtins (inline-cache misses, megamorphic calls, string compares) and the C++ runtime are
// symbols of their own here, where bench/profile-summary.ts's profiles fold them into the
// JavaScript function that called them. Reads `perf script` output of a process run with
// `node --perf-basic-prof` (which names JIT code: `JS:*f` optimized, `JS:^f` baseline, `JS:~f`
// interpreted), keeps the busiest thread's samples from the last part of the recording (the
// late runs of a bench/kernel-steady.ts process, after its first boots' compiles), and prints
// each symbol's share of them; with --callers SYMBOL, also the JavaScript functions nearest below
// it on the stack. (V8 also leaves its log, isolate-*-v8.log, in the working folder: .gitignore has it.)
//
//   perf record -F 1999 --call-graph=fp -o /tmp/bt.perf node --perf-basic-prof --import tsx/esm \
//     bench/kernel-steady.ts bt translator 0 24
//   perf script -i /tmp/bt.perf -F tid,time,ip,sym > /tmp/bt.txt
//   node --import tsx/esm bench/perf-summary.ts [--from 0.55] [--top 30] [--callers SYMBOL] /tmp/bt.txt
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface PerfSample {
  tid: number;
  time: number;
  /** innermost first */
  frames: string[];
}

/** The samples of `perf script -F tid,time,ip,sym` output (one header line, then a frame a line, a blank line between samples). */
export function parsePerfScript(text: string): PerfSample[] {
  const out: PerfSample[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    const head = /^\s*(\d+)\s+([\d.]+):/.exec(lines[0] ?? '');
    if (head === null) continue;
    const frames = lines.slice(1).map((l) => l.trim().replace(/^[0-9a-f]+\s+/, ''));
    out.push({ tid: Number(head[1]), time: Number(head[2]), frames });
  }
  return out;
}

/** A symbol without its script's address and position. */
function short(sym: string): string {
  return sym.replace(/ (file|node):\S*/g, '').replace(/ :\d+:\d+$/, '').trim();
}

/**
 * The busiest thread's samples from fraction `from` of its recording on: each symbol's share (in
 * percent, largest first), and with `callers`, the share of each JavaScript function nearest
 * below a frame whose symbol contains it.
 */
export function perfShares(samples: readonly PerfSample[], from: number, callers?: string): { samples: number; top: Array<[string, number]>; callers: Array<[string, number]> } {
  const byTid = new Map<number, number>();
  for (const s of samples) byTid.set(s.tid, (byTid.get(s.tid) ?? 0) + 1);
  let tid = -1;
  for (const [t, n] of byTid) if (tid < 0 || n > byTid.get(tid)!) tid = t;
  const mine = samples.filter((s) => s.tid === tid);
  if (mine.length === 0) return { samples: 0, top: [], callers: [] };
  const t0 = mine[0]!.time;
  const t1 = mine[mine.length - 1]!.time;
  const late = mine.filter((s) => s.time >= t0 + (t1 - t0) * from);
  const top = new Map<string, number>();
  const below = new Map<string, number>();
  for (const s of late) {
    const sym = short(s.frames[0] ?? '?');
    top.set(sym, (top.get(sym) ?? 0) + 1);
    if (callers !== undefined && (s.frames[0] ?? '').includes(callers)) {
      const js = s.frames.slice(1).find((f) => f.startsWith('JS:'));
      const k = js === undefined ? '?' : short(js);
      below.set(k, (below.get(k) ?? 0) + 1);
    }
  }
  const pct = (m: Map<string, number>): Array<[string, number]> => [...m].map(([k, n]): [string, number] => [k, (100 * n) / late.length]).sort((a, b) => b[1] - a[1]);
  return { samples: late.length, top: pct(top), callers: pct(below) };
}

function main(): void {
  const args = process.argv.slice(2);
  let from = 0.55;
  let top = 30;
  let callers: string | undefined;
  while (args.length > 1 && args[0]!.startsWith('--')) {
    const [flag, value] = args.splice(0, 2) as [string, string];
    if (flag === '--from') from = Number(value);
    else if (flag === '--top') top = Number(value);
    else if (flag === '--callers') callers = value;
    else args.unshift('?');
  }
  if (args.length !== 1 || !(from >= 0 && from < 1) || !(top >= 1)) {
    process.stderr.write('usage: node --import tsx/esm bench/perf-summary.ts [--from FRACTION] [--top N] [--callers SYMBOL] PERF_SCRIPT.txt\n');
    process.exit(2);
  }
  // a reader that stops early (`| head`) ends the output, not with a stack trace
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(0);
  });
  const r = perfShares(parsePerfScript(readFileSync(args[0]!, 'utf8')), from, callers);
  process.stdout.write(`${r.samples} samples of the busiest thread from ${Math.round(from * 100)}% of the recording on\n`);
  for (const [sym, p] of r.top.slice(0, top)) process.stdout.write(`${p.toFixed(2).padStart(7)}%  ${sym}\n`);
  if (callers !== undefined) {
    process.stdout.write(`nearest JavaScript function below ${callers}:\n`);
    for (const [sym, p] of r.callers.slice(0, top)) process.stdout.write(`${p.toFixed(2).padStart(7)}%  ${sym}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
