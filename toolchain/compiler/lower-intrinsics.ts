// Phase 3, lowering of the "xl32" intrinsics: the instructions each intrinsic call becomes. One
// exhaustive switch over IntrinsicName (the keys of intrinsics.ts's table), so an intrinsic added
// to the table without a lowering does not compile. Called by lower.ts for every intrinsic call;
// writes IR through the function lowering's emitter, nothing else.
import type ts from './typescript.js';
import { Op, Cond, REG_SP } from '../../machine/isa.ts';
import { CONTEXT_SWITCH_SYM } from './statics.ts';
import { CALLER_SAVED, type MInst, type Reg } from './mir.ts';
import type { IntrinsicName } from './intrinsics.ts';
import type { LowerEnv, Val } from './lower.ts';
import { SYSCALL_VECTOR } from './abi.ts';
import { assertNever } from './diagnostics.ts';

/** What lowering an intrinsic needs of the function being lowered (lower.ts's FnLowering). */
export interface IntrinsicLowerer {
  readonly env: LowerEnv;
  emit(op: Op, fields?: Partial<MInst>): MInst;
  vreg(): Reg;
  toReg(v: Val): Reg;
  moveTo(dst: Reg, v: Val): void;
  expr(e: ts.Expression, want?: Reg): Val;
  /** several expressions left to right, each stable against the later ones */
  exprs(es: readonly ts.Expression[]): Val[];
  /** base register plus 16-bit displacement for a load or store */
  address(e: ts.Expression): { base: Reg; off: number };
  /** arguments into r0.. ; returns the registers used */
  passArgs(vals: readonly Val[]): Reg[];
  /** r0 after a call, in `want` or a new register */
  result(want?: Reg): Val;
  /** a condition's value as 0/1 */
  boolValue(e: ts.Expression, want?: Reg): Val;
  /** the current block ends here (after a terminator such as iret) */
  endBlock(): void;
}

/** The unsigned comparisons: the condition each intrinsic tests (a branch fuses it with its compare). */
const UNSIGNED_COMPARE: Partial<Record<IntrinsicName, Cond>> = { ltu: Cond.B, leu: Cond.BE, gtu: Cond.A, geu: Cond.AE };

/** The condition an unsigned-compare intrinsic tests, or undefined for any other name. */
export function unsignedCompareCond(name: string | null): Cond | undefined {
  return name === null ? undefined : UNSIGNED_COMPARE[name as IntrinsicName];
}

