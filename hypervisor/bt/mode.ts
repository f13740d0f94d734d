// Binary translation (`--mode bt`), VMware's way (Adams & Agesen, ASPLOS 2006): the unmodified
// kernel is deprivileged to real ring 1 as under trap-and-emulate, but its code never runs
// directly. It is translated on demand into translation units held in a cache keyed by machine
// address; ident instructions run as they are (the real CPU's general path at ring 1: same
// semantics, same cycles), privileged ones become callouts that emulate them on trap mode's
// virtual CPU without a trap, and the critical ones (PUSHF, POPF, RDCPL, SIDT) are rewritten to
// read and write the virtual CPU's state - so the kernel sees its own ring, IF and IDT. User code
// (ring 3) runs directly on the CPU, exactly as under trap mode; faults, system calls and device
// interrupts go through trap mode's monitor (shadow paging, reflection, injection).
// Touches the real CPU while one of its vCPUs is loaded, its domains' memory and shadow frames.

import type { Cpu } from '../../machine/cpu.ts';
import { CR4_TSD, FLAGS_COND, Flag, REG_SP, Vector } from '../../machine/isa.ts';
import { Exit, STEP_BOUND as BOUND, STEP_CONT as CONT } from '../../machine/types.ts';
import type { Domain } from '../core/domain.ts';
import type { Hypervisor } from '../core/hypervisor.ts';
import type { BootSpec, Mode } from '../core/mode.ts';
import {
  countExit,
  crashOnUnexpectedExit,
  deadlineExit,
  hostStopExit,
  type Vcpu,
  type VcpuExit,
  stoppedExit,
} from '../core/vcpu.ts';
import * as vcpuExports from '../core/vcpu.ts';
import { ACC_FETCH, WALK_BAD_GPA } from '../trap/guest-mmu.ts';
import { EMULATED, TrapMode } from '../trap/mode.ts';
import { KIND_FAULT, TrapVcpu } from '../trap/virtual-cpu.ts';
import type { ShadowKind } from '../trap/shadow.ts';
import { STORE_DIRECT, STORE_FAULTS, STORE_TRACED, TracedShadowMmu } from '../trap/traced-shadow.ts';
import { ADAPTIVE_TRACE_FAULTS, FAST_ALL_IDENT, FAST_ENDS_INDIRECT, fastMask, isStoreOp, DEFAULT_CACHE_UNITS, TranslationCache, type ChainRecipe, type TranslationUnit, type UnitChain } from './cache.ts';
import * as cacheExports from './cache.ts';
import { hex } from '../../machine/hex.ts';
import { TraceKind } from '../core/trace.ts';
import { Ev } from '../../machine/ledger.ts';
import * as mmuExports from '../../machine/mmu.ts';
import { straightChars, type StraightFn, type StraightInsn, type StraightLink, type StraightRewrite, type Translator } from '../../machine/translator.ts';
import { INSN_BYTES } from '../../machine/isa.ts';

// Module-local copies of what the unit loop uses on every unit and instruction: an imported
// binding is a module cell, which costs a load and a check (under tsx, a getter call) at every use.
const CONTINUE: number = vcpuExports.CONTINUE;
const TO_LOOP: number = vcpuExports.TO_LOOP;
const K_IDENT: number = cacheExports.K_IDENT;
const K_INLINE: number = cacheExports.K_INLINE;
const K_CALLOUT: number = cacheExports.K_CALLOUT;
const K_STORE: number = cacheExports.K_STORE;
const INDIRECT: Uint8Array = cacheExports.INDIRECT;
const OP_XCHG: number = cacheExports.OP_XCHG;
const OP_CLI: number = cacheExports.OP_CLI;
const OP_IRET: number = cacheExports.OP_IRET;
const OP_MOVTOCR: number = cacheExports.OP_MOVTOCR;
const OP_POPF: number = cacheExports.OP_POPF;
const OP_PUSHF: number = cacheExports.OP_PUSHF;
const OP_RDCPL: number = cacheExports.OP_RDCPL;
const OP_SIDT: number = cacheExports.OP_SIDT;
const OP_STI: number = cacheExports.OP_STI;
const EV_BT_LOOKUP: number = Ev.BtLookup;
const EV_BT_CALLOUT: number = Ev.BtCallout;
const tlbFind = mmuExports.tlbFind;

/** Host side: the bt modes attached to each CPU, whose one code-store hook and memory code-write listener call each of them (BtMode.attach) */
const BT_MODES = new WeakMap<Cpu, BtMode[]>();

/** The bt modes attached to `cpu` now (attached with a domain, until their last domain is destroyed). */
export function btModesOn(cpu: Cpu): readonly BtMode[] {
  return BT_MODES.get(cpu) ?? [];
}

const V_GP: number = Vector.GeneralProtection;
const V_PF: number = Vector.PageFault;

/** The live unit at machine address ma that unit u is chained to (a direct successor), if any. */
function liveLink(u: TranslationUnit, ma: number): TranslationUnit | undefined {
  const links = u.links;
  for (let i = 0; i < links.length; i++) {
    const l = links[i]!;
    if (l.ma === ma && !l.dead) return l;
  }
  return undefined;
}

/**
 * The process-wide memo of compiled chains (BtMode.compileChain), per translator configuration
 * (Translator.config: the costs and TLB geometry the code embeds): by the hash of a chain's key
 * (every input of its generated JavaScript), the entries with that hash - the key itself, the
 * function, and the boundaries its code trusts. A later boot of the same kernel in the process
 * (a test suite, `compare`'s timed runs) gets its chains from here without generating their
 * source again (the translator's own memo is by source text). Bounded: cleared whole at
 * MAX_CHAIN_MEMO entries, as the translator's.
 */
interface ChainMemoEntry {
  key: Int32Array;
  fn: StraightFn | null;
  pairs: number[];
  /** its JavaScript was longer than CHAIN_MAX_CHARS: no function, the chain of fewer units instead */
  tooLong: boolean;
}
const CHAIN_MEMOS = new Map<string, Map<number, ChainMemoEntry[]>>();
/**
 * The process-wide recipes of compiled chains (TranslationUnit.recipe), per translator
 * configuration and heat limits: by the machine address of a chain's first unit, one per virtual
 * pc and words there (the last chain compiled from them). Cleared with the chain memo.
 */
const CHAIN_RECIPES = new Map<string, Map<number, ChainRecipe[]>>();
const MAX_CHAIN_MEMO = 8192;
let chainMemoSize = 0;

/**
 * Forget every chain recipe (tests that pin when a unit's heat alone makes it compiled: an earlier
 * boot of the same code in the process would have it compiled sooner).
 */
export function forgetChainRecipes(): void {
  for (const m of CHAIN_RECIPES.values()) m.clear();
}

/** A memo key's first value for a unit's straight run (BtMode.compileRun); a chain's is its count of units. */
const RUN_KEY = -1;

/** Put entry (key hash h) in memo, clearing every memo whole at MAX_CHAIN_MEMO entries. */
function memoize(memo: Map<number, ChainMemoEntry[]>, h: number, entry: ChainMemoEntry): void {
  if (chainMemoSize >= MAX_CHAIN_MEMO) {
    for (const m of CHAIN_MEMOS.values()) m.clear();
    for (const m of CHAIN_RECIPES.values()) m.clear();
    chainMemoSize = 0;
  }
  const list = memo.get(h);
  if (list === undefined) memo.set(h, [entry]);
  else list.push(entry);
  chainMemoSize++;
}

function chainMemoOf(tx: Translator): Map<number, ChainMemoEntry[]> {
  let m = CHAIN_MEMOS.get(tx.config);
  if (m === undefined) CHAIN_MEMOS.set(tx.config, (m = new Map()));
  return m;
}

/** FNV-1a over 32-bit words (the chain memo's index; entries compare their keys whole). */
function hashInts(xs: readonly number[]): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]! | 0;
    h = Math.imul(h ^ (x & 0xffff), 0x01000193);
    h = Math.imul(h ^ (x >>> 16), 0x01000193);
  }
  return h;
}

function sameInts(a: Int32Array, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== (b[i]! | 0)) return false;
  return true;
}

/** Both units live and a linked to y: a chained boundary from a to y (compiled as trusted, or found still so). */
function linkHolds(a: TranslationUnit, y: TranslationUnit): boolean {
  return !a.dead && !y.dead && a.links.includes(y);
}

/** Bit j set where unit x is live and linked to units[j], live, for j < n (a chain's key holds it per unit; so does a recipe). */
function linkBits(x: TranslationUnit, units: readonly TranslationUnit[], n: number): number {
  let bits = 0;
  for (let j = 0; j < n; j++) if (linkHolds(x, units[j]!)) bits |= 1 << j;
  return bits;
}
const F_IF: number = Flag.IF;
const F_IOPL: number = Flag.IOPL_MASK;
const IOPL_SHIFT: number = Flag.IOPL_SHIFT;
const COND: number = FLAGS_COND;
const SP = REG_SP;
/** Cpu.step()'s results besides Exit values (machine/types.ts), as local numbers for the unit loop */
const STEP_CONT: number = CONT;
const STEP_BOUND: number = BOUND;

/** runCompiled: the compiled code did not run (the general path runs the instruction) */
const NOT_RUN = -2;
/** runInsns: the next unit was entered and is handed back to runUnit's loop (BtMode.handed) */
const HANDED = -7;
/** runUnit's host counters: the unit was entered after a chain's control transfer, or handed back by runInsns */
const VIA_CHAIN = 1;
const VIA_HANDED = 2;
const PAGE_MASK = -4096;
/** units compiled into one function with the units chained to them (compileChain) */
const CHAIN_MAX_UNITS = 16;
/**
 * The most JavaScript characters a chain's function may have: V8 never optimizes a function of
 * more than 61,440 bytes of bytecode (`--max-optimized-bytecode-size`), and a chain's bytecode is
 * 0.91-1.01 bytes per character of its source (docs/engine.md, "The twenty-first round"). A chain
 * whose code would be longer leaves out its last units (the coldest taken in) until it is not.
 */
export const CHAIN_MAX_CHARS = 56_000;
const OP_JMP: number = cacheExports.OP_JMP;
const OP_JCC: number = cacheExports.OP_JCC;
const OP_CALL: number = cacheExports.OP_CALL;
const OP_CALLR: number = cacheExports.OP_CALLR;

/**
 * compileChain's own locals: the chained entries made inside, written back at every exit, and
 * enterInline's (its TLB entry; the call's memo of crossings found true, emptied by every refill;
 * its counts of crossings answered from the pass's translations and from the memo; the pass's
 * translations)
 */
const CHAIN_FRAME = {
  locals: 'ch = 0, ind = 0, fe = 0, xs = 0, xr = 0, xk = 0, xl = bc.m.xl',
  exit: 'if (ch !== 0) { const st = bc.st; st.chained += ch; st.unitsRun += ch; bc.host.chainedInline += ch; } if (ind !== 0) bc.m.indirectsIn(bc, ind); if ((xr | xk) !== 0) { const h = bc.m.host; h.translationsRemembered += xr; h.crossingsKnown += xk; }',
  refilled: 'xs = 0; ',
};

/** the largest deadline handed to compiled code (cycles from entry; Cpu's DL_MAX), and the wrap of the pass number (BtMode.xl) */
const DL_MAX = 1 << 30;
/** slots of the shadow translations compiled code's boundaries remember (BtMode.xl): virtual page | user bit, frame, stamp, (unused) */
const XL_SLOTS = 8;
const XL_STRIDE = 4;
/** BtMode.xl's element holding the number of the unit loop's pass (a slot holds while its stamp is that number) */
const XL_PASS = XL_SLOTS * XL_STRIDE;

/** how the next unit is entered */
const ENTRY_OTHER = 0;
/** from the previous unit by direct control flow or fall-through: chained once linked */
const ENTRY_DIRECT = 1;
/** by indirect control flow, whose lookup was already charged */
const ENTRY_INDIRECT = 2;

/** vcpu.modeState of a bt vCPU: trap mode's virtual CPU and the translator's chaining state. */
class BtVcpu extends TrapVcpu {
  /** how the next unit is entered (ENTRY_*) */
  entry = ENTRY_OTHER;
  /** the unit run last, to chain the next one to */
  prev: TranslationUnit | null = null;
  /**
   * runVcpu last returned at its deadline between two units: the next call goes on from there, chain
   * and all. A deadline is the host's (the next event, the end of the caller's slice), not the
   * guest's: were it to break the chain, a run's cycles would depend on how the caller sliced it.
   */
  atDeadline = false;

