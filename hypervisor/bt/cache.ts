// The translation cache of binary translation: translation units (up to UNIT_MAX_INSNS guest
// instructions, ending at control flow or the end of the page) keyed by the machine address of
// their first instruction, each instruction classified ident / callout / inline. Also the
// per-frame index used to invalidate units when their code is written, and the counters.
// Data and classification only; touches nothing outside itself (and the memory's codePage marks).

import { INSN_BYTES, INSTRUCTIONS, OPS, Op, type InsnClass } from '../../machine/isa.ts';
import { assertNever } from '../../machine/never.ts';
import { SEMANTICS } from '../../machine/semantics.ts';
import type { StraightFn } from '../../machine/translator.ts';
import { doubleFields } from '../../machine/shapes.ts';

/** A translation unit ends after this many instructions (Adams & Agesen, ASPLOS 2006). */
export const UNIT_MAX_INSNS = 12;

/**
 * Host heap per cached unit, estimated: a fixed part (the unit object, its four typed arrays, its
 * link list, its entries in the two maps and in the process's shared code, CODE_MEMO) and a part
 * per instruction. Measured with `node --expose-gc --import tsx bench/bt-cache-bytes.ts` (on Node
 * 20 here: 1,059 bytes for a one-instruction unit, 1,117 for a twelve-instruction one, code not
 * shared yet; the estimate gives 1,064 and 1,152). A unit whose code is shared takes less.
 */
export const UNIT_HOST_BYTES = 1056;
export const UNIT_HOST_BYTES_PER_INSN = 8;

/**
 * Units a domain's cache holds at most, by default (at most 9 MiB of host heap by the
 * estimate above). A guest decides how much code it runs - one that executes every word of its memory
 * would otherwise take the host's heap - so the cache is bounded per domain.
 */
export const DEFAULT_CACHE_UNITS = 8192;

/** Slots of the direct-mapped lookup in front of a cache's map (TranslationCache.get): 16 KiB of host heap per domain. */
const RECENT_SLOTS = 2048;

/**
 * A unit's translated code (its words, offsets, opcodes and kinds: read-only once made), shared
 * by the units of every cache in the process translated from the same words at the same machine
 * address (a kernel booted again translates the same units: their arrays are made once). Bounded:
 * cleared whole when it holds CODE_MEMO_MAX.
 */
interface UnitCode {
  words: Int32Array;
  offs: Uint16Array;
  ops: Uint8Array;
  kinds: Uint8Array;
}
const CODE_MEMO = new Map<number, UnitCode[]>();
const CODE_MEMO_MAX = DEFAULT_CACHE_UNITS;
let codeMemoSize = 0;
/** translate()'s words as read (no allocation unless new code) */
const SCRATCH_WORDS = new Int32Array(UNIT_MAX_INSNS);

/** The shared code at machine address ma whose n words are SCRATCH_WORDS' first n, if any. */
function sharedCode(ma: number, n: number): UnitCode | undefined {
  const list = CODE_MEMO.get(ma);
  if (list === undefined) return undefined;
  const sw = SCRATCH_WORDS;
  // (an indexed loop: iterators here and in BtMode.recipeOf were 30 of bt's 1,184 KiB a boot, bench/kernel-alloc.ts)
  outer: for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    const w = c.words;
    if (w.length !== n) continue;
    for (let k = 0; k < n; k++) if (w[k] !== sw[k]) continue outer;
    return c;
  }
  return undefined;
}

function shareCode(ma: number, code: UnitCode): void {
  if (codeMemoSize >= CODE_MEMO_MAX) {
    CODE_MEMO.clear();
    codeMemoSize = 0;
  }
  const list = CODE_MEMO.get(ma);
  if (list === undefined) CODE_MEMO.set(ma, [code]);
  else list.push(code);
  codeMemoSize++;
}

