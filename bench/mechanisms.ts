// Mechanism costs in wall time: the host nanoseconds of one hypercall (pv: xen_version(VERSION),
// the cheapest call the interface has), one trapped-and-emulated privileged instruction (trap
// mode: CLI at ring 1, #GP, emulated), the same CLI rewritten in line by binary translation (bt:
// the translated code clears the virtual IF, no trap), one VM exit (hvm: CPUID, which always
// exits) and one hidden shadow page fault (trap mode: a load from a page whose shadow entry an
// INVLPG just dropped). Each is the difference between a guest loop with the mechanism and the
// same loop without it (a NOP in its place; for the shadow fault, an INVLPG of a page the loop
// never touches), in the same run: median of RUNS, the two loops alternating after a warm-up of
// each (WARM_UP), each timing the guest's run alone (not the hypervisor's construction; the machine's
// memory released for the next run), beside the simulated cycles of the same difference. The
// domain's counters of each run confirm the mechanism happened once per iteration, and never in
// the baseline.
import { assemble } from '../toolchain/asm/index.ts';
import { runTrapMode } from '../hypervisor/trap/index.ts';
import { runHvmMode } from '../hypervisor/hvm/index.ts';
import { btCache, runBtMode } from '../hypervisor/bt/index.ts';
import { runPvMode } from '../hypervisor/pv/system.ts';
import { Hc, SchedOp, ShutdownReason, XenVersionCmd } from '../hypercalls/numbers.ts';
import type { GuestRunOptions, GuestRunResult } from '../hypervisor/run.ts';
import type { Image } from '../machine/image.ts';
import type { Cpu } from '../machine/cpu.ts';
import { Exit } from '../machine/types.ts';
import { Op } from '../machine/isa.ts';
import { withTranslatorLimits, type Engine } from '../machine/translator.ts';
import { median, nowMs } from './timing.ts';
import { textTable } from './text-table.ts';

export interface MechanismRow {
  mechanism: string;
  mode: 'trap' | 'bt' | 'hvm' | 'pv';
  /** what the baseline loop has in place of the mechanism */
  baseline: string;
  /** host nanoseconds per occurrence: (loop with it - loop without it) / iterations */
  ns: number;
  /** simulated cycles per occurrence: (cycles with it - cycles without it) / iterations */
  cycles: number;
  /** the issue's goal, ns (null: it sets none) */
  goalNs: number | null;
  iterations: number;
  /** occurrences the domain's counters saw in one run of the loop with it, less those before the loop (iterations, if all went as designed) */
  seen: number;
  /** occurrences in one run of the baseline loop (0, if all went as designed) */
  seenWithout: number;
  /** milliseconds of the two loops (medians) */
  withMs: number;
  withoutMs: number;
  /** milliseconds of the host control (hostControl), timed between this row's runs (median) */
  controlMs: number;
}

/** The counting loop around `body` (r5 is the counter: CPUID writes r0-r3). */
function loop(body: string, iterations: number): string {
  return `
        li      r5, ${iterations}
.Lloop: ${body}
        addi    r5, r5, -1
        cmpi    r5, 0
        jgt     .Lloop
`;
}

/** A bare kernel looping `iterations` times over `insn`, then powering off. */
function bareLoopImage(insn: string, iterations: number): Image {
  return assemble(
    `
        .arch bare
        .org 0x1000
_start:
${loop(insn, iterations)}
        li      r2, 0
        outb    0x501, r2
        hlt
`,
    'mechanism.s',
  ).image;
}

/** The page the shadow-fault loop reads, and the page the baseline invalidates instead (never touched). */
const TOUCHED_PAGE = 0x200000;
const UNTOUCHED_PAGE = 0x300000;

/**
 * A bare kernel that turns on paging (identity map of the first 4 MiB, one page table), then loops
 * `iterations` times over INVLPG of `invalidated` and a load from TOUCHED_PAGE. Under trap mode the
 * INVLPG is trapped and emulated in both loops; when it names the touched page, the shadow entry
 * is gone and the load takes a hidden shadow fault (the guest's own PTE is intact), when it names a
 * page the loop never touches, the load hits. Without `withLoop`, only what comes before the loop
 * (its hidden faults, on the code, the tables and the touched page, are not the loop's).
 */