  constructor(hv: Hypervisor, vcpu: Vcpu, shadow: ShadowKind) {
    super(hv, vcpu, shadow);
    // every entry into ring 3 is an emulated IRET or a delivery the monitor makes
    this.exactUserFlags = true;
  }
}

/**
 * The inline rewrites the translator engine compiles into a unit's JavaScript with its ident
 * instructions (StraightRewrite), by opcode: what the unit loop's general path does for the
 * instruction (runInsns), against the vCPU the unit loop runs (BtMode.vt) and its cache's
 * counters (BtMode.vst). CLI and STI set the virtual IF (at a virtual CPL above the virtual IOPL
 * the code leaves before them, and the general path gives the #GP); RDCPL and SIDT read the
 * virtual ring and IDT base; PUSHF and POPF push the virtual FLAGS and pop into them (below).
 * STI and POPF end a block on the hardware: where the unit loop would then let a pending
 * interrupt in, or fire the instruction-count hook, the code leaves right after them
 * (BtMode.leavesAtBoundary: the loop does both, afterBoundary), else it goes on as the loop would. So none lets
 * an interrupt in inside compiled code, and a chain goes on past them as past ident
 * instructions. The callouts stay with the general path: the compiled code stops before them.
 */
const REWRITES: ReadonlyArray<((w: number) => StraightRewrite) | undefined> = (() => {
  const t: Array<((w: number) => StraightRewrite) | undefined> = [];
  t[OP_CLI] = () => ({
    code: (leave) => `{ const t = bc.m.vt, v = t.v; if (t.vcpl > v.vIOPL) ${leave} v.vIF = false; bc.m.vst.inlined[${OP_CLI}]++; }`,
    reads: [],
    writes: [],
  });
  t[OP_STI] = () => ({
    code: (leave, after) => `{ const t = bc.m.vt, v = t.v; if (t.vcpl > v.vIOPL) ${leave} v.vIF = true; bc.m.vst.inlined[${OP_STI}]++; if (bc.m.leavesAtBoundary(t)) ${after} }`,
    reads: [],
    writes: [],
  });
  // PUSHF and POPF: the translator's own push and pop (the TLB check, a store's code-frame check;
  // a miss leaves before the instruction for the general path), of the virtual FLAGS (the general
  // path's virtualFlags over the condition bits) and into the virtual IF and IOPL (popfFlags, the
  // rules of the general path); POPF ends a block as STI does (leavesAtBoundary)
  t[OP_PUSHF] = () => ({
    code: () => '',
    reads: [SP],
    writes: [SP],
    define: { sem: { kind: 'push' }, ra: SP, a: 'vf', pre: 'const vf = bc.m.vt.virtualFlags(fl);' },
    done: `fl = (fl & ${COND}) | ${F_IF}; bc.m.vst.inlined[${OP_PUSHF}]++; `,
  });
  t[OP_POPF] = () => ({
    code: (_leave, after) => `if (bc.m.leavesAtBoundary(bc.m.vt)) ${after}`,
    reads: [SP],
    writes: [SP],
    define: { sem: { kind: 'pop' }, ra: SP, d: 'pv', pre: 'let pv = 0;' },
    done: `fl = bc.m.popfFlags(pv, fl); bc.m.vst.inlined[${OP_POPF}]++; `,
  });
  t[OP_RDCPL] = (w) => {
    const rd = (w >>> 8) & 15;
    return { code: () => `r${rd} = bc.m.vt.vcpl; bc.m.vst.inlined[${OP_RDCPL}]++;`, reads: [], writes: [rd] };
  };
  t[OP_SIDT] = (w) => {
    const rd = (w >>> 8) & 15;
    return { code: () => `r${rd} = bc.m.vt.v.idtBase | 0; bc.m.vst.inlined[${OP_SIDT}]++;`, reads: [], writes: [rd] };
  };
  return t;
})();

/** POPF's word `popped` into the virtual CPU (after the real pop): the virtual IF at a virtual CPL up to the virtual IOPL, the virtual IOPL at virtual CPL 0. */
function popVirtualFlags(t: TrapVcpu, popped: number): void {
  const v = t.v;
  const vcpl = t.vcpl;
  if (vcpl <= v.vIOPL) v.vIF = (popped & F_IF) !== 0;
  if (vcpl === 0) v.vIOPL = (popped & F_IOPL) >>> IOPL_SHIFT;
}

/** May unit u's instruction k run in compiled code (the translator engine): an ident instruction, or an inline rewrite REWRITES has. */
function compilable(u: TranslationUnit, k: number): boolean {
  const kind = u.kinds[k]!;
  return kind === K_IDENT || (kind === K_INLINE && REWRITES[u.ops[k]!] !== undefined);
}

/** compilable(u, 0), found once per unit (TranslationUnit.entryCompilable). */
function entryCompilable(u: TranslationUnit): boolean {
  let c = u.entryCompilable;
  if (c < 0) c = u.entryCompilable = compilable(u, 0) ? 1 : 0;
  return c === 1;
}

/**
 * What a chain of units (BtMode.compileChain: units[0] entered at pcs[0], the rest its direct
 * successors, each at its pc) compiles from: the words its code holds (host-physical word index,
 * value; unit j's up to ends[j]: what BtMode.chainWordsHold compares with memory, the
 * instructions straight() gives compileStraight) and its key in the chain memo - every input of
 * the JavaScript compileStraight generates for it: each unit's pc, machine address and compiled
 * instructions (words, extension words, kinds), and which units are live and linked to which
 * (the boundaries chainLink trusts).
 */
export function chainInputs(units: readonly TranslationUnit[], pcs: readonly number[], m32: Int32Array): { words: number[]; ends: number[]; key: number[] } {
  const words: number[] = [];
  const ends: number[] = [];
  const key: number[] = [units.length];
  for (let i = 0; i < units.length; i++) {
    const x = units[i]!;
    const frameEnd = (x.ma & PAGE_MASK) + 4096;
    key.push(pcs[i]!, x.ma);
    for (let k = 0; k < x.length && compilable(x, k); k++) {
      const pa = x.ma + x.offs[k]!;
      const w = x.words[k]!;
      words.push(pa >>> 2, w);
      key.push(w, x.kinds[k]!);
      if (INSN_BYTES[w & 0xff] === 8) {
        // (one whose extension word is on the next page ends the compiled block: step() runs it)
        if ((pa & 0xffc) === 0xffc) break;
        const ext = pa + 4 < frameEnd ? m32[(pa + 4) >>> 2]! : 0;
        words.push((pa + 4) >>> 2, ext);
        key.push(ext);
      }
    }
    ends.push(words.length);
    key.push(-1);
    key.push(linkBits(x, units, units.length));
  }
  return { words, ends, key };
}

/**
 * The JavaScript of `bc.m.enterChained(bc.u[j], pc, user)` for compiled code (chainLink), unit j
 * at machine address ma entered at aligned virtual pc: the same answer and the same effects, in
 * line where the shadow's translation of pc's page is remembered for this pass (BtMode.xl: the
 * count of translations remembered, the frame compared; then fetchReady's instruction-TLB check,
 * refilled from the TLB when pc's page is not the one it holds), else the call. A crossing found
 * true is remembered for the rest of the call (bit `bit` of the local `xs`: one per virtual page
 * and frame) and answered again without the checks: while compiled code runs, nothing but a
 * refill (Cpu.txMiss) changes the TLB, and a refill empties the memo (CHAIN_FRAME's `refilled`);
 * the shadow's translations hold for the pass. The instruction TLB is architectural (it may keep
 * a page the TLB has evicted), so a remembered crossing still loads it with the page, as the
 * check's refill from the TLB would.
 */
function enterInline(j: number, pc: number, ma: number, bit: number): string {
  const s = ((pc >>> 12) & (XL_SLOTS - 1)) * XL_STRIDE;
  const page = pc & PAGE_MASK;
  const mmu = 'cpu.mmu';
  const fill = `(fe = find(tr, (${pc >>> 12} & sm) << ws, ${page})) >= 0 && (${mmu}.icV = ${page}, ${mmu}.icA = ta[fe], ${mmu}.icUser = user, bc.m.codePage[(${pc} + ta[fe]) >>> 12] = 1, ta[fe] === ${(ma - pc) | 0})`;
  const fetch = `(${mmu}.icV === ${page} && ${mmu}.icUser === user ? ${mmu}.icA === ${(ma - pc) | 0} : ${fill})`;
  const check = `(xl[${s}] === (user ? ${page | 1} : ${page}) && xl[${s + 2}] === xl[${XL_PASS}] ? (xr++, xl[${s + 1}] === ${(ma - (pc & 0xfff)) | 0} && ${fetch}) : bc.m.enterChained(bc.u[${j}], ${pc}, user))`;
  return `((xs & ${1 << bit}) !== 0 ? (${mmu}.icV = ${page}, ${mmu}.icA = ${(ma - pc) | 0}, ${mmu}.icUser = user, xk++, true) : ${check} && (xs |= ${1 << bit}, true))`;
}

/**
 * How hot unit y is, for compileChain's choice of the units it takes in: its heat (compiledRuns),
 * a unit compiled already above any not compiled (its heat stops at the threshold).
 */
function heatOf(y: TranslationUnit): number {
  return y.runs !== null ? Infinity : y.heat;
}

/** The bt state of a vCPU; a vCPU of another mode is a programming error. */
function btVcpu(vcpu: Vcpu): BtVcpu {
  const b = vcpu.modeState;
  if (!(b instanceof BtVcpu)) throw new Error(`vCPU ${vcpu.id} of domain '${vcpu.domain.name}' is not a bt vCPU`);
  return b;
}

export interface BtModeOptions {
  /** the bound of each domain's translation cache, in units (default DEFAULT_CACHE_UNITS) */
  cacheUnits?: number;
  /** trap mode's shadow MMU kind (default 'flush') */
  shadow?: ShadowKind;
  /**
   * adaptive retranslation (`--bt-adaptive`, needs shadow 'traced'): a kernel store that has taken
   * ADAPTIVE_TRACE_FAULTS trace faults is retranslated as a store callout (K_STORE)
   */
  adaptive?: boolean;
}

