// XL32 instruction set: the one definition of every opcode, its encoding, operand format and
// Popek-Goldberg class, plus the architectural constants (FLAGS, control registers, vectors,
// page-table bits, gate and trap-frame layouts). Pure data; imports nothing.
// The CPU, the assembler, the disassembler, the compiler and docs/isa.md all derive from this file.

/*
 * Encoding. Every instruction is one little-endian 32-bit word, optionally followed by one
 * 32-bit extension word (formats marked `long` below):
 *
 *   bits  0..7   opcode
 *   bits  8..11  rd   (destination; the condition code for Jcc; the source register of stores;
 *                      the control-register number for MOVTOCR)
 *   bits 12..15  ra   (first source; the condition code for SETcc; the CR number for MOVFROMCR)
 *   bits 16..31  imm16, signed; register-register forms keep rb in bits 16..19
 *
 * Long forms carry a 32-bit value in the next word: LI's immediate, or for JMP/Jcc/CALL a
 * displacement relative to the address of the following instruction (pc + 8).
 */

/** Opcode numbers. Opcode 0 is deliberately undefined so running into zeroed memory faults (#UD). */
export const enum Op {
  // innocuous: data movement and arithmetic
  NOP = 0x01,
  MOV = 0x02,
  LI = 0x03,
  ADD = 0x10,
  SUB = 0x11,
  MUL = 0x12,
  MULHU = 0x13,
  DIV = 0x14,
  DIVU = 0x15,
  REM = 0x16,
  REMU = 0x17,
  AND = 0x18,
  OR = 0x19,
  XOR = 0x1a,
  SHL = 0x1b,
  SHR = 0x1c,
  SAR = 0x1d,
  NOT = 0x1e,
  NEG = 0x1f,
  ADDI = 0x20,
  MULI = 0x21,
  ANDI = 0x22,
  ORI = 0x23,
  XORI = 0x24,
  SHLI = 0x25,
  SHRI = 0x26,
  SARI = 0x27,
  // innocuous: memory
  LDW = 0x30,
  LDH = 0x31,
  LDHU = 0x32,
  LDB = 0x33,
  LDBU = 0x34,
  STW = 0x38,
  STH = 0x39,
  STB = 0x3a,
  XCHG = 0x3b,
  PUSH = 0x3c,
  POP = 0x3d,
  // innocuous: compare and control flow
  CMP = 0x40,
  CMPI = 0x41,
  TEST = 0x42,
  SETCC = 0x43,
  JMP = 0x48,
  JCC = 0x49,
  CALL = 0x4a,
  JMPR = 0x4b,
  CALLR = 0x4c,
  RET = 0x4d,
  // innocuous: traps on purpose, and machine information
  INT = 0x50,
  BRK = 0x51,
  RDTSC = 0x52,
  CPUID = 0x53,
  /** the spin-wait hint (x86's PAUSE): a delay natively; hardware assist's pause-loop exiting watches it */
  PAUSE = 0x54,
  // privileged at CPL > 0 (or at CPL > IOPL for CLI/STI/IN/OUT)
  HLT = 0x60,
  CLI = 0x61,
  STI = 0x62,
  IN = 0x63,
  INB = 0x64,
  OUT = 0x65,
  OUTB = 0x66,
  INR = 0x67,
  OUTR = 0x68,
  MOVTOCR = 0x69,
  MOVFROMCR = 0x6a,
  LIDT = 0x6b,
  INVLPG = 0x6c,
  LKSP = 0x6d,
  IRET = 0x6e,
  // critical: sensitive but not privileged
  PUSHF = 0x70,
  POPF = 0x71,
  RDCPL = 0x72,
  SIDT = 0x73,
  // the paravirtual trap
  HYPERCALL = 0x7f,
}

/** Operand formats; the assembler syntax of each is given in docs/isa.md and FORMAT_SYNTAX. */
export const enum Fmt {
  /** no operands */
  None,
  /** rd */
  D,
  /** ra */
  A,
  /** rd, ra */
  DA,
  /** rd, ra, rb */
  DAB,
  /** rd, ra, imm16 */
  DAI,
  /** rd, [ra + imm16]  (loads) */
  Load,
  /** [ra + imm16], rd  (stores: rd is the source) */
  Store,
  /** rd, imm32 (long) */
  DImm32,
  /** rel32 target (long) */
  Rel,
  /** cond, rel32 target (long); cond in rd */
  CondRel,
  /** ra, rb */
  AB,
  /** ra, imm16 */
  AI,
  /** rd, cond; cond in ra */
  DCond,
  /** imm8 vector in imm16 */
  Vec,
  /** rd, port imm16 */
  DPort,
  /** port imm16, ra */
  PortA,
  /** crN, ra; N in rd */
  CrA,
  /** rd, crN; N in ra */
  DCr,
  /** ra, imm16 (LIDT base register, entry count) */
  AImm,
  /** ring imm16, ra (LKSP) */
  RingA,
  /** rd, ra (RDTSC low, high) */
  DD,
}