function shadowLoopImage(invalidated: number, iterations: number, withLoop = true): Image {
  return assemble(
    `
        .arch bare
        .org 0x1000
_start: li      r1, page_table
        li      r3, 0
.Lmap:  shli    r4, r3, 12
        ori     r4, r4, 7              ; P | W | U
        shli    r6, r3, 2
        add     r6, r6, r1
        stw     [r6], r4
        addi    r3, r3, 1
        cmpi    r3, 1024
        jlt     .Lmap
        li      r2, page_directory
        ori     r4, r1, 7
        stw     [r2], r4
        movcr   cr3, r2
        li      r4, 3                  ; PG | WP
        movcr   cr0, r4
        li      r6, ${TOUCHED_PAGE}
        ldw     r0, [r6]               ; the touched page's shadow entry exists before the loop
        li      r7, ${invalidated}
${withLoop ? loop('invlpg  r7\n        ldw     r0, [r6]', iterations) : ''}
        li      r2, 0
        outb    0x501, r2
        hlt
        .align  4096
page_directory:
        .space  4096
page_table:
        .space  4096
`,
    'mechanism-shadow.s',
  ).image;
}

/** A pv kernel looping `iterations` times over `insn` after loading xen_version(VERSION)'s arguments, then shutting down. */
function pvLoopImage(insn: string, iterations: number): Image {
  return assemble(
    `
        .arch pv
        .org 0x100000
_start:
${loop(`li      r0, ${Hc.XEN_VERSION}
        li      r1, ${XenVersionCmd.VERSION}
        li      r2, 0
        ${insn}`, iterations)}
        li      r0, ${Hc.SCHED_OP}             ; sched_op(SHUTDOWN, POWEROFF, 0)
        li      r1, ${SchedOp.SHUTDOWN}
        li      r2, ${ShutdownReason.POWEROFF}
        li      r3, 0
        hypercall
.Lhang: jmp     .Lhang
`,
    'mechanism-pv.s',
  ).image;
}

interface Mechanism {
  mechanism: string;
  mode: 'trap' | 'bt' | 'hvm' | 'pv';
  baseline: string;
  goalNs: number | null;
  /** the loop with the mechanism (true) or the baseline loop (false) */
  image: (withIt: boolean, iterations: number) => Image;
  run: (image: Image, opts: GuestRunOptions) => GuestRunResult;
  seen: (r: GuestRunResult) => number;
  /** the same kernel without its loop, if what comes before the loop has occurrences of its own: they are subtracted */
  prologue?: () => Image;
}

const MECHANISMS: Mechanism[] = [
  {
    mechanism: 'hypercall (xen_version)',
    mode: 'pv',
    baseline: 'NOP in place of HYPERCALL',
    goalNs: 100,
    image: (w, n) => pvLoopImage(w ? 'hypercall' : 'nop', n),
    run: runPvMode,
    // the loop's calls; the shutdown at the end is a sched_op
    seen: (r) => r.domain.stats.hypercalls[Hc.XEN_VERSION]!,
  },
  {
    mechanism: 'trapped-and-emulated privileged instruction (CLI)',
    mode: 'trap',
    baseline: 'NOP in place of CLI',
    goalNs: 300,
    image: (w, n) => bareLoopImage(w ? 'cli' : 'nop', n),
    run: runTrapMode,
    seen: (r) => r.domain.stats.emulated[Op.CLI]!,
  },
  {
    mechanism: 'privileged instruction rewritten in line by binary translation (CLI)',
    mode: 'bt',
    baseline: 'NOP in place of CLI',
    goalNs: null,
    image: (w, n) => bareLoopImage(w ? 'cli' : 'nop', n),
    run: runBtMode,
    seen: (r) => btCache(r.domain).stats.inlined[Op.CLI]!,
  },
  {
    mechanism: 'VM exit (CPUID)',
    mode: 'hvm',
    baseline: 'NOP in place of CPUID',
    goalNs: 200,
    image: (w, n) => bareLoopImage(w ? 'cpuid' : 'nop', n),
    run: runHvmMode,
    seen: (r) => r.domain.stats.cpuExits[Exit.Cpuid]!,
  },
  {
    mechanism: 'hidden shadow page fault (INVLPG, then a load)',
    mode: 'trap',
    baseline: 'INVLPG of a page the loop never touches',
    goalNs: 500,
    image: (w, n) => shadowLoopImage(w ? TOUCHED_PAGE : UNTOUCHED_PAGE, n),
    run: runTrapMode,
    seen: (r) => r.domain.stats.hiddenFaults,
    prologue: () => shadowLoopImage(UNTOUCHED_PAGE, 1, false),
  },
];

