// The translator (issue 15): hot XL32 code compiled to JavaScript functions, cycle-exact with the
// interpreter. A translation starts at a hot entry address and covers the blocks reachable from
// it by direct branches inside the same virtual page (so one instruction-TLB entry, one physical
// frame), each instruction's code produced by machine/semantics.ts `transBody` from the same
// definitions as the interpreter's two paths. Guest registers live in locals; the blocks are the
// cases of a switch inside one loop, so a loop in guest code stays inside the function, with the
// deadline (and any pending event) checked at every block boundary it crosses. Cycles and
// instruction counts are summed per block at translation time; wherever the interpreter's fast
// loop would leave for the general path (a TLB miss that faults, an unaligned access, a division
// by zero, an instruction the translator does not cover) the function leaves before the
// instruction with precise state. A store into a frame holding translations drops the ones it
// overlaps (the function that stored leaves right after the store, so it never runs stale code);
// host writes reach it through PhysicalMemory's code marks. The cache is bounded: past its
// limits it is flushed whole (QEMU's tb_flush). How and why: docs/engine.md.

import type { PhysicalMemory } from './memory.ts';
import { endsBlock, transBody, type Semantics, type TransInsn } from './semantics.ts';

/** Which engine a CPU runs guest code with. */
export type Engine = 'interpreter' | 'translator';
export const ENGINES: readonly Engine[] = ['interpreter', 'translator'];
/**
 * The engine a Machine gets when its options name none: the interpreter, unless the environment
 * says XENOLITH_ENGINE=translator (how the whole test suite is run under the translator).
 */
export const DEFAULT_ENGINE: Engine = process.env.XENOLITH_ENGINE === 'translator' ? 'translator' : 'interpreter';

/** Parse an engine name (CLI, config); a one-line error otherwise. */
export function parseEngine(name: string): Engine {
  if ((ENGINES as readonly string[]).includes(name)) return name as Engine;
  throw new Error(`unknown engine '${name}' (expected ${ENGINES.join(' or ')})`);
}

/** A translated function: runs from its entry, returns BOUND (at a block boundary) or CONT (pc needs the general path). */
export type TbFn = (tr: Int32Array, tw: Int32Array, user: boolean, dl: number) => number;

/** Translator limits (the defaults suit the guest kernel; tests shrink them). */
export interface TranslatorLimits {
  /** executions of an entry address before it is translated */
  threshold: number;
  /** blocks in one translation */
  maxBlocks: number;
  /** instructions in one translation */
  maxInsns: number;
  /** translations in the cache before a whole-cache flush */
  maxTranslations: number;
  /** generated JavaScript (characters) in the cache before a whole-cache flush */
  maxSourceChars: number;
  /**
   * cycles the interpreter's fast loop runs for cold code before the dispatcher looks for a
   * translation again (it stops at the first block boundary past them); the entries it lands on
   * are the ones whose heat is counted
   */
  coldSlice: number;
}

export const DEFAULT_LIMITS: TranslatorLimits = {
  // a translation costs V8 a compile (and later an optimizing compile) of its function: only code
  // the dispatcher lands on this often repays it (tuned on `lmbench all` and the compute loop)
  threshold: 200,
  maxBlocks: 16,
  maxInsns: 256,
  maxTranslations: 4096,
  maxSourceChars: 16 * 1024 * 1024,
  coldSlice: 2000,
};

let scopedLimits: Partial<TranslatorLimits> = {};

/**
 * Run fn with these limits as the default of every translator created meanwhile (tests use a low
 * threshold to translate nearly everything a guest runs); restored after, even on a throw.
 */
export function withTranslatorLimits<T>(limits: Partial<TranslatorLimits>, fn: () => T): T {
  const saved = scopedLimits;
  scopedLimits = { ...saved, ...limits };
  try {
    return fn();
  } finally {
    scopedLimits = saved;
  }
}

