// The side-by-side comparison: the same guest test suite and benchmark programs under every
// virtualization mode, on one machine and one cost profile. Produces the data - the equivalence
// matrix, the lmbench-style benchmark table, the nanobenchmark table, the counters behind them -
// as a CompareReport; bench/compare-render.ts turns a report into text, Markdown, HTML or JSON.
// Host code: runs guests through the mode runners; writes nothing on disk itself (it asks git
// for the commit, for the report's metadata).

import type { Engine } from '../machine/translator.ts';
import { execFileSync } from 'node:child_process';
import { cpus, platform, arch } from 'node:os';
import { fileURLToPath } from 'node:url';
import { RUNNERS, traceTimeline, type GuestRun, type ModeName, type Counters, type Runner, type ModeTimeline, type RunSpec } from './runners.ts';
import { median } from './timing.ts';
import { SMP_MODES, PV_MAX_VCPUS } from '../hypervisor/modes.ts';
import { ledgerDelta, ledgerLess, type LedgerSnapshot } from '../machine/ledger.ts';

/** Workloads: the first process's command line in the standard guest. */
export const SUITE_CMDLINE = 'usertests';
export const LMBENCH_CMDLINE = 'lmbench all';
/** The kernel-heavy benches' workload (bench/kernel-steady.ts, modes-alternating.ts, ab-trees.ts): `lmbench all REPS`, or with REPS 0 the program's own counts (compare's timed workload). */
export function lmbenchCmdline(reps: number): string {
  return reps === 0 ? LMBENCH_CMDLINE : `${LMBENCH_CMDLINE} ${reps}`;
}
/** iterations per primitive: the nanobench program's default N (its figures are region cycles / N) */
export const NANOBENCH_OPS = 1000;
export const NANOBENCH_CMDLINE = 'nanobench';
/**
 * The network rows, after the Xen paper's ttcp table: netbench against the gateway's echo and
 * discard ports (a peer simulated inside the host, never real host traffic), small enough to keep
 * compare quick: 8 round trips of 64 bytes, 8 full-frame datagrams of 1472 bytes.
 */
export const NETBENCH_CMDLINE = 'netbench 8 1472';
/**
 * The network rows between two domains on a bridge: the same netbench against a second domain
 * running udpecho (bench/runners.ts runBridged: pv as two domains of one hypervisor, the other
 * modes as two machines run in lockstep), its rows named with BRIDGE_ROW_PREFIX.
 */
export const BRIDGE_CMDLINE = 'netbench 8 1472 10.0.2.16';
export const BRIDGE_ROW_PREFIX = 'domain to domain: ';
/**
 * Modes whose guest has no network, and why: their network rows show n/a with the reason. None
 * now (pv has netfront/netback); kept for an experimental mode that comes without one.
 */
export const NO_NETWORK: Partial<Record<ModeName, string>> = {};
/** The timeline: the first millisecond (at 3 GHz) of a boot, in 100 slices. */
export const TIMELINE = { cmdline: 'true', cycles: 3_000_000, bins: 100, records: 1 << 18 };

export interface CompareOptions {
  modes: ModeName[];
  profile: string;
  /**
   * wall-clock runs per benchmark program (median reported); simulated results must not vary
   * from run to run, so the program runs at least DETERMINISM_RUNS times whatever this says
   */
  runs: number;
  maxCycles: number;
  /** the traced run of a mode for the timeline (tests inject one; default: traceTimeline) */
  timeline?: typeof traceTimeline;
  /** the CPU engine every run uses (default: the machine's) */
  engine?: Engine;
  /** called after each guest run, for a progress indicator */
  onProgress?: (done: number, total: number, what: string) => void;
  /** runners to use instead of bench/runners.ts's, by mode (tests give scripted ones) */
  runners?: Partial<Record<ModeName, Runner>>;
  /** the modes whose domain-to-domain network rows are run (default: every mode with a network) */
  bridgeModes?: ModeName[];
  /**
   * also run the guest test suite with this many CPUs (2..8) in every mode that has them (native's
   * CPUs, the vCPUs of trap, bt and hvm, seed 1): a second equivalence matrix, against native's
   */
  smp?: number;
  /** with smp: hvm's several-CPU suite runs with pause-loop exiting (`run --ple`; KVM's PLE_Gap and PLE_Window) */
  ple?: boolean;
}

