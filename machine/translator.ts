// The translator (issue 15): hot XL32 code compiled to JavaScript functions, cycle-exact with the
// interpreter. A translation starts at a hot entry address and covers the blocks reachable from
// it by direct branches, calls' return addresses and running on past a page's end, in any page
// the TLB maps (moving into another page's block checks the TLB at run time, as the interpreter's
// instruction-TLB refill would), each instruction's code produced by machine/semantics.ts
// `transBody` from the same definitions as the interpreter's two paths. Guest registers live in locals; the blocks are the
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
import { tlbFind, type Mmu } from './mmu.ts';
import { endsBlock, TLB_MEMO_LOCALS, transBody, type Semantics, type TransInsn } from './semantics.ts';
import { doubleFields } from './shapes.ts';
import type { Engine } from './engine.ts';

// the engines' names and the default (one small module, so the command line can check them without loading the translator)
export { DEFAULT_ENGINE, ENGINES, engineEnvironmentError, parseEngine, type Engine } from './engine.ts';

/** A translated function: runs from its entry, returns BOUND (at a block boundary) or CONT (pc needs the general path). */
/**
 * A translated function: runs from its entry with the machine in c (TranslationContext), returns
 * BOUND (at a block boundary) or CONT (pc needs the general path). It closes over nothing, so one
 * function serves every machine running the same code (V8's optimized code with it).
 */
export type TbFn = (c: TranslationContext, tr: Int32Array, tw: Int32Array, user: boolean, dl: number) => number;

/** The machine a translated function works on: the host's named objects, and the translator as `tx`. */
export type TranslationContext = Record<string, unknown>;

/** Translator limits (the defaults suit the guest kernel; tests shrink them). */
export interface TranslatorLimits {
  /** executions of an entry address before it is translated */
  threshold: number;
  /**
   * for compileStraight's caller (hypervisor/bt): a unit of its own is compiled once its heat
   * reaches threshold x unitHeat (about one per entry; BtMode.compiledRuns says how it counts;
   * the machine's translator does not read it)
   */
  unitHeat: number;
  /** blocks in one translation */
  maxBlocks: number;
  /**
   * blocks in an entry's first translation (at most maxBlocks): a smaller function for V8 to
   * compile, retranslated with maxBlocks once the dispatcher has entered it promoteAt times
   */
  firstBlocks: number;
  /** dispatcher entries into a first translation (firstBlocks < maxBlocks) before it is retranslated whole */
  promoteAt: number;
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
  /**
   * cold slice of a warm translator (a later machine of the process, whose hot entries are known:
   * Translator.warm); 0: heat is not kept
   */
  warmColdSlice: number;
  /**
   * landings an entry inside the code of another live translation (not its entry: a resumption
   * after a fault or an interrupt in its middle) needs at least before it is translated; 0: none
   * beyond the threshold. For thresholds far below the default, where code that faults every few
   * instructions and resumes past the faulting one would be translated afresh at every resumption
   * (the machine fuzzer's threshold of 1: its seed 1006, case 100, made 29,495 translations of
   * 3.1 GB of JavaScript for 62,274 instructions run, 353 s against the interpreter's 31 ms; with
   * 16 here, 0.8 s)
   */
  insideEntryHeat: number;
  /**
   * backward jumps (JMP, or Jcc taken, to a lower address in the same page) to one target the
   * interpreter's fast loop makes in cold slices before the target, a loop's head, is translated;
   * and a cold slice stops at a backward jump to a translated entry, so the loop runs translated
   * from its next iteration (0: neither; below 2^29, the count of a translated entry)
   */
  loopHeat: number;
}

export const DEFAULT_LIMITS: TranslatorLimits = {
  // a translation costs V8 a compile (and later optimizing compiles) of its function: only code
  // the dispatcher lands on this often repays it (tuned on `lmbench all` and the compute loop; 500
  // rather than 200: fewer translations of code that runs only in one phase of a workload, whose
  // compiles cost more than they saved - docs/engine.md "Fifth round")
  threshold: 500,
  // bt compiles a function per chain of a few units, many more functions than the dispatcher's
  // translations of the same code, each an optimising compile of tens of milliseconds in a
  // process's first boots: at 4 (2,000 entries) V8 made 42-43 optimising compiles in four boots
  // of `lmbench all 20` against 74-78 at 1, `compare`'s bt runs took about 75-92 ms against about
  // 150, and the steady state stayed level (docs/engine.md "The thirteenth round")
  unitHeat: 4,
  // 32 rather than 16: with kept heat the later machines of a process run their translations
  // from boot on, and 16 blocks split hot loops across translations (uvmFree's loop and the
  // userPde it calls: 1.8 million dispatcher entries per `lmbench all 200` at 16, 90 thousand at
  // 32; docs/engine.md "Sixth round")
  maxBlocks: 32,
  // a process's first run pays V8 for every translation it makes (its bytecode compile, its runs
  // before V8 optimizes it, the optimizing compile), about in proportion to its size; most of a
  // first run's translations are of code left before it repays a 32-block function (docs/engine.md
  // "Eighth round")
  firstBlocks: 8,
  promoteAt: 5000,
  maxInsns: 256,
  maxTranslations: 4096,
  maxSourceChars: 16 * 1024 * 1024,
  coldSlice: 2000,
  warmColdSlice: 200,
  // (the threshold is far above any such count)
  insideEntryHeat: 0,
  // a loop the fast loop runs in cold slices is found by its backward jumps, not by where its
  // slices happen to end (they land on several of its blocks, none often enough alone): on a
  // late boot of `lmbench all` the native kernel's cold instructions fell from 5.4 to 1.3
  // million, trap mode's from 5.0 to 1.3 (docs/engine.md "The twenty-ninth round"; 300 and 3,000
  // were no different beyond the noise, 100 made more translations)
  loopHeat: 1000,
};

let scopedLimits: Partial<TranslatorLimits> = {};

/**
 * The limits as an object of one shape in every translator: its fields listed in a literal. (An
 * object spread's result changed shape at the process's tenth translator - V8 then copies such a
 * spread into an object of its own - and every optimized function that had read the limits was
 * thrown away in mid-boot: `--trace-deopt`, "wrong map", docs/engine.md "The twenty-fifth round".)
 */
function limitsOf(l: TranslatorLimits): TranslatorLimits {
  return {
    threshold: l.threshold,
    unitHeat: l.unitHeat,
    maxBlocks: l.maxBlocks,
    firstBlocks: l.firstBlocks,
    promoteAt: l.promoteAt,
    maxInsns: l.maxInsns,
    maxTranslations: l.maxTranslations,
    maxSourceChars: l.maxSourceChars,
    coldSlice: l.coldSlice,
    warmColdSlice: l.warmColdSlice,
    insideEntryHeat: l.insideEntryHeat,
    loopHeat: l.loopHeat,
  };
}

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
  /** the CPU's MMU: translated code checks its TLB inline (tag arrays, tlbAdd and the geometry, lent by name in `names`) */
  mmu: Mmu;
  /** per-opcode base cost, and the taken-branch extra */
  costs: Uint16Array;
  takenExtra: number;
  /** per opcode: its definition, or null (the general path's alone) */
  semByOp: ReadonlyArray<Semantics | null>;
  /** per opcode: length in bytes */
  insnBytes: Uint8Array;
  /** per frame: bit TB_TRANSLATED set while translations built from it exist (shared with the CPU's stores, whose other mark, TB_HOOKED, the translator leaves alone) */
  tbFrame: Uint8Array;
  /** the values translated code refers to by name */
  names: Record<string, unknown>;
}

/** What generate() produces. */
export interface Generated {
  source: string;
  /** host-physical byte ranges [lo, hi) the code was read from, one per frame */
  ranges: Array<[number, number]>;
  blocks: number;
  insns: number;
  guestBytes: number;
  /** what the output depended on: each word read (host-physical word index, value), each page looked up in the TLB (page, offset, or NOT_MAPPED) */
  reads: number[];
  looks: number[];
  /** whether pages other than the entry's were looked up in the TLB (tr given) */
  withTlb: boolean;
}