/** Instruction kinds in a unit. */
/** executed as is (the real CPU's general path at the deprivileged ring: same semantics, same cycles) */
export const K_IDENT = 0;
/** a privileged instruction: a callout into the monitor, emulated on the virtual CPU without a trap */
export const K_CALLOUT = 1;
/**
 * rewritten in line to use the virtual CPU's state, no callout: the critical instructions (PUSHF,
 * POPF, RDCPL, SIDT) and CLI/STI (a store to the virtual IF after the virtual CPL/IOPL check)
 */
export const K_INLINE = 2;
/**
 * `--bt-adaptive`: a store retranslated after it kept taking trace faults (ADAPTIVE_TRACE_FAULTS):
 * a callout that resolves its write against the traced shadow, then makes it (no fault)
 */
export const K_STORE = 3;

/**
 * Trace faults one kernel instruction takes before `--bt-adaptive` retranslates it as a store
 * callout. VMware's bt treats every instruction as "innocent until proven guilty" (Adams &
 * Agesen, ASPLOS 2006, section 4.2): it runs translated as it is, and one that keeps faulting on
 * traced page tables is retranslated to emulate its access in a callout; the paper gives no
 * threshold, so this one (a few faults) is ours.
 */
export const ADAPTIVE_TRACE_FAULTS = 4;

/** opcodes `--bt-adaptive` can turn into a store callout: STW, STH, STB at [ra + imm16], XCHG at [ra] */
export const OP_STW: number = Op.STW;
export const OP_STH: number = Op.STH;
export const OP_STB: number = Op.STB;
export const OP_XCHG: number = Op.XCHG;

// opcodes as local numbers (cross-file const enums are property loads under tsx)
export const OP_JMP: number = Op.JMP;
export const OP_JCC: number = Op.JCC;
export const OP_CALL: number = Op.CALL;
export const OP_JMPR: number = Op.JMPR;
export const OP_CALLR: number = Op.CALLR;
export const OP_RET: number = Op.RET;
export const OP_INT: number = Op.INT;
export const OP_BRK: number = Op.BRK;
export const OP_HLT: number = Op.HLT;
export const OP_CLI: number = Op.CLI;
export const OP_MOVTOCR: number = Op.MOVTOCR;
export const OP_STI: number = Op.STI;
export const OP_IRET: number = Op.IRET;
export const OP_PUSHF: number = Op.PUSHF;
export const OP_POPF: number = Op.POPF;
export const OP_RDCPL: number = Op.RDCPL;
export const OP_SIDT: number = Op.SIDT;

/**
 * Kind of each opcode, from its Popek & Goldberg class in machine/isa.ts (so a new sensitive opcode
 * cannot silently run as it is): innocuous ones are ident, and so is HYPERCALL (bt runs an
 * unmodified kernel: the instruction is #UD there, as on the hardware) and an undefined opcode
 * (#UD); privileged and I/O-privileged ones are callouts, except CLI and STI, which bt runs in line
 * against the virtual IF; critical ones are translated in line.
 */
export const KIND: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const info of INSTRUCTIONS) t[info.op] = btKind(info.op, info.cls);
  return t;
})();

function btKind(op: Op, cls: InsnClass): number {
  switch (cls) {
    case 'innocuous':
    case 'hypercall':
      return K_IDENT;
    case 'privileged':
      return K_CALLOUT;
    case 'io-privileged':
      return op === Op.CLI || op === Op.STI ? K_INLINE : K_CALLOUT;
    case 'critical':
      return K_INLINE;
    default:
      return assertNever(cls, 'instruction class');
  }
}

/** opcodes after which a unit ends: control flow (and what faults on purpose) */
export const ENDS_UNIT: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const op of [Op.JMP, Op.JCC, Op.CALL, Op.JMPR, Op.CALLR, Op.RET, Op.INT, Op.BRK, Op.IRET, Op.HLT, Op.HYPERCALL]) t[op] = 1;
  t[0] = 1; // undefined (#UD)
  return t;
})();

