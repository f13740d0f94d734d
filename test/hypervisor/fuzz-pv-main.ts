// `npm run fuzz`: the model-based PV fuzzer (fuzz-pv-model.ts) at scale, outside `npm test`.
// Worker processes (two by default, one per core) each run batches of hosts with their own seeds until
// together they have made --hypercalls hypercalls or --time-limit seconds went by; then it prints
// hypercalls/s, the invariant checks made, the counts per hypercall and any failure (shrunk, with
// the seed that reproduces it). Exit status 1 if anything failed.

import { Command, InvalidArgumentError } from 'commander';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fork } from 'node:child_process';
import { standardHypercalls } from '../../hypervisor/pv/hypercalls.ts';
import { FuzzCounters, addCounters, countersToPlain, formatReport, runModelFuzz, type FuzzReport } from './fuzz-pv-model.ts';

interface Job {
  seed: number;
  worker: number;
  workers: number;
  hypercalls: number;
  deadline: number;
  runsPerBatch: number;
  commands: number;
  /** --runs: batches of this many hosts in all (0: until the hypercall target or the time limit) */
  runs: number;
}

interface Done {
  counters: Record<string, number | number[]>;
  failure: string | null;
  ms: number;
  /** the worker's CPU time (user + system) */
  cpuMs: number;
}

/** argv[2] of a worker process */
const WORKER = '--fuzz-worker';

/** One worker: batches of hosts, seeds seed + worker, seed + worker + workers, ... */
function work(job: Job): Done {
  const total = new FuzzCounters();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let failure: string | null = null;
  for (let b = 0; ; b++) {
    const seed = job.seed + job.worker + b * job.workers;
    const left = job.deadline - Date.now();
    if (left <= 0 || (job.runs > 0 && b * job.workers + job.worker >= job.runs)) break;
    if (job.runs === 0 && total.hypercalls >= job.hypercalls / job.workers) break;
    const r = runModelFuzz({ seed, runs: job.runsPerBatch, maxCommands: job.commands, timeLimitMs: left });
    addCounters(total, r.counters);
    if (r.failure !== null) {
      failure = `seed ${seed} (${job.runsPerBatch} runs of up to ${job.commands} commands):\n${r.failure}`;
      break;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { counters: countersToPlain(total), failure, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function positive(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number, not '${v}'`);
    return n;
  };
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run fuzz --')
    .description('Model-based fuzzing of the pv hypercall interface by colluding domains')
    .option('--seed <n>', 'first seed', positive('--seed'), 1)
    .option('--runs <n>', 'batches of hosts to run in all (0: until --hypercalls or --time-limit)', positive('--runs'), 0)
    .option('--hypercalls <n>', 'hypercalls to make in all', positive('--hypercalls'), 1_000_000)
    .option('--time-limit <s>', 'stop starting hosts after this many seconds', positive('--time-limit'), 600)
    .option('--commands <n>', 'commands per host at most', positive('--commands'), 1000)
    .option('--workers <n>', 'worker processes', positive('--workers'), Math.min(2, availableParallelism()))
    .showHelpAfterError();
  program.parse();
  const o = program.opts<{ seed: number; runs: number; hypercalls: number; timeLimit: number; commands: number; workers: number }>();
  const workers = Math.max(1, o.workers);
  const deadline = Date.now() + o.timeLimit * 1000;
  const t0 = performance.now();
  const jobs = Array.from({ length: workers }, (_, worker): Job => ({
    seed: o.seed, worker, workers, hypercalls: o.hypercalls, deadline, runsPerBatch: 10, commands: o.commands, runs: o.runs,
  }));
  const done = await Promise.all(jobs.map((job) => new Promise<Done>((resolve, reject) => {
    const w = fork(fileURLToPath(import.meta.url), [WORKER, JSON.stringify(job)], { execArgv: ['--import', 'tsx/esm'] });
    w.once('message', (m) => resolve(m as Done));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker ${job.worker} exited with status ${code}`));
    });
  })));
  const counters = new FuzzCounters();
  for (const d of done) addCounters(counters, d.counters);
  const failures = done.map((d) => d.failure).filter((f): f is string => f !== null);
  const report: FuzzReport = { counters, failure: failures[0] ?? null, ms: performance.now() - t0, cpuMs: done.reduce((n, d) => n + d.cpuMs, 0) };
  const table = standardHypercalls();
  process.stdout.write(`${formatReport(report, (nr) => table.name(nr))}\n`);
  if (failures.length > 1) process.stdout.write(`(and ${failures.length - 1} more failing worker(s))\n`);
  process.exitCode = failures.length > 0 ? 1 : 0;
}

if (process.argv[2] === WORKER) {
  process.send!(work(JSON.parse(process.argv[3]!) as Job), () => process.disconnect());
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  });
}
