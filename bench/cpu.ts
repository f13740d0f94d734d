// Engine speed: millions of guest instructions per second on two loops (compute, and memory with
// paging on over more pages than the TLB holds), next to the same loop as plain JavaScript
// measured in the same run, and on a kernel-heavy workload (the native kernel running
// `lmbench all`: system calls, fork, exec, context switches, page faults), which has no plain
// JavaScript equivalent. Wall-clock figures only; simulated cycles are exact elsewhere.
import { assemble } from '../toolchain/asm/index.ts';
import { Machine } from '../machine/machine.ts';
import { bootNative } from '../hypervisor/boot/native.ts';
import { runImageInMode } from '../hypervisor/index.ts';
import { btCompiledSize } from '../hypervisor/bt/mode.ts';
import { buildGuestKernel, type GuestKernelBuild } from '../toolchain/guest-kernel.ts';
import { cpuMs, median, nowMs, timed } from './timing.ts';
import { lmbenchCmdline } from './compare.ts';
import { ENGINES, type Engine } from '../machine/translator.ts';
import { getHeapCodeStatistics } from 'node:v8';

export interface CpuBenchRow {
  /** kernel: the native kernel on the bare machine; kernel-trap, kernel-bt: the same kernel and workload in a trap or bt domain */
  loop: 'compute' | 'memory' | 'kernel' | 'kernel-trap' | 'kernel-bt';
  engine: Engine;
  /** millions of guest instructions per second */
  mips: number;
  /** the same per second of the process's CPU time (all its threads; median of the same runs) */
  cpuMips: number;
  /** the same loop as plain JavaScript, in millions of loop operations per second (null: the kernel row has none) */
  jsMips: number | null;
  /** guest instructions retired in the timed run */
  instructions: number;
  /** simulated cycles of the timed run (exact, deterministic) */
  cycles: number;
  /** translator rows: the translation cache at the end of one timed run */
  cache?: CacheFootprint;
  /**
   * kernel rows (kernel, kernel-trap, kernel-bt): millions of guest instructions per second in the
   * warm-up, the engine's first run of the workload in the process (for the translator:
   * generating its translations, and V8 compiling them while they run); not part of `mips`, whose
   * runs are the fourth to sixth (after three untimed runs, the same for both engines: the steady
   * state)
   */
  firstMips?: number;
}

/** The translation cache's size against the guest code it covers. */
export interface CacheFootprint {
  translations: number;
  /**
   * the kernel-bt row: bt's compiled functions (chains and straight runs of its translation
   * units, hypervisor/bt/mode.ts btCompiledSize), whose guest bytes and JavaScript are counted
   * with the translations'
   */
  btFunctions?: number;
  /** guest code bytes the translations cover */
  guestBytes: number;
  /** generated JavaScript, characters */
  sourceChars: number;
  /** growth of V8's code and bytecode space over the run (process-wide, so an upper bound) */
  hostCodeBytes: number;
  /** (source + host code bytes) per MiB of guest code */
  hostBytesPerGuestMiB: number;
}

function codeSpace(): number {
  const s = getHeapCodeStatistics();
  return s.code_and_metadata_size + s.bytecode_and_metadata_size;
}

function footprint(machine: Machine, code0: number): CacheFootprint | undefined {
  const tx = machine.cpu.translator;
  if (!tx) return undefined;
  const { translations, guestBytes, sourceChars } = tx.size;
  const hostCodeBytes = Math.max(0, codeSpace() - code0);
  return { translations, guestBytes, sourceChars, hostCodeBytes, hostBytesPerGuestMiB: guestBytes === 0 ? 0 : ((sourceChars + hostCodeBytes) / guestBytes) * 1024 * 1024 };
}

const COMPUTE_OPS_PER_ITERATION = 7;
const MEMORY_OPS_PER_ITERATION = 6;
/** Pages the memory loop walks: well beyond the TLB's entries. */
export const MEMORY_LOOP_PAGES = 2048;

function computeSource(iterations: number): string {
  return `
        .org 0x1000
_start: li      r1, 0
        li      r2, ${iterations}
        li      r3, 0
        li      r4, 0x9e3779b9
.Lloop: add     r3, r3, r1
        xor     r3, r3, r4
        shli    r5, r3, 3
        add     r3, r3, r5
        addi    r1, r1, 1
        cmp     r1, r2
        jlt     .Lloop
        outb    0x501, r3
        hlt
`;
}