/** indirect control flow: the target is known only at run time, so it needs a cache lookup */
export const INDIRECT: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const op of [Op.JMPR, Op.CALLR, Op.RET, Op.IRET]) t[op] = 1;
  return t;
})();

/**
 * What the CPU's fast loop does with each opcode (machine/semantics.ts: it runs exactly the
 * opcodes that have a definition there; every other one it leaves to the general path, before the
 * instruction): 0 not run (it stops before it), 1 run, 2 run and a store (the fast loop reads the
 * next word from memory: a store into the unit's frame makes it leave right after, runFastRun),
 * 3 a control transfer (the fast loop's block boundary: it stops after it), 4 both (CALL, CALLR).
 */
export const FAST_OP: Uint8Array = (() => {
  // SEMANTICS names each opcode by its Op name (JCC, SETCC), isa.ts by its mnemonic (j, set)
  const kinds = new Map<string, string>(SEMANTICS.map(([m, s]) => [m, s.kind]));
  const name = (op: number): string => (op === Op.JCC ? 'JCC' : op === Op.SETCC ? 'SETCC' : (OPS[op]?.mnemonic ?? '').toUpperCase());
  const t = new Uint8Array(256);
  let found = 0;
  for (let op = 0; op < 256; op++) {
    const kind = kinds.get(name(op));
    if (kind === undefined) continue;
    found++;
    const store = kind === 'store' || kind === 'push' || kind === 'xchg';
    const transfer = kind === 'jmp' || kind === 'jcc' || kind === 'jmpr' || kind === 'ret';
    t[op] = kind === 'call' || kind === 'callr' ? 4 : transfer ? 3 : store ? 2 : 1;
  }
  if (found !== SEMANTICS.length) throw new Error(`bt: ${SEMANTICS.length - found} of machine/semantics.ts's opcodes not found in machine/isa.ts`);
  return t;
})();

/**
 * The straight runs of unit u that the CPU's fast loop may run whole (hypervisor/bt/mode.ts
 * runFastRun), as a bit per index k: the run of ident instructions from k ends where the fast
 * loop stops by itself - at a control transfer that is the unit's last instruction, or before an
 * instruction the fast loop does not run (a callout, an inline rewrite, INT, HYPERCALL). A run
 * that ends for the unit's length or its frame's end does not qualify: the fast loop would run on
 * past it. A store in the run does not disqualify it: the fast loop leaves right after any store
 * into the unit's frame (Cpu.codeStoreHook; BtMode.runFastRun), so it never runs a word a store of
 * the same run changed. Above the index bits, FAST_ALL_IDENT and FAST_ENDS_INDIRECT describe the
 * whole unit (the fast loop's boundary probe reads them instead of the unit's arrays).
 */
export function fastStretches(u: TranslationUnit): number {
  const n = u.length;
  let ident = true;
  for (let k = 0; k < n && ident; k++) ident = u.kinds[k] === K_IDENT;
  let mask = (ident ? FAST_ALL_IDENT : 0) | (INDIRECT[u.ops[n - 1]!] !== 0 ? FAST_ENDS_INDIRECT : 0);
  for (let k = 0; k < n; k++) {
    if (u.kinds[k] !== K_IDENT) continue;
    let e = k;
    while (e < n && u.kinds[e] === K_IDENT) e++;
    const last = FAST_OP[u.ops[e - 1]!]!;
    const ends = e < n ? FAST_OP[u.ops[e]!] === 0 : last === 0 || last >= 3;
    if (ends) mask |= 1 << k;
  }
  return mask;
}

/** fastStretches(u), computed once per unit. */
export function fastMask(u: TranslationUnit): number {
  return u.fastRunMask < 0 ? (u.fastRunMask = fastStretches(u)) : u.fastRunMask;
}

