// Compiler diagnostics: a position in a guest source file plus a message that says what is
// unsupported and what to write instead. Every phase reports through here; nothing reaches the
// user as a stack trace. Imports only TypeScript's node types.
import ts from './typescript.js';
import { relative, isAbsolute } from 'node:path';
import { assertNever as assertNeverCase } from '../../machine/never.ts';

/** One problem in a guest source, printed as `file:line:col: message`. */
export interface Diagnostic {
  /** the file as shown to the user (relative to the working directory when inside it) */
  file: string;
  /** 1-based line */
  line: number;
  /** 1-based column */
  col: number;
  /** what is wrong and, for subset violations, what to write instead */
  message: string;
}

/** Thrown by `compile()` when the source cannot be compiled; holds every diagnostic found. */
export class CompileError extends Error {
  /** all problems, in file then source order */
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'CompileError';
    this.diagnostics = diagnostics;
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

/** The name a file is shown under in diagnostics. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** A diagnostic at the start of `node` (after leading trivia). */
export function diagAt(node: ts.Node, message: string): Diagnostic {
  const sf = node.getSourceFile();
  const pos = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  return { file: displayPath(sf.fileName), line: pos.line + 1, col: pos.character + 1, message };
}

/** A diagnostic at line 1, column 1 of a file (for whole-module problems such as a missing main). */
export function diagAtFile(fileName: string, message: string): Diagnostic {
  return { file: displayPath(fileName), line: 1, col: 1, message };
}

/** Collects diagnostics for one compilation. */
export class DiagnosticBag {
  /** problems reported so far, in report order */
  readonly items: Diagnostic[] = [];
  add(d: Diagnostic): void {
    this.items.push(d);
  }
  error(node: ts.Node, message: string): void {
    this.items.push(diagAt(node, message));
  }
  get hasErrors(): boolean {
    return this.items.length > 0;
  }
  /** Throw a CompileError if anything was reported, sorted by file, line, column. */
  throwIfAny(): void {
    if (this.items.length === 0) return;
    const sorted = [...this.items].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col));
    // The same construct can be reached twice (e.g. by two phases); report it once.
    const seen = new Set<string>();
    const unique = sorted.filter((d) => {
      const key = formatDiagnostic(d);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    throw new CompileError(unique);
  }
}

/** An internal compiler invariant was broken: a bug in the compiler, not in the guest. */
export function assertNever(x: never, what: string): never {
  return assertNeverCase(x, `${what} (internal compiler error)`);
}