/** Identity-maps 16 MiB, turns paging on, then sweeps one word per page over MEMORY_LOOP_PAGES pages. */
function memorySource(sweeps: number): string {
  return `
        .org 0x1000
_start: li      r1, page_tables            ; 4 page tables: 16 MiB identity, supervisor, writable
        li      r2, 0
.Lpte:  shli    r3, r2, 12
        ori     r3, r3, 3
        shli    r4, r2, 2
        add     r4, r4, r1
        stw     [r4], r3
        addi    r2, r2, 1
        cmpi    r2, 4096
        jlt     .Lpte
        li      r5, page_directory
        li      r2, 0
.Lpde:  shli    r3, r2, 12
        add     r3, r3, r1
        ori     r3, r3, 3
        shli    r4, r2, 2
        add     r4, r4, r5
        stw     [r4], r3
        addi    r2, r2, 1
        cmpi    r2, 4
        jlt     .Lpde
        movcr   cr3, r5
        li      r3, 3
        movcr   cr0, r3
        li      r8, ${sweeps}
        li      r9, 0                      ; offset within the page, changes every sweep
.Lsweep: li     r1, 0x400000
        add     r1, r1, r9
        li      r7, ${0x400000 + MEMORY_LOOP_PAGES * 4096}
.Lloop: ldw     r5, [r1]
        add     r5, r5, r1
        stw     [r1], r5
        addi    r1, r1, 4096
        cmp     r1, r7
        jb      .Lloop
        addi    r9, r9, 4
        andi    r9, r9, 4095
        addi    r8, r8, -1
        cmpi    r8, 0
        jgt     .Lsweep
        outb    0x501, r8
        hlt
        .align 4096
page_directory: .space 4096
page_tables:    .space 4 * 4096
`;
}

/** A timed run: wall and CPU seconds, the guest's instructions and cycles, the translator's cache. */
export interface Timed {
  seconds: number;
  cpuSeconds: number;
  instructions: number;
  cycles: number;
  cache?: CacheFootprint;
}

function timeGuest(source: string, name: string, engine: Engine): Timed {
  const { image } = assemble(source, name);
  const machine = new Machine({ memoryBytes: 32 * 1024 * 1024, engine });
  machine.loadImage(image);
  const code0 = codeSpace();
  const c0 = cpuMs();
  const { value: result, ms } = timed(() => machine.run({ maxCycles: Number.MAX_SAFE_INTEGER }));
  const cpuSeconds = (cpuMs() - c0) / 1000;
  const seconds = ms / 1000;
  if (result.reason !== 'poweroff') throw new Error(`benchmark guest ${name} stopped with ${result.reason}`);
  return { seconds, cpuSeconds, instructions: machine.cpu.instructions, cycles: machine.cpu.cycles, cache: footprint(machine, code0) };
}

function jsCompute(iterations: number): number {
  let acc = 0;
  const k = 0x9e3779b9 | 0;
  for (let i = 0; i < iterations; i = (i + 1) | 0) {
    acc = (acc + i) | 0;
    acc ^= k;
    acc = (acc + (acc << 3)) | 0;
  }
  return acc;
}

function jsMemory(sweeps: number, mem: Int32Array): number {
  let off = 0;
  for (let s = sweeps; s > 0; s--) {
    const end = (MEMORY_LOOP_PAGES * 4096) >> 2;
    for (let w = off >> 2; w < end; w += 1024) mem[w] = (mem[w]! + w) | 0;
    off = (off + 4) & 4095;
  }
  return mem[0]!;
}

function timeJs(fn: () => number): number {
  const { value: sink, ms } = timed(fn);
  if (sink === 0x7fffffff) process.stdout.write(''); // keep the result alive
  return ms / 1000;
}

export const RUNS = 3;
/**
 * Untimed runs of the kernel row's workload before its RUNS timed ones, the same for both engines:
 * the first is the warm-up figure printed beside the medians (firstMips); under the translator
 * its translations are made then, and V8's optimizing compiles of them still fall in the second
 * and third runs (`node --trace-opt`), so the medians are of a process's fourth to sixth runs:
 * the steady state, as a JIT's benchmark conventionally times it.
 */
export const KERNEL_WARMUP_RUNS = 3;

/** Time a guest loop RUNS times after a warm-up (the JIT settles over the first runs); median seconds. */
function timeGuestMedian(source: string, warmup: string, name: string, engine: Engine): Timed {
  timeGuest(warmup, `${name}-warmup`, engine);
  const runs = Array.from({ length: RUNS }, () => timeGuest(source, name, engine));
  for (const r of runs) {
    if (r.instructions !== runs[0]!.instructions || r.cycles !== runs[0]!.cycles) throw new Error(`benchmark guest ${name} is not deterministic`);
  }
  return { ...runs[0]!, seconds: median(runs.map((r) => r.seconds)), cpuSeconds: median(runs.map((r) => r.cpuSeconds)) };
}

/** An engine's runs of a kernel row's workload: the first untimed one, and the RUNS timed ones. */
export interface KernelRuns {
  first: Timed;
  runs: Timed[];
}