const RUNS = 9;

/** the host control's program: opcodes 0-5 of its small interpreter */
const CONTROL_CODE = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7 + (i >> 3)) % 6);
const controlMem = new Int32Array(1 << 14);

/**
 * The host control: a fixed amount of plain JavaScript shaped like the simulator's own hot code (a
 * small bytecode interpreter over typed arrays: a switch per step, loads and stores), timed in ms.
 * It says how fast the host ran this kind of code at the time of a row: on the shared 2-core
 * machine that is not constant (the two cores differ, and which one is slow changes with the host's
 * own load: docs/engine.md, the tenth round's `taskset` figures), and the rows move with it.
 */
export function hostControl(): number {
  const code = CONTROL_CODE;
  const mem = controlMem;
  const t0 = nowMs();
  let a = 1;
  let b = 2;
  let c = 3;
  let d = 4;
  for (let r = 0; r < 2000; r++) {
    for (let pc = 0; pc < code.length; pc++) {
      switch (code[pc]) {
        case 0:
          a = (a + b) | 0;
          break;
        case 1:
          b = (b ^ c) | 0;
          break;
        case 2:
          c = (c + mem[a & 16383]!) | 0;
          break;
        case 3:
          mem[b & 16383] = d;
          break;
        case 4:
          d = (d + 1) | 0;
          break;
        default:
          if (a > b) a = (a - 1) | 0;
          else b = (b + 3) | 0;
      }
    }
  }
  const ms = nowMs() - t0;
  mem[0] = a ^ b ^ c ^ d; // (its result is used)
  return ms;
}

/**
 * Each loop's warm-up run is this many times its timed runs' iterations. The translator makes an
 * entry hot after `threshold` landings at the ends of cold slices (500 of 2,000 cycles by
 * default): about a million cycles, which is what the baseline loops of 200,000 iterations take
 * in all, so at one times the iterations whether a baseline got translated hung on where its
 * slices happened to end (the dispatcher's first landing moved by one instruction, and the trap
 * and hvm baselines went from translated to cold: three times slower, and every mechanism looked
 * cheaper by the difference). Five times makes each loop hot in its warm-up run, and each timed
 * run then finds it translated at its first landing (kept heat), as the loop with the mechanism
 * finds its own: both loops' ordinary instructions run as translated code.
 */
const WARM_UP = 5;

/** The warm-up runs of m's two loops (WARM_UP times `iterations` each). */
function warmUp(m: Mechanism, iterations: number, opts: GuestRunOptions, onCpu?: (cpu: Cpu) => void): void {
  for (const w of [false, true]) {
    const r = m.run(m.image(w, iterations * WARM_UP), onCpu === undefined ? opts : { ...opts, onCpu });
    if (r.reason !== 'poweroff') throw new Error(`mechanism warm-up (${m.mechanism}) stopped with ${r.reason}`);
    r.hypervisor.machine.release();
  }
}

/**
 * One run of `image` under m, timed from the hypervisor's start of the run (its construction left
 * out); the machine's memory released for the next run. `onCpu` sees the CPU first (a bench that
 * sets a host-side switch of it: bench/fetch-walk.ts).
 */
function timedRun(m: Mechanism, image: Image, opts: GuestRunOptions, onCpu?: (cpu: Cpu) => void): { ms: number; value: GuestRunResult } {
  let t0 = 0;
  const value = m.run(image, {
    ...opts,
    onCpu: (cpu) => {
      onCpu?.(cpu);
      t0 = nowMs();
    },
  });
  const ms = nowMs() - t0;
  value.hypervisor.machine.release();
  return { ms, value };
}