/** Cpu.tbFrame's bit for frames the translator holds code from (it sets and clears it) */
export const TB_TRANSLATED = 1;
/** Cpu.tbFrame's bit for frames marked for the CPU's code-store hook (Cpu.markCodeFrame: binary translation's units) */
export const TB_HOOKED = 2;

/** looks: a page the TLB did not map (or mapped outside memory) when the translation was made */
const NOT_MAPPED = 0.5;

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
  /** translations taken from the process's memo without generating them (the same code translated before, by any translator) */
  recalled = 0;
  /** translations dropped because their code was written */
  invalidations = 0;
  /** whole-cache flushes */
  flushes = 0;
  /** translations whose blocks span more than one page */
  multiPage = 0;
  /** of the recalled: translations taken at their first landing on this machine, hot on an earlier one (kept heat) */
  landedHot = 0;
  /** entries into translated code (dispatcher calls of a translation) */
  entries = 0;
  /** instructions the fast loop ran in cold slices (entries not translated) */
  coldInstructions = 0;
  /** straight runs compiled for binary translation's units (compileStraight; hypervisor/bt) */
  straightRuns = 0;
  /** first translations (firstBlocks) retranslated with maxBlocks after promoteAt dispatcher entries */
  promotions = 0;
  /** translations made at a loop's head, hot by the backward jumps to it the fast loop counted (limits.loopHeat) */
  loopHeads = 0;
  /** cold slices the fast loop ended after a backward jump, at a translated entry or at a loop head become hot */
  loopStops = 0;

  constructor() {
    // a difference of the CPU's double counts (machine/shapes.ts)
    doubleFields(this, ['coldInstructions']);
  }
}

/** The translator's counters and cache as `--stats` lines (none when the translator did not run). */
export function translatorStatsLines(tx: Translator | null): string[] {
  if (tx === null) return [];
  const s = tx.stats;
  const now = tx.size;
  return [
    `translator: ${s.translations} translations (${s.blocks} blocks, ${s.instructions} instructions, ${s.guestBytes} guest bytes; ${s.multiPage} spanning pages), ${s.compiles} compiled, ${s.recalled} recalled (${s.landedHot} at their first landing)`,
    `translator entries: ${s.entries}; instructions in cold slices: ${s.coldInstructions}; invalidations: ${s.invalidations}; flushes: ${s.flushes}; promotions: ${s.promotions}; loop heads translated: ${s.loopHeads}, cold slices ended at one: ${s.loopStops}`,
    `translation cache: ${now.translations} translations, ${now.guestBytes} guest bytes, ${now.sourceChars} chars of JavaScript`,
    ...(s.straightRuns > 0 ? [`bt units compiled: ${s.straightRuns} (straight runs and chains of translation units, hypervisor/bt)`] : []),
  ];
}

interface Tb {
  fn: TbFn;
  /** entry: virtual pc and host-physical address */
  vpc: number;
  hpa: number;
  /** host-physical bytes [lo, hi) the translation was built from, one range per frame */
  ranges: Array<[number, number]>;
  sourceChars: number;
  guestBytes: number;
  /** dropped (it may still sit in another frame's list) */
  dead: boolean;
  /** a first translation (firstBlocks), to be retranslated whole once entered promoteAt times */
  first: boolean;
}

/**
 * Compiled functions by generated source, shared by every translator in the process: the same
 * guest code (the same kernel booted again, another machine running it) reuses the function, its
 * type feedback and V8's optimized code for it (a machine's objects are an argument, its numbers
 * literals in the source). A pure memo, bounded: cleared whole when full.
 */
const FACTORIES = new Map<string, TbFn>();
const MAX_FACTORIES = 8192;
/** The JavaScript characters of each function compileStraight returned (host side: `bench cpu`'s footprint of bt's compiled code). */
const STRAIGHT_CHARS = new WeakMap<StraightFn, number>();

/** The characters of JavaScript compileStraight made `fn` from (0 if it did not make it). */
export function straightChars(fn: StraightFn): number {
  return STRAIGHT_CHARS.get(fn) ?? 0;
}

/**
 * Translations made, by configuration (limits, costs, TLB geometry, memory size: whatever the
 * output depends on besides the guest) and entry host-physical address, shared by every translator
 * in the process: a translator about to translate an entry first looks here, and when every word
 * the earlier generate() read and every TLB lookup it made are the same now, the output would be
 * the same, so it takes the function without generating it again (the same kernel on the next
 * machine: each of its translations is recognised instead of rebuilt). Every simulated result
 * is the same with or without it; on a later machine of the process (kept heat: Translator.warm)
 * it also says which entries were hot, so when to translate, and the translator's counters,
 * depend on what the process ran before.
 */
const MEMO = new Map<string, Map<number, Memo>>();
/** A translation of the memo: what generate() made, its function, its entry pc, the heat it became hot under (threshold and cold slice), and whether it is a first translation (firstBlocks). */
type Memo = Generated & { fn: TbFn; pc: number; hotUnder: string; first: boolean };
let memoSize = 0;
const MAX_MEMO = 8192;

/**
 * Per configuration and heat limits: the memory (machine) of the first translator made with them
 * in this process; a translator of another machine is warm (kept heat: Translator.warm).
 */
const HEAT_SEEN = new Map<string, number>();
const MEMORY_IDS = new WeakMap<object, number>();
let memoryCount = 0;
function memoryId(mem: object): number {
  let id = MEMORY_IDS.get(mem);
  if (id === undefined) MEMORY_IDS.set(mem, (id = ++memoryCount));
  return id;
}

/** Slots of the hotness counters (hashed by entry address; a collision only makes code hot sooner). */
const HEAT_SLOTS = 1 << 16;
const PAGE_MASK = -4096;
/**
 * Slots of the loop heads' counters (hashed by target address; Translator.loopHeat), and the
 * count of a translated entry's slot (far above any limit: the fast loop stops there).
 */
export const LOOP_SLOTS = 1 << 14;
const LOOP_IN = 1 << 29;
/** Slots of the jump cache (direct-mapped by entry address, QEMU's tb_jmp_cache): the dispatcher's hit path. */
const JC_SLOTS = 1 << 12;