/**
 * KERNEL_WARMUP_RUNS untimed runs, then RUNS timed ones, of each engine in turn (interpreter,
 * translator, interpreter, ...); every run's simulated figures, the untimed ones' too, checked
 * equal to the first's (`differ`: the error's message when not).
 */
export function alternating(engines: readonly Engine[], run: (engine: Engine) => Timed, differ: string): Map<Engine, KernelRuns> {
  const out = new Map<Engine, KernelRuns>();
  let first: Timed | null = null;
  for (let k = 0; k < KERNEL_WARMUP_RUNS + RUNS; k++) {
    for (const engine of engines) {
      const x = run(engine);
      first ??= x;
      if (x.instructions !== first.instructions || x.cycles !== first.cycles) throw new Error(differ);
      const r = out.get(engine);
      if (r === undefined) out.set(engine, { first: x, runs: [] });
      else if (k >= KERNEL_WARMUP_RUNS) r.runs.push(x);
    }
  }
  return out;
}

/** A kernel row's figures: the medians of the timed runs, the first timed run's cache, the warm-up's speed. */
function kernelRow(r: KernelRuns): Omit<CpuBenchRow, 'loop' | 'engine'> {
  const k = r.runs[0]!;
  const seconds = median(r.runs.map((x) => x.seconds));
  const cpuSeconds = median(r.runs.map((x) => x.cpuSeconds));
  return {
    mips: k.instructions / seconds / 1e6,
    cpuMips: k.instructions / Math.max(1e-6, cpuSeconds) / 1e6,
    jsMips: null,
    instructions: k.instructions,
    cycles: k.cycles,
    ...(k.cache ? { cache: k.cache } : {}),
    firstMips: r.first.instructions / r.first.seconds / 1e6,
  };
}

/** The kernel-heavy workload: the native kernel booted with `lmbench all reps`, run to power-off. */
function timeKernel(build: GuestKernelBuild, reps: number, engine: Engine): Timed {
  const machine = new Machine({ memoryBytes: 32 * 1024 * 1024, engine });
  const code0 = codeSpace();
  const c0 = cpuMs();
  const t0 = nowMs();
  bootNative(machine, { kernel: build.kernel, initrd: build.initrd, cmdline: lmbenchCmdline(reps) });
  const result = machine.run({ maxCycles: Number.MAX_SAFE_INTEGER });
  const seconds = (nowMs() - t0) / 1000;
  const cpuSeconds = (cpuMs() - c0) / 1000;
  if (result.reason !== 'poweroff' || result.status !== 0) throw new Error(`benchmark kernel (${lmbenchCmdline(reps)}) stopped with ${result.reason} (status ${result.status})`);
  const cache = footprint(machine, code0);
  // its memory, already mapped by the host, serves the next run: a fresh buffer makes the kernel's
  // first touch of each frame (its free list links them all) a host page fault, the same cost under
  // both engines and none of theirs (machine/memory.ts SPARE_BUFFERS)
  machine.release();
  return { seconds, cpuSeconds, instructions: result.instructions, cycles: result.cycles, ...(cache ? { cache } : {}) };
}

/**
 * The same workload as timeKernel in a trap or bt domain (the hypervisor's work included in the
 * instructions and the time): under the translator, bt runs its translation units as compiled
 * JavaScript (hypervisor/bt/mode.ts), trap the kernel's own code on the translator directly.
 */
function timeModeKernel(build: GuestKernelBuild, reps: number, engine: Engine, mode: 'trap' | 'bt'): Timed {
  const code0 = codeSpace();
  const c0 = cpuMs();
  const t0 = nowMs();
  const r = runImageInMode(mode, build.kernel, { initrd: build.initrd, cmdline: lmbenchCmdline(reps), engine, maxCycles: Number.MAX_SAFE_INTEGER });
  const seconds = (nowMs() - t0) / 1000;
  const cpuSeconds = (cpuMs() - c0) / 1000;
  if (r.reason !== 'poweroff' || r.status !== 0) throw new Error(`benchmark kernel (${lmbenchCmdline(reps)}) under ${mode} stopped with ${r.reason} (status ${r.status})`);
  r.hypervisor.machine.release(); // as timeKernel's
  const tx = r.hypervisor.cpu.translator;
  const bt = mode === 'bt' && r.domain !== undefined ? btCompiledSize(r.domain) : null;
  const cache: CacheFootprint | undefined =
    tx === null
      ? undefined
      : {
          translations: tx.size.translations,
          ...(bt !== null ? { btFunctions: bt.functions } : {}),
          guestBytes: tx.size.guestBytes + (bt?.guestBytes ?? 0),
          sourceChars: tx.size.sourceChars + (bt?.sourceChars ?? 0),
          hostCodeBytes: Math.max(0, codeSpace() - code0),
          hostBytesPerGuestMiB: 0,
        };
  if (cache && cache.guestBytes > 0) cache.hostBytesPerGuestMiB = ((cache.sourceChars + cache.hostCodeBytes) / cache.guestBytes) * 1024 * 1024;
  return { seconds, cpuSeconds, instructions: r.instructions, cycles: r.cycles, ...(cache ? { cache } : {}) };
}

