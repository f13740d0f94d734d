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
