// Runs one guest program two ways, for differential testing: directly in Node over the xl32 shim
// (vitest's alias resolves 'xl32' to toolchain/lib/xl32.ts), and compiled to XL32 on the bare
// Machine. Test-only: needs vitest's module registry (vi.resetModules) for the Node run.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { vi } from 'vitest';
import { compile } from '../../../toolchain/compiler/index.ts';
import { Machine } from '../../../machine/machine.ts';

/** The shim module's absolute path: the same module instance guest imports of 'xl32' get. */
const XL32_SHIM = resolve(import.meta.dirname, '../../../toolchain/lib/xl32.ts');

/** Default cycle budget for one XL32 run: generous for a test program, finite for a runaway one. */
export const DEFAULT_MAX_CYCLES = 200_000_000;
/** Physical memory given to the bare machine. */
export const MACHINE_MEMORY_BYTES = 8 * 1024 * 1024;

export interface NodeRun {
  /** bytes the guest wrote to the UART data port, as Latin-1 text */
  output: string;
  /** the power-off status if the guest powered off, else main's result (what _start powers off with) */
  status: number | null;
}

export interface Xl32Run {
  /** console output, as Latin-1 text */
  output: string;
  /** the power-off status as a signed 32-bit value, or null if the machine stopped any other way (see `stopped`) */
  status: number | null;
  /** simulated cycles (exact) */
  cycles: number;
  /** instructions retired (exact) */
  instructions: number;
  /** why the machine stopped: 'poweroff' normally */
  stopped: string;
  /** the machine's detail for other stops (fault, vector, pc) */
  detail?: string;
}

/**
 * Run a guest program in Node: a fresh module registry (so module-level `staticBuffer`/`cstr`
 * initializers and the shim's memory start from scratch), then its exported `main()`.
 * Guest `powerOff` only records the status in the shim; the program keeps running to the end of main.
 */
export async function runInNode(entryFile: string): Promise<NodeRun> {
  vi.resetModules();
  const xl32 = (await import(/* @vite-ignore */ pathToFileURL(XL32_SHIM).href)) as typeof import('../../../toolchain/lib/xl32.ts');
  xl32.shim.reset();
  const mod = (await import(/* @vite-ignore */ pathToFileURL(resolve(entryFile)).href)) as { main?: () => unknown };
  if (typeof mod.main !== 'function') throw new Error(`${entryFile}: guest program exports no main()`);
  const result = mod.main();
  const returned = typeof result === 'number' ? result | 0 : typeof result === 'boolean' ? Number(result) : 0;
  return { output: xl32.shim.outputText(), status: xl32.shim.poweredOff ?? returned };
}

export interface Xl32Options {
  maxCycles?: number;
}

/** Compile a guest program for bare XL32 (arch native: `_start` calls main, then powers off with its result) and run it. */
export function runOnXl32(entryFile: string, opts: Xl32Options = {}): Xl32Run {
  const { image } = compile(resolve(entryFile), { arch: 'native' });
  return runImage(image, opts);
}

/** Run an already-built image on a fresh bare Machine, collecting the console output. */
export function runImage(image: Parameters<Machine['loadImage']>[0], opts: Xl32Options = {}): Xl32Run {
  const machine = new Machine({ memoryBytes: MACHINE_MEMORY_BYTES });
  machine.loadImage(image);
  const result = machine.run({ maxCycles: opts.maxCycles ?? DEFAULT_MAX_CYCLES });
  const run: Xl32Run = {
    output: machine.consoleOutput(),
    status: result.reason === 'poweroff' ? result.status | 0 : null,
    cycles: machine.cpu.cycles,
    instructions: machine.cpu.instructions,
    stopped: result.reason,
  };
  if (result.reason !== 'poweroff' && 'detail' in result && result.detail) run.detail = String(result.detail);
  return run;
}
