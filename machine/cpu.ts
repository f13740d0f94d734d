// The XL32 CPU: a switch interpreter over typed arrays, trap and interrupt delivery, and the hooks
// a hypervisor uses: root-mode intercepts and the VT-x-like non-root mode (machine/vmx.ts). Its MMU
// (paging, the TLB, the second stage, log-dirty protection) is machine/mmu.ts, one per CPU
// (`cpu.mmu`). Touches only its own state and the physical memory, I/O bus and interrupt
// controller it is given. Semantics: docs/isa.md.

import { CPUID_FEATURES_MACHINE, answerCpuid } from './cpuid.ts';
import { opcodeCosts, VMCS_READS_PER_EXIT, type CostProfile } from './costs.ts';
import { EV_KINDS, Ev, ledgerUnits } from './ledger.ts';
import {
  CR0_PG,
  CR0_WP,
  CR4_TSD,
  FLAGS_COND,
  FLAGS_DEFINED,
  Flag,
  Frame,
  Gate,
  GATE_BYTES,
  INSN_BYTES,
  INSTRUCTIONS,
  NUM_REGS,
  Op,
  REG_SP,
  Vector,
  compareFlags,
  condHolds,
  isControlRegister,
} from './isa.ts';
import type { PhysicalMemory } from './memory.ts';
import * as mmuExports from './mmu.ts';
import { Mmu, type MmuHost } from './mmu.ts';
import { Exit, STEP_BOUND, STEP_CONT, type InterruptController, type IoBus } from './types.ts';
import { SEMANTICS, type Semantics } from './semantics.ts';
import { DEFAULT_ENGINE, LOOP_SLOTS, TB_HOOKED, TB_TRANSLATED, Translator, pageChecker, tlbFinder, type Engine, type TranslatorLimits } from './translator.ts';
import { CrQual, EventKind, Vmcs } from './vmx.ts';
import { doubleFields } from './shapes.ts';

/*
 * Engine structure.
 *
 * run() alternates between two engines with identical semantics and cycle accounting:
 *  - runFast(): the hot loop. Registers in an Int32Array, pc/cycles/FLAGS in locals, opcode
 *    dispatch through a dense handler number (DECODE), TLB checks inline. It handles the common
 *    cases of the innocuous instructions; anything else (a TLB miss, an unaligned or page-crossing
 *    access, a division by zero, every privileged, critical or trapping instruction) leaves the
 *    loop *before* the instruction has any effect;
 *  - step(): one instruction on the general path, complete for every opcode and every fault.
 * The innocuous instructions' cases of both are generated from machine/semantics.ts (the
 * `@generated` regions; npm run gen:interp), the one definition of their semantics.
 * Setting `fastPath = false` runs step() alone; the tests run both and compare.
 * With `engine = 'translator'`, run() calls runTranslated() instead of runFast(): hot code runs
 * as JavaScript functions built from the same definitions (machine/translator.ts), cold code on
 * runFast() one block at a time; same cycles, instructions and boundaries (docs/engine.md).
 *
 * Block boundaries (where interrupts, stop requests and the cycle deadline are checked) are
 * defined by instructions, not by engine state, so every engine agrees on them: after each
 * control transfer (JMP, Jcc taken or not, CALL, CALLR, JMPR, RET, INT, BRK, IRET, exception
 * delivery) and after STI, POPF and OUT/OUTB/OUTR; and at the start of run().
 *
 * Memory accesses go through the MMU (machine/mmu.ts): the fast loop and translated code check
 * its TLB inline - the tag arrays read into locals, one compare per way - and call refill() (a
 * walk by the MMU, its cycles counted in the loop) on a miss; the general path translates through
 * mmu.xlate(). The one-entry instruction TLB (mmu.icV/icA/icUser) is kept in the fast loop's
 * locals and written back when it leaves. A failed translation reaches the CPU as a pending fault
 * or a pending EPT violation exit (pendPageFault, pendEptViolation): what it becomes - a fault
 * delivered, a double fault, an exit - is decided here.
 *
 * Costs: each instruction is charged costs[op] when it retires; walks, trap delivery, CR3 writes,
 * hypercalls and VM transitions are charged where they happen (machine/costs.ts). A faulting
 * instruction is not charged and does not retire; INT and BRK retire and then deliver.
 */

// machine/mmu.ts's access kinds, tag and page mask, and its TLB lookup, aliased once: an imported
// binding is a module cell (a load and a hole check at every use, in the hot loop's every TLB
// check); a module-local const is folded by the JIT, and tlbFind inlined as if it were this file's.
const ACC_READ: number = mmuExports.ACC_READ;
const ACC_WRITE: number = mmuExports.ACC_WRITE;
const ACC_FETCH: number = mmuExports.ACC_FETCH;
const INVALID: number = mmuExports.INVALID;
const PAGE_MASK: number = mmuExports.PAGE_MASK;
const tlbFind = mmuExports.tlbFind;

// ledger kinds (machine/ledger.ts) as local numbers
const EV_TLB_WALK: number = Ev.TlbWalk;
const EV_EPT_WALK: number = Ev.EptWalk;
const EV_TRAP_DELIVERY: number = Ev.TrapDelivery;
const EV_INT_DELIVERY: number = Ev.IntDelivery;
const EV_INTERCEPT_RETURN: number = Ev.InterceptReturn;
const EV_CR_FLUSH: number = Ev.CrFlush;
const EV_HYPERCALL_ENTRY: number = Ev.HypercallEntry;
const EV_HYPERCALL_EXIT: number = Ev.HypercallExit;
const EV_VM_ENTRY: number = Ev.VmEntry;
const EV_VM_EXIT: number = Ev.VmExit;

/** a loop head's slot in the translator's counters (Translator.loopHeat) */
const LOOP_MASK = LOOP_SLOTS - 1;
/** the pause-loop exit (a local number for the generated general path) */
const EXIT_PAUSE: number = Exit.Pause;

/** step() results besides Exit values (machine/types.ts; local numbers for the hot loops) */
const CONT: number = STEP_CONT;
const BOUND: number = STEP_BOUND;

const PEND_NONE = 0;
const PEND_FAULT = 1;
const PEND_EXIT = 2;

const DELIVERED = 0;
const DELIVERY_FAULT = 1;
const DELIVERY_EXIT = 2;

// Architectural constants from isa.ts, aliased once (cross-file const enums are not inlined by
// per-file TypeScript transpilers, so this avoids property loads on warm paths).
const SP = REG_SP;
const F_IF: number = Flag.IF;
const F_IOPL: number = Flag.IOPL_MASK;
const IOPL_SHIFT: number = Flag.IOPL_SHIFT;
const V_DE: number = Vector.DivideError;
const V_BP: number = Vector.Breakpoint;
const V_UD: number = Vector.InvalidOpcode;
const V_DF: number = Vector.DoubleFault;
const V_GP: number = Vector.GeneralProtection;
const V_PF: number = Vector.PageFault;
/** instruction lengths by opcode (isa.ts), read by every step() */
const INSN_LEN: Uint8Array = INSN_BYTES;

/**
 * Interpreter handler numbers: a dense renumbering of isa.ts's opcodes for the dispatch switch.
 * (Opcode numbers themselves live only in isa.ts; DECODE maps them to these at load time, because
 * a const enum imported from another file is a property load per case, not a jump table.)
 */
const enum Handler {
  UD = 0, NOP, MOV, LI, ADD, SUB, MUL, MULHU, DIV, DIVU, REM, REMU, AND, OR, XOR, SHL, SHR, SAR, NOT,
  NEG, ADDI, MULI, ANDI, ORI, XORI, SHLI, SHRI, SARI, LDW, LDH, LDHU, LDB, LDBU, STW, STH, STB, XCHG, PUSH,
  POP, CMP, CMPI, TEST, SETCC, JMP, JCC, CALL, JMPR, CALLR, RET, PAUSE, INT, BRK, RDTSC, CPUID, HLT, CLI,
  STI, IN, INB, OUT, OUTB, INR, OUTR, MOVTOCR, MOVFROMCR, LIDT, INVLPG, LKSP, IRET, PUSHF, POPF,
  RDCPL, SIDT, HYPERCALL,
}

/** opcode -> handler; 0 (Handler.UD) for undefined opcodes */
const DECODE: Uint8Array = (() => {
  const pairs: [Op, Handler][] = [
    [Op.NOP, Handler.NOP], [Op.MOV, Handler.MOV], [Op.LI, Handler.LI], [Op.ADD, Handler.ADD], [Op.SUB, Handler.SUB],
    [Op.MUL, Handler.MUL], [Op.MULHU, Handler.MULHU], [Op.DIV, Handler.DIV], [Op.DIVU, Handler.DIVU], [Op.REM, Handler.REM],
    [Op.REMU, Handler.REMU], [Op.AND, Handler.AND], [Op.OR, Handler.OR], [Op.XOR, Handler.XOR], [Op.SHL, Handler.SHL],
    [Op.SHR, Handler.SHR], [Op.SAR, Handler.SAR], [Op.NOT, Handler.NOT], [Op.NEG, Handler.NEG], [Op.ADDI, Handler.ADDI],
    [Op.MULI, Handler.MULI], [Op.ANDI, Handler.ANDI], [Op.ORI, Handler.ORI], [Op.XORI, Handler.XORI], [Op.SHLI, Handler.SHLI],
    [Op.SHRI, Handler.SHRI], [Op.SARI, Handler.SARI], [Op.LDW, Handler.LDW], [Op.LDH, Handler.LDH], [Op.LDHU, Handler.LDHU],
    [Op.LDB, Handler.LDB], [Op.LDBU, Handler.LDBU], [Op.STW, Handler.STW], [Op.STH, Handler.STH], [Op.STB, Handler.STB], [Op.XCHG, Handler.XCHG],
    [Op.PUSH, Handler.PUSH], [Op.POP, Handler.POP], [Op.CMP, Handler.CMP], [Op.CMPI, Handler.CMPI], [Op.TEST, Handler.TEST],
    [Op.SETCC, Handler.SETCC], [Op.JMP, Handler.JMP], [Op.JCC, Handler.JCC], [Op.CALL, Handler.CALL], [Op.JMPR, Handler.JMPR],
    [Op.CALLR, Handler.CALLR], [Op.RET, Handler.RET], [Op.INT, Handler.INT], [Op.BRK, Handler.BRK], [Op.RDTSC, Handler.RDTSC],
    [Op.CPUID, Handler.CPUID], [Op.HLT, Handler.HLT], [Op.CLI, Handler.CLI], [Op.STI, Handler.STI], [Op.IN, Handler.IN],
    [Op.INB, Handler.INB], [Op.OUT, Handler.OUT], [Op.OUTB, Handler.OUTB], [Op.INR, Handler.INR], [Op.OUTR, Handler.OUTR],
    [Op.MOVTOCR, Handler.MOVTOCR], [Op.MOVFROMCR, Handler.MOVFROMCR], [Op.LIDT, Handler.LIDT], [Op.INVLPG, Handler.INVLPG],
    [Op.LKSP, Handler.LKSP], [Op.IRET, Handler.IRET], [Op.PUSHF, Handler.PUSHF], [Op.POPF, Handler.POPF], [Op.RDCPL, Handler.RDCPL],
    [Op.SIDT, Handler.SIDT], [Op.HYPERCALL, Handler.HYPERCALL], [Op.PAUSE, Handler.PAUSE],
  ];
  const t = new Uint8Array(256);
  for (const [op, h] of pairs) t[op] = h;
  for (const info of INSTRUCTIONS) {
    if (t[info.op] === Handler.UD) throw new Error(`machine/cpu.ts: no handler for opcode 0x${info.op.toString(16)} (${info.mnemonic})`);
  }
  return t;
})();

/** (cond << 3 | FLAGS & 7) -> 1 if the condition holds; conditions 10..15 never hold (isa.ts). */
const COND_TABLE: Uint8Array = (() => {
  const t = new Uint8Array(16 * 8);
  for (let c = 0; c < 16; c++) for (let f = 0; f < 8; f++) t[(c << 3) | f] = condHolds(c, f) ? 1 : 0;
  return t;
})();

/** The handler of each SEMANTICS row, in the table's order (generated), so the translator finds an opcode's definition. */
const SEMANTICS_HANDLERS: readonly Handler[] = [
  // @generated semantics-handlers begin (machine/semantics.ts, npm run gen:interp)
  Handler.NOP,
  Handler.MOV,
  Handler.LI,
  Handler.ADD,
  Handler.SUB,
  Handler.MUL,
  Handler.MULHU,
  Handler.DIV,
  Handler.DIVU,
  Handler.REM,
  Handler.REMU,
  Handler.AND,
  Handler.OR,
  Handler.XOR,
  Handler.SHL,
  Handler.SHR,
  Handler.SAR,
  Handler.NOT,
  Handler.NEG,
  Handler.ADDI,
  Handler.MULI,
  Handler.ANDI,
  Handler.ORI,
  Handler.XORI,
  Handler.SHLI,
  Handler.SHRI,
  Handler.SARI,
  Handler.LDW,
  Handler.LDH,
  Handler.LDHU,
  Handler.LDB,
  Handler.LDBU,
  Handler.STW,
  Handler.STH,
  Handler.STB,
  Handler.XCHG,
  Handler.PUSH,
  Handler.POP,
  Handler.CMP,
  Handler.CMPI,
  Handler.TEST,
  Handler.SETCC,
  Handler.JMP,
  Handler.JCC,
  Handler.CALL,
  Handler.JMPR,
  Handler.CALLR,
  Handler.RET,
  Handler.PAUSE,
  // @generated semantics-handlers end
];