export class BtMode implements Mode {
  readonly name = 'bt';
  private readonly cacheUnits: number;
  /** trap mode's monitor: virtual CPU, shadow MMU, reflection, emulation (no interrupt-window polls: the kernel never runs unseen) */
  private readonly trap: TrapMode;
  private hv!: Hypervisor;
  private cpu!: Cpu;
  private m32!: Int32Array;
  /** the memory's code-page marks (fetchReady sets the fetched page's; so does compiled code: enterInline) */
  codePage!: Uint8Array;
  private readonly caches = new Set<TranslationCache>();
  // cost figures (machine/costs.ts), read once, for the cache's cycle totals (the charges go through the ledger)
  private callout = 0;
  /**
   * A lookup's cycles: the profile's figure, which is also the ledger's unit (evUnit[EV_BT_LOOKUP],
   * what compiled chains and the fast loop's probe charge). Read from the profile it is a small
   * integer; read from the ledger's Float64Array it was a heap number, and a heap number in a
   * chain's field (UnitChain.lk) or returned by the probe made V8 do the arithmetic it enters in
   * floating point - the deadline of every compiled chain, the cycle count of the fast loop.
   */
  private lookup = 0;
  private translateInsn = 0;
  private readonly adaptive: boolean;
  /** the CPU's translator, once a unit has been compiled (the translator engine) */
  private tx: Translator | null = null;
  /**
   * Shadow translations made between units since the unit loop's pass began (xlate): per slot
   * (virtual page bits; XL_STRIDE elements), the virtual page | user bit, its frame and the
   * stamp of the pass that made it; element XL_PASS the pass's number. Only ident instructions
   * run between, and they change neither the shadow, CR3 nor the ring, so a page translates the
   * same until the pass ends; emptied at every pass (a slot holds only while its stamp is the
   * pass's number: no pass over the slots). Compiled code reads it in line (enterInline).
   */
  readonly xl = (() => {
    const a = new Int32Array(XL_PASS + 1);
    a[XL_PASS] = 1;
    return a;
  })();
  /**
   * Host side, not state (TRANSIENT): the vCPU the unit loop runs and its cache's counters, for
   * the inline rewrites in compiled code (REWRITES: `bc.m.vt`, `bc.m.vst`), set as it enters a
   * unit; and the `bc` a compiled straight run outside a chain is given (runCompiled).
   */
  vt: BtVcpu | null = null;
  vst: TranslationCache['stats'] | null = null;
  /** Host side, not state (TRANSIENT): compiled code left right after an STI or POPF for the unit loop (leavesAtBoundary) */
  private leftAtBoundary = false;
  /** Host side, not state (TRANSIENT): runInsns's unit handed back to runUnit (HANDED), entered and counted */
  private handed: TranslationUnit | null = null;
  /** what compiled straight runs take as their chain argument: this mode, once whole (the constructor's end) */
  private readonly rwBc: { m: BtMode };
  /** Host side, not state (TRANSIENT): the process-wide memo of compiled chains for the CPU's translator's configuration (chainMemoOf) */
  private chainMemo: Map<number, ChainMemoEntry[]> | null = null;
  /** this translator's recipes in CHAIN_RECIPES (made with chainMemo) */
  private chainRecipes: Map<number, ChainRecipe[]> | null = null;
  /** recipeHolds' units, found live and linked as the recipe says (its first `mas.length`) */
  private readonly recipeUnits: TranslationUnit[] = [];
  /** Host side: shadow translations of pcs between units answered from xl (no walk), and compiled code's crossings answered from its call's memo (enterInline). */
  readonly host = { translationsRemembered: 0, crossingsKnown: 0 };
  /**
   * Host side: per machine frame, the stores into it by the CPU (Cpu.codeStoreHook, for frames
   * marked with Cpu.markCodeFrame: those holding units; a host write drops the frame's units).
   * While a frame's count equals a unit's `checked`, none of its words changed since they were
   * last found equal to the translation, so the word check before a fast run is skipped (under
   * either engine: every CPU store into such a frame reaches the hook, translated code's too -
   * Cpu.txStored); under the translator engine a compiled chain is entered without any word
   * check while its frames' counts are those at which its words were last found equal
   * (chainWordsHold).
   */
  private codeWrites = new Float64Array(0);
  /** Host side: the CPU's stores into all frames holding units (codeWrites' sum) */
  private codeStores = 0;
  /**
   * Host side, not state (hypervisor/save/state.ts TRANSIENT: a restored mode has the fresh
   * one's false): the CPU's marks of the frames holding units (Cpu.markCodeFrame) are made. The
   * CPU's marks are not saved either, so a restored mode marks its units' frames again before it
   * runs anything (runVcpu), else the stores into them would go unseen and unchecked code run.
   */
  private marksMade = false;
  /** the frame of the unit whose straight run is in the CPU's fast loop (-1: none): a store into it makes the loop leave */
  private runFrame = -1;
  /** the fast loop left after a store into runFrame */
  private storeLeft = false;
  /**
   * The fast loop's boundary probe (Cpu.runToBoundary; BtMode.enterInLoop) and what it works on:
   * the unit whose run is in the fast loop and its virtual pc, its cache, vCPU and the deadline,
   * and the ring.
   */
  private readonly probe = (pc: number, cyc: number): number => this.enterInLoop(pc, cyc);
  private pu: TranslationUnit | null = null;
  private ppc = 0;
  private pCache: TranslationCache | null = null;
  private pT: BtVcpu | null = null;
  private pDeadline = 0;
  private pUser = false;
  /** the probe entered a unit since the fast loop was entered */
  private pMoved = false;

  constructor(opts: BtModeOptions = {}) {
    this.cacheUnits = opts.cacheUnits ?? DEFAULT_CACHE_UNITS;
    this.adaptive = opts.adaptive === true;
    if (this.adaptive && opts.shadow !== 'traced') throw new Error('bt adaptive retranslation needs the traced shadow (shadow: traced): it retranslates stores that keep taking trace faults');
    this.trap = new TrapMode({ interruptWindowPollCycles: 0, vcpuState: BtVcpu, shadow: opts.shadow ?? 'flush' });
    // made when every field is in place: the hidden class it records for `m` is this object's
    // final one, the same for every BtMode of the process (machine/shapes.ts)
    this.rwBc = { m: this };
  }

  attach(hv: Hypervisor): void {
    this.hv = hv;
    this.cpu = hv.cpu;
    this.m32 = hv.mem.i32;
    this.codePage = hv.mem.codePage;
    this.trap.attach(hv);
    const p = hv.profile;
    this.callout = p.btCallout;
    this.lookup = p.btLookup;
    this.translateInsn = p.btTranslate;
    this.codeWrites = new Float64Array(hv.mem.frames);
    // one code-store hook and one memory code-write listener per CPU, for every bt mode attached
    // to it (a hypervisor may run one mode object per domain), each mode in it until detached
    let modes = BT_MODES.get(this.cpu);
    if (modes === undefined) {
      const list: BtMode[] = [];
      modes = list;
      BT_MODES.set(this.cpu, list);
      const previous = hv.mem.onCodeWrite;
      hv.mem.onCodeWrite = (frame: number) => {
        previous?.(frame);
        for (let i = 0; i < list.length; i++) list[i]!.hostWrote(frame);
      };
      this.cpu.codeStoreHook = (pa: number, size: number) => {
        let leave = false;
        for (let i = 0; i < list.length; i++) if (list[i]!.cpuStored(pa, size)) leave = true;
        return leave;
      };
    }
    if (!modes.includes(this)) modes.push(this);
  }

  /**
   * Its last domain destroyed (Hypervisor.detachIfUnused): out of the CPU's list of bt modes, so
   * its hooks are called no more and the hypervisor keeps nothing of it. (destroyDomain took
   * the CPU's marks of the domain's frames away already.)
   */
  detach(_hv: Hypervisor): void {
    const modes = BT_MODES.get(this.cpu);
    const i = modes === undefined ? -1 : modes.indexOf(this);
    if (i >= 0) modes!.splice(i, 1);
    this.vt = null;
    this.vst = null;
    this.pT = null;
    this.pCache = null;
    this.pu = null;
  }

  /** A host write (DMA, loading, the monitor's own stores) hit a frame holding units: they are dropped (no count is needed: a frame's units are all dead after it, and a dead unit's words are always checked). */
  private hostWrote(frame: number): void {
    for (const c of this.caches) c.invalidateFrame(frame);
  }

  /**
   * The CPU stored into a frame marked for the hook (one holding units): counted, and the fast
   * loop leaves after one into the frame of the unit it runs (its later words are checked again).
   * True when it must leave.
   */
  private cpuStored(pa: number, _size: number): boolean {
    const f = pa >>> 12;
    this.codeWrites[f]!++;
    this.codeStores++;
    if (f !== this.runFrame) return false;
    this.storeLeft = true;
    return true;
  }

  createDomain(domain: Domain): void {
    this.trap.createDomain(domain);
    const cache = new TranslationCache(this.hv.mem.i32, this.hv.mem.codePage, this.cacheUnits);
    cache.adaptive = this.adaptive;
    domain.modeState = cache;
    this.caches.add(cache);
  }

  build(domain: Domain, boot: BootSpec): void {
    this.trap.build(domain, boot);
    btCache(domain).clear(true);
  }

  /** A secondary vCPU's start-up (trap mode's); the domain's one translation cache serves it too. */
  startVcpu(vcpu: Vcpu, pc: number, sp: number): void {
    this.trap.startVcpu(vcpu, pc, sp);
    const t = btVcpu(vcpu);
    t.entry = ENTRY_OTHER;
    t.prev = null;
    t.atDeadline = false;
  }

  load(vcpu: Vcpu): void {
    this.trap.load(vcpu);
    const t = btVcpu(vcpu);
    t.entry = ENTRY_OTHER;
    t.atDeadline = false;
  }

  unload(vcpu: Vcpu): void {
    this.trap.unload(vcpu);
  }

  hasPendingEvent(vcpu: Vcpu): boolean {
    return this.trap.hasPendingEvent(vcpu);
  }

  destroyDomain(domain: Domain): void {
    this.trap.destroyDomain(domain);
    const cache = domain.modeState;
    if (cache instanceof TranslationCache) {
      cache.clear(true);
      this.caches.delete(cache);
      // the CPU's marks of its frames go with its units: the frames go back to the allocator, and
      // whoever gets them next stores into them as into any frame (a domain's frames are its own,
      // so no other domain's units are in them)
      const p2m = domain.memory.p2m;
      for (let k = 0; k < p2m.length; k++) this.cpu.unmarkCodeFrame(p2m[k]!);
    }
  }

  // ================================================================================ KVM_RUN

  runVcpu(vcpu: Vcpu, deadline: number): VcpuExit {
    const t = btVcpu(vcpu);
    const cpu = this.cpu;
    if (!this.marksMade) this.markFrames();
    const exit = vcpu.exit;
    const dom = vcpu.domain;
    const cache = btCache(dom);
    const stats = dom.stats;
    const pic = dom.devices ? dom.devices.interruptController(vcpu.id) : null;
    vcpu.completeIo(cpu.regs);
    if (!t.atDeadline) t.entry = ENTRY_OTHER;
    t.atDeadline = false;
    for (;;) {
      if (dom.stopped) return stoppedExit(dom, exit);
      // at every unit boundary the monitor has control: inject what the virtual IF allows
      if (pic !== null && t.v.vIF && pic.pendingVector() >= 0) {
        this.inject(t);
        continue;
      }
      if (cpu.cycles >= deadline) {
        t.atDeadline = true;
        return deadlineExit(exit);
      }
      if (cpu.cpl !== 3 || !t.v.vIF || t.v.vIOPL !== 0) {
        // guest kernel: translated code only; so is user code the kernel's IRET entered with
        // interrupts off or I/O allowed (the real CPU would run it with IF 1 and IOPL 0)
        if (this.runUnit(t, cache, exit, deadline) === TO_LOOP) return exit;
        continue;
      }
      // user code runs directly, as under trap mode
      t.entry = ENTRY_OTHER;
      const x: number = cpu.run(deadline);
      countExit(stats, x);
      if (this.handleCpuExit(t, x, exit) === TO_LOOP) return exit;
    }
  }

  /** Mark the frame of every unit for the CPU's code-store hook (after a restore: marksMade). */
  private markFrames(): void {
    for (const c of this.caches) for (const u of c.units.values()) if (!u.dead) this.cpu.markCodeFrame(u.ma >>> 12);
    this.marksMade = true;
  }