function timeJsMedian(fn: () => number): number {
  fn();
  return median(Array.from({ length: RUNS }, () => timeJs(fn)));
}

/** The rows' loops, in the order they run. */
export const CPU_LOOPS: ReadonlyArray<CpuBenchRow['loop']> = ['compute', 'memory', 'kernel', 'kernel-trap', 'kernel-bt'];

/** Each loop (of `loops`) under each engine (in ENGINES order), beside plain JavaScript; `scale` 1 is the default size (about a second per interpreter run on a current core). */
export function runCpuBench(scale = 1, engines: readonly Engine[] = ENGINES, loops: ReadonlyArray<CpuBenchRow['loop']> = CPU_LOOPS): CpuBenchRow[] {
  const iterations = Math.round(20_000_000 * scale);
  const sweeps = Math.round(4000 * scale);
  const rows: CpuBenchRow[] = [];

  const cJs = loops.includes('compute') ? timeJsMedian(() => jsCompute(iterations)) : 0;
  for (const engine of loops.includes('compute') ? engines : []) {
    const c = timeGuestMedian(computeSource(iterations), computeSource(Math.round(iterations / 10)), 'compute.s', engine);
    rows.push({
      loop: 'compute',
      engine,
      mips: c.instructions / c.seconds / 1e6,
      cpuMips: c.instructions / Math.max(1e-6, c.cpuSeconds) / 1e6,
      jsMips: (iterations * COMPUTE_OPS_PER_ITERATION) / cJs / 1e6,
      instructions: c.instructions,
      cycles: c.cycles,
      ...(c.cache ? { cache: c.cache } : {}),
    });
  }

  const mem = new Int32Array((MEMORY_LOOP_PAGES * 4096) >> 2);
  const mJs = loops.includes('memory') ? timeJsMedian(() => jsMemory(sweeps, mem)) : 0;
  for (const engine of loops.includes('memory') ? engines : []) {
    const m = timeGuestMedian(memorySource(sweeps), memorySource(Math.max(1, Math.round(sweeps / 10))), 'memory.s', engine);
    rows.push({
      loop: 'memory',
      engine,
      mips: m.instructions / m.seconds / 1e6,
      cpuMips: m.instructions / Math.max(1e-6, m.cpuSeconds) / 1e6,
      jsMips: (sweeps * MEMORY_LOOP_PAGES * MEMORY_OPS_PER_ITERATION) / mJs / 1e6,
      instructions: m.instructions,
      cycles: m.cycles,
      ...(m.cache ? { cache: m.cache } : {}),
    });
  }

  const build = buildGuestKernel({ arch: 'native' });
  const reps = Math.max(1, Math.round(200 * scale));
  // the warm-up is the timed workload itself: a shorter one left most of the kernel's hot code to
  // be translated and compiled by V8 inside the timed runs (19 of 166 translations made in a tenth
  // of the work), so the median measured V8's compiles rather than the engine; and it is
  // KERNEL_WARMUP_RUNS runs, of which the first is reported. Each engine's runs alternate with the
  // other's, so a load spike on this shared host falls on both and not on one engine's whole row
  // (one after the other, the kernel row's ratio moved from 2.6 to 4.9 times within a minute)
  if (loops.includes('kernel')) {
    for (const [engine, r] of alternating(engines, (engine) => timeKernel(build, reps, engine), 'benchmark kernel is not deterministic (or the engines disagree)')) {
      rows.push({ loop: 'kernel', engine, ...kernelRow(r) });
    }
  }

  // the same workload under the two software techniques of full virtualization, warmed up and
  // alternating as the kernel row is: bt's chains are optimized by V8 over a process's first two
  // or three boots (docs/engine.md, "The twenty-first round"), so a shorter warm-up timed V8's work
  for (const mode of ['trap', 'bt'] as const) {
    if (!loops.includes(`kernel-${mode}`)) continue;
    for (const [engine, r] of alternating(engines, (engine) => timeModeKernel(build, reps, engine, mode), `benchmark kernel under ${mode} is not deterministic (or the engines disagree)`)) {
      rows.push({ loop: `kernel-${mode}`, engine, ...kernelRow(r) });
    }
  }
  return rows;
}