export class Translator {
  readonly stats = new TranslatorStats();
  /** moves whenever translations are dropped (translated code that called out checks it to leave) */
  epoch = 0;
  readonly limits: TranslatorLimits;
  private readonly byEntry = new Map<number, Tb>();
  private readonly byFrame = new Map<number, Tb[]>();
  private readonly heat = new Uint16Array(HEAT_SLOTS);
  /**
   * Loop heads: per slot (hashed by host-physical address), the backward jumps to it the fast
   * loop made in cold slices (it counts them itself), or a mark: LOOP_IN (and up) when a
   * translation is entered there, -LOOP_IN where none can be. The fast loop stops after a
   * backward jump whose target's count reaches loopHot (limits.loopHeat), so that the dispatcher
   * lands there: on a translation, or on a loop head to translate. Null when limits.loopHeat is 0.
   */
  readonly loopHeat: Int32Array | null;
  /** backward jumps that make a loop's head hot (limits.loopHeat; a large number when 0) */
  readonly loopHot: number;
  /** jump cache: entry host-physical address and virtual pc per slot, and the function (null: empty) */
  private readonly jcHpa = new Int32Array(JC_SLOTS);
  private readonly jcPc = new Int32Array(JC_SLOTS);
  private readonly jcFn: Array<TbFn | null> = new Array<TbFn | null>(JC_SLOTS).fill(null);
  /** per slot: dispatcher entries left before its first translation is retranslated whole (a large number for a whole one) */
  private readonly jcLeft = new Int32Array(JC_SLOTS);
  /** current contents of the cache */
  private live = 0;
  private liveChars = 0;
  private liveGuestBytes = 0;
  /** what translated functions are called with */
  readonly ctx: TranslationContext;
  /** the host's names whose values are objects (loaded from ctx), and numbers (literals in the source) */
  private readonly objectNames: string[];
  private readonly numberConsts: Array<[string, number]>;
  /** this translator's part of MEMO */
  private readonly memo: Map<number, Memo>;
  /** What its generated code depends on besides the guest's code (names, costs, memory size, TLB geometry, limits): its memo's key, and a caller's (hypervisor/bt's chain memo). */
  readonly config: string;
  /** the heat this translator's translations become hot under (memo entries made under another are not hot here) */
  private readonly hotUnder: string;
  /** entries whose memo translation was found stale at a landing (not looked at again by this translator) */
  private readonly stale = new Set<number>();
  /**
   * Whether this translator may take the memo's hot entries at their first landing (landHot): an
   * earlier machine of the process ran the same configuration with the same heat limits
   * (threshold > 1). See the constructor.
   */
  readonly keptHeat: boolean;
  /** Whether it has: from its first landing on a known hot entry on, cold slices are warmColdSlice cycles. */
  warm = false;
  /** cycles of a cold slice (coldSlice, or warmColdSlice once warm) */
  coldCycles: number;
  /** landings an entry needs to become hot (threshold, scaled to the warm cold slice once warm) */
  private hotAt: number;
  /** blocks in an entry's first translation: firstBlocks, or maxBlocks when no smaller (then every translation is whole) */
  private readonly firstBlocks: number;