  /**
   * Find (or translate) the unit at the kernel's pc and run it. Returns after the unit, or earlier
   * when the monitor must look (a trap, a callout that turned interrupts on with one pending, an
   * I/O or HLT exit, a code change).
   */
  private runUnit(t: BtVcpu, cache: TranslationCache, exit: VcpuExit, deadline: number): number {
    const cpu = this.cpu;
    // the shadow translations remembered (xlate) hold for this pass alone
    const xl = this.xl;
    if (++xl[XL_PASS]! >= DL_MAX) {
      xl.fill(0);
      xl[XL_PASS] = 1;
    }
    const dom = t.domain;
    const st = cache.stats;
    this.vt = t;
    this.vst = st;
    const pc = cpu.pc | 0;
    const user = cpu.cpl === 3;
    // the code's machine address: through the shadow, else through the guest's own tables
    let ma = (pc & 3) === 0 ? cpu.mmu.translate(pc, false, user) : -1;
    /** found through the shadow: the page maps the same until the monitor changes the shadow */
    const viaShadow = ma >= 0;
    if (viaShadow) this.remember(pc, user, ma);
    let w = 0;
    if (ma < 0) {
      if ((pc & 3) !== 0) {
        // an unaligned pc (legal on XL32): one instruction at a time, fetched as the hardware would
        w = t.fetch32(pc, user);
        ma = t.accessFail !== 0 ? t.accessFail : 0;
      } else {
        ma = t.walker.walk(pc, ACC_FETCH, user, true);
      }
      if (ma === WALK_BAD_GPA) {
        t.crashBadGpa();
        return this.dead(dom, exit);
      }
      if (ma < 0) {
        // the guest's tables do not map its code: a true #PF, taken as the hardware fetch would
        t.entry = ENTRY_OTHER;
        dom.stats.traps[V_PF]!++;
        if (dom.stats.trace !== null) dom.stats.trace.record(TraceKind.Trap, dom.stats.traceDom, V_PF, 0);
        cpu.charge(Ev.TrapDelivery, 1);
        cpu.charge(Ev.InterceptReturn, 1);
        this.hv.chargeMonitor(dom, Ev.MonitorTrap, 1);
        const w = t.walker;
        return t.reflect(V_PF, w.faultError, pc, KIND_FAULT, pc, w.faultAddr) ? CONTINUE : this.dead(dom, exit);
      }
    }
    let u = (pc & 3) === 0 ? cache.get(ma) : cache.transient(pc, w);
    if (u === undefined || u.ma < 0) {
      if (u === undefined) {
        u = cache.translate(ma, pc);
        // its words are memory's now; stores into its frame are counted from here
        cpu.markCodeFrame(ma >>> 12);
        u.checked = this.codeWrites[ma >>> 12]!;
      }
      st.translateCycles += u.length * this.translateInsn;
      this.hv.chargeMonitor(dom, Ev.BtTranslate, u.length);
    }
    // how did we get here: a chained direct jump is free, anything else looks the unit up
    const entry = t.entry;
    const prev = t.prev;
    t.entry = ENTRY_OTHER;
    t.prev = null;
    if (entry === ENTRY_DIRECT && prev !== null && !prev.dead && prev.links.includes(u)) {
      st.chained++;
    } else if (entry !== ENTRY_INDIRECT) {
      st.dispatchLookups++;
      this.chargeLookup(dom, st);
      if (entry === ENTRY_DIRECT && prev !== null && !prev.dead && u.ma >= 0) {
        // successors re-translated after an invalidation leave dead links behind: keep the list short
        if (prev.links.length >= 4) {
          prev.links = prev.links.filter((x) => !x.dead).slice(-3);
          cache.epoch++; // a live link may have gone: compiled chains trusting it are checked again
        }
        // (the first link is a list of its own, of one: NO_LINKS is everyone's)
        if (prev.links.length === 0) prev.links = [u];
        else prev.links.push(u);
      }
    }
    st.unitsRun++;

    // the translator engine: the unit's runs of ident instructions as compiled JavaScript (host
    // side only: the same instructions, cycles, exits and unit boundaries as the general path);
    // from one compiled function to the next the unit loop enters the next unit itself
    // (nextUnit), when the first was found through the shadow
    const chain = viaShadow && cpu.instructionHookAt === Infinity;
    let upc = pc;
    /** how u was entered here, for the host counters: VIA_CHAIN after a compiled chain ended by a control transfer, VIA_HANDED handed back by runInsns */
    let via = 0;
    for (;;) {
      while (u.ma >= 0 && entryCompilable(u) && this.compiledRuns(u, upc, cache)) {
        let fn = u.runs![0];
        if (fn === undefined) fn = u.runs![0] = this.compileChain(u, upc, cache);
        else if (fn !== null && u.chain!.epoch !== cache.epoch) {
          // a unit was dropped or links cut since the chain's boundaries were last found true
          if (this.chainHolds(u.chain!)) {
            u.chain!.epoch = cache.epoch;
          } else {
            cache.host.chainRecompiles++;
            fn = u.runs![0] = this.compileChain(u, upc, cache);
          }
        }
        if (fn === null || !this.fetchReady(u, upc, user)) break;
        // its code checks no word: entered as it is while no store reached its frames since their
        // words were last found equal, else with the word check before each instruction while one differs
        const ch = u.chain!;
        if (this.codeStores !== ch.seenAll && !this.chainWordsHold(ch, cache)) {
          cache.host.chainCheckedRuns++;
          fn = ch.checkedFn === undefined ? this.checkedChain(ch) : ch.checkedFn;
          if (fn === null) break;
        }
        // chaining inside needs the unit found through the shadow (so its page maps the same for
        // the units chained to it) and no instruction-count hook armed (it fires at boundaries)
        // (the deadline relative to entry as a small integer, as the translator's dispatcher hands
        // it: -1 stops at every boundary, and a stop at DL_MAX cycles is an extra boundary, where
        // the unit loop finds what the compiled code would: V8 compares small integers and does
        // not box a double per call)
        const dl = chain ? Math.max(-1, Math.min(DL_MAX, Math.ceil(deadline - cpu.cycles))) : -1;
        const mmu = cpu.mmu;
        const i0 = cpu.instructions;
        const res = fn(this.tx!.ctx, user ? mmu.tlbRU : mmu.tlbRS, user ? mmu.tlbWU : mmu.tlbWS, user, dl, ch);
        const host = cache.host;
        if (via === VIA_CHAIN) host.chainToChain++;
        else if (via === VIA_HANDED) host.coldToChain++;
        via = 0;
        host.chainCalls++;
        host.chainInstructions += cpu.instructions - i0;
        const v = res < 0 ? ch.u[~res]! : ch.u[res >> 8]!;
        const vpc = ch.pcs[res < 0 ? ~res : res >> 8]!;
        if (this.leftAtBoundary && this.afterBoundary(t)) return CONTINUE;
        if (res < 0) {
          // the control transfer ending unit v retired: a block boundary
          cpu.instructionBoundary();
          if (INDIRECT[v.lastOp] !== 0) host.chainEndsIndirect++;
          else host.chainEndsDirect++;
          if (!chain) return this.endByControlFlow(t, v, v.lastOp, dom, st);
          const y = this.nextUnit(t, v, vpc, user, deadline, cache);
          if (y === null) return CONTINUE;
          u = y;
          upc = cpu.pc | 0;
          via = VIA_CHAIN;
          continue;
        }
        const ix = res & 255;
        // ran to the end of v, or left before its instruction ix (which the general path runs)
        if (ix < v.length) {
          host.chainLeftBefore++;
          return this.runInsns(t, cache, exit, v, vpc, user, ix, ix, deadline, false);
        }
        // ran to the end of v (no control transfer): its direct successor
        const y = this.fallThrough(t, v, vpc, user, deadline, cache, chain);
        if (y === null) return CONTINUE;
        u = y;
        upc = cpu.pc | 0;
        via = VIA_CHAIN;
        continue;
      }
      // not compiled: the unit loop enters the next units itself (nextUnit) from a unit found
      // through the shadow; under the translator engine a unit about to run compiled is handed
      // back here, entered (HANDED)
      if (via === VIA_CHAIN) cache.host.chainToCold++;
      via = 0;
      const r = this.runInsns(t, cache, exit, u, upc, user, 0, -1, deadline, chain);
      if (r !== HANDED) return r;
      via = VIA_HANDED;
      u = this.handed!;
      this.handed = null;
      upc = cpu.pc | 0;
    }
  }

  /**
   * Run unit u (entered at virtual pc) from its instruction k0 to its end, or until the monitor
   * must look. `skip`: the compiled code left before this instruction (a fault, a code change):
   * the general path runs it. `chain`: u was found through the shadow, and the units entered after
   * it may be entered here (nextUnit), up to the deadline.
   */
  private runInsns(t: BtVcpu, cache: TranslationCache, exit: VcpuExit, u: TranslationUnit, pc: number, user: boolean, k0: number, skip: number, deadline: number, chain: boolean): number {
    const cpu = this.cpu;
    const dom = t.domain;
    const st = cache.stats;
    const m32 = this.m32;
    const r = cpu.regs;
    const compiled = u.ma >= 0 && this.compiledRuns(u, pc, cache);
    // not compiled: straight runs of ident instructions in the CPU's fast loop, as run() would
    const fast = !compiled && u.ma >= 0 && cpu.fastPath && cpu.instructionHookAt === Infinity && !cpu.monitorStop;
    // one unit per pass; a pass that ends at the unit's control transfer with the next unit to
    // enter here (nextUnit, u found through the shadow) goes on with it - under the translator
    // engine unless that unit is about to run compiled (hotNext: handed back to runUnit)
    for (;;) {
      let n = u.length;
      let ended = false;
      for (let k = k0; k < n; k++) {
        if (compiled && k !== skip && k > 0 && compilable(u, k)) {
          const ix = this.runCompiled(u, k, pc, user, cache);
          if (this.leftAtBoundary && this.afterBoundary(t)) return CONTINUE;
          if (ix !== NOT_RUN) {
            if (ix < 0) {
              // its last instruction, the unit's control transfer, retired: a block boundary
              cpu.instructionBoundary();
              return this.endByControlFlow(t, u, u.lastOp, dom, st);
            }
            if (ix >= n) break;
            k = skip = ix;
          }
        } else if (fast && k !== skip && ((fastMask(u) >>> k) & 1) !== 0) {
          const ix = this.runFastRun(t, u, k, pc, cache, chain, deadline);
          if (ix !== NOT_RUN) {
            cache.host.fastRuns++;
            if (this.pMoved) {
              // the fast loop went on into later units (enterInLoop): the last one is the unit now
              // (perhaps u again, entered anew)
              u = this.pu!;
              pc = this.ppc;
              n = u.length;
              skip = -1;
            }
            this.pu = null;
            if (ix < 0) {
              cpu.instructionBoundary();
              if (!chain) return this.endByControlFlow(t, u, u.lastOp, dom, st);
              ended = true;
              break;
            }
            if (this.storeLeft) {
              // it left after a store into the unit's frame: the rest of the run again, words checked
              this.storeLeft = false;
              cache.host.storeLeaves++;
              k = ix - 1;
              continue;
            }
            k = skip = ix;
          }
        }
        const off = u.offs[k]!;
        if (u.ma >= 0 && m32[(u.ma + off) >>> 2] !== u.words[k]) {
          // the code was written since it was translated: drop the frame's units, translate again
          cache.invalidateFrame(u.ma >>> 12);
          return CONTINUE;
        }
        const op = u.ops[k]!;
        const kind = u.kinds[k]!;
        const ipc = (pc + off) | 0;
        if (kind === K_IDENT) {
          const res = cpu.step();
          if (res === STEP_CONT) continue;
          if (res === STEP_BOUND) {
            cpu.instructionBoundary();
            if (!chain || !fast || k !== n - 1) return this.endByControlFlow(t, u, op, dom, st);
            ended = true;
            break;
          }
          countExit(dom.stats, res);
          if (this.adaptive && u.ma >= 0 && isStoreOp(op)) return this.storeExit(t, res, exit, cache, u.ma + off, ipc);
          return this.handleCpuExit(t, res, exit);
        }
        if (kind === K_STORE) {
          // a store retranslated by --bt-adaptive: a callout resolves its write against the traced
          // shadow as the trace fault would have (the walk charged as the monitor's), then it runs
          st.emulatedStores++;
          st.calloutCycles += this.callout;
          this.hv.chargeMonitor(dom, EV_BT_CALLOUT, 1);
          const w = u.words[k]!;
          const base = r[(w >>> 12) & 15]!;
          const va = op === OP_XCHG ? base : (base + (w >> 16)) | 0;
          const how = (t.shadow as TracedShadowMmu).emulateStore(va, user);
          if (how !== STORE_DIRECT) cpu.charge(Ev.MonitorWalk, t.walker.refs);
          if (how === STORE_TRACED) st.emulatedTraceStores++;
          else if (how === STORE_FAULTS) st.emulatedStores--; // the guest's own tables forbid it: the fault path takes it
          const res = cpu.step();
          if (res === STEP_CONT) continue;
          if (res === STEP_BOUND) {
            cpu.instructionBoundary();
            return this.endByControlFlow(t, u, op, dom, st);
          }
          countExit(dom.stats, res);
          return this.handleCpuExit(t, res, exit);
        }
        if (kind === K_CALLOUT) {
          if (op === OP_MOVTOCR && this.sameValueCr4(t, u.words[k]!)) {
            // the translation compares with the virtual CR4 in line and calls out only on a change
            // (the write of the same value is a no-op: CR4 holds only TSD, and flushes nothing)
            st.inlined[op]!++;
            cpu.pc = (ipc + 4) >>> 0;
            cpu.chargeInstruction(cpu.costs[op]!);
            cpu.instructions++;
            continue;
          }
          st.callouts[op]!++;
          st.calloutCycles += this.callout;
          this.hv.chargeMonitor(dom, EV_BT_CALLOUT, 1);
          const emulated = this.trap.emulate(t, exit);
          if (emulated !== EMULATED) return emulated;
          if (op === OP_IRET) {
            // indirect: the popped pc is looked up (and the ring may now be 3)
            st.indirectLookups++;
            this.chargeLookup(dom, st);
            t.entry = ENTRY_INDIRECT;
            return CONTINUE;
          }
          if (cpu.pc !== ((ipc + 4) >>> 0)) return CONTINUE; // a #UD was reflected
          if (op === OP_STI && this.interruptDue(t)) return CONTINUE;
          // a control-register write may have unmapped or moved the unit's own code (a new CR3,
          // paging turned on or off): its next instruction is fetched afresh by the hardware, so
          // the unit ends unless the guest's tables still map it to the unit's frame (the unit loop
          // then takes the fetch's #PF, or the code now there); inline rewrites and callouts fetch nothing
          if (op === OP_MOVTOCR && k + 1 < n && !this.stillMapped(t, u, pc, k + 1, user)) return CONTINUE;
          continue;
        }
        // inline rewrites of the critical instructions and CLI/STI: the virtual CPU's view, native
        // cost; counted when the rewrite retires (as the compiled code counts it), not when it faults
        if (op === OP_CLI || op === OP_STI) {
          const v = t.v;
          // not allowed at the virtual CPL: the #GP the hardware would give
          if (t.vcpl > v.vIOPL) return t.reflect(V_GP, 0, ipc, KIND_FAULT, ipc, -1) ? CONTINUE : this.dead(dom, exit);
          st.inlined[op]!++;
          v.vIF = op === OP_STI;
          cpu.pc = (ipc + 4) >>> 0;
          cpu.chargeInstruction(cpu.costs[op]!);
          cpu.instructions++;
          if (op === OP_STI) {
            // STI ends a block on the hardware
            cpu.instructionBoundary();
            if (this.interruptDue(t)) return CONTINUE;
          }
          continue;
        }
        if (op === OP_PUSHF) {
          // push the virtual FLAGS (virtual IF and IOPL) with the CPU's own store and its checks
          cpu.flags = t.virtualFlags();
          const res = cpu.step();
          cpu.flags = (cpu.flags & COND) | F_IF;
          if (res === STEP_CONT || res === STEP_BOUND) st.inlined[op]!++;
          if (res === STEP_CONT) continue;
          if (res === STEP_BOUND) return this.endByControlFlow(t, u, op, dom, st);
          countExit(dom.stats, res);
          return this.handleCpuExit(t, res, exit);
        }
        if (op === OP_POPF) {
          // pop with the CPU (condition bits, sp, the load's checks); IF and IOPL go to the virtual CPU
          const sp = r[SP]!;
          const sa = cpu.mmu.translate(sp, false, user);
          const popped = sa < 0 ? 0 : (sa & 3) === 0 ? m32[sa >>> 2]! : t.read32(sp, user);
          const res = cpu.step();
          if (res !== STEP_BOUND && res !== STEP_CONT) {
            countExit(dom.stats, res);
            return this.handleCpuExit(t, res, exit);
          }
          st.inlined[op]!++;
          if (sa >= 0) popVirtualFlags(t, popped);
          if (res === STEP_BOUND) cpu.instructionBoundary();
          if (this.interruptDue(t)) return CONTINUE;
          continue;
        }
        // RDCPL, SIDT: the virtual ring, the virtual IDT base
        st.inlined[op]!++;
        const w = u.words[k]!;
        const rd = (w >>> 8) & 15;
        r[rd] = op === OP_RDCPL ? t.vcpl : op === OP_SIDT ? t.v.idtBase | 0 : r[rd]!;
        cpu.pc = (ipc + 4) >>> 0;
        cpu.chargeInstruction(cpu.costs[op]!);
        cpu.instructions++;
      }
      // the unit loop's entry into the next unit, when it would make it with nothing else between:
      // after the unit's control transfer (ended: only where `fast`), or (not ended) its direct
      // successor when it ran off its end (12 instructions or the end of its frame): here also
      // only where `fast` (the next pass runs the next unit with this one's `compiled` and `fast`)
      const y = ended ? this.nextUnit(t, u, pc, user, deadline, cache) : this.fallThrough(t, u, pc, user, deadline, cache, chain && fast);
      if (y === null) return CONTINUE;
      if (this.tx !== null && cpu.engine === 'translator' && this.hotNext(y, cache)) {
        // entered: its compiled code runs from the unit loop
        this.handed = y;
        return HANDED;
      }
      u = y;
      pc = cpu.pc | 0;
      k0 = 0;
      skip = -1;
    }
  }

