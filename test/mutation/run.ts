// npm run mutate [-- --minutes 60] [--files hypervisor/hvm/ept.ts,...] [--force]: Stryker over
// the isolation-critical files (stryker.config.mjs), one file per Stryker run so that each
// finished file's results are kept (its own incremental file) when the time cap stops the run,
// and the next run starts where this one stopped. Prints the mutation score per file and in all,
// from the JSON reports in reports/mutation/. Outside CI: it takes about an hour on two cores.
// Host code; runs child processes, writes only under reports/ and .stryker-tmp/.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { ISOLATION_CRITICAL } from '../../stryker.config.mjs';

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

/** Run Stryker on one file; resolves false if the time cap stopped it. */
function mutateOne(file: string, force: boolean, concurrency: number | null, deadline: number): Promise<boolean> {
  return new Promise((resolve) => {
    const args = ['stryker', 'run', 'stryker.config.mjs'];
    if (force) args.push('--force');
    if (concurrency !== null) args.push('--concurrency', String(concurrency));
    const child = spawn('npx', args, { stdio: 'inherit', env: { ...process.env, XENOLITH_MUTATE_FILE: file }, detached: true });
    const timer = setTimeout(() => {
      process.stderr.write(`mutate: the time cap stopped ${file}; its results so far are lost, the next run does it again\n`);
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }, Math.max(0, deadline - Date.now()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(signal === null && code === 0);
    });
  });
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

const score = (t: Tally): string => {
  const all = t.killed + t.timeout + t.survived + t.noCoverage;
  return all === 0 ? '-' : `${((100 * (t.killed + t.timeout)) / all).toFixed(2)}%`;
};

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const deadline = Date.now() + o.minutes * 60_000;
  const stopped: string[] = [];
  for (const file of o.files) {
    if (Date.now() >= deadline) {
      stopped.push(file);
      continue;
    }
    if (!(await mutateOne(file, o.force, o.concurrency, deadline))) stopped.push(file);
  }
  const sum: Tally = { killed: 0, timeout: 0, survived: 0, noCoverage: 0 };
  process.stdout.write('\nfile                              killed timeout survived no-cover  score\n');
  for (const file of o.files) {
    const t = tally(file);
    if (!t || stopped.includes(file)) {
      process.stdout.write(`${file.padEnd(33)} (not finished in this run)\n`);
      continue;
    }
    for (const k of Object.keys(sum) as (keyof Tally)[]) sum[k] += t[k];
    process.stdout.write(`${file.padEnd(33)} ${String(t.killed).padStart(6)} ${String(t.timeout).padStart(7)} ${String(t.survived).padStart(8)} ${String(t.noCoverage).padStart(8)} ${score(t).padStart(7)}\n`);
  }
  process.stdout.write(`${'all finished files'.padEnd(33)} ${String(sum.killed).padStart(6)} ${String(sum.timeout).padStart(7)} ${String(sum.survived).padStart(8)} ${String(sum.noCoverage).padStart(8)} ${score(sum).padStart(7)}\n`);
  if (stopped.length > 0) process.exitCode = 1;
}

void main();