/** The Popek & Goldberg class of an instruction on XL32. */
export type InsnClass = 'innocuous' | 'privileged' | 'io-privileged' | 'critical' | 'hypercall';

export interface OpInfo {
  readonly op: Op;
  readonly mnemonic: string;
  readonly fmt: Fmt;
  readonly cls: InsnClass;
  /** 8 for long forms (an extension word follows), else 4. */
  readonly bytes: 4 | 8;
  /** One-line semantics, used by the disassembler's help and docs/isa.md. */
  readonly doc: string;
  /** Which of the cost profile's figures is the instruction's own cost (machine/costs.ts opcodeCosts). */
  readonly cost: CostClass;
}

/**
 * The cost class of an instruction: the CostProfile figure it is charged (call = branchTaken +
 * store, ret = branchTaken + load). Every row of INSTRUCTIONS names one, so a new opcode cannot
 * silently cost an ALU operation. What depends on what the instruction does (a taken Jcc, trap
 * delivery, walks, CR3 flushes, transitions) is charged where it happens.
 */
export type CostClass =
  | 'alu' | 'mul' | 'div' | 'load' | 'store' | 'branch' | 'branchTaken' | 'call' | 'ret' | 'rdtsc' | 'cpuid' | 'pause'
  | 'cliSti' | 'ioPort' | 'crMove' | 'descriptorLoad' | 'invlpg' | 'iret' | 'pushf' | 'popf';

function i(op: Op, mnemonic: string, fmt: Fmt, cls: InsnClass, doc: string, cost: CostClass): OpInfo {
  const long = fmt === Fmt.DImm32 || fmt === Fmt.Rel || fmt === Fmt.CondRel;
  return { op, mnemonic, fmt, cls, bytes: long ? 8 : 4, doc, cost };
}

