// The kernel-heavy workload (the native kernel running `lmbench all REPS`) on the bare machine
// (native: `bench cpu`'s kernel row) or in a trap, bt, hvm or pv domain (pv: the kernel built for
// pv), booted RUNS times in one process: the first runs pay V8's compiles of the translated functions
// (process-wide memo), the later ones show the steady state. Prints each run's process CPU time
// and wall time, under the translator each run's translations, compiles, dispatcher entries and
// instructions in cold slices (kept heat: the later runs take the first one's translations at
// their first landing), and for bt the host side of its unit loop: how many unit entries went through the
// vCPU loop, how many the unit loop made itself (the interpreter engine) and how many stayed inside
// compiled code (the translator engine: chained direct transfers), and the straight runs of ident
// instructions run in the CPU's fast loop; where the instructions ran (compiled chains, the fast
// loop) and the unit loop's transitions between compiled chains and units not compiled.
// Simulated figures are the same on every run (checked).
//
//   node --import tsx/esm bench/kernel-steady.ts [native|trap|bt|hvm|pv] [interpreter|translator] [REPS=30] [RUNS=8] [CMDLINE]
//   (REPS 0: `lmbench all` with the program's own counts, compare's timed workload; CMDLINE, e.g.
//   'lmbench fork', runs that command line instead of lmbench all, REPS then unused)
//
// KS_UNIT_HEAT=X sets the translator's unitHeat for the runs (bt compiles a unit after
// threshold x X entries; machine/translator.ts withTranslatorLimits), to see what compiling more
// or less of bt's units does to the steady state.
//
// With KS_PROFILE=DIR each run is profiled on its own (node:inspector, sampling every 200 us,
// started before the run and stopped after its times are taken) into DIR/runNN-WALLms.cpuprofile;
// `node --import tsx/esm bench/profile-summary.ts FILE...` prints a profile's self time by function.
//
// With KS_COLD=TOP the last run also lists where the translator's cold slices ran (the fast loop
// entered from the dispatcher: code without a translation): the TOP kernel functions by the
// instructions of the slices that began in them, with the slices' count and mean length (user
// code as one line). The counting wraps the CPU's fast loop from outside, in that run only, so
// its wall time is not comparable; its simulated figures are checked as every run's.
import { runImageInMode } from '../hypervisor/index.ts';
import { bootNative } from '../hypervisor/boot/native.ts';
import { Machine } from '../machine/machine.ts';
import { withTranslatorLimits, type Engine, type Translator } from '../machine/translator.ts';
import { btCache } from '../hypervisor/bt/mode.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import { median, nowMs, unitHeatLimits, warnIfCommonJsHook } from './timing.ts';
import { lmbenchCmdline } from './compare.ts';
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cpu } from '../machine/cpu.ts';
import { symbolize } from '../machine/image.ts';

warnIfCommonJsHook('bench/kernel-steady.ts');

const mode = process.argv[2] ?? 'bt';
const engine = (process.argv[3] ?? 'translator') as Engine;
const reps = Number(process.argv[4] ?? 30);
const runs = Number(process.argv[5] ?? 8);
const cmdlineArg = process.argv[6];
if ((mode !== 'native' && mode !== 'trap' && mode !== 'bt' && mode !== 'hvm' && mode !== 'pv') || (engine !== 'interpreter' && engine !== 'translator') || !(reps >= 0) || !(runs >= 3)) {
  process.stderr.write('usage: node --import tsx/esm bench/kernel-steady.ts [native|trap|bt|hvm|pv] [interpreter|translator] [REPS>=0 (0: lmbench all)] [RUNS>=3] [CMDLINE]\n');
  process.exit(2);
}

const limits = unitHeatLimits();

const build = buildGuestKernel({ arch: mode === 'pv' ? 'pv' : 'native' });
const cmdline = cmdlineArg ?? lmbenchCmdline(reps);
/** `bench cpu`'s kernel row: the native kernel on the bare machine. */
function runNative(): { reason: string; status?: number; cycles: number; instructions: number; tx: Translator | null; domain?: undefined } {
  const machine = new Machine({ memoryBytes: 32 * 1024 * 1024, engine });
  bootNative(machine, { kernel: build.kernel, initrd: build.initrd, cmdline });
  const r = machine.run({ maxCycles: Number.MAX_SAFE_INTEGER });
  machine.release(); // the next run reuses its memory, as bench cpu's runs do (no host page faults)
  return { reason: r.reason, status: r.status, cycles: r.cycles, instructions: r.instructions, tx: machine.cpu.translator };
}