  constructor(
    private readonly h: TranslatorHost,
    limits: Partial<TranslatorLimits> = {},
  ) {
    this.limits = limitsOf({ ...DEFAULT_LIMITS, ...scopedLimits, ...limits });
    const objects = Object.entries(h.names).filter(([, v]) => typeof v !== 'number');
    const numbers = Object.entries(h.names).filter(([, v]) => typeof v === 'number');
    this.objectNames = [...objects.map(([k]) => k), 'tx'];
    this.ctx = Object.fromEntries([...objects, ['tx', this]]);
    this.numberConsts = numbers.map(([k, v]) => [k, v as number]);
    const l = this.limits;
    this.firstBlocks = Math.max(1, Math.min(l.firstBlocks, l.maxBlocks));
    const config = JSON.stringify([this.numberConsts, this.objectNames, [...h.costs], h.takenExtra, h.mem.size, h.mmu.setMask, h.mmu.wayShift, h.mmu.tlbWays, l.maxBlocks, l.maxInsns, this.firstBlocks]);
    this.config = config;
    let memo = MEMO.get(config);
    if (memo === undefined) MEMO.set(config, (memo = new Map()));
    this.memo = memo;
    // Kept heat. The first machine of a process counts heat from nothing: each entry that becomes
    // hot runs `threshold` cold slices first, on every boot. A later machine with the same
    // configuration and heat limits (another machine: not an SMP peer sharing this one's memory)
    // takes the memo's translations of entries that were hot before at their first landing, when
    // their code still holds (landHot). From the first such landing on (the machine runs code
    // known hot: it is warm) it runs shorter cold slices, so that cold code reaches a translated
    // entry sooner, and an entry's threshold in landings is scaled by coldSlice / warmColdSlice.
    // A machine running other code than the earlier ones (no known hot entry) stays as a first
    // machine, so what it translates does not depend on what ran before it.
    const heatKey = `${config}/${l.threshold}/${l.coldSlice}/${l.warmColdSlice}/${l.loopHeat}`;
    const seen = HEAT_SEEN.get(heatKey);
    const mid = memoryId(h.mem);
    this.keptHeat = l.threshold > 1 && l.warmColdSlice > 0 && seen !== undefined && seen !== mid;
    if (seen === undefined) HEAT_SEEN.set(heatKey, mid);
    this.coldCycles = l.coldSlice;
    this.hotAt = l.threshold;
    this.loopHeat = l.loopHeat > 0 ? new Int32Array(LOOP_SLOTS) : null;
    this.loopHot = l.loopHeat > 0 ? Math.min(l.loopHeat, LOOP_IN - 1) : LOOP_IN;
    this.hotUnder = `${l.threshold}/${l.coldSlice}/${l.loopHeat}`;
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
  lookup(pc: number, hpa: number, tr: Int32Array): TbFn | null {
    const j = (hpa >>> 2) & (JC_SLOTS - 1);
    const f = this.jcFn[j]!;
    if (f !== null && this.jcHpa[j] === hpa && this.jcPc[j] === pc) {
      if (--this.jcLeft[j]! > 0) return f;
      return this.promote(pc, hpa, tr, j, f);
    }
    return this.lookupSlow(pc, hpa, tr, j);
  }

  /** Put the translation entered at hpa (virtual pc) in jump cache slot j. */
  private install(j: number, pc: number, hpa: number, fn: TbFn): void {
    this.jcHpa[j] = hpa;
    this.jcPc[j] = pc;
    this.jcFn[j] = fn;
    this.jcLeft[j] = this.byEntry.get(hpa)?.first === true ? this.limits.promoteAt : 0x7fffffff;
  }

  /**
   * The translation in jump cache slot j (function f) was entered its count of times: a first
   * translation is retranslated whole (maxBlocks) and the new one returned; else the count starts again.
   */
  private promote(pc: number, hpa: number, tr: Int32Array, j: number, f: TbFn): TbFn {
    const tb = this.byEntry.get(hpa);
    if (tb === undefined || !tb.first || tb.fn !== f) {
      this.jcLeft[j] = 0x7fffffff;
      return f;
    }
    const fn = this.translate(pc, hpa, tr, null, false);
    if (fn === null) return f; // not reached: its first instruction was translated before
    this.stats.promotions++;
    this.install(j, pc, hpa, fn);
    return fn;
  }

  private lookupSlow(pc: number, hpa: number, tr: Int32Array, j: number): TbFn | null {
    const tb = this.byEntry.get(hpa);
    if (tb !== undefined && tb.vpc === pc) {
      this.install(j, pc, hpa, tb.fn);
      return tb.fn;
    }
    // kept heat: an entry that became hot on an earlier machine of the process (same limits) and
    // whose memo translation still holds is translated at its first landing here
    if (this.keptHeat) {
      const fn = this.landHot(pc, hpa, tr);
      if (fn !== null) {
        this.install(j, pc, hpa, fn);
        return fn;
      }
    }
    const slot = (hpa >>> 2) & (HEAT_SLOTS - 1);
    const heat = this.heat[slot]! + 1;
    if ((heat < this.hotAt || (heat < this.limits.insideEntryHeat && this.insideTranslation(hpa))) && !this.loopHead(hpa)) {
      this.heat[slot] = heat;
      return null;
    }
    this.heat[slot] = 0;
    if (heat < this.hotAt) this.stats.loopHeads++;
    const fn = this.translate(pc, hpa, tr);
    if (fn !== null) this.install(j, pc, hpa, fn);
    else if (this.loopHeat !== null) this.loopHeat[(hpa >>> 2) & (LOOP_SLOTS - 1)] = -LOOP_IN; // not translatable: the fast loop no longer stops there
    return fn;
  }

  /**
   * Is hpa a loop's head the fast loop made hot (its slot's count at loopHot)? Not when the slot
   * holds a mark: a translation there (this landing found none for its virtual pc: the same code
   * mapped at another address, which counts heat as usual), or an entry found not translatable.
   * (Counts of targets sharing a slot add up, and a mark is any of them's: a collision only makes
   * code hot sooner, or stops the fast loop where nothing is translated yet.)
   */
  private loopHead(hpa: number): boolean {
    const lh = this.loopHeat;
    if (lh === null) return false;
    const v = lh[(hpa >>> 2) & (LOOP_SLOTS - 1)]!;
    return v >= this.loopHot && v < LOOP_IN;
  }

  /** Entry hpa has a translation (`on`: the fast loop stops at a backward jump to it), or none any more (its slot counts again from nothing). */
  private markLoop(hpa: number, on: boolean): void {
    const lh = this.loopHeat;
    if (lh === null) return;
    const ls = (hpa >>> 2) & (LOOP_SLOTS - 1);
    if (on) lh[ls] = LOOP_IN;
    else if (lh[ls]! >= LOOP_IN) lh[ls] = 0;
  }

  /** Does a live translation hold the code at host-physical hpa, not as its entry? (limits.insideEntryHeat) */
  private insideTranslation(hpa: number): boolean {
    const list = this.byFrame.get(hpa >>> 12);
    if (list === undefined) return false;
    for (const tb of list) {
      if (tb.dead || tb.hpa === hpa) continue;
      for (const [lo, hi] of tb.ranges) if (hpa > lo && hpa < hi) return true;
    }
    return false;
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
    this.h.tbFrame[f] = held ? this.h.tbFrame[f]! | TB_TRANSLATED : this.h.tbFrame[f]! & ~TB_TRANSLATED;
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
        if (tb.dead) {
          list.splice(k, 1);
          continue;
        }
        for (const [lo, hi] of tb.ranges) {
          if (pa < hi && pa + size > lo) {
            this.drop(tb);
            list.splice(k, 1);
            hit = true;
            break;
          }
        }
      }
      if (list.length > 0) return hit;
      this.byFrame.delete(f);
    }
    this.h.tbFrame[f]! &= ~TB_TRANSLATED;
    return hit;
  }

  /** Drop every translation built from frame f. */
  invalidateFrame(f: number): void {
    const list = this.byFrame.get(f);
    if (list === undefined) return;
    for (const tb of list) if (!tb.dead) this.drop(tb);
    this.byFrame.delete(f);
    this.h.tbFrame[f]! &= ~TB_TRANSLATED;
  }

  /** Drop the whole cache (tb_flush): every translation, every mark, the hotness counters. */
  flush(): void {
    this.byEntry.clear();
    this.byFrame.clear();
    const marks = this.h.tbFrame;
    for (let f = 0; f < marks.length; f++) marks[f]! &= ~TB_TRANSLATED; // (the code-store hook's marks stay)
    for (const p of this.peers) for (const f of p.byFrame.keys()) marks[f]! |= TB_TRANSLATED; // the peers' code stays marked
    this.heat.fill(0);
    this.loopHeat?.fill(0);
    this.jcFn.fill(null);
    this.epoch++;
    this.live = this.liveChars = this.liveGuestBytes = 0;
    this.stats.flushes++;
  }

  private drop(tb: Tb): void {
    tb.dead = true;
    this.epoch++;
    if (this.byEntry.get(tb.hpa) === tb) {
      this.byEntry.delete(tb.hpa);
      this.markLoop(tb.hpa, false);
    }
    const j = (tb.hpa >>> 2) & (JC_SLOTS - 1);
    if (this.jcFn[j] === tb.fn) this.jcFn[j] = null;
    this.live--;
    this.liveChars -= tb.sourceChars;
    this.liveGuestBytes -= tb.guestBytes;
    this.stats.invalidations++;
  }

  /**
   * The memo's translation of an entry that became hot on an earlier machine of the process
   * (under this translator's threshold and cold slice), installed now if its code is unchanged
   * (every word it read holds the same value) and no page it found mapped is mapped elsewhere
   * now; else null (the entry counts heat as usual). A page the TLB does not map now, or maps
   * now and did not then, changes nothing of its correctness: moving into another page's block
   * checks the TLB at run time (guard), and a missing block leaves for the dispatcher.
   */
  private landHot(pc: number, hpa: number, tr: Int32Array): TbFn | null {
    const m = this.memo.get(hpa);
    if (m === undefined || m.pc !== pc || m.hotUnder !== this.hotUnder || !m.withTlb || this.stale.has(hpa)) return null;
    const m32 = this.h.mem.i32;
    const reads = m.reads;
    let holds = true;
    for (let k = 0; k < reads.length && holds; k += 2) if (m32[reads[k]!] !== reads[k + 1]) holds = false;
    const looks = m.looks;
    for (let k = 0; k < looks.length && holds; k += 2) {
      const then = looks[k + 1]!;
      if (then === NOT_MAPPED) continue;
      const now = this.pageDelta(tr, looks[k]!);
      if (now !== NOT_MAPPED && now !== then) holds = false;
    }
    if (!holds) {
      this.stale.add(hpa);
      return null;
    }
    this.stats.landedHot++;
    if (!this.warm) {
      const l = this.limits;
      this.warm = true;
      this.coldCycles = Math.min(l.coldSlice, l.warmColdSlice);
      if (this.coldCycles > 0) this.hotAt = Math.min(0xffff, Math.round((l.threshold * l.coldSlice) / this.coldCycles));
    }
    return this.translate(pc, hpa, tr, m);
  }

  /**
   * Translate the code entered at virtual pc (host-physical hpa); null if its first instruction
   * is not translatable. A first translation (first: at most firstBlocks blocks) unless first is
   * false or the memo holds a whole one that still holds.
   */
  translate(pc: number, hpa: number, tr: Int32Array | null = null, hot: Memo | null = null, first = true): TbFn | null {
    const m = hot ?? this.recall(pc | 0, hpa | 0, tr);
    const known = m !== null && (first || !m.first) ? m : null;
    const tiered = first && this.firstBlocks < this.limits.maxBlocks;
    const src = known ?? this.generate(pc | 0, hpa | 0, tr, tiered ? this.firstBlocks : this.limits.maxBlocks);
    if (src === null) return null;
    // a first translation that the block limit cut short (else a whole one would be the same)
    const isFirst = known !== null ? known.first : tiered && src.blocks >= this.firstBlocks && src.insns < this.limits.maxInsns;
    const l = this.limits;
    if (this.live + 1 > l.maxTranslations || this.liveChars + src.source.length > l.maxSourceChars) this.flush();
    const old = this.byEntry.get(hpa);
    if (old !== undefined) this.replaceEntry(old);
    // the same code translated before (at another physical address, by another machine) has the
    // same source: reuse its function, so V8 shares its bytecode, feedback and optimized code
    let fn = known?.fn ?? FACTORIES.get(src.source);
    if (fn === undefined) {
      if (FACTORIES.size >= MAX_FACTORIES) FACTORIES.clear();
      fn = (new Function(src.source) as () => TbFn)();
      FACTORIES.set(src.source, fn);
      this.stats.compiles++;
    }
    if (known !== null) this.stats.recalled++;
    else {
      if (memoSize >= MAX_MEMO) {
        for (const m of MEMO.values()) m.clear();
        memoSize = 0;
      }
      if (!this.memo.has(hpa | 0)) memoSize++;
      this.memo.set(hpa | 0, { ...src, fn, pc: pc | 0, hotUnder: this.hotUnder, first: isFirst });
    }
    const tb: Tb = { fn, vpc: pc | 0, hpa, ranges: src.ranges, sourceChars: src.source.length, guestBytes: src.guestBytes, dead: false, first: isFirst };
    this.byEntry.set(hpa, tb);
    this.markLoop(hpa, true);
    for (const [lo] of src.ranges) {
      const f = lo >>> 12;
      let list = this.byFrame.get(f);
      if (list === undefined) this.byFrame.set(f, (list = []));
      list.push(tb);
      this.h.tbFrame[f]! |= TB_TRANSLATED;
      this.h.mem.codePage[f] = 1;
    }
    if (src.ranges.length > 1) this.stats.multiPage++;
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
    this.drop(tb); // stays in its frames' lists, marked dead, until they are next scanned
    this.stats.invalidations--;
  }

  /** The memo's translation of this entry, if generate() would produce it again now (same words read, same TLB answers), else null. */
  private recall(pc: number, hpa: number, tr: Int32Array | null): Memo | null {
    const m = this.memo.get(hpa);
    if (m === undefined || m.pc !== pc || m.withTlb !== (tr !== null)) return null;
    const m32 = this.h.mem.i32;
    const reads = m.reads;
    for (let k = 0; k < reads.length; k += 2) if (m32[reads[k]!] !== reads[k + 1]) return null;
    if (tr !== null) {
      const looks = m.looks;
      for (let k = 0; k < looks.length; k += 2) if (this.pageDelta(tr, looks[k]!) !== looks[k + 1]) return null;
    }
    return m;
  }

  /** The host-physical offset the TLB (tags tr) maps virtual page `page` with, or NOT_MAPPED (also outside memory). */
  private pageDelta(tr: Int32Array, page: number): number {
    const mmu = this.h.mmu;
    const e = tlbFind(tr, ((page >>> 12) & mmu.setMask) << mmu.wayShift, mmu.tlbWays, page);
    if (e < 0) return NOT_MAPPED;
    const d = mmu.tlbAdd[e]!;
    return ((page + d) >>> 0) + 4096 > this.h.mem.size ? NOT_MAPPED : d;
  }

  /**
   * The JavaScript of the translation entered at pc: discover the blocks (direct branch targets,
   * the return addresses of calls, and the next page when a block runs on past its page's end,
   * each in a page the TLB maps now), then emit each block's instructions through transBody.
   * Moving to a block in another page than the current block's checks at run time that the TLB
   * still maps that page to the same frame (as the interpreter's instruction TLB would look it
   * up); indirect transfers (ret, jmpr, callr) go on inside when their target is one of the blocks.
   */
  generate(pc: number, hpa: number, tr: Int32Array | null = null, maxBlocks = this.limits.maxBlocks): Generated | null {
    const h = this.h;
    const m32 = h.mem.i32;
    const entryPage = pc & PAGE_MASK;
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
      page: number;
      delta: number;
      insns: Insn[];
      /** where the block leaves if it does not end with a control transfer (-1: it does) */
      stop: number;
      /** the block ran on into the next page (stop is that page's first instruction) */
      fallsOn: boolean;
    }
    /** host-physical minus virtual per virtual page, as the TLB maps it now (entry page: the caller's) */
    const deltas = new Map<number, number>([[entryPage, (hpa - pc) | 0]]);
    // what the output depends on, for the memo (recall)
    const reads: number[] = [];
    const looks: number[] = [];
    const looked = new Set<number>();
    const read = (a: number): number => {
      const w = m32[a >> 2]!;
      reads.push(a >> 2, w);
      return w;
    };
    const deltaOf = (page: number): number | undefined => {
      const known = deltas.get(page);
      if (known !== undefined || tr === null || looked.has(page)) return known;
      looked.add(page);
      const d = this.pageDelta(tr, page);
      looks.push(page, d);
      if (d === NOT_MAPPED) return undefined;
      deltas.set(page, d);
      return d;
    };
    const index = new Map<number, number>();
    /** the return addresses of the calls inside: where an indirect transfer (a ret) may go on inside */
    const returns = new Set<number>();
    const blocks: Block[] = [];
    const work: number[] = [pc];
    index.set(pc, 0);
    let total = 0;
    const add = (t: number): void => {
      if ((t & 3) !== 0 || index.has(t) || index.size >= maxBlocks) return;
      if (deltaOf(t & PAGE_MASK) === undefined) return;
      index.set(t, index.size);
      work.push(t);
    };
    while (work.length > 0) {
      const start = work.shift()!;
      const page = start & PAGE_MASK;
      const delta = deltas.get(page)!;
      const insns: Insn[] = [];
      let at = start;
      let stop = -1;
      let fallsOn = false;
      for (;;) {
        if ((at & PAGE_MASK) !== page) {
          stop = at;
          fallsOn = true;
          break;
        }
        if (total >= l.maxInsns) {
          stop = at;
          break;
        }
        const w = read((at + delta) | 0);
        const op = w & 0xff;
        const sem = h.semByOp[op] ?? null;
        const len = h.insnBytes[op]!;
        if (sem === null || (len === 8 && (at & 0xffc) === 0xffc)) {
          stop = at;
          break;
        }
        const ext = len === 8 ? read((at + delta + 4) | 0) : 0;
        insns.push({ at, sem, w, ext, len });
        total++;
        if (endsBlock(sem)) {
          const next = (at + len) | 0;
          if (sem.kind === 'jcc') {
            add((next + ext) | 0);
            add(next);
          } else if (sem.kind === 'jmp') {
            add((next + ext) | 0);
          } else if (sem.kind === 'call') {
            add((next + ext) | 0);
            add(next); // where its ret comes back to
            returns.add(next);
          } else if (sem.kind === 'callr') {
            add(next);
            returns.add(next);
          }
          at = next;
          break;
        }
        at = (at + len) | 0;
      }
      if (start === pc && insns.length === 0) return null;
      if (fallsOn) add(stop);
      blocks.push({ start, page, delta, insns, stop, fallsOn });
    }
    // the host-physical bytes read, per frame
    const ranges = new Map<number, [number, number]>();
    for (const b of blocks) {
      let end = b.start;
      for (const ins of b.insns) end = (ins.at + ins.len) | 0;
      if (end === b.start) continue;
      const lo = (b.start + b.delta) | 0;
      const hi = (end + b.delta) | 0;
      const f = lo >>> 12;
      const r = ranges.get(f);
      if (r === undefined) ranges.set(f, [lo, hi]);
      else ranges.set(f, [Math.min(r[0], lo), Math.max(r[1], hi)]);
    }
    /** the check that page still maps where it did, before moving into one of its blocks from another page ('' within a page) */
    const guard = (from: number, to: Block): string => {
      if (to.page === from) return '';
      const set = ((to.page >>> 12) & h.mmu.setMask) << h.mmu.wayShift;
      return `pageAt(tr, ta, ${set}, ${to.page}, ${to.delta})`;
    };
    // The instruction TLB: the fast loop refills it from the TLB whenever pc moves into another
    // page, and it may keep a page the TLB has since evicted, so whether a later fetch walks (and
    // so the TLB's fills and evictions) depends on it. Translated code keeps it as the fast loop
    // would: the page of the last block run (ip, offset ia), written back when the function leaves,
    // as the fast loop writes back its local copy (over anything a refill's walk did to it).
    const itlb = (to: Block): string => `ip = ${to.page}; ia = ${to.delta}; `;
    // blocks were numbered in discovery order, which is the order of `blocks`
    const readRegs = new Set<number>();
    const written = new Set<number>();
    const out: string[] = [];
    const costs = h.costs;
    for (let k = 0; k < blocks.length; k++) {
      const b = blocks[k]!;
      // each block is a loop of its own (every path through it leaves explicitly), so a branch
      // back to the block's own start continues it directly instead of through the switch: V8
      // compiles a tight guest loop as a loop
      out.push(`case ${k}: L${k}: for (;;) { // 0x${(b.start >>> 0).toString(16)}`);
      let P = 0;
      let K = 0;
      /** registers holding a constant loaded by LI earlier in this block (the page memo's kinds of access) */
      const lit = new Set<number>();
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
          tlbMemo: true,
          constBase: lit.has(ra),
          exit: `{ ${charge(P, K)}pc = ${ins.at | 0}; break out; }`,
          after: (p, bound) => `{ ${charge(P + c, K + 1)}pc = ${p}; ${bound ? 'why = BOUND; ' : ''}break out; }`,
          retire: charge(P + c, K + 1),
          go: (p) => {
            const leave = `if (cyc >= dl) { pc = ${p}; why = BOUND; break out; } `;
            if (/^-?\d+$/.test(p)) {
              const k2 = index.get(Number(p));
              if (k2 === undefined) return `pc = ${p}; why = BOUND; break out;`;
              if (k2 === k) return `${leave}continue L${k};`;
              const g = guard(b.page, blocks[k2]!);
              return `${leave}${g === '' ? '' : `if (!${g}) { pc = ${p}; why = BOUND; break out; } ${itlb(blocks[k2]!)}`}b = ${k2}; continue out;`;
            }
            // an indirect transfer: on inside if its target is the return address of a call inside
            const arms = blocks.flatMap((t, k2) => {
              if (!returns.has(t.start) || !index.has(t.start)) return [];
              const g = guard(b.page, t);
              return [g === '' ? `case ${t.start | 0}: b = ${k2}; continue out;` : `case ${t.start | 0}: if (${g}) { ${itlb(t)}b = ${k2}; continue out; } break;`];
            });
            if (arms.length === 0) return `pc = ${p}; why = BOUND; break out;`;
            return `${leave}switch (${p}) { ${arms.join(' ')} } pc = ${p}; why = BOUND; break out;`;
          },
        };
        regsOf(ins.sem, rd, ra, rb, readRegs, written);
        for (const line of transBody(ins.sem, x)) out.push(line);
        const wrote = new Set<number>();
        regsOf(ins.sem, rd, ra, rb, new Set(), wrote);
        for (const r of wrote) lit.delete(r);
        if (ins.sem.kind === 'li') lit.add(rd);
        if (!endsBlock(ins.sem)) {
          P += c;
          K += 1;
        }
      }
      if (b.stop >= 0) {
        const k2 = b.fallsOn ? index.get(b.stop) : undefined;
        // running on into the next page is no block boundary: no deadline check, and a page the
        // TLB no longer maps as it did leaves for the general path (CONT), as the fast loop would
        const g = k2 === undefined ? '' : guard(b.page, blocks[k2]!);
        if (k2 !== undefined) out.push(`${charge0(P, K)}${g === '' ? '' : `if (!${g}) { pc = ${b.stop | 0}; break out; } ${itlb(blocks[k2]!)}`}b = ${k2}; continue out;`);
        else out.push(`${charge0(P, K)}pc = ${b.stop | 0}; break out;`);
      }
      out.push('}');
    }
    // the host's names this code uses (each one loaded from c costs every entry a property load)
    const body = out.join('\n');
    // the prologue loads the registers the code reads and those it writes (a leave before the
    // write stores the loaded value)
    for (const r of written) readRegs.add(r);
    const regs = [...readRegs].sort((a, b) => a - b);
    // only a refill (Cpu.txMiss) charges walk cycles while translated code runs: without one, the
    // cost ledger's base is all the cycles the function ran
    const walks = body.includes('cpu.txMiss(');
    const { objects, numbers } = this.namesUsed(body);
    const src = [
      "'use strict';",
      `return function tb_${(pc >>> 0).toString(16)}(c, tr, tw, user, dl) {`,
      `const { ${objects.join(', ')} } = c;`,
      numbers.length > 0 ? `const ${numbers.join(', ')};` : '',
      regs.length > 0 ? `let ${regs.map((r) => `r${r} = R[${r}]`).join(', ')};` : '',
      'let fl = cpu.flags, cyc = 0, n = 0, pc = 0, why = CONT, b = 0, smc = 0;',
      /\b[sgd][RW]p\b/.test(body) ? TLB_MEMO_LOCALS : '', // the page memo, where the code accesses memory
      `let ip = ${entryPage}, ia = ${(hpa - pc) | 0};`,
      // the cost ledger: refills' walk cycles are events (refillCharged), the rest is base
      walks ? 'const w0 = cpu.loopWalkCycles;' : '',
      'out: for (;;) {',
      'switch (b) {',
      body,
      '}',
      '}',
      ...writeBack(written, walks),
      'const u = cpu.mmu;',
      'u.icV = ip;',
      'u.icA = ia;',
      'return why;',
      '};',
    ].join('\n');
    let guestBytes = 0;
    for (const [lo, hi] of ranges.values()) guestBytes += hi - lo;
    return { source: src, ranges: [...ranges.values()], blocks: blocks.length, insns: total, guestBytes, reads, looks, withTlb: tr !== null };
  }

  /**
   * The host's names (objects, and number constants as declarations) a translated function's
   * body uses, for its prologue: each one loaded costs every entry a property load. The body's
   * identifiers are collected in one pass (a regular expression per name cost bt, which generates
   * its straight runs on every boot, a third more time); cpu, R and CONT the prologue and
   * write-back use themselves.
   */
  private namesUsed(body: string): { objects: string[]; numbers: string[] } {
    const ids = new Set(body.match(/[A-Za-z_$][\w$]*/g));
    const used = (name: string): boolean => name === 'cpu' || name === 'R' || name === 'CONT' || ids.has(name);
    return {
      objects: this.objectNames.filter(used),
      numbers: this.numberConsts.filter(([k]) => used(k)).map(([k, v]) => `${k} = ${v}`),
    };
  }

  // ------------------------------------------------------------------ hook: straight runs (bt)

  /**
   * A hook for binary translation (hypervisor/bt), which runs the ident instructions of its
   * translation units here: compile straight runs of instructions, each run a block, with no
   * dispatch and no deadline check of the translator's own. The same emitters as every
   * translation (transBody), the same TLB check and refill, the same exits; in addition each
   * instruction first checks its words against memory (a unit's own check before each
   * instruction: a mismatch leaves before it). A block ends at its first control transfer, at
   * an instruction without a definition (unless the caller rewrites it: StraightInsn.rewrite,
   * its code in place of one), or after its last instruction.
   *
   * Where a block's direct control transfer goes to the first instruction of another block,
   * `link(from, to, pc, go)` (if given) supplies the JavaScript of that boundary: it either goes
   * on (`go`, the statement that continues with block `to`: a link back to a block's own start
   * continues that block's own loop) or leaves (`pc = <pc>; why = BOUND; ix = ~from; break out;`); it
   * may use the function's sixth argument, `bc`, which the caller passes (the translator never
   * looks at it). Any other control transfer leaves.
   *
   * The function, called as fn(ctx, tr, tw, user, dl, bc), returns `(block << 8) | index`: the
   * next instruction to run is `index` of `block` (nothing of it done: it left before it; index
   * = the block's length: the block ran to its end), or `~block` after the control transfer
   * that ends `block` retired (a block boundary). It sets cpu.pc, the registers, FLAGS, cycles
   * and instructions as the general path would after the same instructions. Null if the first
   * block's first instruction has no definition. Shares the process-wide memo of compiled
   * functions (so `link`'s code must not depend on the machine either). `frame` (if given)
   * declares the caller's own locals for its `link` code and the code run at every exit, after
   * the write-back (e.g. counters kept in locals written back once). Without `wordChecks` no
   * instruction checks its words: the caller has checked them all before the call, and a store
   * into a frame marked for the CPU's code-store hook (Cpu.markCodeFrame) leaves right after it
   * (Cpu.txStored), as does a refill whose walk wrote into one, so no word changes while it runs.
   */
  compileStraight(blocks: ReadonlyArray<readonly StraightInsn[]>, link: StraightLink | null = null, frame: StraightFrame | null = null, wordChecks = true): StraightFn | null {
    const src = this.generateStraight(blocks, link, frame, wordChecks);
    return src === null ? null : this.compileSource(src);
  }

  /** The function of generateStraight's JavaScript `src` (compileStraight's second half, for a caller that looks at the source first). */
  compileSource(src: string): StraightFn {
    let fn = FACTORIES.get(src) as StraightFn | undefined;
    if (fn === undefined) {
      if (FACTORIES.size >= MAX_FACTORIES) FACTORIES.clear();
      fn = (new Function(src) as () => StraightFn)();
      FACTORIES.set(src, fn as unknown as TbFn);
      STRAIGHT_CHARS.set(fn, src.length);
      this.stats.compiles++;
    }
    this.stats.straightRuns++;
    return fn;
  }

  /** The JavaScript of compileStraight. */
  generateStraight(blocks: ReadonlyArray<readonly StraightInsn[]>, link: StraightLink | null = null, frame: StraightFrame | null = null, wordChecks = true): string | null {
    const h = this.h;
    const costs = h.costs;
    const readRegs = new Set<number>();
    const written = new Set<number>();
    const out: string[] = [];
    const starts = new Map<number, number>();
    blocks.forEach((b, bi) => {
      if (b.length > 0 && bi < 0x7fffff && !starts.has(b[0]!.at | 0)) starts.set(b[0]!.at | 0, bi);
    });
    const charge = (cc: number, nn: number): string => (cc === 0 && nn === 0 ? '' : `cyc += ${cc}; n += ${nn}; `);
    for (let bi = 0; bi < blocks.length; bi++) {
      const insns = blocks[bi]!;
      // (a block is a loop of its own, every path through it leaving explicitly: a link back to
      // its own start continues it directly, as generate's blocks do)
      out.push(`case ${bi}: L${bi}: for (;;) {`);
      /** registers holding a constant loaded by LI earlier in this block (the page memo's kinds of access, as generate's) */
      const lit = new Set<number>();
      let P = 0;
      let K = 0;
      let k = 0;
      let ended = false;
      for (; k < insns.length && k < 255; k++) {
        const ins = insns[k]!;
        const w = ins.w | 0;
        const op = w & 0xff;
        const sem = h.semByOp[op] ?? null;
        const len = h.insnBytes[op]!;
        const rw = ins.rewrite;
        if (len === 8 && (ins.at & 0xffc) === 0xffc) break;
        const c = costs[op]!;
        const rd = (w >>> 8) & 15;
        const ra = (w >>> 12) & 15;
        const rb = (w >>> 16) & 15;
        const next = (ins.at + len) | 0;
        const at = (bi << 8) | k;
        const before = `{ ${charge(P, K)}pc = ${ins.at | 0}; ix = ${at}; break out; }`;
        const check = len === 8 ? `m32[${ins.pa >>> 2}] !== ${w} || m32[${(ins.pa + 4) >>> 2}] !== ${ins.ext | 0}` : `m32[${ins.pa >>> 2}] !== ${w}`;
        if (rw !== undefined) {
          // the caller's rewrite in place of the definition: its word checked as any other's
          out.push(`// 0x${(ins.at >>> 0).toString(16)} (rewritten)`);
          if (wordChecks) out.push(`if (${check}) ${before}`);
          for (const r of rw.reads) readRegs.add(r);
          for (const r of rw.writes) written.add(r);
          const done = rw.done ?? '';
          // (code's leave after the instruction: done has run)
          const after = `{ ${charge(P + c, K + 1)}pc = ${next}; ix = ${at + 1}; break out; }`;
          const d = rw.define;
          if (d !== undefined) {
            // another instruction's definition with the caller's operand and destination (a push of
            // a value, a pop into a variable), then its own code: what retires the instruction
            // (done) runs also where the definition leaves after it (a store into a frame holding
            // translated code)
            const x: TransInsn = {
              rd,
              ra: d.ra,
              rb,
              imm: w >> 16,
              ext: ins.ext | 0,
              next,
              tlbMemo: true,
              refilled: frame?.refilled,
              exit: before,
              after: (p, bound) => `{ ${done}${charge(P + c, K + 1)}pc = ${p}; ${bound ? `why = BOUND; ix = ${~bi}; ` : `ix = ${at + 1}; `}break out; }`,
              retire: charge(P + c, K + 1),
              go: () => before,
              ...(d.a !== undefined ? { a: d.a } : {}),
              ...(d.d !== undefined ? { d: d.d } : {}),
            };
            out.push(`{ ${d.pre ?? ''}`, ...transBody(d.sem, x), done, rw.code(before, after), '}');
          } else {
            out.push(done, rw.code(before, after));
          }
          lit.clear(); // (what a rewrite writes is its own: no constant is assumed past it)
          P += c;
          K += 1;
          continue;
        }
        if (sem === null) break;
        const x: TransInsn = {
          rd,
          ra,
          rb,
          imm: w >> 16,
          ext: ins.ext | 0,
          next,
          tlbMemo: true,
          refilled: frame?.refilled,
          constBase: lit.has(ra),
          exit: before,
          after: (p, bound) => `{ ${charge(P + c, K + 1)}pc = ${p}; ${bound ? `why = BOUND; ix = ${~bi}; ` : `ix = ${at + 1}; `}break out; }`,
          retire: charge(P + c, K + 1),
          go: (p) => {
            const known = /^-?\d+$/.test(p);
            const to = link !== null && known ? starts.get(Number(p)) : undefined;
            if (to === undefined) return (!known ? link?.indirect?.(bi, p) : null) ?? `pc = ${p}; why = BOUND; ix = ${~bi}; break out;`;
            return link!(bi, to, p, to === bi ? `continue L${bi};` : `b = ${to}; continue out;`);
          },
        };
        out.push(`// 0x${(ins.at >>> 0).toString(16)}`);
        if (wordChecks) out.push(`if (${check}) ${before}`);
        regsOf(sem, rd, ra, rb, readRegs, written);
        for (const line of transBody(sem, x)) out.push(line);
        const wrote = new Set<number>();
        regsOf(sem, rd, ra, rb, new Set(), wrote);
        for (const r of wrote) lit.delete(r);
        if (sem.kind === 'li') lit.add(rd);
        if (endsBlock(sem)) {
          ended = true;
          break;
        }
        P += c;
        K += 1;
      }
      if (bi === 0 && k === 0 && !ended) return null;
      if (!ended) {
        const last = k === 0 ? null : insns[k - 1]!;
        const stop = last === null ? insns[0]!.at | 0 : (last.at + h.insnBytes[last.w & 0xff]!) | 0;
        out.push(`${charge(P, K)}pc = ${stop}; ix = ${(bi << 8) | k}; break out;`);
      }
      out.push('}');
    }
    for (const r of written) readRegs.add(r);
    const regs = [...readRegs].sort((a, b) => a - b);
    // as generate: only the host's names the code uses (each costs every entry a property load),
    // the walk cycles' base only where a refill may charge them
    const body = out.join('\n');
    const walks = body.includes('cpu.txMiss(');
    const { objects, numbers } = this.namesUsed(body);
    return [
      "'use strict';",
      `return function run_${(blocks[0]![0]!.at >>> 0).toString(16)}(c, tr, tw, user, dl, bc) {`,
      `const { ${objects.join(', ')} } = c;`,
      numbers.length > 0 ? `const ${numbers.join(', ')};` : '',
      regs.length > 0 ? `let ${regs.map((r) => `r${r} = R[${r}]`).join(', ')};` : '',
      'let fl = cpu.flags, cyc = 0, n = 0, pc = 0, why = CONT, smc = 0, ix = 0, b = 0;',
      /\b[sgd][RW]p\b/.test(body) ? TLB_MEMO_LOCALS : '', // the page memo, where the code accesses memory
      frame !== null ? `let ${frame.locals};` : '',
      walks ? 'const w0 = cpu.loopWalkCycles;' : '',
      'out: for (;;) {',
      'switch (b) {',
      body,
      '}',
      'break;',
      '}',
      ...writeBack(written, walks),
      frame !== null ? frame.exit : '',
      'return ix;',
      '};',
    ].join('\n');
  }
}

