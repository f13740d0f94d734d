// Static data the compiled program needs besides code: NUL-terminated strings (deduplicated),
// static buffers, module variables, trap entry stubs, jump tables, runtime helpers. Filled by
// constant evaluation and lowering, read by the emitter. Pure bookkeeping.

/** A value known at compile or link time: an integer, or a symbol's address plus an offset. */
export type ConstValue = { kind: 'int'; value: number } | { kind: 'addr'; sym: string; offset: number };

export const intConst = (value: number): ConstValue => ({ kind: 'int', value: value | 0 });

/** A zeroed region reserved by `const x = staticBuffer(bytes, align)`. */
export interface StaticBuffer {
  /** the module-level const's mangled name, which labels the region */
  sym: string;
  bytes: number;
  /** power of two */
  align: number;
}

/** A module-level `let` (or non-foldable const): one word of storage with an initial value. */
export interface StaticWord {
  sym: string;
  init: ConstValue;
}

/** A dense switch's table of code addresses, placed in read-only data. */
export interface JumpTable {
  label: string;
  /** local labels of the case blocks, index 0 = the lowest case value */
  targets: string[];
}

export class Statics {
  /** string contents -> local label, in first-use order */
  readonly strings = new Map<string, string>();
  /** static buffers by symbol, in first-use order */
  readonly buffers = new Map<string, StaticBuffer>();
  /** module variables, in declaration order */
  readonly words: StaticWord[] = [];
  /** handler symbol -> its trap entry stub's symbol */
  readonly trapStubs = new Map<string, string>();
  /** jump tables, in creation order */
  readonly jumpTables: JumpTable[] = [];
  /** whether the contextSwitch helper routine is needed */
  needContextSwitch = false;

  /** The label of a NUL-terminated copy of `text` in read-only data. */
  string(text: string): string {
    let label = this.strings.get(text);
    if (!label) {
      label = `.Lstr${this.strings.size}`;
      this.strings.set(text, label);
    }
    return label;
  }

  buffer(sym: string, bytes: number, align: number): void {
    if (!this.buffers.has(sym)) this.buffers.set(sym, { sym, bytes, align });
  }

  trapStub(handlerSym: string): string {
    let stub = this.trapStubs.get(handlerSym);
    if (!stub) {
      stub = `${handlerSym}$trap`;
      this.trapStubs.set(handlerSym, stub);
    }
    return stub;
  }
}

/** The helper routine contextSwitch(saveSpAt, newSp) calls. */
export const CONTEXT_SWITCH_SYM = '__xl32.contextSwitch';