  /** Do the guest's tables (walked afresh, looking only) map unit u's instruction k, entered at virtual pc, to the unit's frame still? */
  private stillMapped(t: BtVcpu, u: TranslationUnit, pc: number, k: number, user: boolean): boolean {
    const off = u.offs[k]!;
    return t.walker.walk((pc + off) | 0, ACC_FETCH, user, false) === u.ma + off;
  }

  /**
   * Under the translator engine, may this unit's ident instructions run compiled? Once the unit's
   * heat reaches `threshold` x `unitHeat` (the translator's limits: a compile costs V8 far more
   * than interpreting a cold unit), at the virtual pc its runs were compiled for (a frame mapped
   * at two addresses is one unit; the compiled code holds virtual pcs), and not while the CPU is
   * held to its general path (fastPath off, a monitor stop armed). Every call counts one heat, so
   * an entry through runUnit's loop (from the vCPU loop, or after a compiled chain) counts twice
   * (the loop asks, then runInsns), one the fast loop's probe or runInsns makes itself once
   * (hotNext); the default `unitHeat` was tuned with that count (docs/engine.md, "The twentieth
   * round": counting each entry once formed other chains, slower). Sooner when the chain an
   * earlier boot compiled from this unit can be compiled again as it was (recipeReady).
   */
  private compiledRuns(u: TranslationUnit, pc: number, cache: TranslationCache): boolean {
    const cpu = this.cpu;
    if (cpu.engine !== 'translator' || !cpu.fastPath || cpu.monitorStop) return false;
    if (u.runs !== null) return u.pc === pc >>> 0;
    const tx = this.tx ?? (this.tx = cpu.useTranslator());
    const hot = tx.limits.threshold * tx.limits.unitHeat;
    if (++u.heat < hot) {
      if (!this.recipeReady(u, cache)) return false;
      u.heat = hot;
    }
    u.runs = new Array<StraightFn | null | undefined>(u.length);
    return u.pc === pc >>> 0;
  }

  /**
   * Run the unit's ident instructions from index k as compiled JavaScript (compiling them on first
   * use: machine/translator.ts compileStraight, the translator's emitters). Returns NOT_RUN if it
   * could not (no definition for instruction k; the instruction fetch would not find k's page in
   * the instruction TLB or the TLB: the general path walks), else the index of the next
   * instruction to run (n: the unit ran to its end), or -1 when the unit's control transfer
   * retired. What the compiled code does is what step() would do for each instruction: the
   * same word check first, the same TLB accesses and refills, the same faults (it leaves before
   * the instruction and step() raises them).
   */
  private runCompiled(u: TranslationUnit, k: number, pc: number, user: boolean, cache: TranslationCache): number {
    const runs = u.runs!;
    let fn = runs[k];
    if (fn === undefined) fn = runs[k] = this.compileRun(u, k, pc, cache);
    if (fn === null) return NOT_RUN;
    const off = u.offs[k]!;
    if (!this.fetchReady(u, (pc + off) | 0, user, off)) return NOT_RUN;
    const mmu = this.cpu.mmu;
    const ix = fn(this.tx!.ctx, user ? mmu.tlbRU : mmu.tlbRS, user ? mmu.tlbWU : mmu.tlbWS, user, -1, this.rwBc);
    return ix < 0 ? ix : k + ix;
  }

  /**
   * Run the unit's ident instructions from index k in the CPU's fast loop (Cpu.runToBoundary).
   * The caller tested that the run qualifies (bit k of fastMask(u): the fast loop stops
   * by itself at its end, and the loop leaves after a store into the unit's frame, which the
   * code-store hook counts);
   * here its words, and the word of the instruction it stops before, are checked against the
   * ones translated (the unit loop's check before each instruction, made before the run),
   * unless no store reached the frame since they were all found equal. The fast loop is the
   * general path's semantics with the same TLB accesses, refills, cycles and exits (leaving
   * before an instruction that needs step()), so nothing simulated changes. With `chain`, at the
   * unit's end the fast loop may go on into the next units (enterInLoop): this.pu and this.ppc
   * are then the last unit entered and its pc. Returns NOT_RUN, -1 when the (last) unit's control
   * transfer retired, else the index of the instruction the fast loop left to the general path.
   */
  private runFastRun(t: BtVcpu, u: TranslationUnit, k: number, pc: number, cache: TranslationCache, chain: boolean, deadline: number): number {
    const m32 = this.m32;
    const n = u.length;
    const ma = u.ma;
    const f = ma >>> 12;
    const writes = this.codeWrites[f]!;
    if (u.checked === writes && !u.dead) {
      // no store reached the frame since its words were all found equal: the check would pass
      cache.host.checksSkipped++;
    } else {
      const offs = u.offs;
      const words = u.words;
      if ((u.fastRunMask & FAST_ALL_IDENT) !== 0) {
        for (let i = k; i < n; i++) if (m32[(ma + offs[i]!) >>> 2] !== words[i]) return NOT_RUN;
        if (k === 0) u.checked = writes;
      } else {
        for (let i = k; i < n; i++) {
          if (m32[(ma + offs[i]!) >>> 2] !== words[i]) return NOT_RUN;
          if (u.kinds[i] !== K_IDENT) break;
        }
      }
    }
    const cpu = this.cpu;
    // a store into the unit's frame makes the fast loop leave after it (the hook sees it)
    this.runFrame = f;
    this.pu = u;
    this.ppc = pc;
    this.pMoved = false;
    // (a CALL's push into the frame is counted but does not make the loop leave: no store leave
    // unless the hook's flag is still set when the loop leaves, before its boundary)
    this.storeLeft = false;
    let why: number;
    const i0 = cpu.instructions;
    if (chain) {
      // at the unit's end the fast loop may go on into the next units (enterInLoop)
      this.pCache = cache;
      this.pT = t;
      this.pDeadline = deadline;
      this.pUser = cpu.cpl === 3;
      why = cpu.runToBoundary(this.probe);
    } else {
      why = cpu.runToBoundary(null);
    }
    this.runFrame = -1;
    cache.host.fastLoopCalls++;
    cache.host.fastLoopInstructions += cpu.instructions - i0;
    if (why === STEP_BOUND) return -1;
    const v = this.pu;
    const off = (cpu.pc - this.ppc) | 0;
    for (let i = this.pMoved ? 0 : k; i < v.length; i++) if (v.offs[i] === off) return i;
    throw new Error(`bt: the fast loop left unit ${hex(v.pc)} at ${hex(cpu.pc)}, outside the unit`);
  }

  /**
   * The fast loop's boundary probe (Cpu.BoundaryProbe): unit pu's straight run ended with its
   * control transfer, the next pc is pc, the cycle count the CPU's plus cyc. Goes on in the fast
   * loop exactly when the unit loop would end pu (endByControlFlow) and enter the next unit itself
   * (nextUnit) and then run that unit from its start in the fast loop (runInsns, runFastRun) -
   * pu of ident instructions alone, the deadline ahead after an indirect transfer's lookup, the
   * pc aligned and mapped by the shadow (in pu's page: where pu is; in another page: translated
   * through the shadow, as nextUnit does), the unit there live and linked from pu (direct:
   * chained) or cached (after an indirect transfer), a straight run from its first instruction
   * that qualifies, its words checked, and under the translator engine not about to run compiled
   * (hotNext, which counts the entry toward its heat) - doing what they would do: the same
   * counters, the lookup charged (its cycles returned to the loop, which counts them as not base
   * cycles). Else -1, nothing done: the loop stops and the unit loop takes the boundary as before.
   */
  private enterInLoop(pc: number, cyc: number): number {
    const u = this.pu!;
    const mask = fastMask(u);
    // (the loop's count of cycles stays a small integer: past DL_MAX the unit loop takes the boundary)
    if ((mask & FAST_ALL_IDENT) === 0 || u.dead || (pc & 3) !== 0 || cyc >= DL_MAX) return -1;
    const indirect = (mask & FAST_ENDS_INDIRECT) !== 0;
    const cpu = this.cpu;
    const c = indirect ? this.lookup : 0;
    if (cpu.cycles + cyc + c >= this.pDeadline) return -1;
    let ma: number;
    if (((pc ^ this.ppc) & PAGE_MASK) === 0) {
      ma = (u.ma & PAGE_MASK) + (pc & 0xfff);
    } else {
      // (through the pass's memo: since runUnit began this pass only ident instructions ran)
      ma = this.xlate(pc, this.pUser);
      if (ma < 0) return -1;
    }
    const cache = this.pCache!;
    let y: TranslationUnit | undefined;
    if (indirect) {
      y = cache.get(ma);
      if (y === undefined) return -1;
      u.seen = y;
    } else {
      y = liveLink(u, ma);
      if (y === undefined) return -1;
    }
    const ym = fastMask(y);
    if ((ym & 1) === 0) return -1;
    const f = ma >>> 12;
    const writes = this.codeWrites[f]!;
    const host = cache.host;
    if (y.checked === writes) {
      host.checksSkipped++;
    } else {
      const m32 = this.m32;
      const offs = y.offs;
      const words = y.words;
      const n = y.length;
      for (let i = 0; i < n; i++) {
        if (m32[(ma + offs[i]!) >>> 2] !== words[i]) return -1;
        if (y.kinds[i] !== K_IDENT) break;
      }
      if ((ym & FAST_ALL_IDENT) !== 0) y.checked = writes;
    }
    // the translator engine: a unit about to run compiled is left to the unit loop
    if (this.tx !== null && cpu.engine === 'translator' && this.hotNext(y, cache)) return -1;
    // what endByControlFlow, nextUnit and runInsns would count and charge
    const st = cache.stats;
    if (indirect) {
      st.indirectLookups++;
      st.lookupCycles += this.lookup;
      cpu.evCount[EV_BT_LOOKUP]! += 1;
      this.pT!.domain.stats.monitorCycles += c;
    } else {
      st.chained++;
    }
    st.unitsRun++;
    host.loopEntries++;
    host.probeEntries++;
    host.fastRuns++;
    this.pu = y;
    this.ppc = pc;
    this.pMoved = true;
    this.storeLeft = false;
    this.runFrame = f;
    return c;
  }