/** fastStretches' bit for a unit of ident instructions only (above the bits of its indices) */
export const FAST_ALL_IDENT = 1 << 16;
/** fastStretches' bit for a unit whose last instruction is an indirect transfer (INDIRECT: its successor is looked up) */
export const FAST_ENDS_INDIRECT = 1 << 17;

/** A store `--bt-adaptive` can translate as a store callout. */
export function isStoreOp(op: number): boolean {
  return op === OP_STW || op === OP_STH || op === OP_STB || op === OP_XCHG;
}

/**
 * Host side (the translator engine: hypervisor/bt/mode.ts compileChain): the units compiled into
 * one function (TranslationUnit.chain), and what its code and the unit loop keep about it.
 */
export interface UnitChain {
  /** the units, the first the one entered, and the virtual pc each was compiled for */
  u: TranslationUnit[];
  pcs: number[];
  /** the counters the chained entries made inside count in (written back at every exit) */
  st: BtStats;
  host: { chainedInline: number; indirectInline: number };
  /** the bt mode (enterChained), and the cache */
  m: unknown;
  c: { epoch: number };
  /** the boundaries compiled as trusted (from, to by unit index), and the cache's epoch when they were last found true */
  pairs: number[];
  epoch: number;
  /**
   * The distinct frames of the units, and per frame the count of stores into it (BtMode's
   * codeWrites) when the words the compiled code holds of its live units were last all found
   * equal to memory (-1: never). The compiled code checks no word: it is entered only while
   * every frame's count is still the one seen (else its words are checked first).
   */
  frames: number[];
  seen: number[];
  /** the count of stores into all frames holding units when every frame's words were last found so (-1: never) */
  seenAll: number;
  /** the words the code holds (host-physical word index, value; an 8-byte instruction's extension word too), unit j's up to ends[j] */
  words: number[];
  ends: number[];
  /** the same chain with the word check before each instruction (undefined: not compiled yet), run while a word differs */
  checkedFn: StraightFn | null | undefined;
  /** the cycles of one translation-cache lookup (the CPU's ledger unit), by which an indirect entry inside moves the deadline nearer */
  lk: number;
}

/**
 * Host side, not the model: which units a compiled chain took in (BtMode.compileChain), kept for
 * the rest of the process by the chain's first unit's code, so that a later boot of the same code
 * compiles the same chain - the same key, a hit in the process's memo of compiled chains - as
 * soon as those units are all translated and linked to each other as they were, instead of after
 * the first unit's heat again (BtMode.recipeReady).
 */
export interface ChainRecipe {
  /** each unit's machine address and virtual pc, the first unit's first */
  mas: Int32Array;
  pcs: number[];
  /** each unit's words: the process's shared translation of them (the same array for the same words at the same address) */
  codes: Int32Array[];
  /** per unit, bit j set where it was linked to unit j (the links are in the chain's key) */
  linked: Int32Array;
  /**
   * What the chain was made of besides: its function, the boundaries its code trusts, and the
   * parts of its UnitChain that only the recipe's units and memory's words decide (read-only,
   * shared by every later boot's chain, as `pcs` is): a later boot whose units the recipe holds
   * for, and whose memory holds the same words (`words`), makes its chain from these without
   * computing the chain's key again (BtMode.compileChain).
   */
  fn: StraightFn;
  pairs: number[];
  words: number[];
  ends: number[];
  frames: number[];
}

/**
 * TranslationUnit.links before a unit's first link: one empty list for all, frozen (each unit's own,
 * and the room its first push took, were 194 of bt's 1,184 KiB a boot, bench/kernel-alloc.ts); the
 * first link replaces it with a list of its own.
 */
export const NO_LINKS = Object.freeze([]) as unknown as TranslationUnit[];

