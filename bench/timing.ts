// Wall-clock timing for the benchmarks: one clock, one median. Simulated cycles are exact and
// need none of this; wall time is measured, after a warm-up, and reported as a median of runs.
// The one timing module of bench/ (never used by tests for assertions). Host code.
import { createRequire } from 'node:module';
import { DEFAULT_LIMITS } from '../machine/translator.ts';

/**
 * Warn on stderr when tsx's CommonJS hook is registered in this process (`node --import tsx`,
 * the `tsx` command; `node --import tsx/esm` and the `xenolith` command register tsx's ES module
 * hooks alone). That hook reads each CommonJS file the process loads with a WebAssembly lexer,
 * and the TypeScript compiler's 9 MB file makes the lexer's memory grow, which detaches the
 * memory's old ArrayBuffer. From a process's first detached buffer on, V8 checks every
 * typed-array access of optimized code for one, and every engine runs slower: the wall times of
 * such a run do not compare with the `xenolith` command's (docs/engine.md, "The twenty-eighth
 * round").
 */
export function warnIfCommonJsHook(script: string): void {
  if (createRequire(import.meta.url).extensions['.ts'] === undefined) return;
  process.stderr.write(`${script}: tsx's CommonJS hook is registered (node --import tsx, or the tsx command), which makes every engine slower here than under the xenolith command: run node --import tsx/esm ${script} instead\n`);
}

/** Milliseconds from a monotonic clock. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Milliseconds of CPU time the process has used (user and system, every thread: V8's background
 * compiles included). Less disturbed than wall time by other jobs on a loaded machine.
 */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** `fn()`'s result and the wall-clock milliseconds it took. */
export function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { value, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** The median (the mean of the middle two for an even count); 0 for no values. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/**
 * KS_UNIT_HEAT from the environment (bench/kernel-steady.ts, bench/ab-trees.ts): the translator
 * limits it asks for - bt compiles a unit after threshold x unitHeat entries - to run under with
 * withTranslatorLimits ({} when unset). A value that is not a number above 0 ends the process
 * with a message (status 2).
 */
export function unitHeatLimits(): { unitHeat?: number } {
  const v = process.env.KS_UNIT_HEAT;
  if (v === undefined) return {};
  if (!(Number(v) > 0)) {
    process.stderr.write(`KS_UNIT_HEAT=${v}: give a number above 0 (the default is ${DEFAULT_LIMITS.unitHeat})\n`);
    process.exit(2);
  }
  return { unitHeat: Number(v) };
}

/** Run `fn` once to warm up (the JavaScript engine settles), then `runs` times timed. */
export function timeRuns<T>(runs: number, fn: () => T): { value: T; ms: number }[] {
  fn();
  return Array.from({ length: runs }, () => timed(fn));
}
