// `compare --jobs N`: the comparison's untimed runs (every mode's suite, nanobenchmarks,
// netbench) and its traced boots spread over N worker threads (a piscina pool), then the warm-up
// lmbench runs and the timed ones one at a time, so wall-time figures are measured serially as in
// a serial compare (no other guest runs meanwhile; in the worker that ran the warm-ups). The
// report is built by the same assembleReport from the same runs: identical to the serial run's
// except the date and the wall times.
import { Piscina } from 'piscina';
import { assembleReport, compareJobs, jobSpec, runMetadata, timelineOptions, type CompareJob, type CompareOptions, type CompareReport } from './compare.ts';
import type { GuestRun, ModeName, ModeTimeline } from './runners.ts';
import type { CompareTask } from './compare-worker.ts';

/** Where the jobs run: a pool of worker threads, or (tests) anything that runs a task asynchronously. */
export interface CompareExecutor {
  run(task: CompareTask): Promise<GuestRun | ModeTimeline | null>;
  close(): Promise<void>;
}

/** A piscina pool of `threads` worker threads running bench/compare-worker.ts. */
export function workerPool(threads: number): CompareExecutor {
  const pool = new Piscina({ filename: new URL('./compare-worker-entry.mjs', import.meta.url).href, minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
  return {
    run: (task) => pool.run(task) as Promise<GuestRun | ModeTimeline | null>,
    close: () => pool.destroy(),
  };
}

/** The comparison with its untimed runs `jobs` at a time (see the file comment). */
export async function runCompareParallel(opts: CompareOptions, jobs: number, executor: CompareExecutor = workerPool(jobs)): Promise<CompareReport> {
  if (opts.runners !== undefined || opts.timeline !== undefined) throw new Error('compare --jobs: scripted runners cannot run in worker threads');
  try {
    const meta = runMetadata(opts.profile, opts.runs);
    const { untimed, timed } = compareJobs(opts);
    const total = untimed.length + timed.length;
    let done = 0;
    const run = async (job: CompareJob): Promise<GuestRun> => {
      const r = (await executor.run({ kind: 'run', mode: job.mode, spec: jobSpec(opts, job) })) as GuestRun;
      opts.onProgress?.(++done, total, job.what);
      return r;
    };
    const untimedRuns: GuestRun[] = new Array<GuestRun>(untimed.length);
    await Promise.all(untimed.map(async (job, k) => (job.warmUp === true ? undefined : (untimedRuns[k] = await run(job)))));
    const timelines = Promise.all(opts.modes.map((mode: ModeName) => executor.run({ kind: 'timeline', mode, options: timelineOptions(opts.profile) }) as Promise<ModeTimeline | null>));
    const ready = await timelines;
    // the warm-ups one at a time, as the timed runs go: a pool with every worker idle hands a task
    // to the same worker (piscina's default balancer takes the first idle one), so the timed runs
    // land where the warm-ups ran (spread over the pool with the other untimed runs, the first
    // timed runs of every mode took three to four times their later ones)
    for (let k = 0; k < untimed.length; k++) if (untimed[k]!.warmUp === true) untimedRuns[k] = await run(untimed[k]!);
    const timedRuns: GuestRun[] = [];
    for (const job of timed) timedRuns.push(await run(job));
    return assembleReport(opts, meta, { untimed, untimedRuns, timed, timedRuns, timelines: ready });
  } finally {
    await executor.close();
  }
}