/** One translation unit. */
export class TranslationUnit {
  /** set when the unit is dropped from the cache (its code was written) */
  dead = false;
  /**
   * units this one has been chained to (direct successors: fall-through, JMP, Jcc, CALL); until
   * the first, NO_LINKS, shared by every unit and never added to (BtMode.runUnit replaces it)
   */
  links: TranslationUnit[] = NO_LINKS;
  /**
   * Host side, not the model (the translator engine: hypervisor/bt/mode.ts): entries counted
   * toward compiling the unit's ident instructions, and the compiled straight runs by the index
   * they start at (undefined: not compiled yet; null: none there).
   */
  heat = 0;
  runs: Array<StraightFn | null | undefined> | null = null;
  /** fastStretches(this), once computed (-1: not yet) */
  fastRunMask = -1;
  /**
   * Host side: the count of stores into the unit's frame (BtMode's per-frame counts) when its words
   * were last all found equal to memory (-1: never); while the count is unchanged, its word check
   * would pass and is skipped.
   */
  checked = -1;
  /** its number of instructions */
  readonly length: number;
  /**
   * The units compiled with this one (runs[0]: this unit first, then those chained to it), the
   * counters the chained entries count in, the boundaries compiled as trusted (`pairs`: from, to
   * by unit index; both units live and the first linked to the second at compile time, so the
   * compiled code goes on there without a check) and the cache's `epoch` when that was last found
   * still true (BtMode.runUnit checks it again, or compiles anew, before entering when the
   * cache's epoch moved).
   */
  chain: UnitChain | null = null;
  /**
   * Host side, not the model: the unit the unit loop last entered after this unit's indirect
   * transfer (RET, JMPR, CALLR); an indirect call's is compiled into this unit's chains (null: none yet).
   */
  seen: TranslationUnit | null = null;
  /**
   * Host side: the recipe of the chain an earlier boot in this process compiled from this code at
   * this pc (BtMode.recipeReady; undefined: not looked up yet, null: none).
   */
  recipe: ChainRecipe | null | undefined = undefined;
  /**
   * Host side: whether the unit may run compiled from its first instruction (BtMode's
   * entryCompilable: -1 not known yet, 0 no, 1 yes), kept here so that the unit loop reads it from
   * the unit itself rather than from its kinds array, an object of its own (a cache miss more per
   * unit entered).
   */
  entryCompilable = -1;
  /** its last instruction's opcode (its control transfer, if it ends with one), read where the unit loop ends a unit */
  readonly lastOp: number;
  constructor(
    /** machine address of the first instruction; -1 for a one-instruction unit at an unaligned pc, never cached */
    readonly ma: number,
    /** the guest-virtual pc it was first translated at (for display) */
    readonly pc: number,
    /** the instruction words as translated (checked before each runs: self-modifying code) */
    readonly words: Int32Array,
    /** byte offset of each instruction from ma */
    readonly offs: Uint16Array,
    readonly ops: Uint8Array,
    readonly kinds: Uint8Array,
  ) {
    this.length = ops.length;
    this.lastOp = ops[ops.length - 1]!;
    // a count read from a Float64Array (machine/shapes.ts)
    doubleFields(this, ['checked']);
  }
}

/** Counters of binary translation (per domain). */
export class BtStats {
  /** units translated (including retranslations after invalidation) */
  translations = 0;
  /** guest instructions translated */
  translatedInsns = 0;
  /** instructions at an unaligned pc, translated one at a time and not cached */
  uncachedInsns = 0;
  /** units entered */
  unitsRun = 0;
  /** entries through a chain link (no lookup) */
  chained = 0;
  /** translation-cache lookups: for indirect control flow (JMPR, CALLR, RET, IRET) */
  indirectLookups = 0;
  /** ... and for every other entry that was not chained (after a trap, an injection, a first jump) */
  dispatchLookups = 0;
  /** units dropped because their code was written (by the guest or a host write such as DMA) */
  invalidations = 0;
  /** whole-cache flushes because the cache was full (QEMU's tb_flush) */
  flushes = 0;
  /** units dropped by those flushes */
  flushedUnits = 0;
  /** `--bt-adaptive`: instructions retranslated as store callouts, and the stores those callouts made */
  retranslations = 0;
  emulatedStores = 0;
  /** ... of which were writes to a traced page table (each a trace fault without the option) */
  emulatedTraceStores = 0;
  /** callouts by opcode (the privileged instructions; store callouts are counted above) */
  readonly callouts = new Float64Array(256);
  /** inline rewrites of the critical instructions by opcode */
  readonly inlined = new Float64Array(256);
  /** cycles charged for translation, callouts and lookups */
  translateCycles = 0;
  calloutCycles = 0;
  lookupCycles = 0;
}