/** opcode -> its definition in machine/semantics.ts, or null (the general path's alone) */
const SEMANTICS_BY_OP: ReadonlyArray<Semantics | null> = (() => {
  const byHandler = new Map<number, Semantics>();
  SEMANTICS_HANDLERS.forEach((h, k) => byHandler.set(h, SEMANTICS[k]![1]));
  return Array.from({ length: 256 }, (_, op) => byHandler.get(DECODE[op]!) ?? null);
})();

/** High 32 bits of the unsigned 64-bit product a * b. */
function mulhu(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const lo = a0 * b0, m1 = a1 * b0, m2 = a0 * b1;
  const carry = ((lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff)) >>> 16;
  return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + carry) | 0;
}

/** The largest deadline a translated function is given (relative to its entry; see runTranslated). */
const DL_MAX = 1 << 30;

/** Counters since power-on, Firecracker-style: every trap, walk, flush and exit is counted. */
export class CpuStats {
  /** TLB misses that walked (or identity-filled) a translation */
  tlbMisses = 0;
  tlbFlushes = 0;
  invlpgs = 0;
  /** events delivered through the IDT, by vector */
  readonly delivered = new Float64Array(256);
  /** external interrupts acknowledged and delivered */
  interrupts = 0;
  /** root-mode intercepts (Exception and ExternalInterrupt exits) */
  intercepts = 0;
  hypercalls = 0;
  vmExits = 0;
  vmEntries = 0;
  portReads = 0;
  portWrites = 0;
  doubleFaults = 0;
  tripleFaults = 0;
}

/** A snapshot of the architectural state (vCPU save/restore, migration, tests). */
/**
 * Called by the fast loop at a block boundary it would stop at (Cpu.runToBoundary), with the next
 * pc and the cycles since the loop began (the CPU's `cycles` holds the count at its start until
 * the loop returns): a negative result stops the loop there (nothing done), else the loop goes on
 * from pc after adding that many cycles (charged by the probe in the ledger: not base cycles). It
 * must not change the CPU's state (the loop holds pc, cycles and FLAGS in locals).
 */
export type BoundaryProbe = (pc: number, cyc: number) => number;

export interface CpuState {
  regs: number[];
  pc: number;
  flags: number;
  cpl: number;
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  idtBase: number;
  idtLimit: number;
  ksp: number[];
  cycles: number;
  instructions: number;
  halted: boolean;
  nonRoot: boolean;
}

export class Cpu implements MmuHost {
  // --- architectural state ---
  /** r0..r15 (signed view; r15 is sp) */
  readonly regs = new Int32Array(NUM_REGS);
  /** address of the next instruction (unsigned) */
  pc = 0;
  flags = 0;
  cpl = 0;
  cr0 = 0;
  cr2 = 0;
  /** physical (guest-physical in non-root mode) address of the page directory */
  cr3 = 0;
  cr4 = 0;
  /** IDT virtual base (unsigned) and entry count */
  idtBase = 0;
  idtLimit = 0;
  /** kernel stack pointers of rings 0..2 (the TSS role) */
  readonly ksp = new Int32Array(3);
  /** the time-stamp counter: simulated cycles, an integer-valued double */
  cycles = 0;
  /** instructions retired */
  instructions = 0;
  /**
   * The cost ledger (machine/ledger.ts): cycles = baseCycles + sum over kinds k of
   * evCount[k] x evUnit[k], exactly. baseCycles are the instructions' own costs (costs[op] and
   * a taken branch's extra); every other charge is a counted event, made through charge().
   */
  baseCycles = 0;
  readonly evCount = new Float64Array(EV_KINDS);
  /** cycles per event of each kind: the profile's, and the hypervisor's software paths (set by its mode) */
  readonly evUnit: Float64Array;
  /**
   * added to the cycle counter by RDTSC outside non-root mode (where the VMCS's offset applies):
   * a restored pv domain's time goes on from where it was saved (hypervisor/pv/time.ts)
   */
  tscOffset = 0;
  /** called at each RDTSC at CPL 3, before it reads the counter (the comparison's per-benchmark breakdown) */
  onUserRdtsc: (() => void) | null = null;
  /** called at each RDTSC at CPL 0..2, before it reads the counter (the nanobenchmarks' breakdown: timed inside the kernel) */
  onKernelRdtsc: (() => void) | null = null;
  /** in HLT, waiting for an interrupt */
  halted = false;

  // --- instruction-count hook (harnesses: differential fuzzing) ---
  /**
   * At the first block boundary an instruction reaches once `instructions >= instructionHookAt`,
   * run() disarms the hook (sets this to Infinity) and calls `instructionHook`, before it looks
   * at interrupts: an interrupt the hook raises is taken at that very boundary. So a harness acts
   * at the same guest instruction whatever the engine or virtualization mode. While armed, run()
   * uses the general path alone (one boundary check per block, no fast-path change). A monitor
   * that completes a boundary instruction itself (an emulated STI, IRET or OUT, a reflected
   * exception) or steps instructions outside run() calls instructionBoundary() there.
   */
  instructionHookAt = Infinity;
  instructionHook: (() => void) | null = null;

  // --- monitor stops (exact breakpoints and single steps; daemon/host.ts) ---
  /**
   * While `monitorStop` is set, run() uses the general path alone and, before each instruction
   * (not only at block boundaries), returns Exit.Stopped with `monitorStopped` set if
   * `instructions >= stopAtInstruction`, or if `instructions >= breakArmedAt` and the pc is one
   * of `breakPcs`. Nothing of the instruction has happened then, so the state is exact and run()
   * can be called again: `breakArmedAt = instructions + 1` leaves a breakpoint without stopping
   * at it again, `stopAtInstruction = instructions + 1` runs exactly one instruction. Unset (the
   * default), the cost is one boolean test per general-path instruction and none on the fast path.
   */
  monitorStop = false;
  /** set when run() returned Exit.Stopped for a monitor stop (the caller clears it) */
  monitorStopped = false;
  stopAtInstruction = Infinity;
  breakArmedAt = 0;
  breakPcs: ReadonlySet<number> | null = null;

  // --- root-mode hooks for a hypervisor (ring 0 belongs to it) ---
  /** vector v set: an exception, INT n or BRK of that vector exits with Exit.Exception instead of IDT delivery; an external interrupt of that vector exits with Exit.ExternalInterrupt */
  readonly interceptVector = new Uint8Array(256);
  /** every deliverable external interrupt exits with Exit.ExternalInterrupt, unacknowledged */
  interceptExternalInterrupts = false;
  /** HYPERCALL exits with Exit.Hypercall (else it is #UD) */
  hypercallExits = false;

  // --- non-root mode ---
  nonRoot = false;
  vmcs: Vmcs | null = null;

  // --- exit information (valid after run() returns the matching Exit) ---
  /** Exception / ExternalInterrupt: the vector */
  exitVector = 0;
  /** Exception: the error code */
  exitError = 0;
  /** Exception / ExternalInterrupt: how the event arose (saved pc follows from it) */
  exitKind: EventKind = EventKind.Fault;
  /** Io: port, size in bytes, direction, the value written (OUT), the destination register (IN) */
  exitPort = 0;
  exitSize = 0;
  exitIsWrite = false;
  exitData = 0;
  exitReg = 0;
  /** CrAccess, EptViolation, Invlpg, Exception(#PF in non-root: the address) */
  exitQualification = 0;
  exitGuestPhys = 0;
  exitGuestLinear = 0;
  /** the instruction that exited (instruction exits leave pc past it) */
  exitInsnPc = 0;
  exitInsnLength = 0;
  /** an event whose delivery the exit interrupted, or -1 (re-inject it) */
  exitIdtVectoring = -1;
  exitIdtVectoringError = 0;
  exitIdtVectoringKind: EventKind = EventKind.External;

  /** false: run only the general-path engine (for equivalence tests) */
  fastPath = true;
  /**
   * The translator's dispatcher makes the walk of a fetch that misses the TLB itself (fetchWalk;
   * false: it leaves that instruction to step(), as the fast loop does). Host side only: the same
   * simulation either way (tests and bench/fetch-walk.ts compare the two).
   */
  fetchWalk = true;
  /**
   * The engine run() uses besides the general path: the interpreter's fast loop, or translated
   * code (machine/translator.ts) for hot code and the fast loop for the rest. Same cycles,
   * instructions, traps and interrupt points either way.
   */
  engine: Engine = DEFAULT_ENGINE;
  /** limits for the translator, read when it is created (first run under the translator; see also withTranslatorLimits) */
  translatorLimits: Partial<TranslatorLimits> = {};
  /**
   * per physical frame: nonzero while code some engine built from it exists (every store checks
   * it): bit TB_TRANSLATED the translator's (it sets and clears it), bit TB_HOOKED a code-store
   * hook's (markCodeFrame: binary translation's units; never cleared)
   */
  private readonly tbFrame: Uint8Array;
  private tx: Translator | null = null;
  readonly stats = new CpuStats();
  readonly profile: CostProfile;
  /** per-opcode base cost (machine/costs.ts) */
  readonly costs: Uint16Array;
  private readonly takenExtra: number;

  /** this CPU's MMU: paging, the TLB and instruction TLB, the second stage, log-dirty protection */
  readonly mmu: Mmu;

  /** the current run()'s deadline (see shortenDeadline) */
  private deadline = 0;
  /** nonzero: something must be looked at at the next boundary */
  private attn = 0;
  /** the interrupt controller may have a deliverable line */
  private irqLine = true;
  private stopReq = false;
  private injectPending = false;

  /** a slow-path access failed: a fault to raise or a VM exit to take */
  private pend = PEND_NONE;
  private pendVector = 0;
  private pendError = 0;
  private pendAddr = 0;
  /** the last refill()'s walk references, entered in the ledger by refillCharged() */
  private refillTlbRefs = 0;
  private refillEptRefs = 0;
  /** walk cycles the current runFast() added to its count, and those its boundary probe charged (not base cycles) */
  private loopWalkCycles = 0;
  /** deliverTrap() for a host that builds the frame in software: the delivery is not charged */
  private unchargedDelivery = false;

  constructor(
    readonly mem: PhysicalMemory,
    readonly bus: IoBus,
    readonly pic: InterruptController,
    profile: CostProfile,
    /** the marks of frames holding translated code, shared by the CPUs of one machine (default: this CPU's own) */
    tbFrame?: Uint8Array,
  ) {
    this.profile = profile;
    this.costs = opcodeCosts(profile);
    this.evUnit = ledgerUnits(profile, VMCS_READS_PER_EXIT);
    this.takenExtra = profile.branchTaken - profile.branch;
    this.tbFrame = tbFrame ?? new Uint8Array(mem.frames);
    this.mmu = new Mmu(this, mem, profile);
    // Fields that come to hold numbers outside the small-integer range (cycle counts charged from
    // the Float64Array ledger, a deadline, walk references, 32-bit addresses) take V8's double
    // representation now (machine/shapes.ts): a field that first holds small integers and later a
    // double changes the CPU's map, and every function optimized for the old one (the fast loop,
    // the walk, the refill, translated code) deoptimized once per process.
    doubleFields(this, ['cycles', 'baseCycles', 'instructions', 'deadline', 'refillTlbRefs', 'refillEptRefs', 'loopWalkCycles', 'txDc', 'idtBase', 'cr2', 'pendAddr', 'exitQualification']);
  }

  /** the CPUs of this CPU's machine, itself included (SMP; empty on a uniprocessor) */
  smpPeers: readonly Cpu[] = [];

  /**
   * Called with (host-physical address, size) on every CPU store into a frame marked for it
   * (markCodeFrame): the fast loop's, step()'s, translated code's and the walk's accessed/dirty
   * writes. Returning true makes the fast loop leave after a plain store (STW/STH/STB, XCHG, PUSH),
   * the store done: binary translation's unit loop checks the unit's words again before going on.
   * (Translated code leaves after every store into such a frame: txStored.)
   */
  codeStoreHook: ((pa: number, size: number) => boolean) | null = null;

  /** The translation cache, once the translator engine has run (stats, flush). */
  get translator(): Translator | null {
    return this.tx;
  }

  /** The translator, created now if it was not yet (binary translation compiles its units' instructions with it: hypervisor/bt). */
  useTranslator(): Translator {
    return this.tx ?? (this.tx = this.makeTranslator());
  }

  private makeTranslator(): Translator {
    const tx = this.newTranslator();
    // SMP: the CPUs' translation caches drop each other's stale code (machine/translator.ts peers)
    for (const p of this.smpPeers) {
      if (p === this || p.tx === null) continue;
      tx.peers.push(p.tx);
      p.tx.peers.push(tx);
    }
    return tx;
  }

