// Assembler diagnostics: source positions, the collected list of errors of one run, and the
// AsmError thrown to callers ("file:line:col: what is wrong"). Pure; imports nothing of ours.
// Every phase of toolchain/asm reports through here; no phase prints or exits.

/** A 1-based source position. */
export interface Pos {
  line: number;
  col: number;
}

/** One problem found in the source. */
export interface Diagnostic extends Pos {
  file: string;
  /** the sentence after "file:line:col: " */
  message: string;
}

export const formatDiagnostic = (d: Diagnostic): string => `${d.file}:${d.line}:${d.col}: ${d.message}`;

/**
 * What `assemble()` throws for any problem in the source. file/line/col are those of the first
 * error (in source order); `diagnostics` holds all of them (up to MAX_ERRORS), and the message
 * has one "file:line:col: ..." line per error.
 */
export class AsmError extends Error {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[], truncated = 0) {
    const first = diagnostics[0];
    if (!first) throw new Error('AsmError needs at least one diagnostic');
    const lines = diagnostics.map(formatDiagnostic);
    if (truncated > 0) lines.push(`${first.file}: ... and ${truncated} more error${truncated === 1 ? '' : 's'}`);
    super(lines.join('\n'));
    this.name = 'AsmError';
    this.file = first.file;
    this.line = first.line;
    this.col = first.col;
    this.diagnostics = diagnostics;
  }
}

/** Thrown inside a phase to abandon the current statement; caught and recorded per statement. */
export class StmtError extends Error {
  constructor(
    readonly pos: Pos,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Abandons the current statement without a new diagnostic: the statement depends on one that
 * already failed (e.g. a constant whose definition had a syntax error), so reporting it again
 * would only repeat the first error.
 */
export class Silenced extends Error {}

/** Errors reported to the user stop being collected after this many (the rest are counted). */
export const MAX_ERRORS = 20;

/** The errors of one assembler run, in the order found. */
export class Diagnostics {
  private readonly list: Diagnostic[] = [];

  constructor(readonly file: string) {}

  error(pos: Pos, message: string): void {
    this.list.push({ file: this.file, line: pos.line, col: pos.col, message });
  }

  /** Run one statement's work, recording a StmtError instead of propagating it. */
  guard(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      if (e instanceof StmtError) this.error(e.pos, e.message);
      else if (!(e instanceof Silenced)) throw e;
      return false;
    }
  }

  get count(): number {
    return this.list.length;
  }

  /** Throw an AsmError if anything was reported (sorted by position, duplicates dropped). */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const seen = new Set<string>();
    const sorted = [...this.list]
      .sort((a, b) => a.line - b.line || a.col - b.col)
      .filter((d) => {
        const key = formatDiagnostic(d);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    throw new AsmError(sorted.slice(0, MAX_ERRORS), Math.max(0, sorted.length - MAX_ERRORS));
  }
}

/** Edit distance counting a swap of two neighbouring letters as one edit (typos like "strat"). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) { row.push(j); continue; }
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/** The closest candidate to `word`, if one is close enough to be a plausible typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  const limit = Math.max(1, Math.floor(word.length / 3));
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist || (d === bestDist && best !== undefined && c < best)) {
      best = c;
      bestDist = d;
    }
  }
  return bestDist <= limit ? best : undefined;
}

/** " ; did you mean `x`?" or "" */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : `; did you mean \`${c}\`?`;
}