/*
 * The TLB hit check of translated code, per way count: tlbFind (machine/mmu.ts) with its compares
 * unrolled (the count is fixed per machine). A helper and not an expression at every access: V8
 * inlines it, its type feedback is shared by every access (an unrolled expression per access
 * deoptimized the function at the first hit in a way that access had not hit before), and it has
 * no loop (a loop per access made V8's optimizing compiles of translated functions much longer).
 */
function find1(t: Int32Array, s: number, g: number): number {
  return t[s] === g ? s : -1;
}
function find2(t: Int32Array, s: number, g: number): number {
  return t[s] === g ? s : t[s + 1] === g ? s + 1 : -1;
}
function find4(t: Int32Array, s: number, g: number): number {
  return t[s] === g ? s : t[s + 1] === g ? s + 1 : t[s + 2] === g ? s + 2 : t[s + 3] === g ? s + 3 : -1;
}
function find8(t: Int32Array, s: number, g: number): number {
  return t[s] === g ? s : t[s + 1] === g ? s + 1 : t[s + 2] === g ? s + 2 : t[s + 3] === g ? s + 3 : t[s + 4] === g ? s + 4 : t[s + 5] === g ? s + 5 : t[s + 6] === g ? s + 6 : t[s + 7] === g ? s + 7 : -1;
}