  private newTranslator(): Translator {
    const mmu = this.mmu;
    return new Translator(
      {
        cpu: this,
        regs: this.regs,
        mem: this.mem,
        mmu,
        costs: this.costs,
        takenExtra: this.takenExtra,
        semByOp: SEMANTICS_BY_OP,
        insnBytes: INSN_BYTES,
        tbFrame: this.tbFrame,
        names: {
          cpu: this,
          R: this.regs,
          m32: this.mem.i32,
          m16: this.mem.u16,
          s16: this.mem.i16,
          m8: this.mem.u8,
          s8: this.mem.i8,
          ta: mmu.tlbAdd,
          tbFrame: this.tbFrame,
          tlbFind,
          find: tlbFinder(mmu.tlbWays),
          pageAt: pageChecker(mmu.tlbWays),
          mulhu,
          sm: mmu.setMask,
          ws: mmu.wayShift,
          ways: mmu.tlbWays,
          taken: this.takenExtra,
          notCond: ~FLAGS_COND,
          CONT,
          BOUND,
          ACC_READ,
          ACC_WRITE,
          PAGE_MASK,
        },
      },
      this.translatorLimits,
    );
  }

  // ===================================================================================== run loop

  /**
   * Run until cycles >= deadline (checked at block boundaries) or something needs the caller:
   * returns the Exit. Deterministic: the same state and inputs give the same result and cycles.
   */
  run(deadline: number): Exit {
    if (this.nonRoot && !this.vmcs) throw new Error('Cpu.run: non-root mode without a VMCS');
    this.deadline = deadline;
    this.updateAttn();
    let boundary = true;
    /** the boundary at entry was reached before this call (by an exit or a monitor), not by an instruction here */
    let entry = true;
    for (;;) {
      if (boundary) {
        if (!entry && this.instructions >= this.instructionHookAt) this.instructionBoundary();
        entry = false;
        if (this.attn !== 0) {
          const x = this.serviceEvents();
          if (x >= 0) return x as Exit;
        }
        if (this.halted) return Exit.Halted;
        if (this.cycles >= this.deadline) return Exit.Deadline;
        boundary = false;
      }
      if (this.fastPath && this.instructionHookAt === Infinity && !this.monitorStop && (this.engine === 'translator' ? this.runTranslated() : this.runFast(this.deadline, null)) === BOUND) {
        boundary = true;
        continue;
      }
      if (this.monitorStop && this.monitorStopDue()) {
        this.monitorStopped = true;
        return Exit.Stopped;
      }
      const res = this.step();
      if (res >= 0) return res as Exit;
      boundary = res === BOUND;
    }
  }

  /**
   * The fast loop from pc to its first block boundary: BOUND once a control transfer retired,
   * CONT before the first instruction it leaves to step() (nothing of that one done). Binary
   * translation's unit loop (hypervisor/bt) runs a unit's straight run of innocuous instructions
   * with it; the caller checks what run() checks first (fastPath, no instruction hook, no monitor
   * stop). With a probe, at each block boundary the probe decides whether the loop goes on
   * (BoundaryProbe): binary translation enters its next translation unit there.
   */
  runToBoundary(probe: BoundaryProbe | null = null): number {
    // (a deadline at or before the count: it stops at the first boundary; 0, a small integer, not a boxed double)
    return this.runFast(0, probe);
  }

  /** Does a monitor stop come before the next instruction? (see monitorStop) */
  private monitorStopDue(): boolean {
    if (this.instructions >= this.stopAtInstruction) return true;
    const bp = this.breakPcs;
    return bp !== null && this.instructions >= this.breakArmedAt && bp.has(this.pc >>> 0);
  }

  /** A block boundary reached outside run()'s own loop: fire the instruction-count hook if it is due. */
  instructionBoundary(): void {
    if (this.instructions < this.instructionHookAt) return;
    this.instructionHookAt = Infinity;
    this.instructionHook?.();
  }

  /**
   * Bring the current run's deadline forward to `cycle` if it is earlier: the platform calls this
   * when a device schedules an event during the run (e.g. from an OUT), so the event fires on time.
   */
  shortenDeadline(cycle: number): void {
    if (cycle < this.deadline) this.deadline = cycle;
  }

  /** Make run() return Exit.Stopped at the next block boundary. */
  requestStop(): void {
    this.stopReq = true;
    this.attn = 1;
  }

  /** The platform calls this whenever the interrupt controller's state changes. */
  interruptLineChanged(): void {
    this.irqLine = true;
    this.updateAttn();
  }

  private updateAttn(): void {
    const intr = (this.flags & F_IF) !== 0;
    let a = this.stopReq || this.injectPending;
    if (this.nonRoot && this.vmcs) {
      const vm = this.vmcs;
      a = a || (this.irqLine && (intr || vm.exitOnExternalInterrupt)) || (vm.interruptWindowExiting && intr);
    } else {
      a = a || (this.irqLine && intr);
    }
    this.attn = a ? 1 : 0;
  }

  /** Boundary work: stop requests, injection, interrupt window, external interrupts. Returns an Exit or -1. */
  private serviceEvents(): number {
    if (this.stopReq) {
      this.stopReq = false;
      this.updateAttn();
      return Exit.Stopped;
    }
    if (this.injectPending) {
      this.injectPending = false;
      const vm = this.vmcs;
      if (vm && this.nonRoot && vm.injectVector >= 0) {
        const v = vm.injectVector & 0xff;
        vm.injectVector = -1;
        const pc = this.pc | 0;
        const kind = vm.injectKind;
        const len = kind === EventKind.Software || kind === EventKind.Trap ? vm.injectInsnLength : 0;
        vm.injectInsnLength = 0;
        const res = this.raise(v, vm.injectError, (pc + len) | 0, kind, pc, -1, true);
        if (res >= 0) return res;
        // an injected exception delivered ends a block, as one the guest raised itself would
        if (kind !== EventKind.External) this.instructionBoundary();
      }
    }
    const intr = (this.flags & F_IF) !== 0;
    if (this.nonRoot && this.vmcs) {
      const vm = this.vmcs;
      if (vm.interruptWindowExiting && intr) {
        this.setInsnExit(this.pc | 0, 0);
        return this.vmExit(Exit.InterruptWindow);
      }
      if (this.irqLine && (intr || vm.exitOnExternalInterrupt)) {
        const v = this.pic.pendingVector();
        if (v < 0) {
          this.irqLine = false;
        } else if (vm.exitOnExternalInterrupt) {
          this.exitVector = v;
          this.exitError = 0;
          this.exitKind = EventKind.External;
          this.exitIdtVectoring = -1;
          this.setInsnExit(this.pc | 0, 0);
          return this.vmExit(Exit.ExternalInterrupt);
        } else {
          const res = this.takeInterrupt();
          if (res >= 0) return res;
        }
      }
    } else if (this.irqLine && intr) {
      const v = this.pic.pendingVector();
      if (v < 0) {
        this.irqLine = false;
      } else if (this.interceptExternalInterrupts || this.interceptVector[v] !== 0) {
        this.exitVector = v;
        this.exitError = 0;
        this.exitKind = EventKind.External;
        this.exitIdtVectoring = -1;
        this.halted = false;
        this.stats.intercepts++;
        return Exit.ExternalInterrupt;
      } else {
        const res = this.takeInterrupt();
        if (res >= 0) return res;
      }
    }
    this.updateAttn();
    return -1;
  }

  /** INTA and deliver through the IDT. */
  private takeInterrupt(): number {
    const v = this.pic.acknowledge();
    if (v < 0) return -1;
    this.stats.interrupts++;
    const pc = this.pc | 0;
    const res = this.raise(v, 0, pc, EventKind.External, pc, -1);
    return res >= 0 ? res : -1;
  }

  // =================================================================================== translator

  /**
   * The translator's dispatch loop, called where run() would call runFast: the instruction TLB
   * exactly as the fast loop keeps it, then the translation entered at pc (or, while pc is cold,
   * the fast loop for one block). Chains from one translation to the next at block boundaries
   * while no event is pending and the deadline is ahead. Returns BOUND or CONT as runFast does.
   */
  private runTranslated(): number {
    const tx = this.tx ?? (this.tx = this.makeTranslator());
    const mmu = this.mmu;
    for (;;) {
      const pc = this.pc | 0;
      const user = this.cpl === 3;
      const tr = user ? mmu.tlbRU : mmu.tlbRS;
      if (mmu.icUser !== user) {
        mmu.icV = INVALID;
        mmu.icUser = user;
      }
      if ((pc & 0xfffff003) !== mmu.icV) {
        if ((pc & 3) !== 0) return CONT;
        let e = tlbFind(tr, ((pc >>> 12) & mmu.setMask) << mmu.wayShift, mmu.tlbWays, pc & PAGE_MASK);
        if (e < 0 && (!this.fetchWalk || (e = this.walkFetch(pc, user, tr)) < 0)) return CONT;
        mmu.icV = pc & PAGE_MASK;
        mmu.icA = mmu.tlbAdd[e]!;
        this.mem.codePage[(pc + mmu.icA) >>> 12] = 1;
      }
      const fn = tx.lookup(pc, (pc + mmu.icA) | 0, tr);
      // cold: the fast loop for a slice of cycles, ending at a block boundary (an extra boundary
      // stop changes nothing: run() would find no event and the deadline ahead, and call back here)
      let why: number;
      if (fn === null) {
        const n0 = this.instructions;
        why = this.runFast(Math.min(this.deadline, this.cycles + tx.coldCycles), null, tx.loopHeat, tx.loopHot);
        tx.stats.coldInstructions += this.instructions - n0;
      } else {
        tx.stats.entries++;
        // the deadline relative to entry as a small integer (cycles are integers, so cyc >= dl means
        // the same): V8's optimized translated code compares small integers and deoptimized on the
        // first -Infinity or huge deadline; -1 stops at the first boundary (an event pending), and a
        // stop at 2^30 cycles is an extra boundary that changes nothing (the loop goes on)
        const dl = this.attn !== 0 ? -1 : Math.max(-1, Math.min(DL_MAX, Math.ceil(this.deadline - this.cycles)));
        why = fn(tx.ctx, tr, user ? mmu.tlbWU : mmu.tlbWS, user, dl);
      }
      if (why !== BOUND || this.attn !== 0 || this.cycles >= this.deadline) return why;
    }
  }

  /**
   * The dispatcher's fetch that missed the TLB (after a flush: a CR3 load, a VM entry or exit
   * without a VPID): the walk step()'s fetch would make, made here and charged the same, so the
   * instruction runs in translated code or a cold slice instead of on the general path. Returns
   * the TLB entry, or -1 with no trace left when the walk fails (step() walks again and raises)
   * or leaves no entry (a page outside memory: step() walks again). Out of line: the dispatcher's
   * own loop stays small.
   */
  private walkFetch(pc: number, user: boolean, tr: Int32Array): number {
    const dc = this.refill(pc, ACC_FETCH, user);
    if (dc < 0) return -1;
    const mmu = this.mmu;
    const e = tlbFind(tr, ((pc >>> 12) & mmu.setMask) << mmu.wayShift, mmu.tlbWays, pc & PAGE_MASK);
    if (e < 0) {
      this.stats.tlbMisses--;
      return -1;
    }
    this.evCount[EV_TLB_WALK]! += this.refillTlbRefs;
    this.evCount[EV_EPT_WALK]! += this.refillEptRefs;
    this.cycles += dc;
    return e;
  }

  /**
   * The MMU's walk set accessed/dirty bits in the word at host-physical pa: if that frame holds
   * code some engine cached (a page table sharing a frame with code), drop what was built from
   * it: the translator's and bt's translations (through the memory's code marks), as a store would.
   */
  tablesWritten(pa: number): void {
    const f = pa >>> 12;
    if (this.mem.codePage[f] !== 0) this.mem.noteWrite(pa, 4);
    if (this.tbFrame[f] !== 0) this.codeStored(pa, 4);
  }

  /**
   * A store to host-physical pa hit a frame holding translated code: drop what it overlaps (on every
   * CPU), and tell the code-store hook. True when the hook asks the fast loop to leave after the store.
   */
  private codeStored(pa: number, size: number): boolean {
    const m = this.tbFrame[pa >>> 12]!;
    let stop = false;
    if ((m & TB_HOOKED) !== 0) {
      this.hookStores = (this.hookStores + 1) & 0x3fffffff;
      stop = this.codeStoreHook !== null && this.codeStoreHook(pa, size);
    }
    if ((m & TB_TRANSLATED) === 0) return stop;
    if (this.tx !== null) {
      this.tx.codeWritten(pa, size);
      return stop;
    }
    // this CPU has no translator (yet): the marks are another CPU's
    for (const p of this.smpPeers) {
      if (p.tx !== null) {
        p.tx.codeWritten(pa, size);
        return stop;
      }
    }
    return stop;
  }

  /**
   * Mark frame f as holding code some engine built (hypervisor/bt's translation units): every CPU
   * store into it, translated code's and the walk's accessed/dirty writes included, then reaches
   * codeStored and the code-store hook. The mark is a bit of its own (TB_HOOKED), which the
   * translator's marks of its own code leave alone, until that engine takes it away (unmarkCodeFrame).
   */
  markCodeFrame(f: number): void {
    this.tbFrame[f]! |= TB_HOOKED;
  }

  /** Take frame f's mark for the code-store hook away (its engine holds no code built from it any more): its stores are plain again. */
  unmarkCodeFrame(f: number): void {
    this.tbFrame[f]! &= ~TB_HOOKED;
  }