/** What the CPU lends its translator. */
export interface TranslatorHost {
  /** the CPU: translated code reads and writes its pc, flags, cycles and instructions, and calls its refill() */
  cpu: object;
  regs: Int32Array;
  mem: PhysicalMemory;
  /** the TLB's host-physical offsets, and its geometry */
  tlbAdd: Int32Array;
  setMask: number;
  wayShift: number;
  ways: number;
  /** per-opcode base cost, and the taken-branch extra */
  costs: Uint16Array;
  takenExtra: number;
  /** per opcode: its definition, or null (the general path's alone) */
  semByOp: ReadonlyArray<Semantics | null>;
  /** per opcode: length in bytes */
  insnBytes: Uint8Array;
  /** per frame: nonzero while translations built from it exist (shared with the CPU's stores) */
  tbFrame: Uint8Array;
  /** the values translated code refers to by name */
  names: Record<string, unknown>;
}

export class TranslatorStats {
  /** translations made (functions created) */
  translations = 0;
  /** blocks and guest instructions translated, guest code bytes covered */
  blocks = 0;
  instructions = 0;
  guestBytes = 0;
  /** generated JavaScript, characters */
  sourceChars = 0;
  /** sources compiled with new Function (the rest reused a factory compiled before, by any translator) */
  compiles = 0;
  /** translations dropped because their code was written */
  invalidations = 0;
  /** whole-cache flushes */
  flushes = 0;
}

interface Tb {
  fn: TbFn;
  /** entry: virtual pc and host-physical address */
  vpc: number;
  hpa: number;
  /** host-physical bytes [lo, hi) the translation was built from (one frame) */
  lo: number;
  hi: number;
  sourceChars: number;
  guestBytes: number;
}

/**
 * Compiled factories by generated source, shared by every translator in the process: the same
 * guest code (the same kernel booted again, another machine running it) reuses the compiled
 * function and V8's optimized code for it. A pure memo (a factory closes over nothing: every value
 * it uses is an argument), bounded: cleared whole when full.
 */
const FACTORIES = new Map<string, (...args: unknown[]) => TbFn>();
const MAX_FACTORIES = 8192;

/** Slots of the hotness counters (hashed by entry address; a collision only makes code hot sooner). */
const HEAT_SLOTS = 1 << 16;
const PAGE_MASK = -4096;

export class Translator {
  readonly stats = new TranslatorStats();
  readonly limits: TranslatorLimits;
  private readonly byEntry = new Map<number, Tb>();
  private readonly byFrame = new Map<number, Tb[]>();
  private readonly heat = new Uint16Array(HEAT_SLOTS);
  /** current contents of the cache */
  private live = 0;
  private liveChars = 0;
  private liveGuestBytes = 0;
  private readonly argNames: string[];
  private readonly argValues: unknown[];