/** Every defined instruction, in opcode order. */
export const INSTRUCTIONS: readonly OpInfo[] = [
  i(Op.NOP, 'nop', Fmt.None, 'innocuous', 'do nothing', 'alu'),
  i(Op.MOV, 'mov', Fmt.DA, 'innocuous', 'rd = ra', 'alu'),
  i(Op.LI, 'li', Fmt.DImm32, 'innocuous', 'rd = imm32', 'alu'),
  i(Op.ADD, 'add', Fmt.DAB, 'innocuous', 'rd = ra + rb (wrapping)', 'alu'),
  i(Op.SUB, 'sub', Fmt.DAB, 'innocuous', 'rd = ra - rb (wrapping)', 'alu'),
  i(Op.MUL, 'mul', Fmt.DAB, 'innocuous', 'rd = low 32 bits of ra * rb', 'mul'),
  i(Op.MULHU, 'mulhu', Fmt.DAB, 'innocuous', 'rd = high 32 bits of unsigned ra * rb', 'mul'),
  i(Op.DIV, 'div', Fmt.DAB, 'innocuous', 'rd = ra / rb signed, truncated toward zero; #DE if rb = 0; MIN/-1 = MIN', 'div'),
  i(Op.DIVU, 'divu', Fmt.DAB, 'innocuous', 'rd = ra / rb unsigned; #DE if rb = 0', 'div'),
  i(Op.REM, 'rem', Fmt.DAB, 'innocuous', 'rd = ra % rb signed (sign of ra); #DE if rb = 0; MIN%-1 = 0', 'div'),
  i(Op.REMU, 'remu', Fmt.DAB, 'innocuous', 'rd = ra % rb unsigned; #DE if rb = 0', 'div'),
  i(Op.AND, 'and', Fmt.DAB, 'innocuous', 'rd = ra & rb', 'alu'),
  i(Op.OR, 'or', Fmt.DAB, 'innocuous', 'rd = ra | rb', 'alu'),
  i(Op.XOR, 'xor', Fmt.DAB, 'innocuous', 'rd = ra ^ rb', 'alu'),
  i(Op.SHL, 'shl', Fmt.DAB, 'innocuous', 'rd = ra << (rb & 31)', 'alu'),
  i(Op.SHR, 'shr', Fmt.DAB, 'innocuous', 'rd = ra >>> (rb & 31) (logical)', 'alu'),
  i(Op.SAR, 'sar', Fmt.DAB, 'innocuous', 'rd = ra >> (rb & 31) (arithmetic)', 'alu'),
  i(Op.NOT, 'not', Fmt.DA, 'innocuous', 'rd = ~ra', 'alu'),
  i(Op.NEG, 'neg', Fmt.DA, 'innocuous', 'rd = -ra (wrapping)', 'alu'),
  i(Op.ADDI, 'addi', Fmt.DAI, 'innocuous', 'rd = ra + imm16', 'alu'),
  i(Op.MULI, 'muli', Fmt.DAI, 'innocuous', 'rd = ra * imm16 (low 32 bits)', 'mul'),
  i(Op.ANDI, 'andi', Fmt.DAI, 'innocuous', 'rd = ra & imm16 (sign-extended)', 'alu'),
  i(Op.ORI, 'ori', Fmt.DAI, 'innocuous', 'rd = ra | imm16 (sign-extended)', 'alu'),
  i(Op.XORI, 'xori', Fmt.DAI, 'innocuous', 'rd = ra ^ imm16 (sign-extended)', 'alu'),
  i(Op.SHLI, 'shli', Fmt.DAI, 'innocuous', 'rd = ra << (imm16 & 31)', 'alu'),
  i(Op.SHRI, 'shri', Fmt.DAI, 'innocuous', 'rd = ra >>> (imm16 & 31)', 'alu'),
  i(Op.SARI, 'sari', Fmt.DAI, 'innocuous', 'rd = ra >> (imm16 & 31)', 'alu'),
  i(Op.LDW, 'ldw', Fmt.Load, 'innocuous', 'rd = 32-bit word at ra + imm16', 'load'),
  i(Op.LDH, 'ldh', Fmt.Load, 'innocuous', 'rd = sign-extended 16-bit halfword at ra + imm16', 'load'),
  i(Op.LDHU, 'ldhu', Fmt.Load, 'innocuous', 'rd = zero-extended 16-bit halfword at ra + imm16', 'load'),
  i(Op.LDB, 'ldb', Fmt.Load, 'innocuous', 'rd = sign-extended byte at ra + imm16', 'load'),
  i(Op.LDBU, 'ldbu', Fmt.Load, 'innocuous', 'rd = zero-extended byte at ra + imm16', 'load'),
  i(Op.STW, 'stw', Fmt.Store, 'innocuous', 'word at ra + imm16 = rd', 'store'),
  i(Op.STH, 'sth', Fmt.Store, 'innocuous', 'halfword at ra + imm16 = low 16 bits of rd', 'store'),
  i(Op.STB, 'stb', Fmt.Store, 'innocuous', 'byte at ra + imm16 = low 8 bits of rd', 'store'),
  i(Op.XCHG, 'xchg', Fmt.DAB, 'innocuous', 'atomically rd = word at ra and word at ra = rb (the SMP read-modify-write; one access, needs write permission)', 'store'),
  i(Op.PUSH, 'push', Fmt.A, 'innocuous', 'sp -= 4; word at sp = ra', 'store'),
  i(Op.POP, 'pop', Fmt.D, 'innocuous', 'rd = word at sp; sp += 4', 'load'),
  i(Op.CMP, 'cmp', Fmt.AB, 'innocuous', 'set Z, LT, B from comparing ra with rb', 'alu'),
  i(Op.CMPI, 'cmpi', Fmt.AI, 'innocuous', 'set Z, LT, B from comparing ra with imm16 (sign-extended)', 'alu'),
  i(Op.TEST, 'test', Fmt.AB, 'innocuous', 'set Z from ra & rb == 0, LT from ra & rb < 0, clear B', 'alu'),
  i(Op.SETCC, 'set', Fmt.DCond, 'innocuous', 'rd = 1 if cond holds on FLAGS, else 0', 'alu'),
  i(Op.JMP, 'jmp', Fmt.Rel, 'innocuous', 'pc = next + rel32', 'branchTaken'),
  i(Op.JCC, 'j', Fmt.CondRel, 'innocuous', 'if cond holds on FLAGS, pc = next + rel32', 'branch'),
  i(Op.CALL, 'call', Fmt.Rel, 'innocuous', 'push next; pc = next + rel32', 'call'),
  i(Op.JMPR, 'jmpr', Fmt.A, 'innocuous', 'pc = ra', 'branchTaken'),
  i(Op.CALLR, 'callr', Fmt.A, 'innocuous', 'push next; pc = ra', 'call'),
  i(Op.RET, 'ret', Fmt.None, 'innocuous', 'pc = pop', 'ret'),
  i(Op.INT, 'int', Fmt.Vec, 'innocuous', 'software interrupt through the IDT gate for the vector; #GP if CPL > gate DPL', 'alu'),
  i(Op.BRK, 'brk', Fmt.None, 'innocuous', 'breakpoint trap, vector 3 (a trap: the saved pc is the next instruction)', 'alu'),
  i(Op.RDTSC, 'rdtsc', Fmt.DD, 'innocuous', 'rd = low 32 bits of the cycle counter, ra = high 32 bits', 'rdtsc'),
  i(Op.CPUID, 'cpuid', Fmt.None, 'innocuous', 'r0..r3 = identification for leaf r0 (exits unconditionally in non-root mode)', 'cpuid'),
  i(Op.PAUSE, 'pause', Fmt.None, 'innocuous', "spin-wait hint: do nothing for the profile's pause cycles (in non-root mode at CPL 0 with pause-loop exiting, a spin loop longer than PLE_Window exits)", 'pause'),
  i(Op.HLT, 'hlt', Fmt.None, 'privileged', 'stop until the next interrupt', 'alu'),
  i(Op.CLI, 'cli', Fmt.None, 'io-privileged', 'clear IF; #GP if CPL > IOPL', 'cliSti'),
  i(Op.STI, 'sti', Fmt.None, 'io-privileged', 'set IF; #GP if CPL > IOPL', 'cliSti'),
  i(Op.IN, 'in', Fmt.DPort, 'io-privileged', 'rd = 32-bit read of port imm16; #GP if CPL > IOPL', 'ioPort'),
  i(Op.INB, 'inb', Fmt.DPort, 'io-privileged', 'rd = 8-bit read of port imm16, zero-extended; #GP if CPL > IOPL', 'ioPort'),
  i(Op.OUT, 'out', Fmt.PortA, 'io-privileged', '32-bit write of ra to port imm16; #GP if CPL > IOPL', 'ioPort'),
  i(Op.OUTB, 'outb', Fmt.PortA, 'io-privileged', '8-bit write of ra to port imm16; #GP if CPL > IOPL', 'ioPort'),
  i(Op.INR, 'inr', Fmt.DA, 'io-privileged', 'rd = 32-bit read of the port in ra; #GP if CPL > IOPL', 'ioPort'),
  i(Op.OUTR, 'outr', Fmt.AB, 'io-privileged', '32-bit write of rb to the port in ra; #GP if CPL > IOPL', 'ioPort'),
  i(Op.MOVTOCR, 'movcr', Fmt.CrA, 'privileged', 'control register N = ra (CR3 write flushes the TLB)', 'crMove'),
  i(Op.MOVFROMCR, 'movfcr', Fmt.DCr, 'privileged', 'rd = control register N', 'crMove'),
  i(Op.LIDT, 'lidt', Fmt.AImm, 'privileged', 'IDT base = ra (virtual), entry count = imm16', 'descriptorLoad'),
  i(Op.INVLPG, 'invlpg', Fmt.A, 'privileged', 'drop the TLB entry for the page holding virtual address ra', 'invlpg'),
  i(Op.LKSP, 'lksp', Fmt.RingA, 'privileged', 'kernel stack pointer of ring imm16 (0..2) = ra (the TSS role)', 'descriptorLoad'),
  i(Op.IRET, 'iret', Fmt.None, 'privileged', 'pop pc, cs, flags, sp; #GP if the popped ring is more privileged than CPL', 'iret'),
  i(Op.PUSHF, 'pushf', Fmt.None, 'critical', 'push FLAGS, showing the real IF and IOPL at any CPL', 'pushf'),
  i(Op.POPF, 'popf', Fmt.None, 'critical', 'pop FLAGS; IOPL changes only at CPL 0, IF changes only at CPL <= IOPL, silently', 'popf'),
  i(Op.RDCPL, 'rdcpl', Fmt.D, 'critical', 'rd = the current privilege level (like reading CS)', 'alu'),
  i(Op.SIDT, 'sidt', Fmt.D, 'critical', 'rd = the IDT base register, at any CPL', 'alu'),
  i(Op.HYPERCALL, 'hypercall', Fmt.None, 'hypercall', 'trap to the hypervisor (r0 = number, r1..r5 = arguments, r0 = result); #UD on bare hardware', 'alu'),
];