/** The occurrences `m` counted in `r`, less those of its prologue (run once more under `opts`). */
function loopOccurrences(m: Mechanism, r: GuestRunResult, opts: GuestRunOptions): number {
  if (m.prologue === undefined) return m.seen(r);
  const p = m.run(m.prologue(), opts);
  if (p.reason !== 'poweroff') throw new Error(`mechanism prologue (${m.mechanism}) stopped with ${p.reason}`);
  return m.seen(r) - m.seen(p);
}

function runOptions(engine?: Engine): GuestRunOptions {
  return { memoryBytes: 4 * 1024 * 1024, maxCycles: Number.MAX_SAFE_INTEGER, ...(engine !== undefined ? { engine } : {}) };
}

/** A mechanism's two loops as a timer (mechanismTimers). */
export interface MechanismTimer {
  mechanism: string;
  mode: MechanismRow['mode'];
  baseline: string;
  goalNs: number | null;
  iterations: number;
  /** the benchmark's warm-up of both loops (WARM_UP), onCpu seeing each run's CPU */
  warmUp: () => void;
  /** one timed run of the loop with the mechanism or of its baseline (to power-off, else an error): ms, and the run */
  time: (withIt: boolean) => { ms: number; result: GuestRunResult };
  /** the occurrences a run of either loop counted in its loop (its prologue's subtracted) */
  occurrences: (r: GuestRunResult) => number;
}

/** Timed-run iterations per loop at `scale` (1: 200,000). */
function iterationsAt(scale: number): number {
  return Math.max(1000, Math.round(200_000 * scale));
}

function timers(iterations: number, engine?: Engine, onCpu?: (cpu: Cpu) => void): MechanismTimer[] {
  const opts = runOptions(engine);
  return MECHANISMS.map((m) => {
    const images = [m.image(false, iterations), m.image(true, iterations)] as const;
    return {
      mechanism: m.mechanism,
      mode: m.mode,
      baseline: m.baseline,
      goalNs: m.goalNs,
      iterations,
      warmUp: () => warmUp(m, iterations, opts, onCpu),
      time: (withIt: boolean) => {
        const r = timedRun(m, images[withIt ? 1 : 0], opts, onCpu);
        if (r.value.reason !== 'poweroff') throw new Error(`mechanism loop (${m.mechanism}, ${withIt ? 'with it' : 'baseline'}) stopped with ${r.value.reason}`);
        return { ms: r.ms, result: r.value };
      },
      occurrences: (r: GuestRunResult) => loopOccurrences(m, r, opts),
    };
  });
}

/**
 * Each mechanism's two loops as a timer, for a caller that interleaves the runs itself
 * (runMechanismsBench; bench/fetch-walk.ts: two settings of a host-side switch alternating run by
 * run, `onCpu` setting it on each run's CPU). `scale` 1 is 200,000 iterations per loop.
 */
export function mechanismTimers(scale = 1, engine?: Engine, onCpu?: (cpu: Cpu) => void): MechanismTimer[] {
  return timers(iterationsAt(scale), engine, onCpu);
}

/** Each mechanism's row; `scale` 1 is 200,000 iterations per loop. */
export function runMechanismsBench(scale = 1, engine?: Engine): MechanismRow[] {
  return mechanismTimers(scale, engine).map((t) => {
    // both loops warmed up first (WARM_UP), then timed alternately (a load spike or a late JIT
    // tier hits both alike rather than whichever ran first), the host control between
    t.warmUp();
    const runs: Array<Array<{ ms: number; result: GuestRunResult }>> = [[], []];
    const control: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      control.push(hostControl());
      for (const w of [0, 1] as const) runs[w]!.push(t.time(w === 1));
    }
    const time = (w: 0 | 1): { ms: number; result: GuestRunResult } => ({ ms: median(runs[w]!.map((r) => r.ms)), result: runs[w]![0]!.result });
    const without = time(0);
    const withIt = time(1);
    return {
      mechanism: t.mechanism,
      mode: t.mode,
      baseline: t.baseline,
      ns: ((withIt.ms - without.ms) * 1e6) / t.iterations,
      cycles: (withIt.result.cycles - without.result.cycles) / t.iterations,
      goalNs: t.goalNs,
      iterations: t.iterations,
      seen: t.occurrences(withIt.result),
      seenWithout: t.occurrences(without.result),
      withMs: withIt.ms,
      withoutMs: without.ms,
      controlMs: median(control),
    };
  });
}