/** Lower a call of intrinsic `name`; `want` is the register the caller would like the result in. */
export function lowerIntrinsic(l: IntrinsicLowerer, name: IntrinsicName, call: ts.CallExpression, want?: Reg): Val {
  const args = call.arguments;
  const ce = l.env.ce;
  const zero: Val = { k: 'int', v: 0 };
  const def = (op: Op, fields: Partial<MInst> = {}): Val => {
    const d = want ?? l.vreg();
    l.emit(op, { rd: d, ...fields });
    return { k: 'reg', r: d };
  };
  const load = (op: Op): Val => {
    const a = l.address(args[0]!);
    return def(op, { ra: a.base, imm: a.off });
  };
  const store = (op: Op): Val => {
    const a = l.address(args[0]!);
    const v = l.toReg(l.expr(args[1]!));
    l.emit(op, { rd: v, ra: a.base, imm: a.off });
    return zero;
  };
  const two = (op: Op): Val => {
    const [a, b] = l.exprs(args);
    const ra = l.toReg(a!);
    const rb = l.toReg(b!);
    return def(op, { ra, rb });
  };
  const one = (): Reg => l.toReg(l.expr(args[0]!));
  const constArg = (k: number): number => {
    const v = ce.int(args[k]!);
    if (v === null) throw new Error(`internal compiler error: ${name} argument ${k} is not constant`);
    return v;
  };
  switch (name) {
    case 'load8': return load(Op.LDBU);
    case 'load8s': return load(Op.LDB);
    case 'load16': return load(Op.LDHU);
    case 'load16s': return load(Op.LDH);
    case 'load32': return load(Op.LDW);
    case 'store8': return store(Op.STB);
    case 'store16': return store(Op.STH);
    case 'store32': return store(Op.STW);
    case 'xchg32': return two(Op.XCHG);
    case 'ltu':
    case 'leu':
    case 'gtu':
    case 'geu':
      return l.boolValue(call, want);
    case 'divu': return two(Op.DIVU);
    case 'remu': return two(Op.REMU);
    case 'mulhu': return two(Op.MULHU);
    case 'staticBuffer':
    case 'cstr':
    case 'addressOf':
    case 'trapEntry':
      // Link-time addresses: the constant evaluator folds these calls before lowering sees a call.
      throw new Error(`internal compiler error: ${name} is a constant address and reached lowering as a call`);
    case 'callIndirect': {
      const [target, ...rest] = l.exprs(args);
      const ra = l.toReg(target!);
      const uses = l.passArgs(rest);
      l.emit(Op.CALLR, { ra, implicitUses: uses, implicitDefs: [...CALLER_SAVED] });
      return l.result(want);
    }
    case 'cli': l.emit(Op.CLI); return zero;
    case 'sti': l.emit(Op.STI); return zero;
    case 'hlt': l.emit(Op.HLT); return zero;
    case 'pause': l.emit(Op.PAUSE); return zero;
    case 'brk': l.emit(Op.BRK); return zero;
    case 'pushf':
      l.emit(Op.PUSHF);
      return def(Op.POP);
    case 'popf':
      l.emit(Op.PUSH, { ra: one() });
      l.emit(Op.POPF);
      return zero;
    case 'rdcpl': return def(Op.RDCPL);
    case 'stackPointer': return def(Op.MOV, { ra: REG_SP });
    case 'sidt': return def(Op.SIDT);
    case 'rdtsc': return def(Op.RDTSC, { ra: l.vreg() });
    case 'rdtscHigh': {
      const d = want ?? l.vreg();
      l.emit(Op.RDTSC, { rd: l.vreg(), ra: d });
      return { k: 'reg', r: d };
    }
    case 'cpuid': {
      const [leaf] = l.exprs([args[0]!, args[1]!]);
      const out = l.address(args[1]!);
      l.moveTo(0, leaf!);
      l.emit(Op.CPUID, { implicitUses: [0], implicitDefs: [0, 1, 2, 3] });
      for (let k = 0; k < 4; k++) l.emit(Op.STW, { rd: k, ra: out.base, imm: out.off + 4 * k });
      return zero;
    }
    case 'in32': {
      const p = ce.int(args[0]!);
      if (p !== null && p >= 0 && p <= 0xffff) return def(Op.IN, { imm: p });
      return def(Op.INR, { ra: one() });
    }
    case 'inb': return def(Op.INB, { imm: constArg(0) });
    case 'outb':
      l.emit(Op.OUTB, { imm: constArg(0), ra: l.toReg(l.expr(args[1]!)) });
      return zero;
    case 'out32': {
      const p = ce.int(args[0]!);
      if (p !== null && p >= 0 && p <= 0xffff) {
        l.emit(Op.OUT, { imm: p, ra: l.toReg(l.expr(args[1]!)) });
      } else {
        const [port, value] = l.exprs(args);
        const ra = l.toReg(port!);
        l.emit(Op.OUTR, { ra, rb: l.toReg(value!) });
      }
      return zero;
    }
    case 'readCr': return def(Op.MOVFROMCR, { imm: constArg(0) });
    case 'writeCr':
      l.emit(Op.MOVTOCR, { imm: constArg(0), ra: l.toReg(l.expr(args[1]!)) });
      return zero;
    case 'lidt':
      l.emit(Op.LIDT, { ra: one(), imm: constArg(1) });
      return zero;
    case 'invlpg':
      l.emit(Op.INVLPG, { ra: one() });
      return zero;
    case 'lksp':
      l.emit(Op.LKSP, { imm: constArg(0), ra: l.toReg(l.expr(args[1]!)) });
      return zero;
    case 'softInt':
      l.emit(Op.INT, { imm: constArg(0), implicitDefs: [...CALLER_SAVED] });
      return zero;
    case 'hypercall': {
      const uses = l.passArgs(l.exprs(args));
      l.emit(Op.HYPERCALL, { implicitUses: uses, implicitDefs: [...CALLER_SAVED] });
      return l.result(want);
    }
    case 'syscall': {
      const uses = l.passArgs(l.exprs(args));
      l.emit(Op.INT, { imm: SYSCALL_VECTOR, implicitUses: uses, implicitDefs: [...CALLER_SAVED] });
      return l.result(want);
    }
    case 'contextSwitch': {
      l.env.statics.needContextSwitch = true;
      const uses = l.passArgs(l.exprs(args));
      l.emit(Op.CALL, { sym: CONTEXT_SWITCH_SYM, implicitUses: uses, implicitDefs: [...CALLER_SAVED] });
      return zero;
    }
    case 'iretTo':
      l.emit(Op.MOV, { rd: 15, ra: one() });
      l.emit(Op.IRET);
      l.endBlock();
      return zero;
    default:
      return assertNever(name, 'intrinsic');
  }
}