/** Opcode -> info, 256 entries, undefined for undefined opcodes. */
export const OPS: readonly (OpInfo | undefined)[] = (() => {
  const table: (OpInfo | undefined)[] = new Array(256).fill(undefined);
  for (const info of INSTRUCTIONS) {
    if (table[info.op]) throw new Error(`duplicate opcode ${info.op}`);
    table[info.op] = info;
  }
  return table;
})();

/** Mnemonic -> info (SETcc and Jcc are spelled with a condition suffix, e.g. `jlt`, `seteq`). */
export const BY_MNEMONIC: ReadonlyMap<string, OpInfo> = new Map(INSTRUCTIONS.map((x) => [x.mnemonic, x]));

/** Instruction length in bytes by opcode (4 or 8; 4 for undefined opcodes). */
export const INSN_BYTES: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(4);
  for (const info of INSTRUCTIONS) t[info.op] = info.bytes;
  return t;
})();

/** Condition codes for Jcc and SETcc. */
export const enum Cond {
  EQ = 0,
  NE = 1,
  LT = 2,
  GE = 3,
  LE = 4,
  GT = 5,
  B = 6,
  AE = 7,
  BE = 8,
  A = 9,
}

export const COND_NAMES: readonly string[] = ['eq', 'ne', 'lt', 'ge', 'le', 'gt', 'b', 'ae', 'be', 'a'];

