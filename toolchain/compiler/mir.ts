// The machine IR: XL32 instructions over virtual registers, grouped in basic blocks. Lowering
// produces it, the register allocator rewrites virtual registers to physical ones, the emitter
// prints it as assembly. Operand roles come from the ISA's formats (machine/isa.ts).
import { OPS, Fmt, Op, Cond, REG_FP, REG_SP } from '../../machine/isa.ts';
import { assertNever } from './diagnostics.ts';

/** A register: 0..15 physical, FIRST_VREG and up virtual. */
export type Reg = number;
export const FIRST_VREG = 32;
export const isVirtual = (r: Reg): boolean => r >= FIRST_VREG;

/** Argument registers, in order; the result comes back in r0. */
export const ARG_REGS: readonly Reg[] = [0, 1, 2, 3, 4, 5];
/** Registers a call may change (caller-saved). */
export const CALLER_SAVED: readonly Reg[] = [0, 1, 2, 3, 4, 5, 6];
/** Registers a function must preserve (callee-saved); fp (r14) is preserved too. */
export const CALLEE_SAVED: readonly Reg[] = [7, 8, 9, 10, 11, 12, 13];
/** Registers the allocator may hand out: r0..r13 (r14 is fp, r15 sp). */
export const ALLOCATABLE: readonly Reg[] = [...CALLER_SAVED, ...CALLEE_SAVED];

/** One machine instruction. Unused operand fields are 0 / null. */
export interface MInst {
  op: Op;
  rd: Reg;
  ra: Reg;
  rb: Reg;
  /** imm16 operand, port, vector, CR number (CrA/DCr keep the CR number here), LI value or offset */
  imm: number;
  /** LI/CALL: a symbol (LI adds imm as an offset) */
  sym: string | null;
  /** JCC/SETCC condition */
  cond: Cond;
  /** JMP/JCC: target block; JMPR through a jump table: every possible target */
  targets: number[];
  /** registers read beyond the encoded operands (call arguments, cpuid's leaf) */
  implicitUses: Reg[];
  /** registers written beyond the encoded operands (call clobbers, cpuid results) */
  implicitDefs: Reg[];
  /** a spill slot the load/store addresses (fp-relative), or -1 */
  slot: number;
  /** source line for the line map (0 = none) */
  line: number;
}

export function inst(op: Op, fields: Partial<MInst> = {}): MInst {
  return { op, rd: 0, ra: 0, rb: 0, imm: 0, sym: null, cond: Cond.EQ, targets: [], implicitUses: [], implicitDefs: [], slot: -1, line: 0, ...fields };
}

/** A basic block: straight-line instructions ending in a terminator (jmp, jcc+jmp, ret, iret, jmpr). */
export interface MBlock {
  id: number;
  insts: MInst[];
  /** loop nesting depth, for spill costs */
  loopDepth: number;
}

export interface MFunction {
  /** the mangled symbol */
  name: string;
  /** source file (index into the compilation's file list) */
  fileIndex: number;
  /** blocks in layout order; blocks[0] is the entry */
  blocks: MBlock[];
  /** number of the next free virtual register */
  nextVreg: number;
  /** virtual registers the allocator must not spill (spill temporaries) */
  noSpill: Set<Reg>;
  /** spill slots (words) used */
  slots: number;
  /** whether the function returns a value in r0 */
  returnsValue: boolean;
}

/** Registers an instruction reads, by its format. */
export function usesOf(i: MInst): Reg[] {
  const info = OPS[i.op];
  if (!info) throw new Error(`internal compiler error: unknown opcode ${i.op}`);
  let regs: Reg[];
  switch (info.fmt) {
    case Fmt.None:
    case Fmt.D:
    case Fmt.DImm32:
    case Fmt.Rel:
    case Fmt.CondRel:
    case Fmt.DCond:
    case Fmt.Vec:
    case Fmt.DPort:
    case Fmt.DCr:
    case Fmt.DD:
      regs = [];
      break;
    case Fmt.A:
    case Fmt.DA:
    case Fmt.DAI:
    case Fmt.Load:
    case Fmt.AI:
    case Fmt.PortA:
    case Fmt.CrA:
    case Fmt.AImm:
    case Fmt.RingA:
      regs = [i.ra];
      break;
    case Fmt.DAB:
    case Fmt.AB:
      regs = [i.ra, i.rb];
      break;
    case Fmt.Store:
      regs = [i.rd, i.ra];
      break;
    default:
      return assertNever(info.fmt, 'operand format');
  }
  return i.implicitUses.length ? [...regs, ...i.implicitUses] : regs;
}

