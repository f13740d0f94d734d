// Test helpers for the compiler: write guest sources to a temporary folder, compile them, and
// read back diagnostics with paths relative to that folder, and run programs on the bare Machine.
// Test-only; touches only temp dirs.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { compile, CompileError, type CompileOptions, type CompileResult } from '../../../toolchain/compiler/index.ts';
import { Machine } from '../../../machine/machine.ts';

/** Guest sources by path relative to a fresh folder; 'main.ts' is the entry unless told otherwise. */
export type SourceTree = Record<string, string>;

/** Write `files` into a new temporary folder; returns its absolute path. */
export function writeTree(files: SourceTree): string {
  const dir = mkdtempSync(join(tmpdir(), 'xl-compile-'));
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return dir;
}

const NATIVE: CompileOptions = { arch: 'native' };

/** Compile a tree (or one source as main.ts); `entry` names the entry file inside it. */
export function compileTree(files: SourceTree | string, opts: CompileOptions = NATIVE, entry = 'main.ts'): CompileResult & { dir: string } {
  const tree = typeof files === 'string' ? { [entry]: files } : files;
  const dir = writeTree(tree);
  return { ...compile(join(dir, entry), opts), dir };
}

/**
 * Compile and return the diagnostics as `file:line:col: message` lines, file relative to the
 * tree's folder. Fails the test if compilation succeeds.
 */
export function compileErrors(files: SourceTree | string, opts: CompileOptions = NATIVE, entry = 'main.ts'): string[] {
  const tree = typeof files === 'string' ? { [entry]: files } : files;
  const dir = writeTree(tree);
  try {
    compile(join(dir, entry), opts);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return e.diagnostics.map((d) => `${relative(dir, resolve(d.file)).split('\\').join('/')}:${d.line}:${d.col}: ${d.message}`);
  }
  throw new Error('expected compilation to fail, but it succeeded');
}

/** The assembly lines of one function (between `.func name` and `.endfunc`), trimmed. */
export function functionAsm(asm: string, name: string): string[] {
  const lines = asm.split('\n');
  const start = lines.indexOf(`.func ${name}`);
  if (start < 0) throw new Error(`no function ${name} in the assembly`);
  const end = lines.indexOf('.endfunc', start);
  return lines.slice(start + 1, end).map((l) => l.trim());
}

/** What a compiled program did on the bare machine. */
export interface ProgramRun {
  /** UART output, Latin-1 */
  output: string;
  /** how the machine stopped ('poweroff' normally) */
  stopped: string;
  /** the power-off status (signed), or null */
  status: number | null;
  /** the machine's explanation for other stops */
  detail: string | undefined;
  /** instructions retired (exact) */
  instructions: number;
  /** the generated assembly, for failure messages */
  asm: string;
}

/**
 * Compile a tree (or one source as main.ts) as a native kernel and run it on a bare 8 MiB
 * Machine until it powers off, halts or spends maxCycles. `_start` powers off with main's result.
 */
export function compileAndRun(files: SourceTree | string, opts: { maxCycles?: number; entry?: string; input?: string } = {}): ProgramRun {
  const { image, asm } = compileTree(files, NATIVE, opts.entry ?? 'main.ts');
  const machine = new Machine({ memoryBytes: 8 * 1024 * 1024, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  machine.loadImage(image);
  const r = machine.run({ maxCycles: opts.maxCycles ?? 50_000_000 });
  return {
    output: machine.consoleOutput(),
    stopped: r.reason,
    status: r.reason === 'poweroff' ? r.status | 0 : null,
    detail: r.detail,
    instructions: machine.cpu.instructions,
    asm,
  };
}

/** A print library guests can import as './print.ts' (UART transmit, strings, decimal numbers). */
export const PRINT_TS = `import { outb, load8 } from 'xl32';
export function putc(c: number): void { outb(0x3f8, c); }
export function puts(s: number): void { for (let c = load8(s); c !== 0; c = load8(++s)) putc(c); }
export function putn(n: number): void {
  if (n < 0) { putc(45); n = -n; }
  if (n >= 10) putn((n / 10) | 0);
  putc(48 + (n % 10));
}
`;
