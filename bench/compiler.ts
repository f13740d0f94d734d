// Compiler quality benchmark: four small kernels (sum loop, memcpy, recursive fib, sieve), each
// written once in the guest subset (bench/guest/) and once by hand in XL32 assembly (bench/asm/),
// run to power-off on the bare Machine. Reports exact retired-instruction counts and simulated
// cycles, and the compiled/hand ratio. Deterministic: no wall-clock time is measured here.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../toolchain/asm/index.ts';
import { compile } from '../toolchain/compiler/index.ts';
import { Machine } from '../machine/machine.ts';
import type { Image } from '../machine/image.ts';
import { textTable } from './text-table.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const MEMORY_BYTES = 8 * 1024 * 1024;
const MAX_CYCLES = 1_000_000_000;

/** A kernel and the exit status both versions must power off with. */
interface Kernel {
  name: string;
  /** what the kernel computes, for the table */
  what: string;
  expectedStatus: number;
}

export const KERNELS: readonly Kernel[] = [
  { name: 'sum', what: 'sum of 0..9999 in a counted loop', expectedStatus: 49995000 },
  { name: 'memcpy', what: '8195 bytes copied 8 times (words, then bytes)', expectedStatus: 1493615616 },
  { name: 'fib', what: 'fib(20) by double recursion', expectedStatus: 6765 },
  { name: 'sieve', what: 'primes below 8192 (sieve of Eratosthenes)', expectedStatus: 1028 },
];

/** One kernel's measurements. */
export interface Row {
  kernel: string;
  what: string;
  /** instructions retired by the compiled program, _start to power-off */
  compiledInstructions: number;
  /** instructions retired by the hand-written program */
  handInstructions: number;
  /** compiledInstructions / handInstructions */
  ratio: number;
  /** simulated cycles of each program (exact) */
  compiledCycles: number;
  handCycles: number;
  /** the exit status both programs powered off with */
  status: number;
}

interface Measured {
  instructions: number;
  cycles: number;
  status: number;
}

function runToPowerOff(image: Image, what: string): Measured {
  const machine = new Machine({ memoryBytes: MEMORY_BYTES });
  machine.loadImage(image);
  const result = machine.run({ maxCycles: MAX_CYCLES });
  if (result.reason !== 'poweroff') {
    throw new Error(`${what}: the machine stopped with ${result.reason}${'detail' in result && result.detail ? ` (${String(result.detail)})` : ''} instead of powering off`);
  }
  return { instructions: machine.cpu.instructions, cycles: machine.cpu.cycles, status: result.status | 0 };
}

/** Compile one kernel's guest version. */
export function compiledImage(kernel: string): Image {
  return compile(join(HERE, 'guest', `${kernel}.ts`), { arch: 'native' }).image;
}

/** Assemble one kernel's hand-written version. */
export function handImage(kernel: string): Image {
  const file = join(HERE, 'asm', `${kernel}.s`);
  return assemble(readFileSync(file, 'utf8'), file).image;
}

/** Run every kernel both ways. Throws if a version powers off with the wrong result. */
export function runCompilerBench(): Row[] {
  return KERNELS.map((k) => {
    const compiled = runToPowerOff(compiledImage(k.name), `bench/guest/${k.name}.ts`);
    const hand = runToPowerOff(handImage(k.name), `bench/asm/${k.name}.s`);
    for (const [m, who] of [[compiled, 'compiled'], [hand, 'hand-written']] as const) {
      if (m.status !== (k.expectedStatus | 0)) throw new Error(`${k.name} (${who}): result ${m.status}, expected ${k.expectedStatus | 0}`);
    }
    return {
      kernel: k.name,
      what: k.what,
      compiledInstructions: compiled.instructions,
      handInstructions: hand.instructions,
      ratio: compiled.instructions / hand.instructions,
      compiledCycles: compiled.cycles,
      handCycles: hand.cycles,
      status: compiled.status,
    };
  });
}

/** The rows as a plain-text table. */
export function compilerTable(rows: readonly Row[]): string {
  return textTable(
    ['kernel', 'compiled insns', 'hand insns', 'ratio', 'compiled cycles', 'hand cycles', 'what'],
    rows.map((r) => [r.kernel, r.compiledInstructions, r.handInstructions, r.ratio.toFixed(2), r.compiledCycles, r.handCycles, r.what]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`Compiled guest code vs hand-written assembly (executed instructions, exact)\n${compilerTable(runCompilerBench())}\n`);
}
