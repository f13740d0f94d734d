// What leaving the engine's code and coming back costs (issue 15, mechanism costs under the
// translator): a bare CPU (no hypervisor) loops ITERATIONS times over three LIs, a HYPERCALL (or a
// NOP, the baseline), and the counter's decrement, compare and branch; the host answers each
// HYPERCALL exit at once (hypercallReturn) and calls run() again. Under the translator each
// iteration leaves translated code before the HYPERCALL, step() runs it, and run() enters the
// loop's translation again at the next instruction (one entry per iteration: mechanismEntries in
// bench/mechanisms.ts); under the interpreter the fast loop stops before it and starts again after.
// The engines' machines alternate in one process, so the load of a shared machine falls on both
// alike; prints per engine the minimum and median host ns per iteration with the exit, without it,
// and their difference (the exit and re-entry alone). With `mechanisms`, the rows of `bench
// mechanisms` follow, the engines alternating likewise (medians of their ROUNDS runs).
//
//   node --import tsx/esm bench/reentry.ts [ROUNDS=15] [mechanisms]
import { Machine } from '../machine/machine.ts';
import { assemble } from '../toolchain/asm/index.ts';
import { Exit } from '../machine/types.ts';
import { ENGINES, type Engine } from '../machine/translator.ts';
import type { Image } from '../machine/image.ts';
import { runMechanismsBench, type MechanismRow } from './mechanisms.ts';
import { median, nowMs, warnIfCommonJsHook } from './timing.ts';

warnIfCommonJsHook('bench/reentry.ts');

const ITERATIONS = 200_000;

function loopImage(insn: string): Image {
  return assemble(
    `
        .arch pv
        .org 0x100000
_start: li      r5, ${ITERATIONS}
.Lloop: li      r0, 17
        li      r1, 0
        li      r2, 0
        ${insn}
        addi    r5, r5, -1
        cmpi    r5, 0
        jgt     .Lloop
        hlt
`,
    'reentry.s',
  ).image;
}

/** Milliseconds of one run of the loop on a new machine, the host answering each HYPERCALL at once. */
function runLoop(image: Image, engine: Engine): number {
  const m = new Machine({ memoryBytes: 4 * 1024 * 1024, engine });
  m.loadImage(image);
  const cpu = m.cpu;
  cpu.hypercallExits = true;
  const t0 = nowMs();
  for (;;) {
    const x = cpu.run(Number.MAX_SAFE_INTEGER);
    if (x !== Exit.Hypercall) break;
    cpu.hypercallReturn(0);
  }
  const ms = nowMs() - t0;
  if (!cpu.halted || cpu.regs[5] !== 0) throw new Error(`reentry loop (${engine}) stopped early at pc ${cpu.pc}`);
  return ms;
}

const rounds = Number(process.argv[2] ?? 15);
const withMechanisms = process.argv.includes('mechanisms');
const images = [loopImage('hypercall'), loopImage('nop')] as const;
const ms = new Map<Engine, [number[], number[]]>(ENGINES.map((e) => [e, [[], []]]));
for (let k = 0; k < rounds; k++) {
  for (const e of ENGINES) for (const w of [0, 1] as const) ms.get(e)![w].push(runLoop(images[w], e));
}
const ns = (v: number): string => ((v * 1e6) / ITERATIONS).toFixed(0).padStart(5);
console.log(`bare CPU, ${ITERATIONS} iterations, ${rounds} rounds (the first 2 are warm-up): host ns per iteration, min / median`);
for (const e of ENGINES) {
  const [a, b] = ms.get(e)!.map((t) => t.slice(2));
  const min = [Math.min(...a!), Math.min(...b!)];
  const med = [median(a!), median(b!)];
  console.log(`${e.padEnd(11)} with HYPERCALL ${ns(min[0]!)} / ${ns(med[0]!)}   with NOP ${ns(min[1]!)} / ${ns(med[1]!)}   exit and re-entry ${ns(min[0]! - min[1]!)} / ${ns(med[0]! - med[1]!)}`);
}
if (withMechanisms) {
  const rows = new Map<Engine, MechanismRow[][]>(ENGINES.map((e) => [e, []]));
  const mr = Math.max(1, Math.min(5, rounds));
  for (let k = 0; k < mr; k++) for (const e of ENGINES) rows.get(e)!.push(runMechanismsBench(1, e));
  console.log(`bench mechanisms, ${mr} runs per engine alternating: host ns (median of the runs), with/without ms (medians)`);
  for (const e of ENGINES) {
    const runs = rows.get(e)!;
    for (let i = 0; i < runs[0]!.length; i++) {
      const col = (f: (r: MechanismRow) => number): number => median(runs.map((r) => f(r[i]!)));
      console.log(`${e.padEnd(11)} ${runs[0]![i]!.mechanism.padEnd(50)} ${col((r) => r.ns).toFixed(0).padStart(5)} ns  (${col((r) => r.withMs).toFixed(1)} / ${col((r) => r.withoutMs).toFixed(1)} ms)`);
    }
  }
}