/** The hit check translated code uses for a TLB of `ways` ways: find(tags, first entry of the set, tag) -> entry or -1. */
export function tlbFinder(ways: number): (t: Int32Array, s: number, g: number) => number {
  switch (ways) {
    case 1:
      return find1;
    case 2:
      return find2;
    case 4:
      return find4;
    case 8:
      return find8;
    default:
      return (t, s, g) => tlbFind(t, s, ways, g);
  }
}

/*
 * The check before translated code moves into a block of another page (machine/translator.ts
 * guard), as the interpreter's instruction-TLB refill would look the page up: does the TLB still
 * map virtual page `page` (set `set`) with host-physical offset delta? One per way count, as find.
 */
type PageAt = (t: Int32Array, ta: Int32Array, set: number, page: number, delta: number) => boolean;
function pageAt1(t: Int32Array, ta: Int32Array, set: number, page: number, delta: number): boolean {
  const e = find1(t, set, page);
  return e >= 0 && ta[e] === delta;
}
function pageAt2(t: Int32Array, ta: Int32Array, set: number, page: number, delta: number): boolean {
  const e = find2(t, set, page);
  return e >= 0 && ta[e] === delta;
}
function pageAt4(t: Int32Array, ta: Int32Array, set: number, page: number, delta: number): boolean {
  const e = find4(t, set, page);
  return e >= 0 && ta[e] === delta;
}
function pageAt8(t: Int32Array, ta: Int32Array, set: number, page: number, delta: number): boolean {
  const e = find8(t, set, page);
  return e >= 0 && ta[e] === delta;
}