/**
 * The translation cache of one domain, bounded: when it holds `maxUnits` units and another must
 * be translated, every unit is dropped at once (QEMU's tb_flush) and translation starts again.
 * Why a whole flush and not eviction of single units: a flush needs no per-unit bookkeeping on the
 * hot path (no recency list, no unlinking of the units chained to the victim - a dropped unit is
 * marked dead and every chain check already skips dead units), and a kernel's code is far
 * smaller than the bound (the guest kernel's whole `usertests` run never flushes: pinned in
 * test/hypervisor/bt-kernel.test.ts), so only a guest that runs more distinct code than the bound
 * ever pays for it: re-translation, at the normal translation cost. The guest sees nothing of it
 * but time.
 */
export class TranslationCache {
  readonly units = new Map<number, TranslationUnit>();
  /** machine frame -> units that start in it */
  private readonly byFrame = new Map<number, TranslationUnit[]>();
  readonly stats = new BtStats();
  /** instructions in the cached units (for the host-bytes estimate) */
  private cachedInsns = 0;
  /** `--bt-adaptive` is on for this domain (set by BtMode; its counters then show in `--stats`) */
  adaptive = false;
  /** `--bt-adaptive`: machine addresses of the stores translated as store callouts (K_STORE) */
  readonly storeCallouts = new Set<number>();
  /** `--bt-adaptive`: trace faults so far by the guest-virtual address of the kernel instruction that took them */
  readonly traceFaultsAt = new Map<number, number>();
  /**
   * Host side, not the model: unit entries made inside compiled code (the translator engine: a
   * chained boundary between two units compiled together), counted as `chained` and `unitsRun`
   * too; straight runs of a unit's ident instructions run in the CPU's fast loop (units not
   * compiled: every unit under the interpreter engine); and unit entries the unit loop made
   * itself, without a pass through the vCPU loop (the interpreter engine, BtMode.nextUnit:
   * chained ones and those after an indirect transfer's lookup); fast runs whose word check was
   * skipped (no store reached the unit's frame since its words were last found equal:
   * BtMode.codeWrites); and fast runs that left right after a store into their unit's frame
   * (Cpu.codeStoreHook); and of the unit loop's own entries, those made inside the fast loop at
   * a block boundary (BtMode.enterInLoop), without leaving it. The translator engine: compiled
   * chains recompiled (their trusted boundaries no longer true), entries into a compiled chain
   * that checked the words of a frame first (a store reached it since they were last found
   * equal: UnitChain.seen; every other entry checks none), entries that ran the chain with
   * the word check before each instruction (a word differed), and chains whose JavaScript was
   * taken from the process's memo of compiled chains or generated (BtMode.compileChain), and
   * straight runs taken from it or generated (BtMode.compileRun); unit entries made inside
   * compiled code after an indirect transfer's lookup (the target compiled in the same chain:
   * BtMode.chainLink's `indirect`, BtMode.indirectsIn), counted as `unitsRun` too. Where the
   * instructions ran: calls of compiled chains and the instructions they retired, with how the
   * calls ended (a control transfer to a unit the chain does not hold, indirect or direct; before
   * an instruction the general path runs); calls of the CPU's fast loop for straight runs
   * (BtMode.runFastRun) and the instructions they retired. The unit loop's transitions after a
   * chain ended by a control transfer and it entered the next unit itself: into another compiled
   * chain, or into a unit that is not compiled (the general path, the fast loop); and calls of
   * a chain whose first unit runInsns handed back (from units not compiled into compiled code).
   * And the units compileChain left out of chains whose code would have been longer than V8
   * optimizes (one per unit, each time a chain is compiled or taken from the memo).
   */
  // (chainInstructions and fastLoopInstructions, differences of the CPU's double counts, doubles
  // from the start: machine/shapes.ts)
  readonly host = doubleFields({ chainCalls: 0, chainInstructions: 0, chainEndsIndirect: 0, chainEndsDirect: 0, chainLeftBefore: 0, fastLoopCalls: 0, fastLoopInstructions: 0, chainToChain: 0, chainToCold: 0, coldToChain: 0, chainedInline: 0, fastRuns: 0, loopEntries: 0, checksSkipped: 0, storeLeaves: 0, probeEntries: 0, chainRecompiles: 0, chainWordChecks: 0, chainCheckedRuns: 0, chainMemoHits: 0, chainsGenerated: 0, runMemoHits: 0, runsGenerated: 0, indirectInline: 0, fallThroughs: 0, chainUnitsLeftOut: 0, chainsFromRecipes: 0 }, ['chainInstructions', 'fastLoopInstructions']);
  /**
   * Host side: moves whenever a unit is dropped (its code written, an adaptive retranslation, a
   * flush, a clear) or a unit's links are cut (BtMode.runUnit keeps the lists short). Compiled
   * code trusts the links and liveness it was compiled with while this is unchanged (the
   * translator engine: TranslationUnit.chain).
   */
  epoch = 0;
  /** get()'s slots (RECENT_SLOTS, by machine address) */
  private readonly recent = new Array<TranslationUnit | undefined>(RECENT_SLOTS).fill(undefined);