/** FLAGS bits. Only CMP, CMPI and TEST write Z/LT/B; arithmetic leaves FLAGS alone. */
export const enum Flag {
  /** equal / zero */
  Z = 1 << 0,
  /** signed less-than */
  LT = 1 << 1,
  /** unsigned below */
  B = 1 << 2,
  /** interrupt enable */
  IF = 1 << 9,
  /** I/O privilege level, 2 bits */
  IOPL_SHIFT = 12,
  IOPL_MASK = 3 << 12,
}

/** FLAGS bits that exist; POPF and IRET ignore the others. */
export const FLAGS_DEFINED = Flag.Z | Flag.LT | Flag.B | Flag.IF | Flag.IOPL_MASK;
/** The condition bits. */
export const FLAGS_COND = Flag.Z | Flag.LT | Flag.B;

/** Does `cond` hold for `flags`? */
export function condHolds(cond: number, flags: number): boolean {
  switch (cond) {
    case Cond.EQ: return (flags & Flag.Z) !== 0;
    case Cond.NE: return (flags & Flag.Z) === 0;
    case Cond.LT: return (flags & Flag.LT) !== 0;
    case Cond.GE: return (flags & Flag.LT) === 0;
    case Cond.LE: return (flags & (Flag.LT | Flag.Z)) !== 0;
    case Cond.GT: return (flags & (Flag.LT | Flag.Z)) === 0;
    case Cond.B: return (flags & Flag.B) !== 0;
    case Cond.AE: return (flags & Flag.B) === 0;
    case Cond.BE: return (flags & (Flag.B | Flag.Z)) !== 0;
    case Cond.A: return (flags & (Flag.B | Flag.Z)) === 0;
    default: return false;
  }
}

/** Condition bits produced by comparing a with b. */
export function compareFlags(a: number, b: number): number {
  return (a === b ? Flag.Z : 0) | ((a | 0) < (b | 0) ? Flag.LT : 0) | (a >>> 0 < b >>> 0 ? Flag.B : 0);
}

/** Registers: r0..r15; r15 is the stack pointer, r14 the frame pointer by convention. */
export const NUM_REGS = 16;
export const REG_SP = 15;
export const REG_FP = 14;

/** Control registers. */
export const enum CR {
  /** CR0: bit 0 PG (paging enable), bit 1 WP (supervisor write-protect). */
  CR0 = 0,
  /** CR2: address of the last page fault. */
  CR2 = 2,
  /** CR3: physical address of the page directory (4 KiB aligned). */
  CR3 = 3,
  /** CR4: bit 0 TSD (RDTSC faults at CPL > 0). */
  CR4 = 4,
}
/** Is n a control register that exists (MOVCR/MOVFCR of any other number is #UD)? */
export function isControlRegister(n: number): boolean {
  return n === 0 || n === 2 || n === 3 || n === 4;
}
export const CR0_PG = 1 << 0;
export const CR0_WP = 1 << 1;
export const CR4_TSD = 1 << 0;