/** The same in a trap or bt domain. */
function runInDomain(m: 'trap' | 'bt' | 'hvm' | 'pv') {
  const r = runImageInMode(m, build.kernel, { initrd: build.initrd, cmdline, engine, maxCycles: Number.MAX_SAFE_INTEGER });
  r.hypervisor.machine.release();
  return { ...r, tx: r.hypervisor.cpu.translator };
}

/** KS_COLD: per kernel function where a cold slice began, its slices' instructions and count (the last run) */
const coldTop = Number(process.env.KS_COLD ?? 0);
const cold = new Map<string, { instructions: number; slices: number }>();
let countCold = false;
/** the last run's instructions in cold slices, by the translator's own count */
let lastCold = 0;
if (coldTop > 0) {
  type FastLoop = (this: Cpu, deadline: number, probe: unknown, lh: Int32Array | null, loopHot: number) => number;
  const proto = Cpu.prototype as unknown as { runFast: FastLoop };
  const runFast = proto.runFast;
  if (typeof runFast !== 'function') throw new Error('bench/kernel-steady.ts: Cpu has no method runFast any more: update KS_COLD');
  proto.runFast = function (this: Cpu, deadline, probe, lh, loopHot) {
    // the dispatcher's cold slices are the calls with the loop table (Cpu.runTranslated)
    if (!countCold || lh === null || lh === undefined) return runFast.call(this, deadline, probe, lh, loopHot);
    const pc = this.pc >>> 0;
    const i0 = this.instructions;
    const why = runFast.call(this, deadline, probe, lh, loopHot);
    const where = this.cpl === 3 ? '(user code)' : symbolize(build.kernel.symbols, pc).replace(/\+0x[0-9a-f]+$/, '');
    let c = cold.get(where);
    if (c === undefined) cold.set(where, (c = { instructions: 0, slices: 0 }));
    c.instructions += this.instructions - i0;
    c.slices++;
    return why;
  };
}

const cpuMs: number[] = [];
const wallMs: number[] = [];
let first: { cycles: number; instructions: number } | null = null;
let host = '';
/** per run: translations made, of them compiled (new functions), dispatcher entries (thousands), instructions in cold slices (millions) */
const perRun: string[] = [];
const profileDir = process.env.KS_PROFILE;
const session = profileDir !== undefined ? new Session() : null;
/** an inspector command (the profiler's), awaited */
const post = (method: string, params: object = {}): Promise<unknown> =>
  new Promise((resolve, reject) => session!.post(method, params, (e, r) => (e !== null ? reject(e) : resolve(r))));