/** The page check translated code uses for a TLB of `ways` ways. */
export function pageChecker(ways: number): PageAt {
  switch (ways) {
    case 1:
      return pageAt1;
    case 2:
      return pageAt2;
    case 4:
      return pageAt4;
    case 8:
      return pageAt8;
    default: {
      const find = tlbFinder(ways);
      return (t, ta, set, page, delta) => {
        const e = find(t, set, page);
        return e >= 0 && ta[e] === delta;
      };
    }
  }

}

/**
 * compileStraight's boundary between two of its blocks: the JavaScript run when block `from`'s
 * direct control transfer (retired, charged) goes to pc `pc`, the first instruction of block `to`.
 * With `indirect`, the JavaScript run when block `from`'s indirect control transfer (retired,
 * charged) goes to the pc the expression `pc` holds (null: it leaves, as without): it may go on
 * in block b by `b = ...; continue out;`, else it leaves as a boundary does.
 */
export type StraightLink = ((from: number, to: number, pc: string, go: string) => string) & {
  readonly indirect?: (from: number, pc: string) => string | null;
};

/** compileStraight's caller's own locals (`let` declarations without the keyword) and the code run at every exit of the function. */
export interface StraightFrame {
  locals: string;
  exit: string;
  /** code run after each refill (Cpu.txMiss) in the function: the caller's memos of TLB answers in its locals emptied */
  refilled?: string;
}

