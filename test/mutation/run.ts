// npm run mutate [-- --minutes 60] [--files hypervisor/hvm/ept.ts,...] [--force]: Stryker over
// the isolation-critical files (stryker.config.mjs), one file per Stryker run so that each
// finished file's results are kept (its own incremental file and report), and the next run starts
// where this one stopped. The time cap is checked between files: a file still running when the
// cap passes is let finish (with a warning), since Stryker writes its report and incremental file
// only at the end of a run and a stopped run would lose them; no further file starts. Prints the
// mutation score per file and in all, from the JSON reports in reports/mutation/. Outside CI: it
// takes about an hour on two cores.
// Host code; runs child processes, writes only under reports/ and .stryker-tmp/.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ISOLATION_CRITICAL } from '../../stryker.config.mjs';
import { resultLogPath } from './result-log.mjs';

interface Options {
  minutes: number;
  files: string[];
  force: boolean;
  /** Stryker's test-runner processes (stryker.config.mjs says 2; 1 on a machine others share) */
  concurrency: number | null;
}

function usage(msg: string): never {
  process.stderr.write(`mutate: ${msg}\nusage: npm run mutate -- [--minutes N] [--files a.ts,b.ts] [--concurrency N] [--force]\n`);
  process.exit(2);
}

function parse(argv: string[]): Options {
  const o: Options = { minutes: 60, files: [...ISOLATION_CRITICAL], force: false, concurrency: null };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (a === '--force') o.force = true;
    else if (a === '--minutes') {
      const n = Number(argv[++k]);
      if (!Number.isFinite(n) || n <= 0) usage(`--minutes needs a positive number, not '${argv[k]}'`);
      o.minutes = n;
    } else if (a === '--concurrency') {
      const n = Number(argv[++k]);
      if (!Number.isInteger(n) || n <= 0) usage(`--concurrency needs a positive integer, not '${argv[k]}'`);
      o.concurrency = n;
    } else if (a === '--files') {
      const list = (argv[++k] ?? '').split(',').filter((f) => f !== '');
      for (const f of list) if (!existsSync(f)) usage(`no such file: ${f}`);
      if (list.length === 0) usage('--files needs a comma-separated list');
      o.files = list;
    } else usage(`unknown option '${a}'`);
  }
  return o;
}

