// Mechanism costs in wall time: the host nanoseconds of one trapped-and-emulated privileged
// instruction (trap mode: CLI at ring 1, #GP, emulated) and one VM exit (hvm: CPUID, which
// always exits), each measured as the difference between a guest loop with the instruction and
// the same loop with a NOP in its place, in the same run (median of RUNS after a warm-up). The
// simulated counters of each run confirm the mechanism happened once per iteration.
import { assemble } from '../toolchain/asm/index.ts';
import { runTrapMode } from '../hypervisor/trap/index.ts';
import { runHvmMode } from '../hypervisor/hvm/index.ts';
import type { GuestRunOptions, GuestRunResult } from '../hypervisor/run.ts';
import type { Image } from '../machine/image.ts';
import { Exit } from '../machine/types.ts';
import { Op } from '../machine/isa.ts';
import type { Engine } from '../machine/translator.ts';
import { median, timed } from './timing.ts';
import { textTable } from './text-table.ts';

export interface MechanismRow {
  mechanism: string;
  mode: 'trap' | 'hvm';
  /** host nanoseconds per occurrence: (loop with it - loop without it) / iterations */
  ns: number;
  /** the goal, ns */
  goalNs: number;
  iterations: number;
  /** occurrences the domain's counters saw in one run of the loop with it (iterations, if all went as designed) */
  seen: number;
  /** milliseconds of the two loops (medians) */
  withMs: number;
  withoutMs: number;
}

/** A bare kernel looping `iterations` times over `insn`, then powering off. */
function loopImage(insn: string, iterations: number): Image {
  return assemble(
    `
        .arch bare
        .org 0x1000
_start: li      r5, ${iterations}          ; r5: CPUID writes r0-r3
.Lloop: ${insn}
        addi    r5, r5, -1
        cmpi    r5, 0
        jgt     .Lloop
        li      r2, 0
        outb    0x501, r2
        hlt
`,
    'mechanism.s',
  ).image;
}

interface Mechanism {
  mechanism: string;
  mode: 'trap' | 'hvm';
  insn: string;
  goalNs: number;
  run: (image: Image, opts: GuestRunOptions) => GuestRunResult;
  seen: (r: GuestRunResult) => number;
}

const MECHANISMS: Mechanism[] = [
  { mechanism: 'trapped-and-emulated privileged instruction (CLI)', mode: 'trap', insn: 'cli', goalNs: 300, run: runTrapMode, seen: (r) => r.domain.stats.emulated[Op.CLI]! },
  { mechanism: 'VM exit (CPUID)', mode: 'hvm', insn: 'cpuid', goalNs: 200, run: runHvmMode, seen: (r) => r.domain.stats.cpuExits[Exit.Cpuid]! },
];

const RUNS = 3;

/** Each mechanism's row; `scale` 1 is 200,000 iterations per loop. */
export function runMechanismsBench(scale = 1, engine?: Engine): MechanismRow[] {
  const iterations = Math.max(1000, Math.round(200_000 * scale));
  return MECHANISMS.map((m) => {
    const opts: GuestRunOptions = { memoryBytes: 4 * 1024 * 1024, maxCycles: Number.MAX_SAFE_INTEGER, ...(engine !== undefined ? { engine } : {}) };
    const time = (insn: string): { ms: number; result: GuestRunResult } => {
      const image = loopImage(insn, iterations);
      m.run(loopImage(insn, Math.round(iterations / 10)), opts); // warm-up
      const runs = Array.from({ length: RUNS }, () => timed(() => m.run(image, opts)));
      for (const r of runs) if (r.value.reason !== 'poweroff') throw new Error(`mechanism loop (${m.mode}, ${insn}) stopped with ${r.value.reason}`);
      return { ms: median(runs.map((r) => r.ms)), result: runs[0]!.value };
    };
    const without = time('nop');
    const withIt = time(m.insn);
    return {
      mechanism: m.mechanism,
      mode: m.mode,
      ns: ((withIt.ms - without.ms) * 1e6) / iterations,
      goalNs: m.goalNs,
      iterations,
      seen: m.seen(withIt.result),
      withMs: withIt.ms,
      withoutMs: without.ms,
    };
  });
}

/** The rows as a table. */
export function mechanismsTable(rows: MechanismRow[]): string {
  return textTable(
    ['mechanism', 'mode', 'host ns', 'goal ns', 'iterations', 'seen', 'with (ms)', 'without (ms)'],
    rows.map((r) => [r.mechanism, r.mode, r.ns.toFixed(0), r.goalNs, r.iterations, r.seen, r.withMs.toFixed(1), r.withoutMs.toFixed(1)]),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

/** One run of each mechanism's loop with it and without it: the occurrences the domain counted (tests). */
export function mechanismCounts(iterations: number): Array<{ mechanism: string; withIt: number; without: number; cycles: [number, number] }> {
  const opts: GuestRunOptions = { memoryBytes: 4 * 1024 * 1024, maxCycles: Number.MAX_SAFE_INTEGER };
  return MECHANISMS.map((m) => {
    const w = m.run(loopImage(m.insn, iterations), opts);
    const wo = m.run(loopImage('nop', iterations), opts);
    return { mechanism: m.mechanism, withIt: m.seen(w), without: m.seen(wo), cycles: [w.cycles, wo.cycles] };
  });
}