/** A function compileStraight made (its result: see there); `bc` is the caller's, for its `link` code. */
export type StraightFn = (c: TranslationContext, tr: Int32Array, tw: Int32Array, user: boolean, dl: number, bc: unknown) => number;

/** One instruction of a straight run (compileStraight): its virtual pc, words, and the host-physical address they were read from. */
export interface StraightInsn {
  at: number;
  w: number;
  /** the extension word of an 8-byte instruction (else 0) */
  ext: number;
  pa: number;
  /** the caller's own code in place of the instruction's definition (binary translation's rewrites of critical instructions) */
  rewrite?: StraightRewrite;
}

/**
 * compileStraight: an instruction the caller rewrites (hypervisor/bt: CLI and STI against the
 * virtual IF, RDCPL and SIDT from the virtual CPU, PUSHF and POPF of the virtual FLAGS). `code(leave, after)` is its JavaScript, run in
 * place of a definition: it may use `bc` and `cpu`, read the registers in `reads` and write those
 * in `writes` (as locals r0..r15), and leave before the instruction with `leave` (nothing of it
 * done: the caller's general path runs it, e.g. to raise its fault) or after it with `after` (it
 * retired: the function returns the next instruction's index, as when it leaves before that one).
 * The instruction's own cost and count are charged as any instruction's.
 */
export interface StraightRewrite {
  code: (leave: string, after: string) => string;
  reads: readonly number[];
  writes: readonly number[];
  /**
   * Code run as the instruction retires, before `code` (and in the definition's own leave after
   * it): counters, FLAGS. With `define`, first another instruction's definition is emitted (the
   * translator's own: TLB check without refill, the store's code-frame check, leaving before it
   * on a miss) with `a` in place of its first operand register `ra` and the variable `d` in
   * place of its destination, after `pre` (declarations); it may only push or pop (no control
   * transfer).
   */
  done?: string;
  define?: { sem: Semantics; ra: number; a?: string; d?: string; pre?: string };
}

/**
 * The end of every translated function (generate's and compileStraight's): the registers it
 * wrote, FLAGS, pc, and the cycles and instructions it ran back into the CPU (the cost ledger's
 * base: its cycles less the walk cycles refills charged as events).
 */
function writeBack(written: Set<number>, walks = true): string[] {
  return [
    ...[...written].sort((a, b) => a - b).map((r) => `R[${r}] = r${r};`),
    'cpu.flags = fl;',
    'cpu.pc = pc >>> 0;',
    'cpu.cycles += cyc;',
    // (without a refill, walks is false and no walk cycles were charged: w0 is not read)
    walks ? 'cpu.baseCycles += cyc - (cpu.loopWalkCycles - w0);' : 'cpu.baseCycles += cyc;',
    'cpu.instructions += n;',
  ];
}

function charge0(cc: number, nn: number): string {
  return cc === 0 && nn === 0 ? '' : `cyc += ${cc}; n += ${nn}; `;
}

/** The registers an instruction of this kind reads and writes (r15 is the stack pointer). */
function regsOf(s: Semantics, rd: number, ra: number, rb: number, read: Set<number>, written: Set<number>): void {
  switch (s.kind) {
    case 'nop':
    case 'pause':
    case 'jmp':
    case 'jcc':
      return;
    case 'alu':
    case 'div':
    case 'cmp': {
      // the operands its expressions name ($a, $b: an immediate form's register fields are bits of the immediate)
      const text = s.kind === 'alu' ? s.expr : s.kind === 'div' ? `${s.b} ${s.expr}` : `${s.a} ${s.b}`;
      if (text.includes('$a')) read.add(ra);
      if (text.includes('$b')) read.add(rb);
      if (s.kind !== 'cmp') written.add(rd);
      return;
    }
    case 'xchg':
      read.add(ra);
      read.add(rb);
      written.add(rd);
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