/** Runs of the benchmark program the determinism check compares, at least. */
export const DETERMINISM_RUNS = 2;

/** Benchmark-program runs per mode for `runs` requested wall-clock runs. */
export function benchRuns(runs: number): number {
  return Math.max(DETERMINISM_RUNS, runs);
}

/** One guest test's result per mode. */
export interface MatrixRow {
  test: string;
  results: Partial<Record<ModeName, 'PASS' | 'FAIL' | 'missing'>>;
  /** what a critical-instruction test observed, per mode (absent: it printed no observation) */
  observed: Partial<Record<ModeName, number>>;
  /** why a mode differs from native, when it does */
  notes: Partial<Record<ModeName, string>>;
}

export interface BenchRow {
  name: string;
  unit: string;
  /** per mode: the figure the guest printed (cycles per operation, exact) */
  values: Partial<Record<ModeName, number | null>>;
}

/**
 * Why a benchmark row costs what it does: per mode, the cost ledger over the row's timed region
 * (between the two RDTSCs the benchmark reads): base cycles (the instructions' own costs) plus
 * each kind of event x its unit cost, which add up to the region's cycles exactly.
 */
export interface BreakdownRow {
  name: string;
  /** operations in the timed region (the figure is region cycles / ops, rounded down) */
  ops: number;
  modes: Partial<Record<ModeName, LedgerSnapshot>>;
}

export interface ModeSummary {
  mode: ModeName;
  /** one run of each workload: counters that explain the figures */
  suite: Counters & { cycles: number; instructions: number; status: number; stopped: string };
  lmbench: Counters & { cycles: number; instructions: number; wallMs: number[]; wallMedianMs: number };
  nanobench: Counters & { cycles: number; instructions: number };
  /** the netbench run (absent for a mode without network, and in reports saved before it) */
  netbench?: Counters & { cycles: number; instructions: number };
  /** the domain-to-domain netbench run: domain a's counters, and the frames the switch carried */
  bridged?: Counters & { cycles: number; instructions: number; forwarded: number; flooded: number; dropped: number; late: number };
}

/** The equivalence matrix of the suite run with several CPUs: native's CPUs against the vCPUs of the modes that have them. */
export interface SmpMatrix {
  cpus: number;
  modes: ModeName[];
  /** hvm's runs had pause-loop exiting (compare --ple) */
  ple?: boolean;
  matrix: MatrixRow[];
}

/**
 * With several vCPUs, a difference from native that is not a wrong result: smp-parallel asks, in
 * the guest's own simulated time, that two processes on two CPUs take under 1.5 times one alone.
 * That is a cost outcome (exits or vCPUs sharing a physical CPU can make it fail; every mode passes it
 * at seed 1 on one physical CPU per vCPU: docs/hypervisor.md "Several vCPUs"); the row shows it with this reason.
 */
export const SMP_TIMED_TEST = 'smp-parallel';
export const SMP_TIMED_REASON = 'a timing assertion inside the guest (two processes under 1.5x one): a cost outcome, not a wrong result';

/** What a reader needs to reproduce or judge a report: when, which code, which machine. */
export interface RunMeta {
  /** ISO 8601, UTC */
  date: string;
  /** the git commit (short hash, `+dirty` with uncommitted changes), or 'unknown' outside a checkout */
  commit: string;
  profile: string;
  /** the host's CPU model, core count, OS and architecture */
  host: string;
  node: string;
  /** timed lmbench runs per mode (after one warm-up run of every mode) */
  runs: number;
}