if (session !== null) {
  mkdirSync(profileDir!, { recursive: true });
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
}
for (let i = 0; i < runs; i++) {
  countCold = coldTop > 0 && i === runs - 1;
  if (session !== null) await post('Profiler.start');
  const c0 = process.cpuUsage();
  const t0 = nowMs();
  const r = withTranslatorLimits(limits, () => (mode === 'native' ? runNative() : runInDomain(mode)));
  wallMs.push(nowMs() - t0);
  const c = process.cpuUsage(c0);
  cpuMs.push((c.user + c.system) / 1000);
  if (session !== null) {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(join(profileDir!, `run${String(i).padStart(2, '0')}-${Math.round(wallMs[i]!)}ms.cpuprofile`), JSON.stringify(profile));
  }
  if (r.reason !== 'poweroff' || r.status !== 0) throw new Error(`${cmdline} under ${mode} stopped with ${r.reason} (status ${r.status})`);
  first ??= { cycles: r.cycles, instructions: r.instructions };
  if (r.cycles !== first.cycles || r.instructions !== first.instructions) throw new Error('the runs differ in simulated figures');
  host = '';
  if (r.tx) {
    const s = r.tx.stats;
    lastCold = s.coldInstructions;
    perRun.push(`${s.translations}/${s.compiles}/${Math.round(s.entries / 1000)}k/${(s.coldInstructions / 1e6).toFixed(1)}M`);
    host = `translator: ${s.translations} translations (${s.compiles} compiled, ${s.recalled} recalled), ${s.entries} entries into translated code, ${s.coldInstructions} instructions in cold slices`;
  }
  if (mode === 'bt' && r.domain !== undefined) {
    const b = btCache(r.domain);
    const h = b.host;
    host += `${host !== '' ? '\n' : ''}unit entries ${b.stats.unitsRun}: through the vCPU loop ${b.stats.unitsRun - h.chainedInline - h.loopEntries - h.indirectInline}, made by the unit loop itself ${h.loopEntries} (of which inside the CPU's fast loop ${h.probeEntries}), chained in compiled code ${h.chainedInline}, after an indirect transfer in compiled code ${h.indirectInline}; indirect lookups ${b.stats.indirectLookups}; straight runs in the CPU's fast loop ${h.fastRuns} (word check skipped ${h.checksSkipped}, left after a store into the unit's frame ${h.storeLeaves}); compiled chains entered with a frame's words checked first ${h.chainWordChecks}, run with the word check before each instruction ${h.chainCheckedRuns}; chains generated ${h.chainsGenerated}, taken from the process's memo ${h.chainMemoHits} (compiled from an earlier boot's recipe ${h.chainsFromRecipes}), units left out of chains whose code V8 would not optimize ${h.chainUnitsLeftOut}; straight runs generated ${h.runsGenerated}, taken from the memo ${h.runMemoHits}`;
    host += `\ninstructions ${r.instructions}: in compiled chains ${h.chainInstructions} (${h.chainCalls} calls; ended by an indirect transfer out of the chain ${h.chainEndsIndirect}, by a direct one ${h.chainEndsDirect}, before an instruction for the general path ${h.chainLeftBefore}), in the CPU's fast loop ${h.fastLoopInstructions} (${h.fastLoopCalls} calls), the rest ${r.instructions - h.chainInstructions - h.fastLoopInstructions} (compiled straight runs, the general path, user code)`;
    host += `\nafter a chain's control transfer the unit loop entered another chain ${h.chainToChain} times and a unit not compiled ${h.chainToCold} times; units not compiled handed back to compiled code ${h.coldToChain} times`;
  }
}
const ms = (xs: number[]): string => xs.map((x) => Math.round(x)).join(' ');
const later = (xs: number[]): number => Math.round(median(xs.slice(2)));
process.stdout.write(
  `${mode} ${engine}, ${cmdline}: ${first!.instructions} instructions, ${first!.cycles} cycles\n` +
    `process CPU ms per run: ${ms(cpuMs)} (median of runs 3-${runs}: ${later(cpuMs)})\n` +
    `wall ms per run: ${ms(wallMs)} (median of runs 3-${runs}: ${later(wallMs)})\n` +
    (host !== '' ? `${host}\n` : '') +
    (perRun.length > 0 ? `per run (translations/compiled/entries/cold instructions): ${perRun.join(' ')}\n` : ''),
);
if (coldTop > 0) {
  const rows = [...cold].sort((a, b) => b[1].instructions - a[1].instructions);
  const total = rows.reduce((a, [, c]) => a + c.instructions, 0);
  const slices = rows.reduce((a, [, c]) => a + c.slices, 0);
  if (total !== lastCold) throw new Error(`bench/kernel-steady.ts: KS_COLD counted ${total} instructions in cold slices, the translator ${lastCold}: update the wrapper to Cpu.runTranslated's calls`);
  process.stdout.write(`cold slices of run ${runs}: ${total} instructions in ${slices} slices; by the function where a slice began (instructions, slices, mean length):\n`);
  for (const [where, c] of rows.slice(0, coldTop)) {
    process.stdout.write(`${String(c.instructions).padStart(9)} ${String(c.slices).padStart(7)} ${(c.instructions / c.slices).toFixed(1).padStart(7)}  ${where}\n`);
  }
}