  constructor(
    private readonly m32: Int32Array,
    private readonly codePage: Uint8Array,
    /** the bound: units held at most */
    readonly maxUnits: number = DEFAULT_CACHE_UNITS,
  ) {
    if (!Number.isInteger(maxUnits) || maxUnits < 1) throw new RangeError(`bt translation cache: the bound must be a positive whole number of units (got ${maxUnits})`);
  }

  get size(): number {
    return this.units.size;
  }

  /** Host heap the cached units take, by the UNIT_HOST_BYTES estimate. */
  get estimatedBytes(): number {
    return this.units.size * UNIT_HOST_BYTES + this.cachedInsns * UNIT_HOST_BYTES_PER_INSN;
  }

  /**
   * The unit at machine address ma. A direct-mapped slot by address in front of the map (host
   * side: the unit loop looks a unit up at every pass); a slot holds a live unit only while the
   * map does (a unit leaves the map only by being marked dead), so a dead one is looked up again.
   */
  get(ma: number): TranslationUnit | undefined {
    const j = (ma >>> 2) & (RECENT_SLOTS - 1);
    const r = this.recent[j];
    if (r !== undefined && r.ma === ma && !r.dead) return r;
    const u = this.units.get(ma);
    if (u !== undefined) this.recent[j] = u;
    return u;
  }