  /**
   * The translator engine, a unit about to be entered without a pass through runUnit (nextUnit,
   * enterInLoop): would runUnit run it compiled - compiled already, or its entry the one that
   * makes it hot, or its recipe holding (recipeReady: its heat is then set one short, and
   * runUnit's compiledRuns counts the entry that makes it hot)? Else its entry is counted toward
   * its heat (compiledRuns), as runUnit's would be.
   */
  private hotNext(y: TranslationUnit, cache: TranslationCache): boolean {
    if (y.runs !== null) return true;
    const hot = this.tx!.limits.threshold * this.tx!.limits.unitHeat;
    if (y.heat + 1 >= hot) return true;
    y.heat++;
    if (!this.recipeReady(y, cache)) return false;
    // (runUnit's compiledRuns counts the entry that makes it hot)
    y.heat = hot - 1;
    return true;
  }

  /**
   * The unit loop without the vCPU loop between units. Unit u, found through
   * the shadow at virtual pc upc, ran to its end, a control transfer, and held ident instructions
   * alone: those change neither the shadow, CR3, the ring, the virtual CPU nor the interrupt
   * controller, so at this boundary the vCPU loop's checks (a stopped domain, an interrupt the
   * virtual IF lets in, the ring) give what they gave when u was entered, and the shadow maps u's
   * page where it did. Ends u as the unit loop does (endByControlFlow: an indirect transfer's
   * lookup charged), then returns the unit the loop would enter next when it would enter it
   * with nothing else to do there - the deadline ahead, the pc aligned and mapped by the shadow,
   * and the unit cached (after an indirect transfer: its lookup made) or live and linked from u
   * (after a direct one: chained, free) - counted as the loop counts it; else null, and the vCPU
   * loop takes the boundary. Into another page the pc is translated through the shadow, as the
   * unit loop does.
   */
  private nextUnit(t: BtVcpu, u: TranslationUnit, upc: number, user: boolean, deadline: number, cache: TranslationCache): TranslationUnit | null {
    this.endByControlFlow(t, u, u.lastOp, t.domain, cache.stats);
    return this.enterNext(t, u, upc, user, deadline, cache);
  }

  /**
   * nextUnit for unit u (entered at virtual pc upc) that ran off its end without a control
   * transfer (12 instructions, or the end of its frame): its successor is a direct one, entered
   * by the vCPU loop (entry ENTRY_DIRECT from u: chained if linked, else looked up and linked),
   * unless, with `chain` (u found through the shadow), the unit loop may enter it itself - u of
   * ident instructions alone, the deadline ahead, the pc aligned and mapped by the shadow, the
   * unit there live and linked from u - then counted as chained, as the vCPU loop would. Not a
   * block boundary: no instruction-count hook fires (none is armed where `chain` holds).
   */
  private fallThrough(t: BtVcpu, u: TranslationUnit, upc: number, user: boolean, deadline: number, cache: TranslationCache, chain: boolean): TranslationUnit | null {
    t.entry = ENTRY_DIRECT;
    t.prev = u;
    if (!chain) return null;
    const y = this.enterNext(t, u, upc, user, deadline, cache);
    if (y !== null) cache.host.fallThroughs++;
    return y;
  }

  /**
   * The unit loop's own entry into the unit after u (entered at virtual pc upc), u ended (t.entry:
   * how the next unit is reached): nextUnit's and fallThrough's conditions and counts.
   */
  private enterNext(t: BtVcpu, u: TranslationUnit, upc: number, user: boolean, deadline: number, cache: TranslationCache): TranslationUnit | null {
    const st = cache.stats;
    const mask = fastMask(u);
    const cpu = this.cpu;
    if ((mask & FAST_ALL_IDENT) === 0 || u.dead || cpu.cycles >= deadline) return null;
    const pc = cpu.pc | 0;
    if ((pc & 3) !== 0) return null;
    let ma: number;
    if (((pc ^ upc) & PAGE_MASK) === 0) {
      ma = (u.ma & PAGE_MASK) + (pc & 0xfff);
    } else {
      ma = this.xlate(pc, user);
      if (ma < 0) return null;
    }
    let y: TranslationUnit | undefined;
    if (t.entry === ENTRY_INDIRECT) {
      y = cache.get(ma);
      if (y === undefined) return null;
      u.seen = y;
    } else {
      y = liveLink(u, ma);
      if (y === undefined) return null;
      st.chained++;
    }
    // what runUnit does on entering it: no translation, no lookup beyond the one made
    t.entry = ENTRY_OTHER;
    t.prev = null;
    st.unitsRun++;
    cache.host.loopEntries++;
    return y;
  }

  /**
   * Would the instruction fetch at vpc (unit u's instruction at byte offset off) read the unit's
   * own words without walking? The instruction TLB holds its page, or is refilled from the TLB
   * as Mmu.xlateFetch does on a hit (a miss walks, charged: step() does that), and maps it to
   * the unit's frame.
   */
  private fetchReady(u: TranslationUnit, vpc: number, user: boolean, off = 0): boolean {
    const mmu = this.cpu.mmu;
    if ((vpc & 0xfffff003) !== mmu.icV || mmu.icUser !== user) {
      const e = tlbFind(user ? mmu.tlbRU : mmu.tlbRS, ((vpc >>> 12) & mmu.setMask) << mmu.wayShift, mmu.tlbWays, vpc & PAGE_MASK);
      if (e < 0) return false;
      mmu.icV = vpc & PAGE_MASK;
      mmu.icA = mmu.tlbAdd[e]!;
      mmu.icUser = user;
      this.codePage[(vpc + mmu.icA) >>> 12] = 1;
    }
    return ((vpc + mmu.icA) | 0) === u.ma + off;
  }

  /**
   * Unit u's straight run from index k (u entered at virtual pc) compiled (runCompiled), through
   * the process's memo (as compileChain's): its key is every input of the run's JavaScript, each
   * instruction's virtual pc, host-physical address, word, extension word and kind.
   */
  private compileRun(u: TranslationUnit, k: number, pc: number, cache: TranslationCache): StraightFn | null {
    const insns = this.straight(u, k, pc);
    const key: number[] = [RUN_KEY, insns.length];
    for (let i = 0; i < insns.length; i++) {
      const x = insns[i]!;
      key.push(x.at, x.pa, x.w, x.ext, u.kinds[k + i]!);
    }
    const { memo, h, found } = this.memoLookup(key);
    if (found !== undefined) {
      cache.host.runMemoHits++;
      return found.fn;
    }
    cache.host.runsGenerated++;
    const fn = this.tx!.compileStraight([insns]);
    memoize(memo, h, { key: Int32Array.from(key), fn, pairs: [], tooLong: false });
    return fn;
  }

  /** The process's memo (this translator's configuration), key's hash, and its entry for key if any (counted as a compile of the translator's: stats.straightRuns). */
  private memoLookup(key: readonly number[]): { memo: Map<number, ChainMemoEntry[]>; h: number; found: ChainMemoEntry | undefined } {
    const memo = this.chainMemo ?? (this.chainMemo = chainMemoOf(this.tx!));
    const h = hashInts(key);
    const found = memo.get(h)?.find((e) => sameInts(e.key, key));
    if (found !== undefined && !found.tooLong) this.tx!.stats.straightRuns++;
    return { memo, h, found };
  }

  /** The ident instructions and inline rewrites (REWRITES) of unit u from index k (u entered at virtual pc), for compileStraight. */
  private straight(u: TranslationUnit, k: number, pc: number): StraightInsn[] {
    const insns: StraightInsn[] = [];
    const m32 = this.m32;
    const frameEnd = (u.ma & PAGE_MASK) + 4096;
    for (let i = k; i < u.length && compilable(u, i); i++) {
      const pa = u.ma + u.offs[i]!;
      const w = u.words[i]!;
      const at = (pc + u.offs[i]!) | 0;
      const rw = u.kinds[i] === K_INLINE ? REWRITES[u.ops[i]!]!(w) : undefined;
      insns.push(rw === undefined ? { at, w, ext: INSN_BYTES[w & 0xff] === 8 && pa + 4 < frameEnd ? m32[(pa + 4) >>> 2]! : 0, pa } : { at, w, ext: 0, pa, rewrite: rw });
    }
    return insns;
  }

  /**
   * May unit u (not compiled yet) be compiled now, its heat short of the limit: does the process
   * hold the recipe of a chain an earlier boot compiled from u's code at u's pc, and does it hold
   * (recipeHolds)? Asked at every eighth heat, so a recipe that never holds costs little.
   */
  private recipeReady(u: TranslationUnit, cache: TranslationCache): boolean {
    let r = u.recipe;
    if (r === undefined) r = u.recipe = this.recipeOf(u);
    if (r === null || (u.heat & 7) !== 0) return false;
    return this.recipeHolds(u, r, cache);
  }