export interface CompareReport {
  meta: RunMeta;
  profile: string;
  modes: ModeName[];
  matrix: MatrixRow[];
  lmbench: BenchRow[];
  nanobench: BenchRow[];
  summaries: ModeSummary[];
  /** the lmbench rows' cost breakdowns (absent in reports saved before it existed) */
  breakdown?: BreakdownRow[];
  /**
   * the nanobenchmark rows' cost breakdowns: a kernel primitive's timed loop less the kernel's
   * empty loop (as its printed figure), the system call's user-timed loop as it is (absent in
   * reports saved before it existed)
   */
  nanoBreakdown?: BreakdownRow[];
  /**
   * netbench's figures against the simulated peer (simulated microseconds and KB/s; absent in
   * reports saved before they existed); a mode in networkNotes has null figures, for that reason
   */
  network?: BenchRow[];
  networkNotes?: Partial<Record<ModeName, string>>;
  /** the suite with several CPUs (compare --smp N; absent without it, and in older reports) */
  smp?: SmpMatrix;
  /** differences from native that no documented reason explains */
  unexplained: string[];
  /** a short traced run per hypervisor mode (reports saved before the timeline have none) */
  timelines?: ModeTimeline[];
}

/** A documented difference: what the test observes under the mode, and why. */
export interface ExpectedDifference {
  /** the value the test prints as observed under this mode (guest-kernel/user/usertests.ts archCheck) */
  observed: number;
  reason: string;
}

/**
 * Differences from native that are consequences of the technique, not bugs: trap-and-emulate
 * cannot catch XL32's critical instructions (Popek & Goldberg's condition fails; Robin & Irvine
 * list the same holes on the Pentium). Keyed by test name; a difference is explained only when the
 * test observed exactly the documented value (a failure of another kind - another value, or no
 * observation at all - is unexplained).
 */
export const EXPECTED_DIFFERENCES: Partial<Record<ModeName, Record<string, ExpectedDifference>>> = {
  trap: {
    'critical-rdcpl': { observed: 1, reason: 'RDCPL is sensitive but not privileged: the deprivileged kernel reads its real ring, 1' },
    'critical-popf': { observed: 0, reason: 'POPF at ring 1 silently drops the change to IF: the kernel\'s interrupt-restore is lost' },
    'critical-pushf': { observed: 1, reason: 'PUSHF shows the real IF, not the guest\'s virtual one' },
    'critical-sidt': { observed: 0, reason: 'SIDT returns the real IDT base: the hypervisor\'s table, not the guest\'s' },
  },
};

const PASS_RE = /^PASS (\S+)/;
const FAIL_RE = /^FAIL (\S+?):/;
/** "PASS name (observed V)" or "FAIL name: observed (got V)" (usertests' archCheck) */
const OBSERVED_RE = /^(?:PASS (\S+) \(observed (-?\d+)\)|FAIL (\S+?): observed \(got (-?\d+)\))$/;
const LM_RE = /^lmbench (\S+): (\d+) cycles\/op/;
const LM_OPS_RE = /^lmbench (\S+): \d+ cycles\/op \((\d+) ops\)/;
const NANO_RE = /^nanobench (\S+): (?:(\d+) cycles\/op|(n\/a))/;
const NET_RTT_RE = /^netbench: udp round trip \((\d+) bytes, (\d+) times\): (\d+) us$/;
const NET_SEND_RE = /^netbench: udp send \((\d+) x (\d+) bytes\): (\d+) us, (\d+) KB\/s$/;

/**
 * netbench's figures from its console: the mean round trip (simulated us), and the time and
 * throughput of its sends, keyed by row name ('udp round trip, 64 bytes (us)', ...). Empty when
 * netbench printed neither line.
 */
export function parseNetbench(console: string, prefix = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of console.split('\n')) {
    const r = NET_RTT_RE.exec(line);
    if (r) out.set(`${prefix}udp round trip, ${r[1]} bytes (us)`, Number(r[3]));
    const s = NET_SEND_RE.exec(line);
    if (s) {
      out.set(`${prefix}udp send, ${s[1]} x ${s[2]} bytes (us)`, Number(s[3]));
      out.set(`${prefix}udp send throughput (KB/s)`, Number(s[4]));
    }
  }
  return out;
}

export function parseSuite(console: string): Map<string, 'PASS' | 'FAIL'> {
  const out = new Map<string, 'PASS' | 'FAIL'>();
  for (const line of console.split('\n')) {
    const p = PASS_RE.exec(line);
    if (p) out.set(p[1]!, 'PASS');
    const f = FAIL_RE.exec(line);
    if (f) out.set(f[1]!, 'FAIL');
  }
  return out;
}