  constructor(
    private readonly h: TranslatorHost,
    limits: Partial<TranslatorLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...scopedLimits, ...limits };
    this.argNames = [...Object.keys(h.names), 'tx'];
    this.argValues = [...Object.values(h.names), this];
    // host writes (loading, DMA, a monitor's stores) into a frame with translations drop them
    const previous = h.mem.onCodeWrite;
    h.mem.onCodeWrite = (frame: number) => {
      previous?.(frame);
      this.invalidateFrame(frame);
    };
  }

  /** Translations in the cache now, and what they hold. */
  get size(): { translations: number; sourceChars: number; guestBytes: number } {
    return { translations: this.live, sourceChars: this.liveChars, guestBytes: this.liveGuestBytes };
  }

  /**
   * The translation entered at host-physical hpa for virtual pc, or null: counts the entry's
   * heat and translates it once it is hot (null if its first instruction is not translatable).
   */
  lookup(pc: number, hpa: number): TbFn | null {
    const tb = this.byEntry.get(hpa);
    if (tb !== undefined && tb.vpc === pc) return tb.fn;
    const slot = (hpa >>> 2) & (HEAT_SLOTS - 1);
    const heat = this.heat[slot]! + 1;
    if (heat < this.limits.threshold) {
      this.heat[slot] = heat;
      return null;
    }
    this.heat[slot] = 0;
    return this.translate(pc, hpa);
  }

  /**
   * The translators of the other CPUs of this one's machine (SMP). They share the tbFrame marks,
   * so a store on any CPU reaches codeWritten here, which drops the overlapped code of every peer
   * too and clears a frame's mark only when no translator holds code from it.
   */
  readonly peers: Translator[] = [];

  /** A guest store of size bytes at host-physical pa hit a frame with translations: drop those it overlaps (here and in every peer). True if any here. */
  codeWritten(pa: number, size: number): boolean {
    const hit = this.dropWritten(pa, size);
    if (this.peers.length === 0) return hit;
    const f = pa >>> 12;
    let held = this.byFrame.has(f);
    for (const p of this.peers) {
      p.dropWritten(pa, size);
      if (p.byFrame.has(f)) held = true;
    }
    this.h.tbFrame[f] = held ? 1 : 0;
    return hit;
  }

  /** codeWritten for this translator alone. */
  private dropWritten(pa: number, size: number): boolean {
    const f = pa >>> 12;
    const list = this.byFrame.get(f);
    let hit = false;
    if (list !== undefined) {
      for (let k = list.length - 1; k >= 0; k--) {
        const tb = list[k]!;
        if (pa < tb.hi && pa + size > tb.lo) {
          this.drop(tb);
          list.splice(k, 1);
          hit = true;
        }
      }
      if (list.length > 0) return hit;
      this.byFrame.delete(f);
    }
    this.h.tbFrame[f] = 0;
    return hit;
  }

  /** Drop every translation built from frame f. */
  invalidateFrame(f: number): void {
    const list = this.byFrame.get(f);
    if (list === undefined) return;
    for (const tb of list) this.drop(tb);
    this.byFrame.delete(f);
    this.h.tbFrame[f] = 0;
  }

  /** Drop the whole cache (tb_flush): every translation, every mark, the hotness counters. */
  flush(): void {
    this.byEntry.clear();
    this.byFrame.clear();
    this.h.tbFrame.fill(0);
    for (const p of this.peers) for (const f of p.byFrame.keys()) this.h.tbFrame[f] = 1; // the peers' code stays marked
    this.heat.fill(0);
    this.live = this.liveChars = this.liveGuestBytes = 0;
    this.stats.flushes++;
  }

  private drop(tb: Tb): void {
    if (this.byEntry.get(tb.hpa) === tb) this.byEntry.delete(tb.hpa);
    this.live--;
    this.liveChars -= tb.sourceChars;
    this.liveGuestBytes -= tb.guestBytes;
    this.stats.invalidations++;
  }

  /** Translate the code entered at virtual pc (host-physical hpa); null if its first instruction is not translatable. */
  translate(pc: number, hpa: number): TbFn | null {
    const src = this.generate(pc | 0, hpa | 0);
    if (src === null) return null;
    const l = this.limits;
    if (this.live + 1 > l.maxTranslations || this.liveChars + src.source.length > l.maxSourceChars) this.flush();
    const old = this.byEntry.get(hpa);
    if (old !== undefined) this.replaceEntry(old);
    // the same code translated before (at another physical address, by another machine) has the
    // same source: reuse its factory, so V8 shares its bytecode and optimized code
    let factory = FACTORIES.get(src.source);
    if (factory === undefined) {
      if (FACTORIES.size >= MAX_FACTORIES) FACTORIES.clear();
      factory = new Function(...this.argNames, src.source) as (...args: unknown[]) => TbFn;
      FACTORIES.set(src.source, factory);
      this.stats.compiles++;
    }
    const fn = factory(...this.argValues);
    const tb: Tb = { fn, vpc: pc | 0, hpa, lo: src.lo, hi: src.hi, sourceChars: src.source.length, guestBytes: src.guestBytes };
    this.byEntry.set(hpa, tb);
    const f = hpa >>> 12;
    let list = this.byFrame.get(f);
    if (list === undefined) this.byFrame.set(f, (list = []));
    list.push(tb);
    this.h.tbFrame[f] = 1;
    this.h.mem.codePage[f] = 1;
    this.live++;
    this.liveChars += src.source.length;
    this.liveGuestBytes += src.guestBytes;
    const s = this.stats;
    s.translations++;
    s.blocks += src.blocks;
    s.instructions += src.insns;
    s.guestBytes += src.guestBytes;
    s.sourceChars += src.source.length;
    return fn;
  }

  /** Remove one translation (replaced by a new one for the same entry). */
  private replaceEntry(tb: Tb): void {
    const list = this.byFrame.get(tb.hpa >>> 12);
    if (list !== undefined) {
      const k = list.indexOf(tb);
      if (k >= 0) list.splice(k, 1);
    }
    this.drop(tb);
    this.stats.invalidations--;
  }

  /**
   * The JavaScript of the translation entered at pc: discover the blocks (direct branch targets
   * inside pc's page), then emit each block's instructions through transBody.
   */
  generate(pc: number, hpa: number): { source: string; lo: number; hi: number; blocks: number; insns: number; guestBytes: number } | null {
    const h = this.h;
    const m32 = h.mem.i32;
    const page = pc & PAGE_MASK;
    const delta = (hpa - pc) | 0; // host-physical minus virtual, for this page
    const l = this.limits;
    interface Insn {
      at: number;
      sem: Semantics;
      w: number;
      ext: number;
      len: number;
    }
    interface Block {
      start: number;
      insns: Insn[];
      /** where the block leaves if it does not end with a control transfer */
      stop: number;
    }
    const index = new Map<number, number>();
    const blocks: Block[] = [];
    const work: number[] = [pc];
    index.set(pc, 0);
    let total = 0;
    let lo = hpa;
    let hi = hpa;
    const inPage = (t: number): boolean => (t & PAGE_MASK) === page && (t & 3) === 0;
    while (work.length > 0) {
      const start = work.shift()!;
      const insns: Insn[] = [];
      let at = start;
      let stop = -1;
      for (;;) {
        if ((at & PAGE_MASK) !== page || total >= l.maxInsns) {
          stop = at;
          break;
        }
        const w = m32[(at + delta) >> 2]!;
        const op = w & 0xff;
        const sem = h.semByOp[op] ?? null;
        const len = h.insnBytes[op]!;
        if (sem === null || (len === 8 && (at & 0xffc) === 0xffc)) {
          stop = at;
          break;
        }
        const ext = len === 8 ? m32[(at + delta + 4) >> 2]! : 0;
        insns.push({ at, sem, w, ext, len });
        total++;
        if (endsBlock(sem)) {
          const next = (at + len) | 0;
          const targets = sem.kind === 'jcc' ? [(next + ext) | 0, next] : sem.kind === 'jmp' || sem.kind === 'call' ? [(next + ext) | 0] : [];
          for (const t of targets) {
            if (inPage(t) && !index.has(t) && index.size < l.maxBlocks) {
              index.set(t, index.size);
              work.push(t);
            }
          }
          at = next;
          break;
        }
        at = (at + len) | 0;
      }
      if (start === pc && insns.length === 0) return null;
      blocks.push({ start, insns, stop });
      lo = Math.min(lo, (start + delta) | 0);
      hi = Math.max(hi, (at + delta) | 0);
    }
    // blocks were numbered in discovery order, which is the order of `blocks`
    const readRegs = new Set<number>();
    const written = new Set<number>();
    const out: string[] = [];
    const costs = h.costs;
    for (let k = 0; k < blocks.length; k++) {
      const b = blocks[k]!;
      out.push(`case ${k}: { // 0x${(b.start >>> 0).toString(16)}`);
      let P = 0;
      let K = 0;
      for (const ins of b.insns) {
        const w = ins.w;
        const c = costs[w & 0xff]!;
        const rd = (w >>> 8) & 15;
        const ra = (w >>> 12) & 15;
        const rb = (w >>> 16) & 15;
        const next = (ins.at + ins.len) | 0;
        const charge = (cc: number, nn: number): string => (cc === 0 && nn === 0 ? '' : `cyc += ${cc}; n += ${nn}; `);
        const x: TransInsn = {
          rd,
          ra,
          rb,
          imm: w >> 16,
          ext: ins.ext,
          next,
          exit: `{ ${charge(P, K)}pc = ${ins.at | 0}; break out; }`,
          after: (p, bound) => `{ ${charge(P + c, K + 1)}pc = ${p}; ${bound ? 'why = BOUND; ' : ''}break out; }`,
          retire: charge(P + c, K + 1),
          go: (p) => {
            const t = /^-?\d+$/.test(p) ? Number(p) : NaN;
            const k2 = index.get(t);
            if (k2 === undefined) return `pc = ${p}; why = BOUND; break out;`;
            return `if (cyc >= dl) { pc = ${p}; why = BOUND; break out; } b = ${k2}; continue out;`;
          },
        };
        regsOf(ins.sem, rd, ra, rb, readRegs, written);
        for (const line of transBody(ins.sem, x)) out.push(line);
        if (!endsBlock(ins.sem)) {
          P += c;
          K += 1;
        }
      }
      if (b.stop >= 0 || b.insns.length === 0 || !endsBlock(b.insns[b.insns.length - 1]!.sem)) {
        out.push(`${charge0(P, K)}pc = ${b.stop | 0}; break out;`);
      }
      out.push('}');
    }
    for (const r of written) readRegs.add(r);
    const regs = [...readRegs].sort((a, b) => a - b);
    const src = [
      "'use strict';",
      `return function tb_${(pc >>> 0).toString(16)}(tr, tw, user, dl) {`,
      regs.length > 0 ? `let ${regs.map((r) => `r${r} = R[${r}]`).join(', ')};` : '',
      'let fl = cpu.flags, cyc = 0, n = 0, dc = 0, pc = 0, why = CONT, b = 0;',
      // the cost ledger: refills' walk cycles are events (refillCharged), the rest is base
      'const w0 = cpu.loopWalkCycles;',
      'out: for (;;) {',
      'switch (b) {',
      ...out,
      '}',
      '}',
      ...[...written].sort((a, b) => a - b).map((r) => `R[${r}] = r${r};`),
      'cpu.flags = fl;',
      'cpu.pc = pc >>> 0;',
      'cpu.cycles += cyc;',
      'cpu.baseCycles += cyc - (cpu.loopWalkCycles - w0);',
      'cpu.instructions += n;',
      'return why;',
      '};',
    ].join('\n');
    return { source: src, lo, hi, blocks: blocks.length, insns: total, guestBytes: hi - lo };
  }
}

function charge0(cc: number, nn: number): string {
  return cc === 0 && nn === 0 ? '' : `cyc += ${cc}; n += ${nn}; `;
}

/** The registers an instruction of this kind reads and writes (r15 is the stack pointer). */
function regsOf(s: Semantics, rd: number, ra: number, rb: number, read: Set<number>, written: Set<number>): void {
  switch (s.kind) {
    case 'nop':
    case 'jmp':
    case 'jcc':
      return;
    case 'alu':
    case 'div':
    case 'cmp':
    case 'xchg':
      read.add(ra);
      read.add(rb);
      if (s.kind !== 'cmp') written.add(rd);
      return;
    case 'li':
    case 'setcc':
      written.add(rd);
      return;
    case 'load':
      read.add(ra);
      written.add(rd);
      return;
    case 'store':
      read.add(ra);
      read.add(rd);
      return;
    case 'push':
      read.add(ra);
      written.add(15);
      return;
    case 'pop':
      written.add(15);
      written.add(rd);
      return;
    case 'call':
    case 'ret':
      written.add(15);
      return;
    case 'jmpr':
      read.add(ra);
      return;
    case 'callr':
      read.add(ra);
      written.add(15);
      return;
  }
}