  /** The recipe for unit u's code at its pc (CHAIN_RECIPES), if any. */
  private recipeOf(u: TranslationUnit): ChainRecipe | null {
    const list = this.recipesOf().get(u.ma);
    if (list === undefined) return null;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      if (r.pcs[0] === (u.pc | 0) && r.codes[0] === u.words) return r;
    }
    return null;
  }

  /** This translator's recipes (its configuration and heat limits: what a chain's choice of units depends on). */
  private recipesOf(): Map<number, ChainRecipe[]> {
    if (this.chainRecipes !== null) return this.chainRecipes;
    const l = this.tx!.limits;
    const k = `${this.tx!.config}/${l.threshold}/${l.unitHeat}`;
    let m = CHAIN_RECIPES.get(k);
    if (m === undefined) CHAIN_RECIPES.set(k, (m = new Map()));
    return (this.chainRecipes = m);
  }

  /**
   * Does recipe r hold for unit u now: is each of its units in `cache`, live, translated from the same
   * words, and linked to the others exactly as it was (what the chain's key holds besides words
   * and pcs)? Then compileChain takes those units (this.recipeUnits).
   */
  private recipeHolds(u: TranslationUnit, r: ChainRecipe, cache: TranslationCache): boolean {
    const mas = r.mas;
    const n = mas.length;
    const us = this.recipeUnits;
    us[0] = u;
    for (let i = 1; i < n; i++) {
      const y = cache.get(mas[i]!);
      if (y === undefined || y.dead || y.words !== r.codes[i]) return false;
      us[i] = y;
    }
    for (let i = 0; i < n; i++) if (linkBits(us[i]!, us, n) !== r.linked[i]) return false;
    return true;
  }

  /**
   * Keep the recipe of chain ch (compiled from its first unit's choice, to function fn), replacing
   * one for the same code at the same pc.
   */
  private keepRecipe(ch: UnitChain, fn: StraightFn): void {
    const us = ch.u;
    const u = us[0]!;
    const r: ChainRecipe = {
      mas: Int32Array.from(us, (x) => x.ma),
      pcs: ch.pcs.slice(),
      codes: us.map((x) => x.words),
      linked: Int32Array.from(us, (x) => linkBits(x, us, us.length)),
      fn,
      pairs: ch.pairs.slice(),
      words: ch.words,
      ends: ch.ends,
      frames: ch.frames,
    };
    const m = this.recipesOf();
    const list = (m.get(u.ma) ?? []).filter((x) => !(x.pcs[0] === r.pcs[0] && x.codes[0] === u.words));
    list.push(r);
    m.set(u.ma, list);
  }

  /**
   * Compile unit u (entered at virtual pc) with the units its direct control transfers are
   * chained to (linked now) and its CALLs' return sites in the same page (cached now: where the
   * callee's RET most often goes, chainLink's `indirect`), transitively, up to CHAIN_MAX_UNITS,
   * the hottest of those reached first (heatOf: a loop's units before the way out of it, a
   * compiled callee before a cold path), and fewer where its JavaScript would be longer than
   * CHAIN_MAX_CHARS: one function, each unit's ident instructions a block. A boundary between
   * two of them does in line what the unit loop would: at the deadline it leaves; it goes on
   * only while both units are live and linked (a chained entry, counted as such), else it leaves
   * for the unit loop to look the next unit up (and charge it). Within a page the shadow maps the
   * next unit where it mapped the last (the monitor has not run); into another page the boundary
   * first translates the target as the unit loop would and checks the instruction fetch
   * (enterChained). Where the recipe of a chain an earlier boot compiled from u holds
   * (recipeHolds), its units instead: the same chain, from the process's memo. A chain chosen
   * here leaves its recipe for later boots.
   */
  private compileChain(u: TranslationUnit, pc: number, cache: TranslationCache): StraightFn | null {
    const r = u.recipe;
    if (r !== null && r !== undefined && r.pcs[0] === (pc | 0) && this.recipeHolds(u, r, cache)) {
      cache.host.chainsFromRecipes++;
      const us = this.recipeUnits.slice(0, r.mas.length);
      if (this.wordsHold(r.words)) {
        // the same units, links and words as when the recipe's chain was made: the same key, so
        // the same function and boundaries (compileUnits would find them in the memo)
        cache.host.chainMemoHits++;
        u.chain = this.unitChain(us, r.pcs, r.words, r.ends, r.frames, r.pairs.slice(), cache);
        return r.fn;
      }
      return this.compileUnits(us, r.pcs.slice(), cache, false);
    }
    const units: TranslationUnit[] = [u];
    const pcs: number[] = [pc | 0];
    const index = new Map<number, number>([[u.ma, 0]]);
    /** the units the chain's units lead to, not in it yet (machine address -> the unit, its virtual pc), in the order reached */
    const reached = new Map<number, { y: TranslationUnit; pc: number }>();
    /** unit y, entered at virtual pc, reached (not in the chain or reached yet, compilable from its start) */
    const add = (y: TranslationUnit, pc: number): void => {
      if (index.has(y.ma) || reached.has(y.ma) || !compilable(y, 0)) return;
      for (const f of reached.values()) if (f.pc === pc) return;
      reached.set(y.ma, { y, pc });
    };
    /** the return site at virtual pc `next` of unit x's call at xpc: in the same page, where the cache holds a live unit */
    const returnSite = (x: TranslationUnit, xpc: number, next: number): void => {
      if ((next & PAGE_MASK) !== (xpc & PAGE_MASK) || pcs.includes(next)) return;
      const y = cache.get((x.ma & PAGE_MASK) + (next & 0xfff));
      if (y !== undefined && !y.dead && y.ma >= 0) add(y, next);
    };
    /** the units the chain's unit i leads to */
    const successors = (i: number): void => {
      const x = units[i]!;
      const n = x.length;
      let all = true;
      for (let k = 0; k < n && all; k++) all = compilable(x, k);
      if (!all) return;
      const op = x.ops[n - 1]!;
      if (op === OP_CALLR) {
        // an indirect call: the unit it went to when the unit loop last followed it, and its
        // return site (where that unit's RET goes), in line (chainLink's `indirect`)
        const seen = x.seen;
        if (seen !== null && !seen.dead && seen.ma >= 0 && !pcs.includes(seen.pc | 0)) add(seen, seen.pc | 0);
        const xpc = (pcs[i]! + x.offs[n - 1]!) | 0;
        returnSite(x, xpc, (xpc + INSN_BYTES[op]!) | 0);
        return;
      }
      if ((op !== OP_JMP && op !== OP_JCC && op !== OP_CALL) || INSN_BYTES[op] !== 8) return;
      const xpc = (pcs[i]! + x.offs[n - 1]!) | 0;
      if (((xpc + 4) & PAGE_MASK) !== (xpc & PAGE_MASK)) return;
      const ext = this.m32[(x.ma + x.offs[n - 1]! + 4) >>> 2]!;
      const next = (xpc + 8) | 0;
      for (const target of op === OP_JCC ? [(next + ext) | 0, next] : [(next + ext) | 0]) {
        if ((target & 3) !== 0 || pcs.includes(target)) continue;
        const y = x.links.find((l) => !l.dead && (l.ma & 0xfff) === (target & 0xfff) && compilable(l, 0) && l.ma >= 0);
        // where the target's page is mapped now (the link was made through the same mapping, or
        // the boundary's translation will leave)
        if (y === undefined || ((target & PAGE_MASK) === (pcs[i]! & PAGE_MASK) && (y.ma & PAGE_MASK) !== (x.ma & PAGE_MASK))) continue;
        add(y, target);
      }
      // the call's return site: where the callee's RET, compiled here too, most often goes
      if (op === OP_CALL) returnSite(x, xpc, next);
    };
    // the hottest unit reached goes in next, until the chain is full (the first reached of
    // equals: with no heat to tell them apart, the units a breadth-first search from u takes)
    successors(0);
    while (units.length < CHAIN_MAX_UNITS && reached.size > 0) {
      let best: { y: TranslationUnit; pc: number } | null = null;
      for (const f of reached.values()) if (best === null || heatOf(f.y) > heatOf(best.y)) best = f;
      reached.delete(best!.y.ma);
      index.set(best!.y.ma, units.length);
      units.push(best!.y);
      pcs.push(best!.pc);
      successors(units.length - 1);
    }
    return this.compileUnits(units, pcs, cache, true);
  }

  /**
   * Compile the chain of `units` (the first entered at pcs[0], the others at theirs), or of fewer
   * where its code would be longer than V8 optimizes; with `keep`, leave its recipe.
   */
  private compileUnits(units: readonly TranslationUnit[], pcs: readonly number[], cache: TranslationCache, keep: boolean): StraightFn | null {
    const u = units[0]!;
    // the chain of those units, or of fewer where its code would be longer than V8 optimizes
    for (let n = units.length; ; n--) {
      const us = units.slice(0, n);
      const ps = pcs.slice(0, n);
      const frames = [...new Set(us.map((x) => x.ma >>> 12))];
      // the words its code holds, and its key in the process's memo
      const { words, ends, key } = chainInputs(us, ps, this.m32);
      const chain = this.unitChain(us, ps, words, ends, frames, [], cache);
      u.chain = chain;
      const { memo, h, found } = this.memoLookup(key);
      if (found !== undefined && found.tooLong) {
        cache.host.chainUnitsLeftOut++;
        continue;
      }
      if (found !== undefined) {
        // compiled before in this process, from the same inputs: the same function, and the same
        // boundaries trusted (chainLink's decisions, which depend on the links in the key)
        cache.host.chainMemoHits++;
        for (const x of found.pairs) chain.pairs.push(x);
        if (keep && found.fn !== null) this.keepRecipe(chain, found.fn);
        return found.fn;
      }
      // a boundary whose units are live and linked now is trusted while the cache's epoch stays
      // (runUnit checks the pairs again, or compiles anew, when it moved): no check in line; the
      // chained entries are counted in a local (ch), written back at every exit; no word check
      // (runUnit checks the words before entering when a store reached one of the frames)
      const blocks = us.map((x, i) => this.straight(x, 0, ps[i]!));
      cache.host.chainsGenerated++;
      const src = this.tx!.generateStraight(blocks, this.chainLink(chain, true), CHAIN_FRAME, false);
      if (src !== null && src.length > CHAIN_MAX_CHARS && n > 1) {
        cache.host.chainUnitsLeftOut++;
        memoize(memo, h, { key: Int32Array.from(key), fn: null, pairs: [], tooLong: true });
        continue;
      }
      const fn = src === null ? null : this.tx!.compileSource(src);
      memoize(memo, h, { key: Int32Array.from(key), fn, pairs: chain.pairs.slice(), tooLong: false });
      if (keep && fn !== null) this.keepRecipe(chain, fn);
      return fn;
    }
  }

  /** A UnitChain of units `us` at `pcs` (the other arguments as UnitChain's fields), new in `cache`. */
  private unitChain(us: TranslationUnit[], pcs: number[], words: number[], ends: number[], frames: number[], pairs: number[], cache: TranslationCache): UnitChain {
    return {
      u: us,
      pcs,
      st: cache.stats,
      host: cache.host,
      m: this,
      c: cache,
      pairs,
      epoch: cache.epoch,
      frames,
      seen: frames.map(() => -1),
      seenAll: -1,
      words,
      ends,
      checkedFn: undefined,
      lk: this.lookup,
    };
  }

  /** Does memory hold each word of `words` (chainInputs' host-physical word index, value pairs)? */
  private wordsHold(words: readonly number[]): boolean {
    const m32 = this.m32;
    for (let k = 0; k < words.length; k += 2) if (m32[words[k]!] !== words[k + 1]) return false;
    return true;
  }

  /**
   * Chain ch's variant with the word check before each instruction (run while a word of it
   * differs from memory: it leaves before that instruction, and the unit loop drops the frame's
   * units). Its blocks are read again: their words are checked as they run, whatever they are.
   */
  private checkedChain(ch: UnitChain): StraightFn | null {
    const blocks = ch.u.map((x, i) => this.straight(x, 0, ch.pcs[i]!));
    return (ch.checkedFn = this.tx!.compileStraight(blocks, this.chainLink(ch, false), CHAIN_FRAME));
  }

  /**
   * The code of chain ch's boundaries (compileStraight's link): at the deadline it leaves; a
   * boundary whose units are live and linked (`decide`: now, noted in ch.pairs; else: as when the
   * chain was compiled, ch.pairs) goes on, in another page after enterChained; any other one
   * checks in line that they are.
   */
  private chainLink(ch: UnitChain, decide: boolean): StraightLink {
    const units = ch.u;
    const pcs = ch.pcs;
    const pairs = ch.pairs;
    const bits = new Map<number, number>();
    /** unit j's bit in the code's memo of crossings found true in this call (`xs`): one per virtual page and frame (at most CHAIN_MAX_UNITS, within xs's 32 bits) */
    const bitOf = (j: number): number => {
      const key = (pcs[j]! >>> 12) * 0x100000 + (units[j]!.ma >>> 12);
      let b = bits.get(key);
      if (b === undefined) bits.set(key, (b = bits.size));
      return b;
    };
    // an indirect transfer ending a unit: where the unit loop would enter the next unit itself
    // (nextUnit: the lookup charged, the deadline not reached, pc translated through the shadow
    // to a live unit) and that unit is compiled here for pc, the code goes on in it; the deadline
    // moves nearer by the lookup, and the lookups made are charged at the exit (indirectsIn).
    // The candidates are tested in line: a unit in the same page where the shadow mapped this
    // one's (the monitor has not run), or in another page after enterChained's translation and
    // fetch check. Every unit of the chain is live (the first was found so on entry, the others
    // by chainHolds when the cache's epoch last moved: every unit dropped moves it). (nextUnit
    // also leaves after a unit with an in-line rewrite, for the vCPU loop to look: that loop
    // would find nothing to do - STI and POPF leave right after themselves when an interrupt is
    // due (leavesAtBoundary), none becomes due inside compiled code, and no rewrite can let
    // user code run directly, CPL 3 with the virtual IF set and IOPL 0 - so the code goes on.)
    const indirect = (from: number, p: string): string | null => {
      const u = units[from]!;
      const tests: string[] = [];
      for (let j = 0; j < units.length; j++) {
        if ((pcs[j]! & 3) !== 0) continue;
        const same = (pcs[j]! & PAGE_MASK) === (pcs[from]! & PAGE_MASK);
        if (same && (units[j]!.ma & PAGE_MASK) !== (u.ma & PAGE_MASK)) continue;
        tests.push(`pc === ${pcs[j]}${same ? '' : ` && ${enterInline(j, pcs[j]!, units[j]!.ma, bitOf(j))}`} ? ${j}`);
      }
      if (tests.length === 0) return null;
      const leave = `{ why = BOUND; ix = ${~from}; break out; }`;
      return `pc = ${p}; { if (cyc + bc.lk >= dl) ${leave} const j = ${tests.join(' : ')} : -1; if (j < 0) ${leave} ind++; dl -= bc.lk; b = j; continue out; }`;
    };
    const link = (from: number, to: number, p: string, go: string): string => {
      const leave = `{ pc = ${p}; why = BOUND; ix = ${~from}; break out; }`;
      let trusted = false;
      for (let i = 0; i < pairs.length && !trusted; i += 2) trusted = pairs[i] === from && pairs[i + 1] === to;
      if (decide && !trusted && linkHolds(units[from]!, units[to]!)) {
        trusted = true;
        pairs.push(from, to);
      }
      const cross = (pcs[from]! & PAGE_MASK) !== (pcs[to]! & PAGE_MASK);
      // (no unit is dropped in mid-function: only a refill's walk could, setting accessed/dirty
      // bits in a frame holding units - the memory's code hook drops them - and the function
      // leaves right after such a walk: the frame is marked for the code-store hook, Cpu.txMiss)
      const check = trusted
        ? cross
          ? `if (!${enterInline(to, pcs[to]!, units[to]!.ma, bitOf(to))}) ${leave} `
          : ''
        : `{ const a = bc.u[${from}], y = bc.u[${to}]; if (y.dead || a.dead || !a.links.includes(y)${cross ? ` || !bc.m.enterChained(y, ${p}, user)` : ''}) ${leave} } `;
      return `if (cyc >= dl) ${leave} ${check}ch++; ${go}`;
    };
    return Object.assign(link, { indirect });
  }

  /**
   * Compiled chain ch's code entered n units after indirect transfers (chainLink's `indirect`):
   * what nextUnit would have done for each - the lookup charged and counted, the unit entry
   * counted (called at the code's exit, after its cycles were written back).
   */
  indirectsIn(ch: UnitChain, n: number): void {
    const st = ch.st;
    st.indirectLookups += n;
    st.lookupCycles += n * this.lookup;
    this.hv.chargeMonitor(this.vt!.domain, EV_BT_LOOKUP, n);
    st.unitsRun += n;
    ch.host.indirectInline += n;
  }

  /**
   * May compiled chain ch be entered without its word checks: does every word its code holds of
   * its live units equal memory? Per frame of the chain, only when a CPU store reached the frame
   * since that was last found (codeWrites: every CPU store into a frame holding units reaches
   * the code-store hook; a host write drops the frame's units, and a dead unit's block is never
   * entered: a trusted boundary into it was found true at entry, an untrusted one checks). Inside,
   * a store into such a frame, or a refill whose walk writes into one, leaves the function right
   * after it (Cpu.txStored, Cpu.txMiss), so the words stay as found while it runs.
   */
  private chainWordsHold(ch: UnitChain, cache: TranslationCache): boolean {
    const writes = this.codeWrites;
    // (no store into any frame holding units since they were all last found equal: the caller's one compare)
    const all = this.codeStores;
    if (all === ch.seenAll) return true;
    const frames = ch.frames;
    const seen = ch.seen;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      const w = writes[f]!;
      if (w === seen[i]) continue;
      cache.host.chainWordChecks++;
      const m32 = this.m32;
      const us = ch.u;
      const words = ch.words;
      const ends = ch.ends;
      for (let j = 0; j < us.length; j++) {
        const y = us[j]!;
        if (y.dead || y.ma >>> 12 !== f) continue;
        for (let k = j === 0 ? 0 : ends[j - 1]!; k < ends[j]!; k += 2) if (m32[words[k]!] !== words[k + 1]) return false;
      }
      seen[i] = w;
    }
    ch.seenAll = all;
    return true;
  }

  /**
   * Are the boundaries compiled as trusted in this chain (TranslationUnit.chain) still true - both
   * units live, the first linked to the second - and every unit of it live (a return site is
   * entered in line with no check: chainLink's `indirect`)? (The cache's epoch moved since they
   * were last found so.)
   */
  private chainHolds(ch: NonNullable<TranslationUnit['chain']>): boolean {
    const us = ch.u;
    const pairs = ch.pairs;
    for (let i = 1; i < us.length; i++) if (us[i]!.dead) return false;
    for (let i = 0; i < pairs.length; i += 2) {
      if (!linkHolds(us[pairs[i]!]!, us[pairs[i + 1]!]!)) return false;
    }
    return true;
  }

  /**
   * A chained boundary into unit y at virtual pc in another page than the last unit's (compiled
   * code): would the unit loop find y there (pc translates through the shadow to y's machine
   * address), and would the instruction fetch read y's words without walking? (fetchReady, which
   * refills the instruction TLB from the TLB, as the fetch at pc would next.)
   */
  enterChained(y: TranslationUnit, pc: number, user: boolean): boolean {
    return this.xlate(pc, user) === y.ma && this.fetchReady(y, pc, user);
  }

  /**
   * The shadow's translation of the aligned virtual pc (Mmu.translate), remembered for the rest
   * of this pass of the unit loop (runUnit: xl): it is asked only between units of ident
   * instructions alone (compiled code's boundaries, nextUnit), and since the pass began only
   * such units ran (a unit with anything else ends the pass at its end), which change neither
   * the shadow, CR3 nor the ring.
   */
  private xlate(pc: number, user: boolean): number {
    const xl = this.xl;
    const s = ((pc >>> 12) & (XL_SLOTS - 1)) * XL_STRIDE;
    if (xl[s] === ((pc & PAGE_MASK) | (user ? 1 : 0)) && xl[s + 2] === xl[XL_PASS]) {
      this.host.translationsRemembered++;
      return xl[s + 1]! + (pc & 0xfff);
    }
    const ma = this.cpu.mmu.translate(pc, false, user);
    if (ma >= 0 && (pc & 3) === 0) this.remember(pc, user, ma);
    return ma;
  }

  /** xlate's memo: aligned pc translates to ma through the shadow (for the rest of this pass). */
  private remember(pc: number, user: boolean, ma: number): void {
    const xl = this.xl;
    const s = ((pc >>> 12) & (XL_SLOTS - 1)) * XL_STRIDE;
    xl[s] = (pc & PAGE_MASK) | (user ? 1 : 0);
    xl[s + 1] = ma & PAGE_MASK;
    xl[s + 2] = xl[XL_PASS]!;
  }

  /**
   * `--bt-adaptive`: a kernel store left its unit by a CPU exit. Handled as any exit; if it was a
   * trace fault, counted against the store's address, and the ADAPTIVE_TRACE_FAULTS-th one has it
   * retranslated as a store callout ("innocent until proven guilty").
   */
  private storeExit(t: BtVcpu, res: number, exit: VcpuExit, cache: TranslationCache, ma: number, pc: number): number {
    const stats = t.domain.stats;
    const before = stats.traceFaults;
    const r = this.handleCpuExit(t, res, exit);
    if (stats.traceFaults !== before) {
      const n = (cache.traceFaultsAt.get(pc) ?? 0) + 1;
      if (n >= ADAPTIVE_TRACE_FAULTS) {
        cache.traceFaultsAt.delete(pc);
        cache.retranslateStore(ma);
      } else {
        cache.traceFaultsAt.set(pc, n);
      }
    }
    return r;
  }

  private endByControlFlow(t: BtVcpu, u: TranslationUnit, op: number, dom: Domain, st: TranslationCache['stats']): number {
    if (INDIRECT[op] !== 0) {
      st.indirectLookups++;
      this.chargeLookup(dom, st);
      t.entry = ENTRY_INDIRECT;
    } else {
      t.entry = ENTRY_DIRECT;
      t.prev = u;
    }
    return CONTINUE;
  }

  private chargeLookup(dom: Domain, st: TranslationCache['stats']): void {
    st.lookupCycles += this.lookup;
    this.hv.chargeMonitor(dom, EV_BT_LOOKUP, 1);
  }

  /** MOVCR to CR4 at virtual CPL 0 of the value CR4 already holds (the word is the instruction). */
  private sameValueCr4(t: TrapVcpu, w: number): boolean {
    const rd = (w >>> 8) & 15;
    const ra = (w >>> 12) & 15;
    return rd === 4 && t.vcpl === 0 && (this.cpu.regs[ra]! & CR4_TSD) === t.v.cr4;
  }

  /**
   * Compiled code's STI or POPF (REWRITES), a block boundary: must the unit loop take over right
   * after it - the instruction-count hook armed (it fires at a block boundary), or a virtual
   * interrupt pending that the virtual IF now lets in? If so the code leaves (noted for the unit
   * loop: afterBoundary).
   */
  leavesAtBoundary(t: BtVcpu): boolean {
    if (this.cpu.instructionHookAt === Infinity && !this.interruptDue(t)) return false;
    this.leftAtBoundary = true;
    return true;
  }

  /**
   * Compiled code's POPF (REWRITES) popped `popped` over the condition bits and the rest of FLAGS
   * `fl`: the CPU's FLAGS after it (Cpu.mergeFlags at its CPL, as step() gives them) and, as the
   * general path does after step(), the virtual IF (at a virtual CPL up to the virtual IOPL) and
   * the virtual IOPL (at virtual CPL 0) from the popped word.
   */
  popfFlags(popped: number, fl: number): number {
    const cpu = this.cpu;
    const nf = cpu.mergeFlags(popped, cpu.cpl, fl);
    popVirtualFlags(this.vt!, popped);
    return nf;
  }

  /**
   * After compiled code left right after an STI or POPF (leavesAtBoundary): what the general path does after one -
   * the block boundary (the hook), then the unit ends if an interrupt is due (true: the vCPU loop
   * injects it), else the unit goes on with its next instruction (false).
   */
  private afterBoundary(t: BtVcpu): boolean {
    this.leftAtBoundary = false;
    this.cpu.instructionBoundary();
    return this.interruptDue(t);
  }

  /** A virtual interrupt is pending and the virtual IF now lets it in: end the unit so it is injected. */
  private interruptDue(t: TrapVcpu): boolean {
    const pic = t.domain.devices?.interruptController(t.vcpu.id);
    return pic !== undefined && t.v.vIF && pic.pendingVector() >= 0;
  }

  /**
   * One CPU exit, by reason: of user code run directly, or of an instruction of a translated unit
   * (an intercepted trap). Every vector is intercepted; nothing else is set to exit.
   */
  private handleCpuExit(t: BtVcpu, x: number, exit: VcpuExit): number {
    switch (x) {
      case Exit.Exception:
        return this.handleTrap(t, exit);
      case Exit.Deadline:
      case Exit.ExternalInterrupt:
        // the deadline (the loop returns it), a real interrupt (the host's): nothing of the guest's
        return CONTINUE;
      case Exit.Stopped:
        hostStopExit(exit);
        return TO_LOOP;
      default:
        crashOnUnexpectedExit(t.domain, 'bt', x, this.cpu.pc);
        return this.dead(t.domain, exit);
    }
  }

  /**
   * An intercepted trap (from user code, or a fault in translated kernel code): trap mode's
   * handling - shadow faults hidden or reflected, system calls and exceptions reflected, a
   * privileged instruction of user code emulated or refused. Charged as under trap mode.
   */
  private handleTrap(t: BtVcpu, exit: VcpuExit): number {
    t.entry = ENTRY_OTHER;
    return this.trap.handleTrap(t, exit);
  }


  /** Acknowledge the virtual PIC's line and deliver it through the guest's IDT (a host interrupt, as under trap mode). */
  private inject(t: BtVcpu): void {
    const pic = t.domain.devices!.interruptController(t.vcpu.id);
    if (pic.pendingVector() < 0) return;
    t.entry = ENTRY_OTHER;
    this.trap.inject(t, pic);
  }


  private dead(dom: Domain, exit: VcpuExit): number {
    stoppedExit(dom, exit);
    return TO_LOOP;
  }

}