/** The values critical-instruction tests printed as observed, by test. */
export function parseObserved(console: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of console.split('\n')) {
    const m = OBSERVED_RE.exec(line);
    if (m) out.set((m[1] ?? m[3])!, Number(m[2] ?? m[4]));
  }
  return out;
}

/**
 * Why `mode` gives `result` for `test` where native gives another, or null when nothing
 * documented explains it: the test must be a documented one and must have observed exactly the
 * documented value.
 */
export function explainDifference(mode: ModeName, test: string, observed: number | undefined): string | null {
  const e = EXPECTED_DIFFERENCES[mode]?.[test];
  if (e === undefined || observed !== e.observed) return null;
  return e.reason;
}

export function parseFigures(console: string, re: RegExp): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const line of console.split('\n')) {
    const m = re.exec(line);
    if (m) out.set(m[1]!, m[2] !== undefined ? Number(m[2]) : null);
  }
  return out;
}

/**
 * The lmbench rows' timed regions in a run: each benchmark reads RDTSC at user level exactly
 * twice (before and after its loop) and then prints its row, so row k's region lies between the
 * ledger marks 2k and 2k+1. Null when the run's marks do not pair up with its rows.
 */
export function lmbenchRegions(console: string, marks: readonly LedgerSnapshot[] | undefined): { name: string; ops: number; region: LedgerSnapshot }[] | null {
  const rows: { name: string; ops: number }[] = [];
  for (const line of console.split('\n')) {
    const m = LM_OPS_RE.exec(line);
    if (m) rows.push({ name: m[1]!, ops: Number(m[2]) });
  }
  if (marks === undefined || marks.length !== 2 * rows.length) return null;
  return rows.map((r, k) => ({ ...r, region: ledgerDelta(marks[2 * k]!, marks[2 * k + 1]!) }));
}

/**
 * The nanobenchmark rows' timed regions in a run. The kernel reads RDTSC exactly twice per
 * primitive it times (the nanobench system call: the empty loop first, then each row's primitive;
 * none for an n/a row), and nothing else in a nanobench run reads it in the kernel; the
 * user-timed system-call row lies between the run's two user RDTSCs. A primitive's region is its
 * loop's less the empty loop's, as its printed figure. Null when the marks do not pair up with the
 * rows or a region does not give the printed figure.
 */
export function nanobenchRegions(
  console: string,
  kernelMarks: readonly LedgerSnapshot[] | undefined,
  userMarks: readonly LedgerSnapshot[] | undefined,
  ops: number,
): { name: string; ops: number; region: LedgerSnapshot }[] | null {
  const rows = [...parseFigures(console, NANO_RE)].filter(([, v]) => v !== null) as [string, number][];
  const kernelRows = rows.filter(([name]) => name !== 'syscall');
  const user = rows.find(([name]) => name === 'syscall');
  if (kernelMarks === undefined || kernelMarks.length !== 2 * (1 + kernelRows.length)) return null;
  const empty = ledgerDelta(kernelMarks[0]!, kernelMarks[1]!);
  const out = kernelRows.map(([name, figure], k) => ({
    name,
    figure,
    ops,
    region: ledgerLess(ledgerDelta(kernelMarks[2 * k + 2]!, kernelMarks[2 * k + 3]!), empty),
  }));
  if (user !== undefined) {
    if (userMarks === undefined || userMarks.length !== 2) return null;
    out.push({ name: user[0], figure: user[1], ops, region: ledgerDelta(userMarks[0]!, userMarks[1]!) });
  }
  if (out.some((r) => Math.floor(Math.max(0, r.region.cycles) / ops) !== r.figure)) return null;
  return out.map(({ name, ops: n, region }) => ({ name, ops: n, region }));
}