  /**
   * Translate the unit starting at machine address `ma` (guest-virtual `pc`): up to
   * UNIT_MAX_INSNS instructions, ending after control flow or at the end of the frame (a long
   * instruction whose extension word lies in the next frame ends it too; only its opcode word is
   * classified, so only that word is checked). Returns the unit.
   */
  translate(ma: number, pc: number): TranslationUnit {
    if (this.units.size >= this.maxUnits) this.flush();
    const m32 = this.m32;
    const frameEnd = (ma & -4096) + 4096;
    const sw = SCRATCH_WORDS;
    let n = 0;
    let a = ma;
    while (n < UNIT_MAX_INSNS && a < frameEnd) {
      const w = m32[a >>> 2]!;
      const op = w & 0xff;
      sw[n++] = w;
      a += INSN_BYTES[op]!;
      if (ENDS_UNIT[op] !== 0) break;
    }
    // the same words at the same address translate the same (without --bt-adaptive's callouts)
    const plain = this.storeCallouts.size === 0;
    let code = plain ? sharedCode(ma, n) : undefined;
    if (code === undefined) {
      const words = sw.slice(0, n);
      const offs = new Uint16Array(n);
      const ops = new Uint8Array(n);
      const kinds = new Uint8Array(n);
      for (let k = 0, o = 0; k < n; k++) {
        offs[k] = o;
        ops[k] = words[k]! & 0xff;
        kinds[k] = KIND[ops[k]!]!;
        o += INSN_BYTES[ops[k]!]!;
      }
      if (!plain) {
        for (let k = 0; k < n; k++) if (kinds[k] === K_IDENT && isStoreOp(ops[k]!) && this.storeCallouts.has(ma + offs[k]!)) kinds[k] = K_STORE;
      }
      code = { words, offs, ops, kinds };
      if (plain) shareCode(ma, code);
    }
    const u = new TranslationUnit(ma, pc >>> 0, code.words, code.offs, code.ops, code.kinds);
    this.units.set(ma, u);
    const f = ma >>> 12;
    let list = this.byFrame.get(f);
    if (!list) this.byFrame.set(f, (list = []));
    list.push(u);
    this.codePage[f] = 1;
    this.cachedInsns += n;
    this.stats.translations++;
    this.stats.translatedInsns += n;
    return u;
  }

  /** A one-instruction unit for an unaligned pc (word `w` fetched through the guest's tables); not cached. */
  transient(pc: number, w: number): TranslationUnit {
    const op = w & 0xff;
    this.stats.uncachedInsns++;
    return new TranslationUnit(-1, pc >>> 0, Int32Array.of(w), Uint16Array.of(0), Uint8Array.of(op), Uint8Array.of(KIND[op]!));
  }

  /**
   * `--bt-adaptive`: translate the store at machine address `ma` as a store callout from now on,
   * dropping every unit that holds it (they all start in its frame: a unit never crosses one), so
   * the next run of that code is retranslated. Counted in `retranslations`.
   */
  retranslateStore(ma: number): void {
    if (this.storeCallouts.has(ma)) return;
    this.storeCallouts.add(ma);
    this.stats.retranslations++;
    const list = this.byFrame.get(ma >>> 12);
    if (!list) return;
    for (let i = list.length - 1; i >= 0; i--) {
      const u = list[i]!;
      if (!u.offs.includes(ma - u.ma)) continue;
      u.dead = true;
      this.epoch++;
      if (this.units.get(u.ma) === u) {
        this.units.delete(u.ma);
        this.cachedInsns -= u.length;
      }
      list.splice(i, 1);
    }
  }

  /** Drop every unit translated from machine frame `frame` (its code was written). */
  invalidateFrame(frame: number): void {
    const list = this.byFrame.get(frame);
    if (!list) return;
    this.byFrame.delete(frame);
    this.epoch++;
    for (const u of list) {
      u.dead = true;
      if (this.units.get(u.ma) === u) {
        this.units.delete(u.ma);
        this.cachedInsns -= u.length;
      }
      this.stats.invalidations++;
    }
  }

  /** The cache is full: drop every unit (counted in `flushes`). */
  private flush(): void {
    this.stats.flushes++;
    this.stats.flushedUnits += this.units.size;
    this.clear();
  }

  /** Drop every unit (and, when `all`, what `--bt-adaptive` learnt: a new boot). */
  clear(all = false): void {
    if (all) {
      this.storeCallouts.clear();
      this.traceFaultsAt.clear();
    }
    for (const u of this.units.values()) u.dead = true;
    this.epoch++;
    this.units.clear();
    this.recent.fill(undefined);
    this.byFrame.clear();
    this.cachedInsns = 0;
  }
}