  /** Is frame f marked for the code-store hook (markCodeFrame)? */
  codeFrameMarked(f: number): boolean {
    return (this.tbFrame[f]! & TB_HOOKED) !== 0;
  }

  /** CPU stores into frames marked for the code-store hook (wrapping; txMiss compares it around a walk) */
  private hookStores = 0;

  /**
   * A translated store of size bytes to host-physical pa hit a marked frame (machine/semantics.ts
   * txStored): tell the code-store hook and the translator (codeStored). True when the function
   * must leave right after the store: it dropped translations, or the frame is marked for the
   * hook (its code is checked by whoever built it only when the function has left).
   */
  txStored(pa: number, size: number): boolean {
    const m = this.tbFrame[pa >>> 12]!;
    if (m === TB_TRANSLATED) return this.tx!.codeWritten(pa, size);
    this.codeStored(pa, size);
    return true;
  }

  // ==================================================================================== fast path

  /**
   * The hot loop. Returns BOUND at a block boundary, CONT when the instruction at this.pc needs
   * step() (nothing of it has been executed).
   */
  private runFast(deadline: number, probe: BoundaryProbe | null, lh: Int32Array | null = null, loopHot = 0): number {
    const r = this.regs;
    const mem = this.mem;
    const m32 = mem.i32;
    const m16 = mem.u16;
    const s16 = mem.i16;
    const m8 = mem.u8;
    const s8 = mem.i8;
    const codePage = mem.codePage;
    const tbFrame = this.tbFrame;
    const cost = this.costs;
    const decode = DECODE;
    const condT = COND_TABLE;
    const taken = this.takenExtra;
    const notCond = ~FLAGS_COND;
    const user = this.cpl === 3;
    // the MMU's TLB, read inline (machine/mmu.ts: only it writes the arrays)
    const mmu = this.mmu;
    const tr = user ? mmu.tlbRU : mmu.tlbRS;
    const tw = user ? mmu.tlbWU : mmu.tlbWS;
    const ta = mmu.tlbAdd;
    const sm = mmu.setMask;
    const ws = mmu.wayShift;
    const ways = mmu.tlbWays;
    let icV = mmu.icUser === user ? mmu.icV : INVALID;
    let icA = mmu.icA;
    let pc = this.pc | 0;
    // cycles and instructions of this call, as small integers (cheaper than double accumulators)
    const cyc0 = this.cycles;
    let cyc = 0;
    let n = 0;
    let fl = this.flags;
    let why = CONT;
    /** cycles charged by a TLB refill done without leaving the loop */
    let dc = 0;
    // Nothing inside this loop can change attn (it makes no calls), so it is read once: a
    // pending event makes the first block boundary end the loop.
    const dl = this.attn !== 0 ? -Infinity : deadline - cyc0;
    this.loopWalkCycles = 0;

    loop: for (;;) {
      if ((pc & 0xfffff003) !== icV) {
        // leaving the code page (or unaligned pc): refill the ITLB from the TLB, else step()
        if ((pc & 3) !== 0) break;
        const e = tlbFind(tr, ((pc >>> 12) & sm) << ws, ways, pc & PAGE_MASK);
        if (e < 0) break;
        icV = pc & PAGE_MASK;
        icA = ta[e]!;
        codePage[(pc + icA) >>> 12] = 1;
      }
      const w = m32[(pc + icA) >> 2]!;
      switch (decode[w & 0xff]) {
        // @generated fast-cases begin (machine/semantics.ts, npm run gen:interp)
        case Handler.NOP:
          break;
        case Handler.MOV:
          r[(w >>> 8) & 15] = r[(w >>> 12) & 15]!;
          break;
        case Handler.LI:
          if ((pc & 0xffc) === 0xffc) break loop; // extension word on the next page
          r[(w >>> 8) & 15] = m32[(pc + icA + 4) >> 2]!;
          pc = (pc + 8) | 0;
          cyc += cost[w & 0xff]!;
          n++;
          continue;
        case Handler.ADD:
          r[(w >>> 8) & 15] = (r[(w >>> 12) & 15]! + r[(w >>> 16) & 15]!) | 0;
          break;
        case Handler.SUB:
          r[(w >>> 8) & 15] = (r[(w >>> 12) & 15]! - r[(w >>> 16) & 15]!) | 0;
          break;
        case Handler.MUL:
          r[(w >>> 8) & 15] = Math.imul(r[(w >>> 12) & 15]!, r[(w >>> 16) & 15]!);
          break;
        case Handler.MULHU:
          r[(w >>> 8) & 15] = mulhu(r[(w >>> 12) & 15]!, r[(w >>> 16) & 15]!);
          break;
        case Handler.DIV: {
          const b = r[(w >>> 16) & 15]!;
          if (b === 0) break loop;
          r[(w >>> 8) & 15] = (r[(w >>> 12) & 15]! / b) | 0;
          break;
        }
        case Handler.DIVU: {
          const b = r[(w >>> 16) & 15]! >>> 0;
          if (b === 0) break loop;
          r[(w >>> 8) & 15] = ((r[(w >>> 12) & 15]! >>> 0) / b) | 0;
          break;
        }
        case Handler.REM: {
          const b = r[(w >>> 16) & 15]!;
          if (b === 0) break loop;
          r[(w >>> 8) & 15] = (r[(w >>> 12) & 15]! % b) | 0;
          break;
        }
        case Handler.REMU: {
          const b = r[(w >>> 16) & 15]! >>> 0;
          if (b === 0) break loop;
          r[(w >>> 8) & 15] = ((r[(w >>> 12) & 15]! >>> 0) % b) | 0;
          break;
        }
        case Handler.AND:
          r[(w >>> 8) & 15] = r[(w >>> 12) & 15]! & r[(w >>> 16) & 15]!;
          break;
        case Handler.OR:
          r[(w >>> 8) & 15] = r[(w >>> 12) & 15]! | r[(w >>> 16) & 15]!;
          break;
        case Handler.XOR:
          r[(w >>> 8) & 15] = r[(w >>> 12) & 15]! ^ r[(w >>> 16) & 15]!;
          break;
        case Handler.SHL:
          r[(w >>> 8) & 15] = r[(w >>> 12) & 15]! << r[(w >>> 16) & 15]!;
          break;
        case Handler.SHR:
          r[(w >>> 8) & 15] = (r[(w >>> 12) & 15]! >>> r[(w >>> 16) & 15]!) | 0;
          break;
        case Handler.SAR:
          r[(w >>> 8) & 15] = r[(w >>> 12) & 15]! >> r[(w >>> 16) & 15]!;
          break;
        case Handler.NOT:
          r[(w >>> 8) & 15] = ~r[(w >>> 12) & 15]!;
          break;
        case Handler.NEG:
          r[(w >>> 8) & 15] = -r[(w >>> 12) & 15]! | 0;
          break;
        case Handler.ADDI:
          r[(w >>> 8) & 15] = (r[(w >>> 12) & 15]! + (w >> 16)) | 0;
          break;
        case Handler.MULI:
          r[(w >>> 8) & 15] = Math.imul(r[(w >>> 12) & 15]!, (w >> 16));
          break;
        case Handler.ANDI:
          r[(w >>> 8) & 15] = r[(w >>> 12) & 15]! & (w >> 16);
          break;
        case Handler.ORI:
          r[(w >>> 8) & 15] = r[(w >>> 12) & 15]! | (w >> 16);
          break;
        case Handler.XORI:
          r[(w >>> 8) & 15] = r[(w >>> 12) & 15]! ^ (w >> 16);
          break;
        case Handler.SHLI:
          r[(w >>> 8) & 15] = r[(w >>> 12) & 15]! << (w >> 16);
          break;
        case Handler.SHRI:
          r[(w >>> 8) & 15] = (r[(w >>> 12) & 15]! >>> (w >> 16)) | 0;
          break;
        case Handler.SARI:
          r[(w >>> 8) & 15] = r[(w >>> 12) & 15]! >> (w >> 16);
          break;
        case Handler.LDW: {
          const va = (r[(w >>> 12) & 15]! + (w >> 16)) | 0;
          let e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & 0xfffff003);
          if (e < 0) {
            if ((va & 3) !== 0 || (dc = this.refill(va, ACC_READ, user)) < 0 || (e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & 0xfffff003)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          r[(w >>> 8) & 15] = m32[(va + ta[e]!) >> 2]!;
          break;
        }
        case Handler.LDH: {
          const va = (r[(w >>> 12) & 15]! + (w >> 16)) | 0;
          let e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & 0xfffff001);
          if (e < 0) {
            if ((va & 1) !== 0 || (dc = this.refill(va, ACC_READ, user)) < 0 || (e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & 0xfffff001)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          r[(w >>> 8) & 15] = s16[(va + ta[e]!) >> 1]!;
          break;
        }
        case Handler.LDHU: {
          const va = (r[(w >>> 12) & 15]! + (w >> 16)) | 0;
          let e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & 0xfffff001);
          if (e < 0) {
            if ((va & 1) !== 0 || (dc = this.refill(va, ACC_READ, user)) < 0 || (e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & 0xfffff001)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          r[(w >>> 8) & 15] = m16[(va + ta[e]!) >> 1]!;
          break;
        }
        case Handler.LDB: {
          const va = (r[(w >>> 12) & 15]! + (w >> 16)) | 0;
          let e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & PAGE_MASK);
          if (e < 0) {
            if ((dc = this.refill(va, ACC_READ, user)) < 0 || (e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & PAGE_MASK)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          r[(w >>> 8) & 15] = s8[(va + ta[e]!) | 0]!;
          break;
        }
        case Handler.LDBU: {
          const va = (r[(w >>> 12) & 15]! + (w >> 16)) | 0;
          let e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & PAGE_MASK);
          if (e < 0) {
            if ((dc = this.refill(va, ACC_READ, user)) < 0 || (e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & PAGE_MASK)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          r[(w >>> 8) & 15] = m8[(va + ta[e]!) | 0]!;
          break;
        }
        case Handler.STW: {
          const va = (r[(w >>> 12) & 15]! + (w >> 16)) | 0;
          let e = tlbFind(tw, ((va >>> 12) & sm) << ws, ways, va & 0xfffff003);
          if (e < 0) {
            if ((va & 3) !== 0 || (dc = this.refill(va, ACC_WRITE, user)) < 0 || (e = tlbFind(tw, ((va >>> 12) & sm) << ws, ways, va & 0xfffff003)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          m32[(va + ta[e]!) >> 2] = r[(w >>> 8) & 15]!;
          if (tbFrame[(va + ta[e]!) >>> 12] !== 0 && this.codeStored((va + ta[e]!) | 0, 4)) {
            pc = (pc + 4) | 0;
            cyc += cost[w & 0xff]!;
            n++;
            break loop;
          }
          break;
        }
        case Handler.STH: {
          const va = (r[(w >>> 12) & 15]! + (w >> 16)) | 0;
          let e = tlbFind(tw, ((va >>> 12) & sm) << ws, ways, va & 0xfffff001);
          if (e < 0) {
            if ((va & 1) !== 0 || (dc = this.refill(va, ACC_WRITE, user)) < 0 || (e = tlbFind(tw, ((va >>> 12) & sm) << ws, ways, va & 0xfffff001)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          m16[(va + ta[e]!) >> 1] = r[(w >>> 8) & 15]!;
          if (tbFrame[(va + ta[e]!) >>> 12] !== 0 && this.codeStored((va + ta[e]!) | 0, 2)) {
            pc = (pc + 4) | 0;
            cyc += cost[w & 0xff]!;
            n++;
            break loop;
          }
          break;
        }
        case Handler.STB: {
          const va = (r[(w >>> 12) & 15]! + (w >> 16)) | 0;
          let e = tlbFind(tw, ((va >>> 12) & sm) << ws, ways, va & PAGE_MASK);
          if (e < 0) {
            if ((dc = this.refill(va, ACC_WRITE, user)) < 0 || (e = tlbFind(tw, ((va >>> 12) & sm) << ws, ways, va & PAGE_MASK)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          m8[(va + ta[e]!) | 0] = r[(w >>> 8) & 15]!;
          if (tbFrame[(va + ta[e]!) >>> 12] !== 0 && this.codeStored((va + ta[e]!) | 0, 1)) {
            pc = (pc + 4) | 0;
            cyc += cost[w & 0xff]!;
            n++;
            break loop;
          }
          break;
        }
        case Handler.XCHG: {
          const va = r[(w >>> 12) & 15]!;
          let e = tlbFind(tw, ((va >>> 12) & sm) << ws, ways, va & 0xfffff003);
          if (e < 0) {
            if ((va & 3) !== 0 || (dc = this.refill(va, ACC_WRITE, user)) < 0 || (e = tlbFind(tw, ((va >>> 12) & sm) << ws, ways, va & 0xfffff003)) < 0) break loop;
            cyc += dc;
            this.refillCharged(dc);
          }
          const old = m32[(va + ta[e]!) >> 2]!;
          m32[(va + ta[e]!) >> 2] = r[(w >>> 16) & 15]!;
          r[(w >>> 8) & 15] = old;
          if (tbFrame[(va + ta[e]!) >>> 12] !== 0 && this.codeStored((va + ta[e]!) | 0, 4)) {
            pc = (pc + 4) | 0;
            cyc += cost[w & 0xff]!;
            n++;
            break loop;
          }
          break;
        }
        case Handler.PUSH: {
          const va = (r[SP]! - 4) | 0;
          const e = tlbFind(tw, ((va >>> 12) & sm) << ws, ways, va & 0xfffff003);
          if (e < 0) break loop;
          m32[(va + ta[e]!) >> 2] = r[(w >>> 12) & 15]!;
          r[SP] = va;
          if (tbFrame[(va + ta[e]!) >>> 12] !== 0 && this.codeStored((va + ta[e]!) | 0, 4)) {
            pc = (pc + 4) | 0;
            cyc += cost[w & 0xff]!;
            n++;
            break loop;
          }
          break;
        }
        case Handler.POP: {
          const va = r[SP]!;
          const e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & 0xfffff003);
          if (e < 0) break loop;
          const v = m32[(va + ta[e]!) >> 2]!;
          r[SP] = (va + 4) | 0;
          r[(w >>> 8) & 15] = v;
          break;
        }
        case Handler.CMP: {
          const a = r[(w >>> 12) & 15]!;
          const b = r[(w >>> 16) & 15]!;
          fl = (fl & notCond) | (a === b ? 1 : 0) | (a < b ? 2 : 0) | (a >>> 0 < b >>> 0 ? 4 : 0);
          break;
        }
        case Handler.CMPI: {
          const a = r[(w >>> 12) & 15]!;
          const b = (w >> 16);
          fl = (fl & notCond) | (a === b ? 1 : 0) | (a < b ? 2 : 0) | (a >>> 0 < b >>> 0 ? 4 : 0);
          break;
        }
        case Handler.TEST: {
          const a = r[(w >>> 12) & 15]! & r[(w >>> 16) & 15]!;
          const b = 0;
          fl = (fl & notCond) | (a === b ? 1 : 0) | (a < b ? 2 : 0) | (a >>> 0 < b >>> 0 ? 4 : 0);
          break;
        }
        case Handler.SETCC:
          r[(w >>> 8) & 15] = condT[((w >>> 9) & 0x78) | (fl & 7)]!;
          break;
        case Handler.JMP: {
          if ((pc & 0xffc) === 0xffc) break loop;
          const d = m32[(pc + icA + 4) >> 2]!;
          pc = (pc + 8 + d) | 0;
          cyc += cost[w & 0xff]!;
          if (d < 0 && lh !== null && (pc & 0xfffff003) === icV && ++lh[((pc + icA) >>> 2) & LOOP_MASK]! >= loopHot) {
            n++;
            this.tx!.stats.loopStops++;
            why = BOUND;
            break loop;
          }
          n++;
          if (cyc >= dl) {
            // a boundary probe (runToBoundary) may go on, charging cycles that are not base cycles
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case Handler.JCC: {
          if ((pc & 0xffc) === 0xffc) break loop;
          cyc += cost[w & 0xff]!;
          if (condT[((w >>> 5) & 0x78) | (fl & 7)] !== 0) {
            const d = m32[(pc + icA + 4) >> 2]!;
            pc = (pc + 8 + d) | 0;
            cyc += taken;
            if (d < 0 && lh !== null && (pc & 0xfffff003) === icV && ++lh[((pc + icA) >>> 2) & LOOP_MASK]! >= loopHot) {
              n++;
              this.tx!.stats.loopStops++;
              why = BOUND;
              break loop;
            }
          } else {
            pc = (pc + 8) | 0;
          }
          n++;
          if (cyc >= dl) {
            // a boundary probe (runToBoundary) may go on, charging cycles that are not base cycles
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case Handler.CALL: {
          if ((pc & 0xffc) === 0xffc) break loop;
          const va = (r[SP]! - 4) | 0;
          const e = tlbFind(tw, ((va >>> 12) & sm) << ws, ways, va & 0xfffff003);
          if (e < 0) break loop;
          const next = (pc + 8) | 0;
          const target = (next + m32[(pc + icA + 4) >> 2]!) | 0;
          m32[(va + ta[e]!) >> 2] = next;
          if (tbFrame[(va + ta[e]!) >>> 12] !== 0) this.codeStored((va + ta[e]!) | 0, 4);
          r[SP] = va;
          pc = target;
          cyc += cost[w & 0xff]!;
          n++;
          if (cyc >= dl) {
            // a boundary probe (runToBoundary) may go on, charging cycles that are not base cycles
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case Handler.JMPR: {
          pc = r[(w >>> 12) & 15]!;
          cyc += cost[w & 0xff]!;
          n++;
          if (cyc >= dl) {
            // a boundary probe (runToBoundary) may go on, charging cycles that are not base cycles
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case Handler.CALLR: {
          const va = (r[SP]! - 4) | 0;
          const e = tlbFind(tw, ((va >>> 12) & sm) << ws, ways, va & 0xfffff003);
          if (e < 0) break loop;
          const target = r[(w >>> 12) & 15]!;
          m32[(va + ta[e]!) >> 2] = (pc + 4) | 0;
          if (tbFrame[(va + ta[e]!) >>> 12] !== 0) this.codeStored((va + ta[e]!) | 0, 4);
          r[SP] = va;
          pc = target;
          cyc += cost[w & 0xff]!;
          n++;
          if (cyc >= dl) {
            // a boundary probe (runToBoundary) may go on, charging cycles that are not base cycles
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case Handler.RET: {
          const va = r[SP]!;
          const e = tlbFind(tr, ((va >>> 12) & sm) << ws, ways, va & 0xfffff003);
          if (e < 0) break loop;
          pc = m32[(va + ta[e]!) >> 2]!;
          r[SP] = (va + 4) | 0;
          cyc += cost[w & 0xff]!;
          n++;
          if (cyc >= dl) {
            // a boundary probe (runToBoundary) may go on, charging cycles that are not base cycles
            if (probe === null || (dc = probe(pc, cyc)) < 0) {
              why = BOUND;
              break loop;
            }
            cyc += dc;
            this.loopWalkCycles += dc;
          }
          continue;
        }
        case Handler.PAUSE:
          if (this.nonRoot && this.vmcs!.pauseLoopExiting) break loop;
          break;
        // @generated fast-cases end
        default:
          break loop; // everything else runs on the general path
      }
      pc = (pc + 4) | 0;
      cyc += cost[w & 0xff]!;
      n++;
    }
    this.pc = pc >>> 0;
    this.cycles = cyc0 + cyc;
    this.baseCycles += cyc - this.loopWalkCycles;
    this.instructions += n;
    this.flags = fl;
    mmu.icV = icV;
    mmu.icA = icA;
    mmu.icUser = user;
    return why;
  }

  // ================================================================================= general path

  /** Execute the instruction at pc on the general path: CONT, BOUND, or an Exit (>= 0). */
  step(): number {
    const pc = this.pc | 0;
    const user = this.cpl === 3;
    const w = this.fetch32(pc, user);
    if (this.pend !== PEND_NONE) return this.failed(pc);
    const op = w & 0xff;
    const len = INSN_LEN[op]!;
    let ext = 0;
    if (len === 8) {
      ext = this.fetch32((pc + 4) | 0, user);
      if (this.pend !== PEND_NONE) return this.failed(pc);
    }
    const next = (pc + len) | 0;
    const r = this.regs;
    const rd = (w >>> 8) & 15;
    const ra = (w >>> 12) & 15;
    const rb = (w >>> 16) & 15;
    const imm = w >> 16;
    const c = this.costs[op]!;

    switch (DECODE[op]) {
      // @generated step-cases begin (machine/semantics.ts, npm run gen:interp)
      case Handler.NOP:
        return this.retire(next, c);
      case Handler.MOV:
        r[rd] = r[ra]!;
        return this.retire(next, c);
      case Handler.LI:
        r[rd] = ext;
        return this.retire(next, c);
      case Handler.ADD:
        r[rd] = (r[ra]! + r[rb]!) | 0;
        return this.retire(next, c);
      case Handler.SUB:
        r[rd] = (r[ra]! - r[rb]!) | 0;
        return this.retire(next, c);
      case Handler.MUL:
        r[rd] = Math.imul(r[ra]!, r[rb]!);
        return this.retire(next, c);
      case Handler.MULHU:
        r[rd] = mulhu(r[ra]!, r[rb]!);
        return this.retire(next, c);
      case Handler.DIV: {
        const b = r[rb]!;
        if (b === 0) return this.fault(V_DE, 0, pc);
        r[rd] = (r[ra]! / b) | 0;
        return this.retire(next, c);
      }
      case Handler.DIVU: {
        const b = r[rb]! >>> 0;
        if (b === 0) return this.fault(V_DE, 0, pc);
        r[rd] = ((r[ra]! >>> 0) / b) | 0;
        return this.retire(next, c);
      }
      case Handler.REM: {
        const b = r[rb]!;
        if (b === 0) return this.fault(V_DE, 0, pc);
        r[rd] = (r[ra]! % b) | 0;
        return this.retire(next, c);
      }
      case Handler.REMU: {
        const b = r[rb]! >>> 0;
        if (b === 0) return this.fault(V_DE, 0, pc);
        r[rd] = ((r[ra]! >>> 0) % b) | 0;
        return this.retire(next, c);
      }
      case Handler.AND:
        r[rd] = r[ra]! & r[rb]!;
        return this.retire(next, c);
      case Handler.OR:
        r[rd] = r[ra]! | r[rb]!;
        return this.retire(next, c);
      case Handler.XOR:
        r[rd] = r[ra]! ^ r[rb]!;
        return this.retire(next, c);
      case Handler.SHL:
        r[rd] = r[ra]! << r[rb]!;
        return this.retire(next, c);
      case Handler.SHR:
        r[rd] = (r[ra]! >>> r[rb]!) | 0;
        return this.retire(next, c);
      case Handler.SAR:
        r[rd] = r[ra]! >> r[rb]!;
        return this.retire(next, c);
      case Handler.NOT:
        r[rd] = ~r[ra]!;
        return this.retire(next, c);
      case Handler.NEG:
        r[rd] = -r[ra]! | 0;
        return this.retire(next, c);
      case Handler.ADDI:
        r[rd] = (r[ra]! + imm) | 0;
        return this.retire(next, c);
      case Handler.MULI:
        r[rd] = Math.imul(r[ra]!, imm);
        return this.retire(next, c);
      case Handler.ANDI:
        r[rd] = r[ra]! & imm;
        return this.retire(next, c);
      case Handler.ORI:
        r[rd] = r[ra]! | imm;
        return this.retire(next, c);
      case Handler.XORI:
        r[rd] = r[ra]! ^ imm;
        return this.retire(next, c);
      case Handler.SHLI:
        r[rd] = r[ra]! << imm;
        return this.retire(next, c);
      case Handler.SHRI:
        r[rd] = (r[ra]! >>> imm) | 0;
        return this.retire(next, c);
      case Handler.SARI:
        r[rd] = r[ra]! >> imm;
        return this.retire(next, c);
      case Handler.LDW: {
        const va = (r[ra]! + imm) | 0;
        const v = this.read32(va, ACC_READ, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = v;
        return this.retire(next, c);
      }
      case Handler.LDH: {
        const va = (r[ra]! + imm) | 0;
        const v = this.readN(va, 2, ACC_READ, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = (v << 16) >> 16;
        return this.retire(next, c);
      }
      case Handler.LDHU: {
        const va = (r[ra]! + imm) | 0;
        const v = this.readN(va, 2, ACC_READ, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = v;
        return this.retire(next, c);
      }
      case Handler.LDB: {
        const va = (r[ra]! + imm) | 0;
        const v = this.readN(va, 1, ACC_READ, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = (v << 24) >> 24;
        return this.retire(next, c);
      }
      case Handler.LDBU: {
        const va = (r[ra]! + imm) | 0;
        const v = this.readN(va, 1, ACC_READ, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = v;
        return this.retire(next, c);
      }
      case Handler.STW:
        this.writeN((r[ra]! + imm) | 0, 4, r[rd]!, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        return this.retire(next, c);
      case Handler.STH:
        this.writeN((r[ra]! + imm) | 0, 2, r[rd]!, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        return this.retire(next, c);
      case Handler.STB:
        this.writeN((r[ra]! + imm) | 0, 1, r[rd]!, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        return this.retire(next, c);
      case Handler.XCHG: {
        const va = r[ra]!;
        const v = this.read32(va, ACC_WRITE, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        this.writeN(va, 4, r[rb]!, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[rd] = v;
        return this.retire(next, c);
      }
      case Handler.PUSH: {
        const va = (r[SP]! - 4) | 0;
        this.writeN(va, 4, r[ra]!, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = va;
        return this.retire(next, c);
      }
      case Handler.POP: {
        const va = r[SP]!;
        const v = this.read32(va, ACC_READ, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = (va + 4) | 0;
        r[rd] = v;
        return this.retire(next, c);
      }
      case Handler.CMP:
        this.flags = (this.flags & ~FLAGS_COND) | compareFlags(r[ra]!, r[rb]!);
        return this.retire(next, c);
      case Handler.CMPI:
        this.flags = (this.flags & ~FLAGS_COND) | compareFlags(r[ra]!, imm);
        return this.retire(next, c);
      case Handler.TEST:
        this.flags = (this.flags & ~FLAGS_COND) | compareFlags(r[ra]! & r[rb]!, 0);
        return this.retire(next, c);
      case Handler.SETCC:
        r[rd] = COND_TABLE[(ra << 3) | (this.flags & 7)]!;
        return this.retire(next, c);
      case Handler.JMP:
        return this.branch((next + ext) | 0, c);
      case Handler.JCC:
        if (COND_TABLE[(rd << 3) | (this.flags & 7)] !== 0) return this.branch((next + ext) | 0, c + this.takenExtra);
        return this.branch(next, c);
      case Handler.CALL: {
        const va = (r[SP]! - 4) | 0;
        this.writeN(va, 4, next, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = va;
        return this.branch((next + ext) | 0, c);
      }
      case Handler.JMPR:
        return this.branch(r[ra]!, c);
      case Handler.CALLR: {
        const target = r[ra]!;
        const va = (r[SP]! - 4) | 0;
        this.writeN(va, 4, next, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = va;
        return this.branch(target, c);
      }
      case Handler.RET: {
        const va = r[SP]!;
        const target = this.read32(va, ACC_READ, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = (va + 4) | 0;
        return this.branch(target, c);
      }
      case Handler.PAUSE:
        if (this.nonRoot && this.vmcs!.pauseLoopExiting && this.cpl === 0 && this.pauseLoopEnds()) return this.insnExit(EXIT_PAUSE, pc, next, c);
        return this.retire(next, c);
      // @generated step-cases end
      case Handler.UD:
        return this.fault(V_UD, 0, pc);

      case Handler.INT:
        this.cycles += c;
        this.baseCycles += c;
        this.instructions++;
        return this.raise(imm & 0xff, 0, next, EventKind.Software, pc, -1);
      case Handler.BRK:
        this.cycles += c;
        this.baseCycles += c;
        this.instructions++;
        return this.raise(V_BP, 0, next, EventKind.Trap, pc, -1);
      case Handler.RDTSC: {
        if ((this.cr4 & CR4_TSD) !== 0 && this.cpl > 0) return this.fault(V_GP, 0, pc);
        if (this.nonRoot && this.vmcs!.exitOnRdtsc) return this.insnExit(Exit.Rdtsc, pc, next, c);
        if (this.cpl === 3) {
          if (this.onUserRdtsc !== null) this.onUserRdtsc();
        } else if (this.onKernelRdtsc !== null) this.onKernelRdtsc();
        const tsc = this.cycles + (this.nonRoot ? this.vmcs!.tscOffset : this.tscOffset);
        r[rd] = tsc >>> 0;
        r[ra] = Math.floor(tsc / 0x1_0000_0000) | 0;
        return this.retire(next, c);
      }
      case Handler.CPUID:
        if (this.nonRoot) return this.insnExit(Exit.Cpuid, pc, next, c);
        this.cpuid();
        return this.retire(next, c);

      case Handler.HLT:
        if (this.cpl !== 0) return this.fault(V_GP, 0, pc);
        if (this.nonRoot && this.vmcs!.exitOnHlt) return this.insnExit(Exit.Hlt, pc, next, c);
        this.retire(next, c);
        this.halted = true;
        return Exit.Halted;
      case Handler.CLI:
      case Handler.STI: {
        if (this.cpl > this.iopl()) return this.fault(V_GP, 0, pc);
        const sti = DECODE[op] === Handler.STI;
        this.flags = sti ? this.flags | F_IF : this.flags & ~F_IF;
        this.updateAttn();
        this.retire(next, c);
        return sti ? BOUND : CONT;
      }
      case Handler.IN:
      case Handler.INB:
      case Handler.INR: {
        if (this.cpl > this.iopl()) return this.fault(V_GP, 0, pc);
        const h = DECODE[op];
        const port = h === Handler.INR ? r[ra]! & 0xffff : imm & 0xffff;
        const size = h === Handler.INB ? 1 : 4;
        if (this.nonRoot && this.vmcs!.exitOnIo) {
          this.exitPort = port;
          this.exitSize = size;
          this.exitIsWrite = false;
          this.exitData = 0;
          this.exitReg = rd;
          // the access never reaches the bus: the instruction costs an ALU op, the device model the rest
          return this.insnExit(Exit.Io, pc, next, this.profile.alu);
        }
        this.cycles += c;
        this.baseCycles += c;
        this.stats.portReads++;
        const v = this.bus.read(port, size);
        r[rd] = size === 1 ? v & 0xff : v | 0;
        this.pc = next >>> 0;
        this.instructions++;
        return CONT;
      }
      case Handler.OUT:
      case Handler.OUTB:
      case Handler.OUTR: {
        if (this.cpl > this.iopl()) return this.fault(V_GP, 0, pc);
        const h = DECODE[op];
        const port = h === Handler.OUTR ? r[ra]! & 0xffff : imm & 0xffff;
        const size = h === Handler.OUTB ? 1 : 4;
        const value = h === Handler.OUTR ? r[rb]! : r[ra]!;
        const data = size === 1 ? value & 0xff : value >>> 0;
        if (this.nonRoot && this.vmcs!.exitOnIo) {
          this.exitPort = port;
          this.exitSize = size;
          this.exitIsWrite = true;
          this.exitData = data;
          this.exitReg = h === Handler.OUTR ? rb : ra;
          return this.insnExit(Exit.Io, pc, next, this.profile.alu);
        }
        this.retire(next, c);
        this.stats.portWrites++;
        this.bus.write(port, size, data);
        return BOUND;
      }
      case Handler.MOVTOCR: {
        if (this.cpl !== 0) return this.fault(V_GP, 0, pc);
        if (!isControlRegister(rd)) return this.fault(V_UD, 0, pc);
        let value = r[ra]!;
        if (this.nonRoot) {
          const vm = this.vmcs!;
          const mask = rd === 0 ? vm.cr0GuestHostMask : rd === 4 ? vm.cr4GuestHostMask : 0;
          const shadow = rd === 0 ? vm.cr0ReadShadow : vm.cr4ReadShadow;
          if (((vm.crWriteExits >>> rd) & 1) !== 0 || ((value ^ shadow) & mask) !== 0) {
            this.exitQualification = rd | (ra << CrQual.REG_SHIFT);
            return this.insnExit(Exit.CrAccess, pc, next, c);
          }
          if (mask !== 0) value = (value & ~mask) | (this.readCr(rd) & mask);
        }
        if (rd === 0 || rd === 3) this.charge(EV_CR_FLUSH, 1);
        this.writeCr(rd, value);
        return this.retire(next, c);
      }
      case Handler.MOVFROMCR: {
        if (this.cpl !== 0) return this.fault(V_GP, 0, pc);
        if (!isControlRegister(ra)) return this.fault(V_UD, 0, pc);
        if (this.nonRoot && ((this.vmcs!.crReadExits >>> ra) & 1) !== 0) {
          this.exitQualification = ra | CrQual.READ | (rd << CrQual.REG_SHIFT);
          return this.insnExit(Exit.CrAccess, pc, next, c);
        }
        let value = this.readCr(ra);
        if (this.nonRoot && (ra === 0 || ra === 4)) {
          const vm = this.vmcs!;
          const mask = ra === 0 ? vm.cr0GuestHostMask : vm.cr4GuestHostMask;
          value = (value & ~mask) | ((ra === 0 ? vm.cr0ReadShadow : vm.cr4ReadShadow) & mask);
        }
        r[rd] = value;
        return this.retire(next, c);
      }
      case Handler.LIDT:
        if (this.cpl !== 0) return this.fault(V_GP, 0, pc);
        this.idtBase = r[ra]! >>> 0;
        this.idtLimit = imm & 0xffff;
        return this.retire(next, c);
      case Handler.INVLPG: {
        if (this.cpl !== 0) return this.fault(V_GP, 0, pc);
        const va = r[ra]!;
        if (this.nonRoot && this.vmcs!.exitOnInvlpg) {
          this.exitGuestLinear = va >>> 0;
          this.exitQualification = va >>> 0;
          return this.insnExit(Exit.Invlpg, pc, next, c);
        }
        this.mmu.invlpg(va);
        return this.retire(next, c);
      }
      case Handler.LKSP:
        if (this.cpl !== 0 || imm < 0 || imm > 2) return this.fault(V_GP, 0, pc);
        this.ksp[imm] = r[ra]!;
        return this.retire(next, c);
      case Handler.IRET:
        return this.iret(pc, user, c);
      case Handler.PUSHF: {
        const va = (r[SP]! - 4) | 0;
        this.writeN(va, 4, this.flags, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = va;
        return this.retire(next, c);
      }
      case Handler.POPF: {
        const va = r[SP]!;
        const v = this.read32(va, ACC_READ, user);
        if (this.pend !== PEND_NONE) return this.failed(pc);
        r[SP] = (va + 4) | 0;
        this.flags = this.mergeFlags(v, this.cpl);
        this.updateAttn();
        this.retire(next, c);
        return BOUND;
      }
      case Handler.RDCPL:
        r[rd] = this.cpl;
        return this.retire(next, c);
      case Handler.SIDT:
        r[rd] = this.idtBase | 0;
        return this.retire(next, c);
      case Handler.HYPERCALL:
        if (this.nonRoot) return this.insnExit(Exit.Hypercall, pc, next, c);
        if (!this.hypercallExits) return this.fault(V_UD, 0, pc);
        this.retire(next, c);
        this.charge(EV_HYPERCALL_ENTRY, 1);
        this.stats.hypercalls++;
        this.exitInsnPc = pc >>> 0;
        this.exitInsnLength = len;
        return Exit.Hypercall;
      default:
        return this.fault(V_UD, 0, pc);
    }
  }

  private retire(next: number, c: number): number {
    this.pc = next >>> 0;
    this.cycles += c;
    this.baseCycles += c;
    this.instructions++;
    return CONT;
  }

  private branch(target: number, c: number): number {
    this.pc = target >>> 0;
    this.cycles += c;
    this.baseCycles += c;
    this.instructions++;
    return BOUND;
  }

  private iopl(): number {
    return (this.flags & F_IOPL) >>> IOPL_SHIFT;
  }

  /** FLAGS after POPF/IRET pops `popped` at privilege `cpl` over FLAGS `old`: IOPL only at CPL 0, IF only at CPL <= IOPL. */
  mergeFlags(popped: number, cpl: number, old: number = this.flags): number {
    let keep = 0;
    if (cpl > 0) keep |= F_IOPL;
    if (cpl > (old & F_IOPL) >>> IOPL_SHIFT) keep |= F_IF;
    return (popped & FLAGS_DEFINED & ~keep) | (old & keep);
  }

  private iret(pc: number, user: boolean, c: number): number {
    const r = this.regs;
    const sp = r[SP]!;
    const npc = this.read32(sp, ACC_READ, user);
    if (this.pend !== PEND_NONE) return this.failed(pc);
    const ncs = this.read32((sp + 4) | 0, ACC_READ, user);
    if (this.pend !== PEND_NONE) return this.failed(pc);
    const nfl = this.read32((sp + 8) | 0, ACC_READ, user);
    if (this.pend !== PEND_NONE) return this.failed(pc);
    const nsp = this.read32((sp + 12) | 0, ACC_READ, user);
    if (this.pend !== PEND_NONE) return this.failed(pc);
    // the popped ring must be a ring (0..3) and not more privileged than CPL
    if (ncs >>> 0 > 3 || ncs < this.cpl) return this.fault(V_GP, 0, pc);
    this.flags = this.mergeFlags(nfl, this.cpl);
    this.cpl = ncs;
    r[SP] = nsp;
    this.updateAttn();
    return this.branch(npc, c);
  }

  private cpuid(): void {
    answerCpuid(this.regs, this.profile.clockMHz, CPUID_FEATURES_MACHINE, this.mmu.tlbEntries);
  }


  /**
   * A PAUSE at CPL 0 under pause-loop exiting (Vmcs.pauseLoopExiting): one less than PLE_Gap
   * cycles after the last belongs to its spin loop, else it begins one; true when the loop has
   * lasted more than PLE_Window cycles (the PAUSE exits).
   */
  private pauseLoopEnds(): boolean {
    const vm = this.vmcs!;
    const now = this.cycles;
    if (now - vm.pleLast > vm.pleGap) vm.pleLoopStart = now;
    vm.pleLast = now;
    return now - vm.pleLoopStart > vm.pleWindow;
  }

  /** An instruction exit in non-root mode: the instruction retires, pc past it. */
  private insnExit(reason: Exit, pc: number, next: number, c: number): number {
    this.retire(next, c);
    this.setInsnExit(pc, (next - pc) | 0);
    this.exitIdtVectoring = -1;
    return this.vmExit(reason);
  }

  private setInsnExit(pc: number, len: number): void {
    this.exitInsnPc = pc >>> 0;
    this.exitInsnLength = len;
  }

  // ==================================================================================== exceptions

  /** A fault at pc (saved pc = the instruction). */
  private fault(vector: number, error: number, pc: number): number {
    return this.raise(vector, error, pc, EventKind.Fault, pc, -1);
  }

  /** A slow-path access failed: raise the pending fault, or take the pending VM exit. */
  private failed(pc: number): number {
    const kind = this.pend;
    this.pend = PEND_NONE;
    if (kind === PEND_EXIT) {
      this.setInsnExit(pc, 0);
      this.exitIdtVectoring = -1;
      return this.vmExit(Exit.EptViolation);
    }
    return this.raise(this.pendVector, this.pendError, pc, EventKind.Fault, pc, this.pendAddr);
  }

  /**
   * Raise an event: intercept it (root-mode hook or non-root exception bitmap) or deliver it
   * through the IDT. A fault while delivering an exception becomes #DF; a fault while delivering
   * #DF is a triple fault; a fault while delivering INT n or an external interrupt is delivered
   * in its place. `addr` is the #PF address for CR2 (-1: leave CR2 alone). Returns BOUND when
   * delivered, else an Exit.
   */
  private raise(vector: number, error: number, savedPc: number, kind: EventKind, insnPc: number, addr: number, injected = false): number {
    let inDoubleFault = vector === V_DF && isException(kind);
    /**
     * the event whose delivery faulted last (the IDT-vectoring information, as VT-x's: the event
     * being delivered when the exit came - the #GP an INT n past the IDT's limit raised, not the INT)
     */
    let vectoring = -1;
    let vectoringError = 0;
    let vectoringKind: EventKind = EventKind.External;
    /** INT n / BRK whose delivery faulted: its length, so a monitor can re-inject it (VT-x reports it) */
    let vectoringLength = 0;
    for (;;) {
      if (this.nonRoot) {
        const vm = this.vmcs!;
        // an event the monitor injects is delivered, whatever the bitmap says (VT-x's); a fault
        // its delivery raises is checked against it like any other
        if (!injected && isException(kind) && vector < 32 && ((vm.exceptionBitmap >>> vector) & 1) !== 0) {
          this.pc = savedPc >>> 0;
          this.exitVector = vector;
          this.exitError = error;
          this.exitKind = kind;
          // VT-x leaves CR2 alone on a #PF exit and reports the address as the qualification
          this.exitQualification = vector === V_PF && addr >= 0 ? addr >>> 0 : 0;
          this.setInsnExit(insnPc, vectoringLength);
          this.setVectoring(vectoring, vectoringError, vectoringKind);
          return this.vmExit(Exit.Exception);
        }
      } else if (this.interceptVector[vector] !== 0) {
        if (vector === V_PF && addr >= 0) this.cr2 = addr >>> 0;
        this.pc = savedPc >>> 0;
        this.exitVector = vector;
        this.exitError = error;
        this.exitKind = kind;
        this.setInsnExit(insnPc, 0);
        this.setVectoring(vectoring, vectoringError, vectoringKind);
        this.charge(kind === EventKind.Software ? EV_INT_DELIVERY : EV_TRAP_DELIVERY, 1);
        this.halted = false;
        this.stats.intercepts++;
        return Exit.Exception;
      }
      if (vector === V_PF && addr >= 0) this.cr2 = addr >>> 0;
      const res = this.deliver(vector, error, savedPc, kind);
      if (res === DELIVERED) return BOUND;
      vectoring = vector;
      vectoringError = error;
      vectoringKind = kind;
      vectoringLength = kind === EventKind.Software || kind === EventKind.Trap ? (savedPc - insnPc) | 0 : 0;
      if (res === DELIVERY_EXIT) {
        // (an INT n's length goes with the exit, as for a fault in its delivery above: a monitor
        // that retries the delivery injects it with that length, so its frame saves the next pc)
        this.pend = PEND_NONE;
        this.pc = insnPc >>> 0;
        this.setInsnExit(insnPc, vectoringLength);
        this.setVectoring(vectoring, vectoringError, vectoringKind);
        return this.vmExit(Exit.EptViolation);
      }
      // a fault during delivery
      this.pend = PEND_NONE;
      injected = false;
      if (this.nonRoot && this.pendVector < 32 && ((this.vmcs!.exceptionBitmap >>> this.pendVector) & 1) !== 0) {
        // VT-x consults the exception bitmap for the second event before any double-fault
        // conversion: the monitor gets it, with the first in the IDT-vectoring information
        // (how a shadow-paging monitor sees a hidden #PF on the guest's IDT or stack)
        vector = this.pendVector;
        error = this.pendError;
        addr = vector === V_PF ? this.pendAddr : -1;
        kind = EventKind.Fault;
        savedPc = insnPc;
        continue;
      }
      if (inDoubleFault) return this.tripleFault(insnPc);
      if (isException(kind)) {
        this.stats.doubleFaults++;
        vector = V_DF;
        error = 0;
        addr = -1;
        inDoubleFault = true;
      } else {
        vector = this.pendVector;
        error = this.pendError;
        addr = this.pendVector === V_PF ? this.pendAddr : -1;
      }
      kind = EventKind.Fault;
      savedPc = insnPc;
    }
  }

  private setVectoring(vector: number, error: number, kind: EventKind): void {
    this.exitIdtVectoring = vector;
    this.exitIdtVectoringError = error;
    this.exitIdtVectoringKind = kind;
  }

  private tripleFault(pc: number): number {
    this.stats.tripleFaults++;
    this.pc = pc >>> 0;
    if (this.nonRoot) {
      this.setInsnExit(pc, 0);
      return this.vmExit(Exit.TripleFault);
    }
    this.halted = false;
    return Exit.TripleFault;
  }

  /**
   * Deliver through the IDT (docs/isa.md "Traps and interrupts"). Nothing changes unless the
   * whole delivery succeeds. DELIVERY_FAULT leaves the new fault in pendVector/pendError/pendAddr.
   */
  private deliver(vector: number, error: number, savedPc: number, kind: EventKind): number {
    if (vector >= this.idtLimit) return this.deliveryGp(vector);
    const gate = (this.idtBase + vector * GATE_BYTES) | 0;
    const handler = this.read32(gate, ACC_READ, false);
    if (this.pend !== PEND_NONE) return this.deliveryFailure();
    const gflags = this.read32((gate + 4) | 0, ACC_READ, false);
    if (this.pend !== PEND_NONE) return this.deliveryFailure();
    if ((gflags & Gate.PRESENT) === 0) return this.deliveryGp(vector);
    const dpl = (gflags >>> Gate.DPL_SHIFT) & 3;
    const ring = (gflags >>> Gate.RING_SHIFT) & 3;
    if (kind === EventKind.Software && this.cpl > dpl) return this.deliveryGp(vector);
    if (ring > this.cpl) return this.deliveryGp(vector);

    const r = this.regs;
    const oldSp = r[SP]!;
    const newSp = ring < this.cpl ? this.ksp[ring]! : oldSp;
    const base = (newSp - Frame.BYTES) | 0;
    const frameUser = ring === 3;
    // translate both ends of the frame for writing before storing anything
    const pa0 = this.mmu.xlate(base, ACC_WRITE, frameUser);
    if (pa0 < 0) return this.deliveryFailure();
    const last = (base + Frame.BYTES - 1) | 0;
    let pa1 = -1;
    if (((last ^ base) & PAGE_MASK) !== 0) {
      pa1 = this.mmu.xlate(last & PAGE_MASK, ACC_WRITE, frameUser);
      if (pa1 < 0) return this.deliveryFailure();
    }
    this.storeFrameWord(base, Frame.VECTOR, vector, pa0, pa1);
    this.storeFrameWord(base, Frame.ERROR, error, pa0, pa1);
    this.storeFrameWord(base, Frame.PC, savedPc, pa0, pa1);
    this.storeFrameWord(base, Frame.CS, this.cpl, pa0, pa1);
    this.storeFrameWord(base, Frame.FLAGS, this.flags, pa0, pa1);
    this.storeFrameWord(base, Frame.SP, oldSp, pa0, pa1);

    r[SP] = base;
    this.cpl = ring;
    if ((gflags & Gate.TRAP) === 0) this.flags &= ~F_IF;
    this.pc = handler >>> 0;
    this.halted = false;
    if (!this.unchargedDelivery) this.charge(kind === EventKind.Software ? EV_INT_DELIVERY : EV_TRAP_DELIVERY, 1);
    this.stats.delivered[vector]!++;
    this.updateAttn();
    return DELIVERED;
  }

  /** An access during delivery failed: which way. */
  private deliveryFailure(): number {
    return this.pend === PEND_EXIT ? DELIVERY_EXIT : DELIVERY_FAULT;
  }

  private deliveryGp(vector: number): number {
    this.pend = PEND_FAULT;
    this.pendVector = V_GP;
    this.pendError = vector * 8 + 2;
    this.pendAddr = 0;
    return DELIVERY_FAULT;
  }

  /** Store one frame word at base + off, given the pre-translated pages of the frame. */
  private storeFrameWord(base: number, off: number, value: number, pa0: number, pa1: number): void {
    const va = (base + off) | 0;
    const pageOff = base & 0xfff;
    if (pa1 < 0 && (pa0 & 3) === 0) {
      this.physWrite(pa0 + off, 4, value);
      return;
    }
    for (let k = 0; k < 4; k++) {
      const b = (va + k) | 0;
      const pa = ((b ^ base) & PAGE_MASK) === 0 ? pa0 + (b & 0xfff) - pageOff : pa1 + (b & 0xfff);
      this.physWrite(pa, 1, value >>> (8 * k));
    }
  }

  /**
   * Deliver an event through the IDT on the host's behalf (trap-and-emulate reflection, event
   * injection). No intercept is consulted for the event itself; a fault during its delivery is
   * raised normally (and may be intercepted). pc is taken as the saved pc. Returns -1 if
   * delivered, else the Exit the CPU would have returned. chargeDelivery false: the host built
   * the frame in software and charges that itself (the hardware delivery is not charged).
   */
  deliverTrap(vector: number, error = 0, kind: EventKind = EventKind.Fault, chargeDelivery = true): number {
    const pc = this.pc | 0;
    this.unchargedDelivery = !chargeDelivery;
    const res = this.deliver(vector & 0xff, error, pc, kind);
    this.unchargedDelivery = false;
    if (res === DELIVERED) return -1;
    if (res === DELIVERY_EXIT) {
      this.pend = PEND_NONE;
      this.setInsnExit(pc, 0);
      this.setVectoring(vector & 0xff, error, kind);
      return this.vmExit(Exit.EptViolation);
    }
    this.pend = PEND_NONE;
    const second = kind === EventKind.Fault || kind === EventKind.Trap ? V_DF : this.pendVector;
    const secondError = second === V_DF ? 0 : this.pendError;
    const addr = second === V_PF ? this.pendAddr : -1;
    const out = this.raise(second, secondError, pc, EventKind.Fault, pc, addr);
    return out === BOUND ? -1 : out;
  }

  // ======================================================================== VM entry and VM exit

  /** Enter non-root mode with `vmcs` (or the current one); injects vmcs.injectVector at the next run(). */
  vmEntry(vmcs?: Vmcs): void {
    if (vmcs) this.vmcs = vmcs;
    if (!this.vmcs) throw new Error('Cpu.vmEntry: no VMCS');
    if (this.nonRoot) throw new Error('Cpu.vmEntry: already in non-root mode');
    this.nonRoot = true;
    // pause-loop exiting: the first PAUSE after an entry begins a loop
    this.vmcs.pleLast = -Infinity;
    this.charge(EV_VM_ENTRY, 1);
    this.mmu.vmEntryTlb(this.profile.vpid ? this.vmcs.vpid : 0);
    this.halted = false;
    this.injectPending = this.vmcs.injectVector >= 0;
    this.stats.vmEntries++;
    this.updateAttn();
  }

  /** Leave non-root mode with `reason`: charge the exit, flush the TLB, fill the VMCS exit area. */
  private vmExit(reason: Exit): number {
    const vm = this.vmcs!;
    this.nonRoot = false;
    this.halted = false;
    this.charge(EV_VM_EXIT, 1);
    this.mmu.vmExitTlb();
    this.stats.vmExits++;
    vm.exitReason = reason;
    vm.exitQualification = this.exitQualification;
    vm.exitGuestPhys = this.exitGuestPhys;
    vm.exitGuestLinear = this.exitGuestLinear;
    vm.exitInsnPc = this.exitInsnPc;
    vm.exitInsnLength = this.exitInsnLength;
    vm.exitVector = this.exitVector;
    vm.exitError = this.exitError;
    vm.exitKind = this.exitKind;
    vm.idtVectoring = this.exitIdtVectoring;
    vm.idtVectoringError = this.exitIdtVectoringError;
    vm.idtVectoringKind = this.exitIdtVectoringKind;
    if (reason < vm.exitCounts.length) vm.exitCounts[reason]!++;
    this.updateAttn();
    return reason;
  }

  /** After Exit.Hypercall in root mode: r0 = result, and charge the return to the guest. */
  hypercallReturn(result: number): void {
    this.regs[0] = result;
    this.charge(EV_HYPERCALL_EXIT, 1);
  }

  /** After a root-mode intercept the host handled: charge the return to the guest (an IRET). */
  returnFromIntercept(): void {
    this.charge(EV_INTERCEPT_RETURN, 1);
  }

  // ================================================= control registers, the ledger, the MMU's walks and reports

  /** Write control register n with its architectural effects (CR0/CR3 flush the TLB). False if n is not a CR. */
  writeCr(n: number, value: number): boolean {
    switch (n) {
      case 0:
        this.cr0 = value & (CR0_PG | CR0_WP);
        this.mmu.flushTlb();
        return true;
      case 2:
        this.cr2 = value >>> 0;
        return true;
      case 3:
        this.cr3 = (value & PAGE_MASK) >>> 0;
        this.mmu.flushTlb();
        return true;
      case 4:
        this.cr4 = value & CR4_TSD;
        return true;
      default:
        return false;
    }
  }

  /** Control register n (unsigned), or -1 if n is not a CR. */
  readCr(n: number): number {
    switch (n) {
      case 0:
        return this.cr0;
      case 2:
        return this.cr2;
      case 3:
        return this.cr3;
      case 4:
        return this.cr4;
      default:
        return -1;
    }
  }

  /**
   * A TLB miss on the fast path: walk and fill without leaving the loop. Returns the cycles the
   * walk cost (the caller adds them to its own count), or -1 if the walk faulted or exited; then
   * the charge and the pending fault are dropped and step() redoes the access from scratch,
   * walking again (the walk is deterministic and its A/D updates idempotent, so both engines end
   * in the same state). A successful walk may still leave no usable tag (a page outside memory);
   * the caller re-checks the tag and, if it must fall back to step(), does not add the cycles.
   */
  private refill(va: number, acc: number, user: boolean): number {
    const c0 = this.cycles;
    const ev = this.evCount;
    const t0 = ev[EV_TLB_WALK]!;
    const e0 = ev[EV_EPT_WALK]!;
    const pa = this.mmu.walk(va, acc, user, true);
    const charged = this.cycles - c0;
    this.cycles = c0;
    // the walk's events go to the ledger when the loop adds its cycles (refillCharged)
    this.refillTlbRefs = ev[EV_TLB_WALK]! - t0;
    this.refillEptRefs = ev[EV_EPT_WALK]! - e0;
    ev[EV_TLB_WALK] = t0;
    ev[EV_EPT_WALK] = e0;
    if (pa < 0) {
      // no trace of the failed walk: step() counts the miss when it walks again
      this.stats.tlbMisses--;
      this.pend = PEND_NONE;
      return -1;
    }
    return charged;
  }

  /** walk cycles of the last successful txMiss (translated code adds them to its count) */
  txDc = 0;
  /** 1 if the last successful txMiss's walk dropped translations or wrote into a frame marked for the code-store hook (translated code leaves after the access) */
  txSmc = 0;

  /**
   * Translated code's TLB miss (machine/semantics.ts txTlb), out of line: the fast loop's refill
   * sequence for an access of align + 1 bytes with tags t. Returns the TLB entry, or -1 when the
   * access needs the general path (unaligned, the walk faults or exits, no entry after the fill),
   * charging nothing then, exactly as the fast loop leaves. On success the walk's cycles are in
   * txDc (already entered in the ledger) and txSmc says whether the walk's accessed/dirty writes
   * dropped translations.
   */
  txMiss(va: number, acc: number, align: number, user: boolean, t: Int32Array): number {
    if ((va & align) !== 0) return -1;
    const tx = this.tx!;
    const ep = tx.epoch;
    const hs = this.hookStores;
    const dc = this.refill(va, acc, user);
    if (dc < 0) return -1;
    const mmu = this.mmu;
    const tag = align === 3 ? va & 0xfffff003 : align === 1 ? va & 0xfffff001 : va & PAGE_MASK;
    const e = tlbFind(t, ((va >>> 12) & mmu.setMask) << mmu.wayShift, mmu.tlbWays, tag);
    if (e < 0) return -1;
    this.refillCharged(dc);
    this.txDc = dc;
    this.txSmc = tx.epoch !== ep || this.hookStores !== hs ? 1 : 0;
    return e;
  }

  /** The fast loop added the last refill's `cycles`: enter its walk references in the ledger. */
  private refillCharged(cycles: number): void {
    this.evCount[EV_TLB_WALK]! += this.refillTlbRefs;
    this.evCount[EV_EPT_WALK]! += this.refillEptRefs;
    this.loopWalkCycles += cycles;
  }

  /** Charge n events of ledger kind `ev` (machine/ledger.ts): n x its unit cost. */
  charge(ev: number, n: number): void {
    this.evCount[ev]! += n;
    this.cycles += n * this.evUnit[ev]!;
  }

  /** Charge an instruction's own cost (a monitor that completes a guest instruction itself). */
  chargeInstruction(c: number): void {
    this.cycles += c;
    this.baseCycles += c;
  }

  /** The MMU's report: a committed translation failed with #PF (error code, address for CR2). */
  pendPageFault(error: number, addr: number): void {
    this.pend = PEND_FAULT;
    this.pendVector = V_PF;
    this.pendError = error;
    this.pendAddr = addr;
  }

  /** The MMU's report: a committed translation failed in the second stage (the exit's information). */
  pendEptViolation(guestPhys: number, guestLinear: number, qualification: number): void {
    this.pend = PEND_EXIT;
    this.exitGuestPhys = guestPhys;
    this.exitGuestLinear = guestLinear;
    this.exitQualification = qualification;
  }

  // ============================================================================ slow-path accesses

  private fetch32(pc: number, user: boolean): number {
    const mmu = this.mmu;
    if ((pc & 0xfffff003) === mmu.icV && mmu.icUser === user) return this.mem.i32[(pc + mmu.icA) >> 2]!;
    if ((pc & 3) !== 0) return this.read32(pc, ACC_FETCH, user);
    const pa = mmu.xlateFetch(pc, user);
    if (pa < 0) return 0;
    return this.physRead(pa, 4);
  }

  private read32(va: number, acc: number, user: boolean): number {
    return this.readN(va, 4, acc, user) | 0;
  }

  /** Read size (1, 2, 4) bytes at va, any alignment, crossing pages if need be; unsigned for 1 and 2. */
  private readN(va: number, size: number, acc: number, user: boolean): number {
    if ((va & 0xfff) <= 0x1000 - size) {
      const pa = this.mmu.xlate(va, acc, user);
      if (pa < 0) return 0;
      return this.physRead(pa, size);
    }
    // crosses into the next page: translate both pages first
    const pa0 = this.mmu.xlate(va, acc, user);
    if (pa0 < 0) return 0;
    const pa1 = this.mmu.xlate(((va & PAGE_MASK) + 0x1000) | 0, acc, user);
    if (pa1 < 0) return 0;
    const first = 0x1000 - (va & 0xfff);
    let v = 0;
    for (let k = 0; k < size; k++) {
      const b = k < first ? this.physRead(pa0 + k, 1) : this.physRead(pa1 + k - first, 1);
      v |= b << (8 * k);
    }
    return size === 4 ? v : v >>> 0;
  }

  /** Write size (1, 2, 4) bytes at va; on a fault nothing is written. */
  private writeN(va: number, size: number, value: number, user: boolean): void {
    if ((va & 0xfff) <= 0x1000 - size) {
      const pa = this.mmu.xlate(va, ACC_WRITE, user);
      if (pa >= 0) this.physWrite(pa, size, value);
      return;
    }
    const pa0 = this.mmu.xlate(va, ACC_WRITE, user);
    if (pa0 < 0) return;
    const pa1 = this.mmu.xlate(((va & PAGE_MASK) + 0x1000) | 0, ACC_WRITE, user);
    if (pa1 < 0) return;
    const first = 0x1000 - (va & 0xfff);
    for (let k = 0; k < size; k++) {
      this.physWrite(k < first ? pa0 + k : pa1 + k - first, 1, value >>> (8 * k));
    }
  }

  /** Read within one page of host-physical memory; open bus (all ones) beyond installed memory. */
  private physRead(pa: number, size: number): number {
    const mem = this.mem;
    if (pa >= mem.size) return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    if (size === 1) return mem.u8[pa]!;
    if (size === 2) return (pa & 1) === 0 ? mem.u16[pa >>> 1]! : mem.u8[pa]! | (mem.u8[pa + 1]! << 8);
    if ((pa & 3) === 0) return mem.i32[pa >>> 2]!;
    const m = mem.u8;
    return m[pa]! | (m[pa + 1]! << 8) | (m[pa + 2]! << 16) | (m[pa + 3]! << 24);
  }

  /** Write within one page of host-physical memory; dropped beyond installed memory. */
  private physWrite(pa: number, size: number, value: number): void {
    const mem = this.mem;
    if (pa >= mem.size) return;
    if (this.tbFrame[pa >>> 12] !== 0) this.codeStored(pa, size);
    if (size === 1) {
      mem.u8[pa] = value;
    } else if (size === 2 && (pa & 1) === 0) {
      mem.u16[pa >>> 1] = value;
    } else if (size === 4 && (pa & 3) === 0) {
      mem.i32[pa >>> 2] = value;
    } else {
      for (let k = 0; k < size; k++) mem.u8[pa + k] = value >>> (8 * k);
    }
  }

  // ================================================================================= host helpers

  /** Byte at virtual va, or undefined if unmapped (supervisor view unless user). */
  peek8(va: number, user = false): number | undefined {
    const pa = this.mmu.translate(va, false, user);
    return pa < 0 ? undefined : this.mem.read8(pa);
  }

  /** Word at virtual va (unsigned, any alignment within or across pages), or undefined if unmapped. */
  peek32(va: number, user = false): number | undefined {
    const bytes = this.peekBytes(va, 4, user);
    return bytes ? (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0 : undefined;
  }

  /** Bytes [va, va + len) of virtual memory, or null if any page is unmapped (open bus reads 0xff). */
  peekBytes(va: number, len: number, user = false): Uint8Array | null {
    const out = new Uint8Array(len);
    for (let k = 0; k < len; k++) {
      const pa = this.mmu.translate((va + k) | 0, false, user);
      if (pa < 0) return null;
      out[k] = this.mem.read8(pa);
    }
    return out;
  }

  /** Write a byte at virtual va (a host write: code caches are told). False if unmapped or read-only. */
  poke8(va: number, value: number, user = false): boolean {
    const pa = this.mmu.translate(va, true, user);
    return pa >= 0 && this.mem.write8(pa, value);
  }

  /** Write a word at virtual va; nothing is written unless every byte is writable. */
  poke32(va: number, value: number, user = false): boolean {
    return this.pokeBytes(va, new Uint8Array([value, value >>> 8, value >>> 16, value >>> 24]), user);
  }

  /** Write bytes at virtual va; nothing is written unless every byte is mapped writable. */
  pokeBytes(va: number, data: Uint8Array, user = false): boolean {
    const pas: number[] = [];
    for (let k = 0; k < data.length; k++) {
      const pa = this.mmu.translate((va + k) | 0, true, user);
      if (pa < 0 || pa >= this.mem.size) return false;
      pas.push(pa);
    }
    pas.forEach((pa, k) => this.mem.write8(pa, data[k]!));
    return true;
  }

  /**
   * Back to the power-on state: registers 0, CPL 0, IF 0, paging off, IDT empty, root mode, TLB
   * empty. The cycle and instruction counters keep counting: they are the platform's time base,
   * and time does not go back (the event queue is keyed by it).
   */
  reset(): void {
    this.regs.fill(0);
    this.ksp.fill(0);
    this.pc = 0;
    this.flags = 0;
    this.cpl = 0;
    this.cr0 = this.cr2 = this.cr3 = this.cr4 = 0;
    this.idtBase = 0;
    this.idtLimit = 0;
    this.halted = false;
    this.nonRoot = false;
    this.stopReq = false;
    this.injectPending = false;
    this.irqLine = true;
    this.pend = PEND_NONE;
    this.mmu.flushAllTags();
    this.updateAttn();
  }

  saveState(): CpuState {
    return {
      regs: Array.from(this.regs),
      pc: this.pc,
      flags: this.flags,
      cpl: this.cpl,
      cr0: this.cr0,
      cr2: this.cr2,
      cr3: this.cr3,
      cr4: this.cr4,
      idtBase: this.idtBase,
      idtLimit: this.idtLimit,
      ksp: Array.from(this.ksp),
      cycles: this.cycles,
      instructions: this.instructions,
      halted: this.halted,
      nonRoot: this.nonRoot,
    };
  }

  /**
   * Restore a snapshot; the TLB is flushed (its contents are not architectural state), but for a
   * tagged guest's entries (VPID), which stay hidden under their tag (Mmu.worldSwitchTlb). The cost
   * ledger (baseCycles, evCount) is the machine's, like the clock it sums to, not a vCPU's: a world
   * switch keeps it running, so it is not in CpuState. A saved run carries it, and the TLB, with
   * the whole Cpu object (hypervisor/save/).
   */
  loadState(s: CpuState): void {
    this.regs.set(s.regs);
    this.pc = s.pc >>> 0;
    this.flags = s.flags & FLAGS_DEFINED;
    this.cpl = s.cpl & 3;
    this.cr0 = s.cr0 & (CR0_PG | CR0_WP);
    this.cr2 = s.cr2 >>> 0;
    this.cr3 = (s.cr3 & PAGE_MASK) >>> 0;
    this.cr4 = s.cr4 & CR4_TSD;
    this.idtBase = s.idtBase >>> 0;
    this.idtLimit = s.idtLimit;
    this.ksp.set(s.ksp);
    this.cycles = s.cycles;
    this.instructions = s.instructions;
    this.halted = s.halted;
    this.nonRoot = s.nonRoot;
    this.mmu.worldSwitchTlb();
    this.irqLine = true;
    this.updateAttn();
  }
}

/** CPU exceptions (not INT n or external interrupts): intercepted by the exception bitmap, escalate to #DF. */
function isException(kind: EventKind): boolean {
  return kind === EventKind.Fault || kind === EventKind.Trap;
}