const tag = (file: string): string => file.replace(/^.*\//, '').replace(/\.ts$/, '');

/** Run Stryker on one file; resolves true if it finished (its reports written). */
function strykerOne(file: string, force: boolean, concurrency: number | null): Promise<boolean> {
  return new Promise((resolve) => {
    const args = ['stryker', 'run', 'stryker.config.mjs'];
    if (force) args.push('--force');
    if (concurrency !== null) args.push('--concurrency', String(concurrency));
    const child = spawn('npx', args, { stdio: 'inherit', env: { ...process.env, XENOLITH_MUTATE_FILE: file } });
    child.on('error', () => resolve(false));
    child.on('exit', (code, signal) => resolve(signal === null && code === 0));
  });
}

/** The wall clock, or a test's */
export interface Clock {
  now(): number;
  /** call `fn` once at time `at` (at once if it has passed); returns the cancel */
  at(at: number, fn: () => void): () => void;
}

export const wallClock: Clock = {
  now: () => Date.now(),
  at(at, fn) {
    const t = setTimeout(fn, Math.max(0, at - Date.now()));
    return () => clearTimeout(t);
  },
};

export interface Outcome {
  /** Stryker finished them: reports and incremental files written */
  finished: string[];
  /** finished, but after the cap (let run to the end so their results are kept) */
  overran: string[];
  /** Stryker failed on them (an error, a failing dry run, a signal) */
  failed: string[];
  /** not started: the cap had passed */
  notStarted: string[];
}

/**
 * One file after another while the cap allows. A file running when the cap passes is never
 * stopped (a stopped Stryker run writes no report and no incremental file: its work would be
 * lost): `warn` says so, it finishes, and no other file starts.
 */
export async function runFiles(files: string[], deadline: number, run: (file: string) => Promise<boolean>, clock: Clock, warn: (msg: string) => void): Promise<Outcome> {
  const o: Outcome = { finished: [], overran: [], failed: [], notStarted: [] };
  for (const file of files) {
    if (clock.now() >= deadline) {
      o.notStarted.push(file);
      continue;
    }
    let capped = false;
    const cancel = clock.at(deadline, () => {
      capped = true;
      warn(`mutate: the time cap passed while ${file} runs; letting it finish so that its results are kept (no other file starts)`);
    });
    const ok = await run(file);
    cancel();
    if (!ok) o.failed.push(file);
    else {
      o.finished.push(file);
      if (capped) o.overran.push(file);
    }
  }
  if (o.notStarted.length > 0) warn(`mutate: not started (the time cap had passed): ${o.notStarted.join(', ')}`);
  return o;
}

interface Tally {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
}

/** Counts from a mutation-testing-report-schema JSON report. */
function tally(file: string): Tally | null {
  const path = `reports/mutation/${tag(file)}.json`;
  if (!existsSync(path)) return null;
  const report = JSON.parse(readFileSync(path, 'utf8')) as { files: Record<string, { mutants: { status: string }[] }> };
  const t: Tally = { killed: 0, timeout: 0, survived: 0, noCoverage: 0 };
  for (const f of Object.values(report.files)) {
    for (const m of f.mutants) {
      if (m.status === 'Killed') t.killed++;
      else if (m.status === 'Timeout') t.timeout++;
      else if (m.status === 'Survived') t.survived++;
      else if (m.status === 'NoCoverage') t.noCoverage++;
    }
  }
  return t;
}

/** Counts from result-log.mjs's log of a run that did not finish (null if it logged nothing). */
export function tallyLog(text: string): Tally | null {
  const t: Tally = { killed: 0, timeout: 0, survived: 0, noCoverage: 0 };
  let n = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const status = (JSON.parse(line) as { status: string }).status;
    n++;
    if (status === 'Killed') t.killed++;
    else if (status === 'Timeout') t.timeout++;
    else if (status === 'Survived') t.survived++;
    else if (status === 'NoCoverage') t.noCoverage++;
  }
  return n === 0 ? null : t;
}

const score = (t: Tally): string => {
  const all = t.killed + t.timeout + t.survived + t.noCoverage;
  return all === 0 ? '-' : `${((100 * (t.killed + t.timeout)) / all).toFixed(2)}%`;
};

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const deadline = Date.now() + o.minutes * 60_000;
  const out = await runFiles(o.files, deadline, (file) => strykerOne(file, o.force, o.concurrency), wallClock, (msg) => process.stderr.write(`${msg}\n`));
  const sum: Tally = { killed: 0, timeout: 0, survived: 0, noCoverage: 0 };
  process.stdout.write('\nfile                              killed timeout survived no-cover  score\n');
  for (const file of o.files) {
    const t = tally(file);
    if (!t || !out.finished.includes(file)) {
      const why = out.failed.includes(file) ? 'Stryker failed: see its output' : 'not started: the time cap had passed';
      process.stdout.write(`${file.padEnd(33)} (${why})\n`);
      const log = resultLogPath(file);
      const part = out.failed.includes(file) && existsSync(log) ? tallyLog(readFileSync(log, 'utf8')) : null;
      if (part) process.stdout.write(`${''.padEnd(33)} ${String(part.killed).padStart(6)} ${String(part.timeout).padStart(7)} ${String(part.survived).padStart(8)} ${String(part.noCoverage).padStart(8)} ${score(part).padStart(7)}  (so far: ${log})\n`);
      continue;
    }
    for (const k of Object.keys(sum) as (keyof Tally)[]) sum[k] += t[k];
    const late = out.overran.includes(file) ? '  (finished after the cap)' : '';
    process.stdout.write(`${file.padEnd(33)} ${String(t.killed).padStart(6)} ${String(t.timeout).padStart(7)} ${String(t.survived).padStart(8)} ${String(t.noCoverage).padStart(8)} ${score(t).padStart(7)}${late}\n`);
  }
  process.stdout.write(`${'all finished files'.padEnd(33)} ${String(sum.killed).padStart(6)} ${String(sum.timeout).padStart(7)} ${String(sum.survived).padStart(8)} ${String(sum.noCoverage).padStart(8)} ${score(sum).padStart(7)}\n`);
  if (out.failed.length > 0 || out.notStarted.length > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