function gitCommit(): string {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  try {
    const hash = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${hash}+dirty` : hash;
  } catch {
    return 'unknown';
  }
}

/** The metadata of a run made now. */
export function runMetadata(profile: string, runs: number): RunMeta {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    commit: gitCommit(),
    profile,
    host: `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${platform()} ${arch()}`,
    node: process.version,
    runs,
  };
}

function pick(run: GuestRun): Counters & { cycles: number; instructions: number } {
  return { ...run.counters, cycles: run.cycles, instructions: run.instructions };
}

/** One guest run a comparison makes. */
export interface CompareJob {
  mode: ModeName;
  cmdline: string;
  /** join the simulated network (netbench) */
  net?: boolean;
  /** two domains on a bridge (RunSpec.bridge) */
  bridge?: boolean;
  /** CPUs (native) or vCPUs (2..8; absent: one) */
  cpus?: number;
  /** hvm: pause-loop exiting (RunSpec.ple) */
  ple?: boolean;
  /** the untimed lmbench run right before the timed ones (compare --jobs runs it one at a time, as them) */
  warmUp?: boolean;
  /** what the progress line says */
  what: string;
}

/**
 * The runs of a comparison, in the serial order: every mode's suite and nanobenchmarks, the
 * network runs (against the simulated peer, then domain to domain), the SMP suites, every mode's
 * untimed lmbench run (the warm-up, and the reference for the determinism check: right before
 * the timed runs, so none of them comes after other work), then the timed lmbench runs round the
 * modes `runs` times.
 */
export function compareJobs(opts: Pick<CompareOptions, 'modes' | 'runs' | 'bridgeModes' | 'smp' | 'ple'>): { untimed: CompareJob[]; timed: CompareJob[] } {
  const untimed: CompareJob[] = [];
  for (const mode of opts.modes) {
    untimed.push({ mode, cmdline: SUITE_CMDLINE, what: `${mode}: ${SUITE_CMDLINE}` });
    untimed.push({ mode, cmdline: NANOBENCH_CMDLINE, what: `${mode}: ${NANOBENCH_CMDLINE}` });
  }
  for (const mode of opts.modes.filter((m) => NO_NETWORK[m] === undefined)) untimed.push({ mode, cmdline: NETBENCH_CMDLINE, net: true, what: `${mode}: ${NETBENCH_CMDLINE}` });
  for (const mode of opts.modes.filter((m) => NO_NETWORK[m] === undefined && (opts.bridgeModes ?? opts.modes).includes(m))) {
    untimed.push({ mode, cmdline: BRIDGE_CMDLINE, bridge: true, what: `${mode}: ${BRIDGE_CMDLINE} (two domains on a bridge)` });
  }
  if (opts.smp !== undefined) {
    for (const mode of smpModes(opts.modes, opts.smp)) {
      const ple = opts.ple === true && mode === 'hvm';
      untimed.push({ mode, cmdline: SUITE_CMDLINE, cpus: opts.smp, ...(ple ? { ple } : {}), what: `${mode}: ${SUITE_CMDLINE} on ${opts.smp} CPUs${ple ? ' (--ple)' : ''}` });
    }
  }
  for (const mode of opts.modes) untimed.push({ mode, cmdline: LMBENCH_CMDLINE, warmUp: true, what: `${mode}: ${LMBENCH_CMDLINE} (warm-up)` });
  const timed: CompareJob[] = [];
  for (let k = 0; k < opts.runs; k++) {
    for (const mode of opts.modes) timed.push({ mode, cmdline: LMBENCH_CMDLINE, what: `${mode}: ${LMBENCH_CMDLINE} (${k + 1}/${opts.runs})` });
  }
  return { untimed, timed };
}

/** The runner's specification of a job under these options. */
export function jobSpec(opts: Pick<CompareOptions, 'profile' | 'maxCycles' | 'engine'>, job: CompareJob): RunSpec {
  return { profile: opts.profile, maxCycles: opts.maxCycles, ...(opts.engine !== undefined ? { engine: opts.engine } : {}), cmdline: job.cmdline, ...(job.net ? { net: true } : {}), ...(job.bridge ? { bridge: true } : {}), ...(job.cpus !== undefined ? { cpus: job.cpus } : {}), ...(job.ple ? { ple: true } : {}), ...(job.cmdline === NANOBENCH_CMDLINE ? { kernelMarks: true } : {}) };
}

/** The modes of `modes` that run a guest on `cpus` CPUs (hypervisor/modes.ts SMP_MODES; pv up to 4 vCPUs), native first. */
export function smpModes(modes: readonly ModeName[], cpus: number): ModeName[] {
  return modes.filter((m) => SMP_MODES.includes(m) && (m !== 'pv' || cpus <= PV_MAX_VCPUS));
}

/** The timeline options of a comparison (one traced boot per mode). */
export function timelineOptions(profile: string): Parameters<typeof traceTimeline>[1] {
  return { profile, ...TIMELINE };
}

/**
 * Run the suite and the benchmarks under each mode and build the report, one run after the
 * other in this thread (see compareJobs for the order: no mode's wall time is measured cold).
 */
export function runCompare(opts: CompareOptions): CompareReport {
  const meta = runMetadata(opts.profile, opts.runs);
  const { untimed, timed } = compareJobs(opts);
  const total = untimed.length + timed.length;
  let done = 0;
  const exec = (job: CompareJob): GuestRun => {
    const run = (opts.runners?.[job.mode] ?? RUNNERS[job.mode])(jobSpec(opts, job));
    opts.onProgress?.(++done, total, job.what);
    return run;
  };
  const untimedRuns = untimed.map(exec);
  const timedRuns = timed.map(exec);
  const timelines = opts.modes.map((mode) => (opts.timeline ?? traceTimeline)(mode, timelineOptions(opts.profile)));
  return assembleReport(opts, meta, { untimed, untimedRuns, timed, timedRuns, timelines });
}

/** The runs of a comparison, done, and the traced boots: what assembleReport builds the report from. */
export interface CompareResults {
  untimed: CompareJob[];
  untimedRuns: GuestRun[];
  timed: CompareJob[];
  timedRuns: GuestRun[];
  /** per mode in opts.modes order (null: the mode has no timeline) */
  timelines: Array<ModeTimeline | null>;
}

/** Build the report from the runs (the same report whichever order or thread they ran in). */
export function assembleReport(opts: Pick<CompareOptions, 'modes' | 'profile' | 'smp' | 'ple'>, meta: RunMeta, results: CompareResults): CompareReport {
  const suites = new Map<ModeName, Map<string, 'PASS' | 'FAIL'>>();
  const observations = new Map<ModeName, Map<string, number>>();
  const lm = new Map<ModeName, Map<string, number | null>>();
  const nano = new Map<ModeName, Map<string, number | null>>();
  const summaries: ModeSummary[] = [];
  const unexplained: string[] = [];
  const breakdown = new Map<string, BreakdownRow>();
  const nanoBreakdown = new Map<string, BreakdownRow>();
  const find = (mode: ModeName, cmdline: string): GuestRun => {
    const k = results.untimed.findIndex((j) => j.mode === mode && j.cmdline === cmdline && j.cpus === undefined);
    return results.untimedRuns[k]!;
  };
  const untimed = new Map<ModeName, { suite: GuestRun; lmbench: GuestRun; nanobench: GuestRun }>();
  for (const mode of opts.modes) {
    const suite = find(mode, SUITE_CMDLINE);
    observations.set(mode, parseObserved(suite.console));
    untimed.set(mode, { suite, lmbench: find(mode, LMBENCH_CMDLINE), nanobench: find(mode, NANOBENCH_CMDLINE) });
  }
  const netRuns = new Map<ModeName, GuestRun>();
  const bridgeRuns = new Map<ModeName, GuestRun>();
  results.untimed.forEach((j, k) => {
    if (j.net) netRuns.set(j.mode, results.untimedRuns[k]!);
    if (j.bridge) bridgeRuns.set(j.mode, results.untimedRuns[k]!);
  });
  const timedRuns = new Map<ModeName, GuestRun[]>(opts.modes.map((m) => [m, []]));
  results.timed.forEach((j, k) => timedRuns.get(j.mode)!.push(results.timedRuns[k]!));

  for (const mode of opts.modes) {
    const { suite, lmbench: first, nanobench: nb } = untimed.get(mode)!;
    const lmRuns = timedRuns.get(mode)!;
    suites.set(mode, parseSuite(suite.console));
    if (lmRuns.some((r) => r.cycles !== first.cycles || r.console !== first.console)) {
      unexplained.push(`${mode}: lmbench gave different simulated results from run to run (simulated time must be deterministic)`);
    }
    lm.set(mode, parseFigures(first.console, LM_RE));
    for (const { name, ops, region } of lmbenchRegions(first.console, first.marks) ?? []) {
      const row = breakdown.get(name) ?? { name, ops, modes: {} };
      row.modes[mode] = region;
      breakdown.set(name, row);
    }
    nano.set(mode, parseFigures(nb.console, NANO_RE));
    const regions = nanobenchRegions(nb.console, nb.kernelMarks, nb.marks, NANOBENCH_OPS);
    if (regions === null && nb.kernelMarks !== undefined && nb.stopped === 'poweroff') {
      unexplained.push(`${mode}: the nanobenchmarks' timed regions do not pair up with their rows (the breakdown is left out)`);
    }
    for (const { name, ops, region } of regions ?? []) {
      const row = nanoBreakdown.get(name) ?? { name, ops, modes: {} };
      row.modes[mode] = region;
      nanoBreakdown.set(name, row);
    }
    for (const [what, run] of [['usertests', suite], ['lmbench', first], ['nanobench', nb]] as const) {
      if (run.stopped !== 'poweroff') unexplained.push(`${mode}: ${what} did not finish (${run.stopped}${run.detail ? `: ${run.detail}` : ''})`);
    }
    const net = netRuns.get(mode);
    if (net && (net.stopped !== 'poweroff' || net.status !== 0)) {
      unexplained.push(`${mode}: netbench failed (${net.stopped}${net.detail ? `: ${net.detail}` : `, status ${net.status}`})`);
    }
    const bridged = bridgeRuns.get(mode);
    if (bridged && (bridged.stopped !== 'poweroff' || bridged.status !== 0 || bridged.bridge?.peerStopped !== 'poweroff')) {
      const peer = bridged.bridge ? `; the peer: ${bridged.bridge.peerStopped}` : '';
      unexplained.push(`${mode}: netbench between two domains failed (${bridged.stopped}${bridged.detail ? `: ${bridged.detail}` : `, status ${bridged.status}`}${peer})`);
    }
    summaries.push({
      mode,
      suite: { ...pick(suite), status: suite.status, stopped: suite.stopped },
      lmbench: { ...pick(first), wallMs: lmRuns.map((r) => r.wallMs), wallMedianMs: median(lmRuns.map((r) => r.wallMs)) },
      nanobench: pick(nb),
      ...(net ? { netbench: pick(net) } : {}),
      ...(bridged ? { bridged: { ...pick(bridged), ...(bridged.bridge?.switch ?? { forwarded: 0, flooded: 0, dropped: 0, late: 0 }) } } : {}),
    });
  }

  // The equivalence matrix: native is the reference.
  const tests = new Set<string>();
  for (const m of suites.values()) for (const t of m.keys()) tests.add(t);
  const matrix: MatrixRow[] = [];
  for (const test of tests) {
    const row: MatrixRow = { test, results: {}, observed: {}, notes: {} };
    for (const mode of opts.modes) {
      row.results[mode] = suites.get(mode)!.get(test) ?? 'missing';
      const seen = observations.get(mode)!.get(test);
      if (seen !== undefined) row.observed[mode] = seen;
    }
    const reference = row.results.native ?? 'PASS';
    for (const mode of opts.modes) {
      if (mode === 'native' || row.results[mode] === reference) continue;
      const reason = explainDifference(mode, test, row.observed[mode]);
      if (reason !== null) row.notes[mode] = reason;
      else {
        row.notes[mode] = 'UNEXPECTED: a bug in this mode';
        const seen = row.observed[mode] !== undefined ? `, observed ${row.observed[mode]}` : '';
        const documented = EXPECTED_DIFFERENCES[mode]?.[test];
        const doc = documented ? `; documented for ${mode}: observed ${documented.observed}` : '';
        unexplained.push(`${mode}: guest test ${test} is ${row.results[mode]}${seen} (native: ${reference}${doc})`);
      }
    }
    matrix.push(row);
  }

  // The suite with several CPUs: native's CPUs are the reference
  let smp: SmpMatrix | undefined;
  if (opts.smp !== undefined) {
    const modes = smpModes(opts.modes, opts.smp);
    const runs = new Map<ModeName, GuestRun>();
    results.untimed.forEach((j, k) => {
      if (j.cpus !== undefined) runs.set(j.mode, results.untimedRuns[k]!);
    });
    const smpSuites = new Map<ModeName, Map<string, 'PASS' | 'FAIL'>>(modes.map((m) => [m, parseSuite(runs.get(m)!.console)]));
    const smpSeen = new Map<ModeName, Map<string, number>>(modes.map((m) => [m, parseObserved(runs.get(m)!.console)]));
    for (const m of modes) {
      const run = runs.get(m)!;
      if (run.stopped !== 'poweroff') unexplained.push(`${m}: usertests on ${opts.smp} CPUs did not finish (${run.stopped}${run.detail ? `: ${run.detail}` : ''})`);
    }
    const names = new Set<string>();
    for (const t of smpSuites.values()) for (const n of t.keys()) names.add(n);
    const rows: MatrixRow[] = [];
    for (const test of names) {
      const row: MatrixRow = { test, results: {}, observed: {}, notes: {} };
      for (const m of modes) {
        row.results[m] = smpSuites.get(m)!.get(test) ?? 'missing';
        const seen = smpSeen.get(m)!.get(test);
        if (seen !== undefined) row.observed[m] = seen;
      }
      const reference = row.results.native ?? 'PASS';
      for (const m of modes) {
        if (m === 'native' || row.results[m] === reference) continue;
        const reason = test === SMP_TIMED_TEST && row.results[m] !== 'missing' ? SMP_TIMED_REASON : explainDifference(m, test, row.observed[m]);
        if (reason !== null) row.notes[m] = reason;
        else {
          row.notes[m] = 'UNEXPECTED: a bug in this mode';
          unexplained.push(`${m}: guest test ${test} on ${opts.smp} CPUs is ${row.results[m]} (native: ${reference})`);
        }
      }
      rows.push(row);
    }
    smp = { cpus: opts.smp, modes, matrix: rows, ...(opts.ple === true && modes.includes('hvm') ? { ple: true } : {}) };
  }

  const table = (maps: Map<ModeName, Map<string, number | null>>, unit: string): BenchRow[] => {
    const names = new Set<string>();
    for (const m of maps.values()) for (const n of m.keys()) names.add(n);
    return [...names].map((name) => {
      const values: BenchRow['values'] = {};
      for (const mode of opts.modes) values[mode] = maps.get(mode)!.get(name) ?? null;
      return { name, unit, values };
    });
  };

  const netFigures = new Map<ModeName, Map<string, number>>(
    opts.modes.map((m) => [m, new Map([...parseNetbench(netRuns.get(m)?.console ?? ''), ...parseNetbench(bridgeRuns.get(m)?.console ?? '', BRIDGE_ROW_PREFIX)])]),
  );
  const netNames = new Set<string>();
  for (const m of netFigures.values()) for (const n of m.keys()) netNames.add(n);
  const network: BenchRow[] = [...netNames].map((name) => {
    const values: BenchRow['values'] = {};
    for (const mode of opts.modes) values[mode] = netFigures.get(mode)!.get(name) ?? null;
    return { name, unit: /\((\S+)\)$/.exec(name)?.[1] ?? '', values };
  });
  const networkNotes: Partial<Record<ModeName, string>> = {};
  for (const mode of opts.modes) if (NO_NETWORK[mode] !== undefined) networkNotes[mode] = NO_NETWORK[mode];

  return {
    meta,
    profile: opts.profile,
    modes: opts.modes,
    matrix,
    lmbench: table(lm, 'cycles/op'),
    nanobench: table(nano, 'cycles/op'),
    summaries,
    breakdown: [...breakdown.values()],
    nanoBreakdown: [...nanoBreakdown.values()],
    network,
    networkNotes,
    ...(smp ? { smp } : {}),
    unexplained,
    timelines: results.timelines.filter((t): t is ModeTimeline => t !== null),
  };
}