/** The rows as a table. */
export function mechanismsTable(rows: MechanismRow[]): string {
  return textTable(
    ['mechanism', 'mode', 'host ns', 'goal ns', 'sim cycles', 'iterations', 'seen', 'baseline (seen)', 'with (ms)', 'without (ms)', 'control (ms)'],
    rows.map((r) => [r.mechanism, r.mode, r.ns.toFixed(0), r.goalNs ?? '-', r.cycles.toFixed(0), r.iterations, r.seen, `${r.baseline} (${r.seenWithout})`, r.withMs.toFixed(1), r.withoutMs.toFixed(1), r.controlMs.toFixed(1)]),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'left', 'right', 'right', 'right'],
  );
}

/** One run of each mechanism's loop with it and its baseline loop: the occurrences the domain counted and the cycles (tests). */
export function mechanismCounts(iterations: number, engine?: Engine): Array<{ mechanism: string; mode: string; withIt: number; without: number; cycles: [number, number] }> {
  const opts = runOptions(engine);
  return MECHANISMS.map((m) => {
    const w = m.run(m.image(true, iterations), opts);
    const wo = m.run(m.image(false, iterations), opts);
    if (w.reason !== 'poweroff' || wo.reason !== 'poweroff') throw new Error(`mechanism loop (${m.mechanism}) stopped with ${w.reason}/${wo.reason}`);
    return { mechanism: m.mechanism, mode: m.mode, withIt: loopOccurrences(m, w, opts), without: loopOccurrences(m, wo, opts), cycles: [w.cycles, wo.cycles] };
  });
}

/**
 * After the benchmark's warm-up of each loop (default engine and limits), the instructions one
 * timed-length run of each loop ran in cold slices (tests: the baselines must run translated, as
 * the loops with the mechanism do).
 */
export function coldAfterWarmUp(iterations: number): Array<{ mechanism: string; without: number; withIt: number }> {
  let cpu: Cpu | null = null;
  return timers(iterations, undefined, (c) => (cpu = c)).map((t) => {
    t.warmUp();
    const cold = (withIt: boolean): number => {
      t.time(withIt);
      return (cpu as Cpu | null)?.translator?.stats.coldInstructions ?? -1;
    };
    return { mechanism: t.mechanism, without: cold(false), withIt: cold(true) };
  });
}

/**
 * Under the translator, what one run of each mechanism's loop with it cost the dispatcher: entries
 * into translated code, instructions run in cold slices, translations made (tests). The heat is
 * counted from nothing on each machine (a low threshold, none kept from earlier machines), so the
 * counts depend on the loop alone: the difference between two iteration counts is what the extra
 * iterations cost, one entry per exit to the hypervisor and nothing else once the loop is hot.
 * For bt, whose kernel runs in its translation units' compiled code, the entries are the units
 * entered from its unit loop (every unit entry but those chained inside compiled code): none per
 * iteration when the rewritten CLI stays in the compiled loop.
 */
export function mechanismEntries(iterations: number): Array<{ mechanism: string; entries: number; coldInstructions: number; translations: number }> {
  return withTranslatorLimits({ threshold: 4, warmColdSlice: 0 }, () =>
    MECHANISMS.map((m) => {
      let cpu: Cpu | null = null;
      const r = m.run(m.image(true, iterations), { ...runOptions('translator'), onCpu: (c) => (cpu = c) });
      const s = (cpu as Cpu | null)?.translator?.stats;
      if (r.reason !== 'poweroff' || s === undefined) throw new Error(`mechanism loop (${m.mechanism}) stopped with ${r.reason}`);
      const entries = m.mode === 'bt' ? btCache(r.domain).stats.unitsRun - btCache(r.domain).host.chainedInline : s.entries;
      return { mechanism: m.mechanism, entries, coldInstructions: s.coldInstructions, translations: s.translations };
    }),
  );
}