/** Registers an instruction writes, by its format. */
export function defsOf(i: MInst): Reg[] {
  const info = OPS[i.op];
  if (!info) throw new Error(`internal compiler error: unknown opcode ${i.op}`);
  let regs: Reg[];
  switch (info.fmt) {
    case Fmt.None:
    case Fmt.A:
    case Fmt.Store:
    case Fmt.Rel:
    case Fmt.CondRel:
    case Fmt.AB:
    case Fmt.AI:
    case Fmt.Vec:
    case Fmt.PortA:
    case Fmt.CrA:
    case Fmt.AImm:
    case Fmt.RingA:
      regs = [];
      break;
    case Fmt.D:
    case Fmt.DA:
    case Fmt.DAB:
    case Fmt.DAI:
    case Fmt.Load:
    case Fmt.DImm32:
    case Fmt.DCond:
    case Fmt.DPort:
    case Fmt.DCr:
      regs = [i.rd];
      break;
    case Fmt.DD:
      regs = [i.rd, i.ra];
      break;
    default:
      return assertNever(info.fmt, 'operand format');
  }
  return i.implicitDefs.length ? [...regs, ...i.implicitDefs] : regs;
}

/** Rename registers in place: encoded operands by role, implicit lists too. */
export function mapRegs(i: MInst, useMap: (r: Reg) => Reg, defMap: (r: Reg) => Reg): void {
  const info = OPS[i.op]!;
  switch (info.fmt) {
    case Fmt.None:
    case Fmt.Rel:
    case Fmt.CondRel:
    case Fmt.Vec:
      break;
    case Fmt.D:
    case Fmt.DImm32:
    case Fmt.DCond:
    case Fmt.DPort:
    case Fmt.DCr:
      i.rd = defMap(i.rd);
      break;
    case Fmt.A:
    case Fmt.AI:
    case Fmt.PortA:
    case Fmt.CrA:
    case Fmt.AImm:
    case Fmt.RingA:
      i.ra = useMap(i.ra);
      break;
    case Fmt.DA:
    case Fmt.DAI:
    case Fmt.Load:
      i.ra = useMap(i.ra);
      i.rd = defMap(i.rd);
      break;
    case Fmt.DAB:
      i.ra = useMap(i.ra);
      i.rb = useMap(i.rb);
      i.rd = defMap(i.rd);
      break;
    case Fmt.AB:
      i.ra = useMap(i.ra);
      i.rb = useMap(i.rb);
      break;
    case Fmt.Store:
      i.rd = useMap(i.rd);
      i.ra = useMap(i.ra);
      break;
    case Fmt.DD:
      i.rd = defMap(i.rd);
      i.ra = defMap(i.ra);
      break;
    default:
      assertNever(info.fmt, 'operand format');
  }
  i.implicitUses = i.implicitUses.map(useMap);
  i.implicitDefs = i.implicitDefs.map(defMap);
}

/** Does control leave the block here for good (no fall-through to the next instruction)? */
export function isTerminator(i: MInst): boolean {
  return i.op === Op.JMP || i.op === Op.RET || i.op === Op.IRET || i.op === Op.JMPR;
}

/** Instructions with effects beyond their register results: never deleted even when unused. */
export function hasSideEffects(i: MInst): boolean {
  switch (i.op) {
    case Op.NOP:
    case Op.MOV:
    case Op.LI:
    case Op.ADD:
    case Op.SUB:
    case Op.MUL:
    case Op.MULHU:
    case Op.AND:
    case Op.OR:
    case Op.XOR:
    case Op.SHL:
    case Op.SHR:
    case Op.SAR:
    case Op.NOT:
    case Op.NEG:
    case Op.ADDI:
    case Op.MULI:
    case Op.ANDI:
    case Op.ORI:
    case Op.XORI:
    case Op.SHLI:
    case Op.SHRI:
    case Op.SARI:
    case Op.SETCC:
      return false;
    default:
      // div/rem can fault (#DE), loads can fault (#PF), and everything else touches state.
      return true;
  }
}

/** Registers the allocator tracks: every virtual register and r0..r13. */
export const tracked = (r: Reg): boolean => r !== REG_SP && r !== REG_FP;

/** Successor block ids of a block (from its jumps). */
export function successors(b: MBlock): number[] {
  const out: number[] = [];
  for (const i of b.insts) {
    if (i.op === Op.JMP || i.op === Op.JCC || i.op === Op.JMPR) for (const t of i.targets) if (!out.includes(t)) out.push(t);
  }
  return out;
}
