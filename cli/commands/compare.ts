// `xenolith compare`: the same guest test suite and benchmarks under every available mode,
// side by side (equivalence matrix, lmbench-style table, nanobenchmarks), as text, JSON,
// Markdown or a self-contained HTML report. A progress bar on stderr while it runs. The run
// (bench/compare.ts) produces the report's data; bench/compare-render.ts renders it.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../errors.ts';
import { MAX_CPUS } from '../../machine/machine.ts';
import { compareOptionsSchema, DEFAULT_COMPARE_RUNS, engineOption, parseOptions, PROFILE_OPTION } from '../options.ts';

interface CompareOpts {
  modes?: string;
  profile: string;
  engine: string;
  runs: string;
  jobs: string;
  json?: boolean;
  md?: boolean;
  html?: string;
  maxCycles: string;
  progress: boolean;
  smp?: string;
  ple?: boolean;
}

export function register(program: Command): void {
  program
    .command('compare')
    .description('run the guest test suite and benchmarks under every mode and compare them with native')
    .option('--modes <list>', 'comma-separated modes (default: every mode this build has)')
    .option(...PROFILE_OPTION)
    .addOption(engineOption())
    .option('--runs <n>', 'wall-clock runs per benchmark (median reported; an untimed warm-up run also checks that simulated results do not vary)', String(DEFAULT_COMPARE_RUNS))
    .option('--jobs <n>', 'worker threads for the untimed runs (the timed ones still run one at a time); the report is the serial run\'s', '1')
    .option('--json', 'print the report as JSON')
    .option('--md', 'print the report as Markdown')
    .option('--html <file>', 'also write an HTML report with a relative-performance chart')
    .option('--max-cycles <n>', 'cycle limit per guest run', '50000000000')
    .option('--smp <n>', 'also run the guest test suite with N CPUs (2..8) in every mode that has them (native, trap, bt, hvm and pv up to 4: vCPUs, seed 1): a second equivalence matrix, against native on N CPUs')
    .option('--ple', 'with --smp: hvm runs its suite on N vCPUs with pause-loop exiting (as run --ple: KVM\'s PLE_Gap 128 and PLE_Window 4096 cycles), the remedy for lock-holder preemption it has in hardware')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: CompareOpts) => {
      const checked = parseOptions(compareOptionsSchema, { profile: opts.profile, engine: opts.engine, runs: opts.runs, jobs: opts.jobs, maxCycles: opts.maxCycles, modes: opts.modes });
      const { AVAILABLE_MODES } = await import('../../bench/runners.ts');
      const { runCompare, benchRuns } = await import('../../bench/compare.ts');
      const { RENDERERS } = await import('../../bench/compare-render.ts');
      const modes = checked.modes ?? [...AVAILABLE_MODES];
      for (const m of modes) {
        if (!(AVAILABLE_MODES as string[]).includes(m)) throw new CliError(`mode "${m}" is not available (this build has ${AVAILABLE_MODES.join(', ')})`);
      }
      if (!modes.includes('native')) modes.unshift('native');
      const { runs, maxCycles } = checked;
      let smp: number | undefined;
      if (opts.smp !== undefined) {
        smp = Number(opts.smp);
        if (!/^[0-9]+$/.test(opts.smp) || smp < 2 || smp > MAX_CPUS) throw new CliError(`--smp must be a whole number from 2 to ${MAX_CPUS} (got '${opts.smp}')`);
      }
      if (opts.ple && smp === undefined) throw new CliError('--ple turns on pause-loop exiting for hvm\'s suite on several vCPUs; it needs --smp N');
      if (opts.ple && !modes.includes('hvm')) throw new CliError(`--ple applies to hvm, which --modes leaves out (${modes.join(', ')})`);

      let bar: { start(total: number, value: number, payload: object): void; update(value: number, payload: object): void; stop(): void } | undefined;
      if (opts.progress && process.stderr.isTTY) {
        const { default: cliProgress } = await import('cli-progress');
        bar = new cliProgress.SingleBar(
          { format: 'compare [{bar}] {value}/{total} {what}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
      }
      bar?.start(modes.length * (2 + benchRuns(runs)), 0, { what: 'building the guests' });
      const compareOpts = {
        modes: modes as typeof AVAILABLE_MODES,
        profile: opts.profile,
        engine: checked.engine,
        runs,
        maxCycles,
        ...(smp !== undefined ? { smp } : {}),
        ...(opts.ple ? { ple: true } : {}),
        onProgress: (done: number, _total: number, what: string) => {
          if (bar) bar.update(done, { what });
          else if (opts.progress) process.stderr.write(`compare: ${what}\n`);
        },
      };
      const report = checked.jobs > 1 ? await (await import('../../bench/compare-parallel.ts')).runCompareParallel(compareOpts, checked.jobs) : runCompare(compareOpts);
      bar?.stop();
      if (opts.html) {
        try {
          writeFileSync(opts.html, RENDERERS.html(report));
        } catch (e) {
          throw new CliError(`cannot write ${opts.html}: ${(e as Error).message}`);
        }
      }
      process.stdout.write(RENDERERS[opts.json ? 'json' : opts.md ? 'md' : 'text'](report));
      if (report.unexplained.length > 0) process.exitCode = 1;
    });
}