/** The translation cache of a bt domain (its counters in `.stats`). */
export function btCache(domain: Domain): TranslationCache {
  const c = domain.modeState;
  if (!(c instanceof TranslationCache)) throw new Error(`domain '${domain.name}' is not a bt domain`);
  return c;
}

/**
 * The compiled code that a bt domain's live units hold under the translator engine (host side;
 * `bench cpu`'s footprint of the kernel-bt row): its distinct functions - chains (a unit's first
 * straight run, with the units chained to it), their word-checking variants, and straight runs
 * from later instructions - the guest code bytes those hold (a unit compiled into two chains
 * counts twice: its code is there twice) and their JavaScript characters. All zero under the
 * interpreter engine.
 */
export function btCompiledSize(domain: Domain): { functions: number; guestBytes: number; sourceChars: number } {
  const seen = new Set<StraightFn>();
  let guestBytes = 0;
  let sourceChars = 0;
  const add = (fn: StraightFn | null | undefined, bytes: number): void => {
    if (fn === null || fn === undefined || seen.has(fn)) return;
    seen.add(fn);
    guestBytes += bytes;
    sourceChars += straightChars(fn);
  };
  for (const u of btCache(domain).units.values()) {
    if (u.dead || u.runs === null) continue;
    const ch = u.chain;
    // a chain's code holds its words (host-physical word, value), an extension word included
    if (ch !== null) {
      add(u.runs[0], (ch.words.length / 2) * 4);
      add(ch.checkedFn, (ch.words.length / 2) * 4);
    }
    for (let k = 1; k < u.runs.length; k++) {
      let bytes = 0;
      for (let i = k; i < u.length && compilable(u, i); i++) bytes += INSN_BYTES[u.ops[i]!]!;
      add(u.runs[k], bytes);
    }
  }
  return { functions: seen.size, guestBytes, sourceChars };
}

declare module '../core/domain.ts' {
  interface DomainModeStates {
    bt: TranslationCache;
  }
}