/** Exception and interrupt vectors. */
export const enum Vector {
  DivideError = 0,
  Debug = 1,
  Breakpoint = 3,
  InvalidOpcode = 6,
  DoubleFault = 8,
  GeneralProtection = 13,
  PageFault = 14,
  /** Default base of the interrupt controller's 16 lines (programmable). */
  IrqBase = 32,
  /** The conventional system-call vector (as Linux's int 0x80). */
  Syscall = 0x80,
}

/** Page-fault error code bits (as x86). */
export const enum PfErr {
  /** 1: protection violation on a present page; 0: page not present */
  Present = 1 << 0,
  /** the access was a write */
  Write = 1 << 1,
  /** the access was made at CPL 3 */
  User = 1 << 2,
  /** the access was an instruction fetch */
  Fetch = 1 << 4,
}

/** Page-directory and page-table entry bits; the frame is bits 12..31. */
export const enum Pte {
  P = 1 << 0,
  W = 1 << 1,
  U = 1 << 2,
  A = 1 << 5,
  D = 1 << 6,
  FRAME_MASK = 0xfffff000 | 0,
}
export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

/**
 * IDT gates: 8 bytes each at IDT base + vector * 8.
 *   word 0: handler address (virtual)
 *   word 1: bit 0 present; bits 1..2 DPL (highest CPL allowed to reach it with INT n);
 *           bits 3..4 the ring the handler runs at; bit 5 trap gate (IF is left alone; an
 *           interrupt gate clears IF on entry)
 */
export const GATE_BYTES = 8;
export const enum Gate {
  PRESENT = 1 << 0,
  DPL_SHIFT = 1,
  RING_SHIFT = 3,
  TRAP = 1 << 5,
}
export function gateFlags(dpl: number, ring: number, trapGate: boolean): number {
  return Gate.PRESENT | ((dpl & 3) << Gate.DPL_SHIFT) | ((ring & 3) << Gate.RING_SHIFT) | (trapGate ? Gate.TRAP : 0);
}

/**
 * The trap frame the CPU pushes on delivery, lowest address first. All six words are always
 * pushed, with or without a privilege change. On a change to a more privileged ring the stack
 * is first switched to that ring's kernel stack pointer (LKSP). IRET expects sp at FRAME_PC
 * (the handler drops vector and error code first: `addi sp, sp, 8`).
 */
export const enum Frame {
  VECTOR = 0,
  ERROR = 4,
  PC = 8,
  CS = 12,
  FLAGS = 16,
  SP = 20,
  BYTES = 24,
}

/** CPUID leaf 0 answers "XL32" in r1..r3 as the vendor string "XL32XL32XL32". */
export const CPUID_VENDOR = 0x32334c58;

/** Field extraction, shared by every decoder so the layout is written down once. */
export const opOf = (w: number): number => w & 0xff;
export const rdOf = (w: number): number => (w >>> 8) & 15;
export const raOf = (w: number): number => (w >>> 12) & 15;
export const rbOf = (w: number): number => (w >>> 16) & 15;
export const immOf = (w: number): number => w >> 16;

/** Build an instruction word. */
export function encode(op: number, rd = 0, ra = 0, imm = 0): number {
  return ((op & 0xff) | ((rd & 15) << 8) | ((ra & 15) << 12) | ((imm & 0xffff) << 16)) | 0;
}

/** A decoded instruction, for tools (the hot interpreter decodes inline with the same helpers). */
export interface Decoded {
  op: number;
  info: OpInfo | undefined;
  rd: number;
  ra: number;
  rb: number;
  imm: number;
  /** extension word for long forms, else 0 */
  ext: number;
  bytes: number;
}

export function decode(word: number, ext: number): Decoded {
  const op = opOf(word);
  const info = OPS[op];
  return {
    op,
    info,
    rd: rdOf(word),
    ra: raOf(word),
    rb: rbOf(word),
    imm: immOf(word),
    ext: info && info.bytes === 8 ? ext | 0 : 0,
    bytes: info ? info.bytes : 4,
  };
}

export const IMM16_MIN = -32768;
export const IMM16_MAX = 32767;
