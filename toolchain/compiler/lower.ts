// Phase 3, lowering: turns one checked guest function into machine IR over virtual registers.
// Expression trees are evaluated straight into registers (destination-driven, constants folded,
// immediate forms chosen), conditions become fused compare-and-branch, loops are rotated so
// each iteration ends in one conditional branch. Reads the AST; writes IR and static data.
import ts from './typescript.js';
import { Op, Cond, REG_FP, REG_SP, compareFlags, condHolds } from '../../machine/isa.ts';
import type { Names } from './names.ts';
import type { ConstEval } from './consteval.ts';
import type { Statics } from './statics.ts';
import { isIntrinsicName } from './intrinsics.ts';
import { lowerIntrinsic, unsignedCompareCond, type IntrinsicLowerer } from './lower-intrinsics.ts';
import { ARG_REGS, CALLER_SAVED, FIRST_VREG, defsOf, inst, isTerminator, isVirtual, successors, type MBlock, type MFunction, type MInst, type Reg } from './mir.ts';

/** A value during lowering: in a register, a constant integer, or a link-time address. */
export type Val = { k: 'reg'; r: Reg } | { k: 'int'; v: number } | { k: 'addr'; sym: string; off: number };

export const fitsImm16 = (v: number): boolean => v >= -32768 && v <= 32767;

/** A dense switch's jump table, owned by its function. */
export interface FnJumpTable {
  /** the table's label in read-only data */
  label: string;
  /** block id per case value, lowest value first */
  targets: number[];
}

/** Machine IR of a function plus its jump tables. */
export interface LoweredFunction extends MFunction {
  jumpTables: FnJumpTable[];
  /** the function reads stack parameters through fp, so it needs a frame even as a leaf */
  needsFrame: boolean;
}

/** fp-relative offset of the seventh parameter (above the saved fp and the return address). */
export const STACK_ARGS_OFFSET = 8;

export interface LowerEnv {
  names: Names;
  ce: ConstEval;
  statics: Statics;
}

interface LoopFrame {
  label: string | null;
  breakTo: MBlock;
  /** null for switch statements */
  continueTo: MBlock | null;
}

// The operator tables are built on first use: their keys are the compiler API's, which loads when
// first used (typescript.js), not when a command that never compiles imports the compiler.
let opTables: ReturnType<typeof makeOpTables> | undefined;
const ops = (): ReturnType<typeof makeOpTables> => (opTables ??= makeOpTables());

function makeOpTables() {
  const bin = new Map<ts.SyntaxKind, Op>([
    [ts.SyntaxKind.PlusToken, Op.ADD],
    [ts.SyntaxKind.MinusToken, Op.SUB],
    [ts.SyntaxKind.AsteriskToken, Op.MUL],
    [ts.SyntaxKind.SlashToken, Op.DIV],
    [ts.SyntaxKind.PercentToken, Op.REM],
    [ts.SyntaxKind.AmpersandToken, Op.AND],
    [ts.SyntaxKind.BarToken, Op.OR],
    [ts.SyntaxKind.CaretToken, Op.XOR],
    [ts.SyntaxKind.LessThanLessThanToken, Op.SHL],
    [ts.SyntaxKind.GreaterThanGreaterThanToken, Op.SAR],
    [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken, Op.SHR],
  ]);
  const compound = new Map<ts.SyntaxKind, ts.SyntaxKind>([
    [ts.SyntaxKind.PlusEqualsToken, ts.SyntaxKind.PlusToken],
    [ts.SyntaxKind.MinusEqualsToken, ts.SyntaxKind.MinusToken],
    [ts.SyntaxKind.AsteriskEqualsToken, ts.SyntaxKind.AsteriskToken],
    [ts.SyntaxKind.SlashEqualsToken, ts.SyntaxKind.SlashToken],
    [ts.SyntaxKind.PercentEqualsToken, ts.SyntaxKind.PercentToken],
    [ts.SyntaxKind.AmpersandEqualsToken, ts.SyntaxKind.AmpersandToken],
    [ts.SyntaxKind.BarEqualsToken, ts.SyntaxKind.BarToken],
    [ts.SyntaxKind.CaretEqualsToken, ts.SyntaxKind.CaretToken],
    [ts.SyntaxKind.LessThanLessThanEqualsToken, ts.SyntaxKind.LessThanLessThanToken],
    [ts.SyntaxKind.GreaterThanGreaterThanEqualsToken, ts.SyntaxKind.GreaterThanGreaterThanToken],
    [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken, ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken],
  ]);
  const compare = new Map<ts.SyntaxKind, Cond>([
    [ts.SyntaxKind.LessThanToken, Cond.LT],
    [ts.SyntaxKind.LessThanEqualsToken, Cond.LE],
    [ts.SyntaxKind.GreaterThanToken, Cond.GT],
    [ts.SyntaxKind.GreaterThanEqualsToken, Cond.GE],
    [ts.SyntaxKind.EqualsEqualsToken, Cond.EQ],
    [ts.SyntaxKind.EqualsEqualsEqualsToken, Cond.EQ],
    [ts.SyntaxKind.ExclamationEqualsToken, Cond.NE],
    [ts.SyntaxKind.ExclamationEqualsEqualsToken, Cond.NE],
  ]);
  return { bin, compound, compare };
}

/** The condition that holds when the operands are swapped (a < b  <=>  b > a). */
export function mirrorCond(c: Cond): Cond {
  switch (c) {
    case Cond.EQ: return Cond.EQ;
    case Cond.NE: return Cond.NE;
    case Cond.LT: return Cond.GT;
    case Cond.GE: return Cond.LE;
    case Cond.LE: return Cond.GE;
    case Cond.GT: return Cond.LT;
    case Cond.B: return Cond.A;
    case Cond.AE: return Cond.BE;
    case Cond.BE: return Cond.AE;
    case Cond.A: return Cond.B;
  }
}

/** The condition that holds exactly when `c` does not. */
export function invertCond(c: Cond): Cond {
  switch (c) {
    case Cond.EQ: return Cond.NE;
    case Cond.NE: return Cond.EQ;
    case Cond.LT: return Cond.GE;
    case Cond.GE: return Cond.LT;
    case Cond.LE: return Cond.GT;
    case Cond.GT: return Cond.LE;
    case Cond.B: return Cond.AE;
    case Cond.AE: return Cond.B;
    case Cond.BE: return Cond.A;
    case Cond.A: return Cond.BE;
  }
}

const log2 = (v: number): number => (v > 0 && (v & (v - 1)) === 0 ? 31 - Math.clz32(v) : -1);

/** Does evaluating `e` assign a variable (so a register read earlier may be stale)? */
function writesVariables(e: ts.Node): boolean {
  if (ts.isBinaryExpression(e) && e.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && e.operatorToken.kind <= ts.SyntaxKind.LastAssignment) return true;
  if ((ts.isPrefixUnaryExpression(e) || ts.isPostfixUnaryExpression(e)) && (e.operator === ts.SyntaxKind.PlusPlusToken || e.operator === ts.SyntaxKind.MinusMinusToken)) return true;
  return ts.forEachChild(e, (c) => (writesVariables(c) ? true : undefined)) ?? false;
}

export function lowerFunction(fn: ts.FunctionDeclaration, name: string, fileIndex: number, env: LowerEnv): LoweredFunction {
  return new FnLowering(fn, name, fileIndex, env).run();
}

class FnLowering implements IntrinsicLowerer {
  private readonly blocks: MBlock[] = [];
  private nextBlockId = 0;
  private cur: MBlock | null = null;
  private nextVreg = FIRST_VREG;
  /** declaration -> its register */
  private readonly locals = new Map<ts.Node, Reg>();
  /** registers that hold named variables (may change under a later assignment) */
  private readonly variableRegs = new Set<Reg>();
  private readonly loops: LoopFrame[] = [];
  private pendingLabel: string | null = null;
  private loopDepth = 0;
  private line = 0;
  private readonly exit: MBlock;
  private readonly returnsValue: boolean;
  private readonly jumpTables: FnJumpTable[] = [];
  private readonly sf: ts.SourceFile;
  /** constants the registers hold at this point of the current block (forgotten at block starts) */
  private readonly known = new Map<Reg, number>();
  /** every loop: the block it is entered from and its blocks, innermost loops first */
  private readonly loopRegions: { preheader: MBlock; blocks: MBlock[] }[] = [];

  constructor(
    private readonly fn: ts.FunctionDeclaration,
    private readonly name: string,
    private readonly fileIndex: number,
    readonly env: LowerEnv,
  ) {
    this.sf = fn.getSourceFile();
    const checker = env.names.checker;
    const sig = checker.getSignatureFromDeclaration(fn);
    const rt = sig ? checker.getReturnTypeOfSignature(sig) : undefined;
    this.returnsValue = !!rt && (rt.flags & (ts.TypeFlags.Void | ts.TypeFlags.Never | ts.TypeFlags.Undefined)) === 0;
    this.exit = this.newBlock(0);
  }

  run(): LoweredFunction {
    this.line = this.lineOf(this.fn);
    this.place(this.newBlock(0));
    this.fn.parameters.forEach((p, k) => {
      const r = this.newVar(p);
      // Parameters beyond the sixth were pushed by the caller: [fp + 8] is the seventh.
      if (k < ARG_REGS.length) this.emit(Op.MOV, { rd: r, ra: ARG_REGS[k]! });
      else this.emit(Op.LDW, { rd: r, ra: REG_FP, imm: STACK_ARGS_OFFSET + 4 * (k - ARG_REGS.length) });
    });
    for (const st of this.fn.body!.statements) this.stmt(st);
    if (this.cur) {
      if (this.returnsValue) this.emit(Op.LI, { rd: 0, imm: 0 });
      this.jump(this.exit);
    }
    this.place(this.exit);
    this.emit(Op.RET, { implicitUses: this.returnsValue ? [0] : [] });
    this.cur = null;
    hoistConstants(this.blocks, this.loopRegions);
    const blocks = cleanupBlocks(this.blocks, this.jumpTables);
    return {
      name: this.name,
      fileIndex: this.fileIndex,
      blocks,
      nextVreg: this.nextVreg,
      noSpill: new Set(),
      slots: 0,
      returnsValue: this.returnsValue,
      jumpTables: this.jumpTables,
      needsFrame: this.fn.parameters.length > ARG_REGS.length,
    };
  }

  // ---- blocks and instructions ----------------------------------------------------------

  private newBlock(depth = this.loopDepth): MBlock {
    return { id: this.nextBlockId++, insts: [], loopDepth: depth };
  }

  private place(b: MBlock): void {
    if (this.cur) this.jump(b);
    this.blocks.push(b);
    this.cur = b;
    this.known.clear();
  }

  emit(op: Op, fields: Partial<MInst> = {}): MInst {
    if (!this.cur) this.place(this.newBlock()); // unreachable code; dropped by cleanupBlocks
    const i = inst(op, { line: this.line, ...fields });
    this.cur!.insts.push(i);
    for (const d of defsOf(i)) this.known.delete(d);
    if (op === Op.LI && i.sym === null && isVirtual(i.rd)) this.known.set(i.rd, i.imm);
    return i;
  }

  endBlock(): void {
    this.cur = null;
  }

  private jump(target: MBlock): void {
    if (!this.cur) return;
    this.emit(Op.JMP, { targets: [target.id] });
    this.cur = null;
  }

  private condJump(cond: Cond, t: MBlock, f: MBlock): void {
    this.emit(Op.JCC, { cond, targets: [t.id] });
    this.emit(Op.JMP, { targets: [f.id] });
    this.cur = null;
  }

  vreg(): Reg {
    return this.nextVreg++;
  }

  private newVar(decl: ts.Node): Reg {
    const r = this.vreg();
    this.locals.set(decl, r);
    this.variableRegs.add(r);
    return r;
  }

  private lineOf(node: ts.Node): number {
    return this.sf.getLineAndCharacterOfPosition(node.getStart(this.sf)).line + 1;
  }

  // ---- values ---------------------------------------------------------------------------

  toReg(v: Val): Reg {
    if (v.k === 'reg') return v.r;
    const r = this.vreg();
    this.moveTo(r, v);
    return r;
  }

  moveTo(dst: Reg, v: Val): void {
    if (v.k === 'reg') {
      if (v.r !== dst) this.emit(Op.MOV, { rd: dst, ra: v.r });
    } else if (v.k === 'int') this.emit(Op.LI, { rd: dst, imm: v.v });
    else this.emit(Op.LI, { rd: dst, sym: v.sym, imm: v.off });
  }

  /** A value that stays put while later expressions run (copies a variable they may assign). */
  private stable(v: Val, later: readonly ts.Expression[]): Val {
    if (v.k !== 'reg' || !this.variableRegs.has(v.r) || !later.some(writesVariables)) return v;
    const r = this.vreg();
    this.emit(Op.MOV, { rd: r, ra: v.r });
    return { k: 'reg', r };
  }

  /** Evaluate several expressions left to right, each value stable against the later ones. */
  exprs(es: readonly ts.Expression[]): Val[] {
    return es.map((e, k) => this.stable(this.expr(e), es.slice(k + 1)));
  }

  // ---- statements -----------------------------------------------------------------------

  private stmt(st: ts.Statement): void {
    this.line = this.lineOf(st);
    switch (st.kind) {
      case ts.SyntaxKind.Block:
        for (const s of (st as ts.Block).statements) this.stmt(s);
        return;
      case ts.SyntaxKind.EmptyStatement:
      case ts.SyntaxKind.InterfaceDeclaration:
      case ts.SyntaxKind.TypeAliasDeclaration:
        return;
      case ts.SyntaxKind.VariableStatement:
        return this.variables((st as ts.VariableStatement).declarationList);
      case ts.SyntaxKind.ExpressionStatement:
        return this.effect((st as ts.ExpressionStatement).expression);
      case ts.SyntaxKind.IfStatement:
        return this.ifStmt(st as ts.IfStatement);
      case ts.SyntaxKind.WhileStatement:
        return this.loop(null, (st as ts.WhileStatement).expression, null, (st as ts.WhileStatement).statement, false);
      case ts.SyntaxKind.DoStatement:
        return this.loop(null, (st as ts.DoStatement).expression, null, (st as ts.DoStatement).statement, true);
      case ts.SyntaxKind.ForStatement: {
        const s = st as ts.ForStatement;
        return this.loop(s.initializer ?? null, s.condition ?? null, s.incrementor ?? null, s.statement, false);
      }
      case ts.SyntaxKind.SwitchStatement:
        return this.switchStmt(st as ts.SwitchStatement);
      case ts.SyntaxKind.BreakStatement: {
        const label = (st as ts.BreakStatement).label?.text ?? null;
        const frame = this.innermost((f) => label === null || f.label === label);
        if (!frame) throw new Error('internal compiler error: break outside a loop');
        return this.jump(frame.breakTo);
      }
      case ts.SyntaxKind.ContinueStatement: {
        const label = (st as ts.ContinueStatement).label?.text ?? null;
        const frame = this.innermost((f) => f.continueTo !== null && (label === null || f.label === label));
        if (!frame || !frame.continueTo) throw new Error('internal compiler error: continue outside a loop');
        return this.jump(frame.continueTo);
      }
      case ts.SyntaxKind.ReturnStatement: {
        const e = (st as ts.ReturnStatement).expression;
        if (e && this.returnsValue) this.moveTo(0, this.expr(e, 0));
        else if (e) this.effect(e);
        return this.jump(this.exit);
      }
      case ts.SyntaxKind.LabeledStatement: {
        const s = st as ts.LabeledStatement;
        this.pendingLabel = s.label.text;
        return this.stmt(s.statement);
      }
      default:
        throw new Error(`internal compiler error: statement kind ${ts.SyntaxKind[st.kind]} passed the subset check`);
    }
  }

  private innermost(pred: (f: LoopFrame) => boolean): LoopFrame | undefined {
    for (let k = this.loops.length - 1; k >= 0; k--) if (pred(this.loops[k]!)) return this.loops[k];
    return undefined;
  }

  private takeLabel(): string | null {
    const l = this.pendingLabel;
    this.pendingLabel = null;
    return l;
  }

  private variables(list: ts.VariableDeclarationList): void {
    const isConst = (list.flags & ts.NodeFlags.Const) !== 0;
    for (const d of list.declarations) {
      // A const with a constant initializer is folded into every use; it needs no register.
      if (isConst && d.initializer && this.env.ce.eval(d.initializer)) continue;
      const r = this.newVar(d);
      if (d.initializer) this.moveTo(r, this.expr(d.initializer, r));
      else this.emit(Op.LI, { rd: r, imm: 0 });
    }
  }

  private ifStmt(s: ts.IfStatement): void {
    const thenB = this.newBlock();
    const join = this.newBlock();
    const elseB = s.elseStatement ? this.newBlock() : join;
    this.branch(s.expression, thenB, elseB);
    this.place(thenB);
    this.stmt(s.thenStatement);
    if (s.elseStatement) {
      this.jump(join);
      this.place(elseB);
      this.stmt(s.elseStatement);
    }
    this.place(join);
  }

  /*
   * Loops are rotated: the condition is tested once before entry and again at the bottom, so
   * an iteration costs its body plus one compare-and-branch (no jump back to a header).
   */
  private loop(init: ts.ForInitializer | null, cond: ts.Expression | null, incr: ts.Expression | null, body: ts.Statement, isDo: boolean): void {
    const label = this.takeLabel();
    if (init) {
      if (ts.isVariableDeclarationList(init)) this.variables(init);
      else this.effect(init);
    }
    const bodyB = this.newBlock(this.loopDepth + 1);
    const contB = this.newBlock(this.loopDepth + 1);
    const exitB = this.newBlock();
    const test = (): void => {
      if (cond) this.branch(cond, bodyB, exitB);
      else this.jump(bodyB);
    };
    const preheader = this.cur;
    if (isDo) this.jump(bodyB);
    else test();
    this.loopDepth++;
    const first = this.blocks.length;
    this.place(bodyB);
    this.loops.push({ label, breakTo: exitB, continueTo: contB });
    this.stmt(body);
    this.loops.pop();
    this.place(contB);
    if (incr) {
      this.line = this.lineOf(incr);
      this.effect(incr);
    }
    if (cond) this.line = this.lineOf(cond);
    test();
    this.loopDepth--;
    if (preheader) this.loopRegions.push({ preheader, blocks: this.blocks.slice(first) });
    this.place(exitB);
  }

  private switchStmt(s: ts.SwitchStatement): void {
    const label = this.takeLabel();
    const clauses = s.caseBlock.clauses;
    const disc = this.toReg(this.expr(s.expression));
    const caseBlocks = clauses.map(() => this.newBlock());
    const exitB = this.newBlock();
    const defIdx = clauses.findIndex((c) => ts.isDefaultClause(c));
    const defaultB = defIdx >= 0 ? caseBlocks[defIdx]! : exitB;

    const consts = clauses.map((c) => (ts.isCaseClause(c) ? this.env.ce.int(c.expression) : null));
    const caseIdx = clauses.map((_, k) => k).filter((k) => ts.isCaseClause(clauses[k]!));
    const allConst = caseIdx.every((k) => consts[k] !== null);
    const values = caseIdx.map((k) => consts[k]!);
    const min = Math.min(...values);
    const max = Math.max(...values);
    const range = max - min + 1;
    const dense = allConst && caseIdx.length >= 4 && range <= 2 * caseIdx.length + 2 && range <= 1024 && new Set(values).size === values.length;

    if (dense) {
      const idx = this.binop(Op.ADD, { k: 'reg', r: disc }, { k: 'int', v: -min });
      const idxR = this.toReg(idx);
      const tableB = this.newBlock();
      this.emit(Op.CMPI, { ra: idxR, imm: range });
      this.condJump(Cond.AE, defaultB, tableB);
      this.place(tableB);
      const targets: number[] = new Array<number>(range).fill(defaultB.id);
      caseIdx.forEach((k) => (targets[consts[k]! - min] = caseBlocks[k]!.id));
      const table: FnJumpTable = { label: `.Ljt.${this.name}.${this.jumpTables.length}`, targets };
      this.jumpTables.push(table);
      const off = this.vreg();
      const base = this.vreg();
      const addr = this.vreg();
      this.emit(Op.SHLI, { rd: off, ra: idxR, imm: 2 });
      this.emit(Op.LI, { rd: base, sym: table.label });
      this.emit(Op.ADD, { rd: addr, ra: base, rb: off });
      const dest = this.vreg();
      this.emit(Op.LDW, { rd: dest, ra: addr, imm: 0 });
      this.emit(Op.JMPR, { ra: dest, targets: [...new Set(targets)] });
      this.cur = null;
    } else {
      for (const k of caseIdx) {
        const clause = clauses[k] as ts.CaseClause;
        this.line = this.lineOf(clause);
        const v = this.expr(clause.expression);
        this.compareVals({ k: 'reg', r: disc }, v, Cond.EQ, caseBlocks[k]!, null);
      }
      this.jump(defaultB);
    }

    this.loops.push({ label, breakTo: exitB, continueTo: null });
    clauses.forEach((c, k) => {
      this.place(caseBlocks[k]!);
      for (const st of c.statements) this.stmt(st);
    });
    this.loops.pop();
    this.place(exitB);
  }

  // ---- conditions -----------------------------------------------------------------------

  /** Jump to t if `e` is truthy (non-zero), else to f. */
  private branch(e: ts.Expression, t: MBlock, f: MBlock): void {
    while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e)) e = e.expression;
    const c = this.env.ce.int(e);
    if (c !== null) return this.jump(c !== 0 ? t : f);
    if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.ExclamationToken) return this.branch(e.operand, f, t);
    if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken) {
        const mid = this.newBlock();
        if (op === ts.SyntaxKind.AmpersandAmpersandToken) this.branch(e.left, mid, f);
        else this.branch(e.left, t, mid);
        this.place(mid);
        return this.branch(e.right, t, f);
      }
      if (op === ts.SyntaxKind.CommaToken) {
        this.effect(e.left);
        return this.branch(e.right, t, f);
      }
      const cond = ops().compare.get(op);
      if (cond !== undefined) {
        const [a, b] = this.exprs([e.left, e.right]);
        return this.compareVals(a!, b!, cond, t, f);
      }
    }
    if (ts.isCallExpression(e)) {
      const cond = unsignedCompareCond(this.env.names.intrinsicOf(e.expression));
      if (cond !== undefined) {
        const [a, b] = this.exprs(e.arguments);
        return this.compareVals(a!, b!, cond, t, f);
      }
    }
    const v = this.toReg(this.expr(e));
    this.emit(Op.CMPI, { ra: v, imm: 0 });
    this.condJump(Cond.NE, t, f);
  }

  /** Set FLAGS by comparing a with b; returns the condition to test (mirrored if swapped). */
  private compare(a: Val, b: Val, cond: Cond): Cond {
    if (b.k === 'int' && fitsImm16(b.v)) {
      this.emit(Op.CMPI, { ra: this.toReg(a), imm: b.v });
      return cond;
    }
    if (a.k === 'int' && fitsImm16(a.v)) {
      this.emit(Op.CMPI, { ra: this.toReg(b), imm: a.v });
      return mirrorCond(cond);
    }
    const ra = this.toReg(a);
    this.emit(Op.CMP, { ra, rb: this.toReg(b) });
    return cond;
  }

  /** Compare and branch; with f null, fall into a fresh block when the condition fails. */
  private compareVals(a: Val, b: Val, cond: Cond, t: MBlock, f: MBlock | null): void {
    if (a.k === 'int' && b.k === 'int') {
      const fb = f ?? this.newBlock();
      this.jump(condHolds(cond, compareFlags(a.v, b.v)) ? t : fb);
      if (!f) this.place(fb);
      return;
    }
    const c = this.compare(a, b, cond);
    const fb = f ?? this.newBlock();
    this.condJump(c, t, fb);
    if (!f) this.place(fb);
  }

  // ---- expressions ----------------------------------------------------------------------

  /** Evaluate for side effects only. */
  private effect(e: ts.Expression): void {
    while (ts.isParenthesizedExpression(e)) e = e.expression;
    if ((ts.isPrefixUnaryExpression(e) || ts.isPostfixUnaryExpression(e)) && (e.operator === ts.SyntaxKind.PlusPlusToken || e.operator === ts.SyntaxKind.MinusMinusToken)) {
      this.incDec(e.operand, e.operator === ts.SyntaxKind.PlusPlusToken ? 1 : -1, true);
      return;
    }
    if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.CommaToken) {
      this.effect(e.left);
      this.effect(e.right);
      return;
    }
    this.expr(e);
  }

  /** Evaluate `e`; `want` is a register the caller would like the result in (a hint). */
  expr(e: ts.Expression, want?: Reg): Val {
    const c = this.env.ce.eval(e);
    if (c) return c.kind === 'int' ? { k: 'int', v: c.value } : { k: 'addr', sym: c.sym, off: c.offset };
    switch (e.kind) {
      case ts.SyntaxKind.ParenthesizedExpression:
      case ts.SyntaxKind.AsExpression:
      case ts.SyntaxKind.TypeAssertionExpression:
      case ts.SyntaxKind.NonNullExpression:
      case ts.SyntaxKind.SatisfiesExpression:
        return this.expr((e as ts.ParenthesizedExpression).expression, want);
      case ts.SyntaxKind.Identifier:
        return this.readVariable(e as ts.Identifier, want);
      case ts.SyntaxKind.PrefixUnaryExpression:
        return this.prefix(e as ts.PrefixUnaryExpression, want);
      case ts.SyntaxKind.PostfixUnaryExpression: {
        const p = e as ts.PostfixUnaryExpression;
        return this.incDec(p.operand, p.operator === ts.SyntaxKind.PlusPlusToken ? 1 : -1, false);
      }
      case ts.SyntaxKind.BinaryExpression:
        return this.binary(e as ts.BinaryExpression, want);
      case ts.SyntaxKind.ConditionalExpression: {
        const ce = e as ts.ConditionalExpression;
        const d = this.vreg();
        const t = this.newBlock();
        const f = this.newBlock();
        const j = this.newBlock();
        this.branch(ce.condition, t, f);
        this.place(t);
        this.moveTo(d, this.expr(ce.whenTrue, d));
        this.jump(j);
        this.place(f);
        this.moveTo(d, this.expr(ce.whenFalse, d));
        this.place(j);
        return { k: 'reg', r: d };
      }
      case ts.SyntaxKind.CallExpression:
        return this.call(e as ts.CallExpression, want);
      default:
        throw new Error(`internal compiler error: expression kind ${ts.SyntaxKind[e.kind]} passed the subset check`);
    }
  }

  private readVariable(id: ts.Identifier, want?: Reg): Val {
    const ent = this.env.names.entityOf(id);
    if (ent.kind === 'local') {
      // Read before its declaration ran (the type checker reports that): an uninitialized register.
      const r = this.locals.get(ent.decl) ?? this.newVar(ent.decl);
      const c = this.known.get(r);
      return c === undefined ? { k: 'reg', r } : { k: 'int', v: c };
    }
    if (ent.kind === 'global') {
      const addr = this.vreg();
      this.emit(Op.LI, { rd: addr, sym: ent.sym });
      const d = want ?? this.vreg();
      this.emit(Op.LDW, { rd: d, ra: addr, imm: 0 });
      return { k: 'reg', r: d };
    }
    throw new Error(`internal compiler error: '${id.text}' (${ent.kind}) read as a variable`);
  }

  /** Store `v` into a variable; returns the value as stored. */
  private writeVariable(id: ts.Identifier, v: Val): Val {
    const ent = this.env.names.entityOf(id);
    if (ent.kind === 'local') {
      const r = this.locals.get(ent.decl) ?? this.newVar(ent.decl);
      this.moveTo(r, v);
      return { k: 'reg', r };
    }
    if (ent.kind === 'global') {
      const r = this.toReg(v);
      const addr = this.vreg();
      this.emit(Op.LI, { rd: addr, sym: ent.sym });
      this.emit(Op.STW, { rd: r, ra: addr, imm: 0 });
      return { k: 'reg', r };
    }
    throw new Error(`internal compiler error: '${id.text}' (${ent.kind}) assigned`);
  }

  /** A register holding a module variable's address. */
  private globalAddress(id: ts.Identifier): Reg {
    const ent = this.env.names.entityOf(id);
    if (ent.kind !== 'global') throw new Error(`internal compiler error: '${id.text}' is not a module variable`);
    const addr = this.vreg();
    this.emit(Op.LI, { rd: addr, sym: ent.sym });
    return addr;
  }

  private targetOf(e: ts.Expression): ts.Identifier {
    while (ts.isParenthesizedExpression(e)) e = e.expression;
    if (!ts.isIdentifier(e)) throw new Error('internal compiler error: assignment target is not a name');
    return e;
  }

  /** The register of a local variable, or null for module variables. */
  private localReg(id: ts.Identifier): Reg | null {
    const ent = this.env.names.entityOf(id);
    return ent.kind === 'local' ? (this.locals.get(ent.decl) ?? this.newVar(ent.decl)) : null;
  }

  private incDec(operand: ts.Expression, delta: number, discard: boolean, prefix = false): Val {
    const id = this.targetOf(operand);
    const r = this.localReg(id);
    if (r !== null) {
      if (discard || prefix) {
        this.emit(Op.ADDI, { rd: r, ra: r, imm: delta });
        return { k: 'reg', r };
      }
      const old = this.vreg();
      this.emit(Op.MOV, { rd: old, ra: r });
      this.emit(Op.ADDI, { rd: r, ra: r, imm: delta });
      return { k: 'reg', r: old };
    }
    const addr = this.globalAddress(id);
    const old = this.vreg();
    this.emit(Op.LDW, { rd: old, ra: addr, imm: 0 });
    const neu = this.vreg();
    this.emit(Op.ADDI, { rd: neu, ra: old, imm: delta });
    this.emit(Op.STW, { rd: neu, ra: addr, imm: 0 });
    return { k: 'reg', r: prefix ? neu : old };
  }

  private prefix(e: ts.PrefixUnaryExpression, want?: Reg): Val {
    switch (e.operator) {
      case ts.SyntaxKind.PlusPlusToken:
      case ts.SyntaxKind.MinusMinusToken:
        return this.incDec(e.operand, e.operator === ts.SyntaxKind.PlusPlusToken ? 1 : -1, false, true);
      case ts.SyntaxKind.PlusToken:
        return this.expr(e.operand, want);
      case ts.SyntaxKind.MinusToken: {
        const a = this.toReg(this.expr(e.operand));
        const d = want ?? this.vreg();
        this.emit(Op.NEG, { rd: d, ra: a });
        return { k: 'reg', r: d };
      }
      case ts.SyntaxKind.TildeToken: {
        const a = this.toReg(this.expr(e.operand));
        const d = want ?? this.vreg();
        this.emit(Op.NOT, { rd: d, ra: a });
        return { k: 'reg', r: d };
      }
      case ts.SyntaxKind.ExclamationToken:
        return this.boolValue(e, want);
    }
  }

  /** A condition's value as 0/1: setCC after a compare, or branches for && and ||. */
  boolValue(e: ts.Expression, want?: Reg): Val {
    let inner = e;
    let negate = false;
    while (true) {
      while (ts.isParenthesizedExpression(inner)) inner = inner.expression;
      if (ts.isPrefixUnaryExpression(inner) && inner.operator === ts.SyntaxKind.ExclamationToken) {
        negate = !negate;
        inner = inner.operand;
        continue;
      }
      break;
    }
    let cond: Cond | undefined;
    if (ts.isBinaryExpression(inner) && (cond = ops().compare.get(inner.operatorToken.kind)) !== undefined) {
      const [a, b] = this.exprs([inner.left, inner.right]);
      if (a!.k === 'int' && b!.k === 'int') return { k: 'int', v: condHolds(cond, compareFlags(a!.v, b!.v)) !== negate ? 1 : 0 };
      cond = this.compare(a!, b!, cond);
    } else if (ts.isCallExpression(inner) && (cond = unsignedCompareCond(this.env.names.intrinsicOf(inner.expression))) !== undefined) {
      const [a, b] = this.exprs(inner.arguments);
      cond = this.compare(a!, b!, cond);
    } else if (ts.isBinaryExpression(inner) && (inner.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken || inner.operatorToken.kind === ts.SyntaxKind.BarBarToken)) {
      const d = this.vreg();
      const t = this.newBlock();
      const f = this.newBlock();
      const j = this.newBlock();
      this.branch(inner, negate ? f : t, negate ? t : f);
      this.place(t);
      this.emit(Op.LI, { rd: d, imm: 1 });
      this.jump(j);
      this.place(f);
      this.emit(Op.LI, { rd: d, imm: 0 });
      this.place(j);
      return { k: 'reg', r: d };
    } else {
      // !x: x == 0 (negate flips it back to x != 0).
      const v = this.toReg(this.expr(inner));
      this.emit(Op.CMPI, { ra: v, imm: 0 });
      cond = Cond.NE;
    }
    if (negate) cond = invertCond(cond);
    const d = want ?? this.vreg();
    this.emit(Op.SETCC, { rd: d, cond });
    return { k: 'reg', r: d };
  }

  private isBooleanTyped(e: ts.Expression): boolean {
    const t = this.env.names.checker.getTypeAtLocation(e);
    const isBool = (x: ts.Type): boolean => (x.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) !== 0;
    return isBool(t) || (t.isUnion() && t.types.every(isBool));
  }

  private binary(e: ts.BinaryExpression, want?: Reg): Val {
    const op = e.operatorToken.kind;
    if (op === ts.SyntaxKind.EqualsToken) {
      const id = this.targetOf(e.left);
      const r = this.localReg(id);
      return this.writeVariable(id, this.expr(e.right, r ?? undefined));
    }
    const compound = ops().compound.get(op);
    if (compound !== undefined) {
      const id = this.targetOf(e.left);
      const r = this.localReg(id);
      if (r !== null) {
        const cur = this.stable({ k: 'reg', r }, [e.right]);
        return this.writeVariable(id, this.binop(ops().bin.get(compound)!, cur, this.expr(e.right), r));
      }
      // A module variable: its address is computed once for the load and the store.
      const addr = this.globalAddress(id);
      const cur = this.vreg();
      this.emit(Op.LDW, { rd: cur, ra: addr, imm: 0 });
      const v = this.toReg(this.binop(ops().bin.get(compound)!, { k: 'reg', r: cur }, this.expr(e.right)));
      this.emit(Op.STW, { rd: v, ra: addr, imm: 0 });
      return { k: 'reg', r: v };
    }
    if (op === ts.SyntaxKind.AmpersandAmpersandEqualsToken || op === ts.SyntaxKind.BarBarEqualsToken) {
      // x &&= y assigns y only when x is truthy; x ||= y only when x is falsy.
      const id = this.targetOf(e.left);
      const cur = this.toReg(this.expr(e.left));
      const d = this.vreg();
      this.emit(Op.MOV, { rd: d, ra: cur });
      const assign = this.newBlock();
      const done = this.newBlock();
      this.emit(Op.CMPI, { ra: d, imm: 0 });
      this.condJump(op === ts.SyntaxKind.AmpersandAmpersandEqualsToken ? Cond.NE : Cond.EQ, assign, done);
      this.place(assign);
      this.moveTo(d, this.expr(e.right, d));
      this.writeVariable(id, { k: 'reg', r: d });
      this.place(done);
      return { k: 'reg', r: d };
    }
    if (op === ts.SyntaxKind.CommaToken) {
      this.effect(e.left);
      return this.expr(e.right, want);
    }
    if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken) {
      if (this.isBooleanTyped(e.left) && this.isBooleanTyped(e.right)) return this.boolValue(e, want);
      // JavaScript semantics on numbers: a && b is a when a is 0, else b; a || b is a when a is not 0, else b.
      const d = this.vreg();
      this.moveTo(d, this.expr(e.left, d));
      const rhs = this.newBlock();
      const done = this.newBlock();
      this.emit(Op.CMPI, { ra: d, imm: 0 });
      this.condJump(op === ts.SyntaxKind.AmpersandAmpersandToken ? Cond.NE : Cond.EQ, rhs, done);
      this.place(rhs);
      this.moveTo(d, this.expr(e.right, d));
      this.place(done);
      return { k: 'reg', r: d };
    }
    if (ops().compare.has(op)) return this.boolValue(e, want);
    const mop = ops().bin.get(op);
    if (mop === undefined) throw new Error(`internal compiler error: operator ${ts.SyntaxKind[op]} passed the subset check`);
    const [a, b] = this.exprs([e.left, e.right]);
    return this.binop(mop, a!, b!, want);
  }

  /** a OP b with constant folding, algebraic identities and immediate forms. */
  private binop(op: Op, a: Val, b: Val, want?: Reg): Val {
    const out = (): Reg => want ?? this.vreg();
    const imm = (iop: Op, x: Val, v: number): Val => {
      const d = out();
      this.emit(iop, { rd: d, ra: this.toReg(x), imm: v });
      return { k: 'reg', r: d };
    };
    const reg = (rop: Op, x: Val, y: Val): Val => {
      const ra = this.toReg(x);
      const rb = this.toReg(y);
      const d = out();
      this.emit(rop, { rd: d, ra, rb });
      return { k: 'reg', r: d };
    };
    const commutative = op === Op.ADD || op === Op.MUL || op === Op.AND || op === Op.OR || op === Op.XOR;
    if (commutative && a.k === 'int' && b.k !== 'int') [a, b] = [b, a];
    if (b.k !== 'int') return reg(op, a, b);
    const v = b.v;
    switch (op) {
      case Op.ADD:
        if (v === 0) return a;
        return fitsImm16(v) ? imm(Op.ADDI, a, v) : reg(op, a, b);
      case Op.SUB:
        if (v === 0) return a;
        return fitsImm16(-v) ? imm(Op.ADDI, a, -v) : reg(op, a, b);
      case Op.MUL:
        if (v === 1) return a;
        if (v === 0) return { k: 'int', v: 0 };
        if (v === -1) return this.unary(Op.NEG, a, out());
        if (log2(v) > 0) return imm(Op.SHLI, a, log2(v));
        return fitsImm16(v) ? imm(Op.MULI, a, v) : reg(op, a, b);
      case Op.DIV:
        if (v === 1) return a;
        return reg(op, a, b);
      case Op.AND:
        if (v === -1) return a;
        if (v === 0) return { k: 'int', v: 0 };
        return fitsImm16(v) ? imm(Op.ANDI, a, v) : reg(op, a, b);
      case Op.OR:
        if (v === 0) return a;
        return fitsImm16(v) ? imm(Op.ORI, a, v) : reg(op, a, b);
      case Op.XOR:
        if (v === 0) return a;
        if (v === -1) return this.unary(Op.NOT, a, out());
        return fitsImm16(v) ? imm(Op.XORI, a, v) : reg(op, a, b);
      case Op.SHL:
      case Op.SHR:
      case Op.SAR: {
        const n = v & 31;
        if (n === 0) return a;
        return imm(op === Op.SHL ? Op.SHLI : op === Op.SHR ? Op.SHRI : Op.SARI, a, n);
      }
      default:
        return reg(op, a, b);
    }
  }

  private unary(op: Op, a: Val, d: Reg): Val {
    this.emit(op, { rd: d, ra: this.toReg(a) });
    return { k: 'reg', r: d };
  }

  // ---- calls ----------------------------------------------------------------------------

  /** Move argument values into r0.. (after all are evaluated, so no call clobbers them). */
  passArgs(vals: readonly Val[], firstReg = 0): Reg[] {
    vals.forEach((v, k) => this.moveTo(ARG_REGS[firstReg + k]!, v));
    return ARG_REGS.slice(0, firstReg + vals.length);
  }

  result(want?: Reg): Val {
    const d = want ?? this.vreg();
    this.emit(Op.MOV, { rd: d, ra: 0 });
    return { k: 'reg', r: d };
  }

  private call(call: ts.CallExpression, want?: Reg): Val {
    const names = this.env.names;
    if (names.isMathImul(call.expression)) {
      const [a, b] = this.exprs(call.arguments);
      return this.binop(Op.MUL, a!, b!, want);
    }
    const callee = call.expression as ts.Identifier;
    const ent = names.entityOf(callee);
    if (ent.kind === 'intrinsic') {
      if (!isIntrinsicName(ent.name)) throw new Error(`internal compiler error: intrinsic ${ent.name} passed the subset check`);
      return lowerIntrinsic(this, ent.name, call, want);
    }
    if (ent.kind !== 'function') throw new Error(`internal compiler error: call of ${ent.kind}`);
    const vals = this.exprs(call.arguments);
    // Arguments beyond the sixth go on the stack, last pushed first; the caller pops them.
    const onStack = vals.slice(ARG_REGS.length);
    for (let k = onStack.length - 1; k >= 0; k--) this.emit(Op.PUSH, { ra: this.toReg(onStack[k]!) });
    const uses = this.passArgs(vals.slice(0, ARG_REGS.length));
    this.emit(Op.CALL, { sym: ent.sym, implicitUses: uses, implicitDefs: [...CALLER_SAVED] });
    if (onStack.length > 0) this.emit(Op.ADDI, { rd: REG_SP, ra: REG_SP, imm: 4 * onStack.length });
    return this.result(want);
  }

  /** An address operand for a load or store: base register plus a 16-bit displacement. */
  address(e: ts.Expression): { base: Reg; off: number } {
    while (ts.isParenthesizedExpression(e)) e = e.expression;
    if (ts.isBinaryExpression(e) && (e.operatorToken.kind === ts.SyntaxKind.PlusToken || e.operatorToken.kind === ts.SyntaxKind.MinusToken)) {
      const sign = e.operatorToken.kind === ts.SyntaxKind.PlusToken ? 1 : -1;
      const r = this.env.ce.int(e.right);
      if (r !== null && this.env.ce.eval(e.left)?.kind !== 'addr') {
        const inner = this.address(e.left);
        const off = inner.off + sign * r;
        if (fitsImm16(off)) return { base: inner.base, off };
        return { base: this.toReg(this.binop(Op.ADD, { k: 'reg', r: inner.base }, { k: 'int', v: off | 0 })), off: 0 };
      }
      const l = sign === 1 ? this.env.ce.int(e.left) : null;
      if (l !== null && fitsImm16(l)) {
        const inner = this.address(e.right);
        if (fitsImm16(inner.off + l)) return { base: inner.base, off: inner.off + l };
      }
    }
    return { base: this.toReg(this.expr(e)), off: 0 };
  }
}

/*
 * Loop-invariant constants: an `li` of a register defined nowhere else moves from a loop's
 * blocks to the end of the block the loop is entered from (before its branch; li leaves FLAGS
 * alone). Innermost loops come first, so a constant climbs out of every loop it is invariant in.
 * If the register allocator later spills such a register, it rematerializes the li at each use,
 * which is where it started.
 */
function hoistConstants(blocks: MBlock[], loops: { preheader: MBlock; blocks: MBlock[] }[]): void {
  const defCount = new Map<Reg, number>();
  for (const b of blocks) for (const i of b.insts) for (const d of defsOf(i)) defCount.set(d, (defCount.get(d) ?? 0) + 1);
  for (const loop of loops) {
    const hoisted: MInst[] = [];
    for (const b of loop.blocks) {
      b.insts = b.insts.filter((i) => {
        if (i.op !== Op.LI || !isVirtual(i.rd) || defCount.get(i.rd) !== 1) return true;
        hoisted.push(i);
        return false;
      });
    }
    if (hoisted.length === 0) continue;
    const pre = loop.preheader.insts;
    let at = pre.length;
    while (at > 0 && (pre[at - 1]!.op === Op.JMP || pre[at - 1]!.op === Op.JCC)) at--;
    if (at > 0 && (pre[at - 1]!.op === Op.CMP || pre[at - 1]!.op === Op.CMPI)) at--;
    pre.splice(at, 0, ...hoisted);
  }
}

/*
 * Drop blocks no path reaches, and thread jumps through blocks that only jump elsewhere, so
 * the emitter sees a compact layout. Jump tables are retargeted with their JMPR.
 */
function cleanupBlocks(blocks: MBlock[], tables: FnJumpTable[]): MBlock[] {
  const byId = new Map(blocks.map((b) => [b.id, b]));
  const forward = (id: number): number => {
    const seen = new Set<number>();
    let cur = id;
    for (;;) {
      const b = byId.get(cur);
      if (!b || b.insts.length !== 1 || b.insts[0]!.op !== Op.JMP || seen.has(cur)) return cur;
      seen.add(cur);
      cur = b.insts[0]!.targets[0]!;
    }
  };
  for (const b of blocks) {
    for (const i of b.insts) {
      if (i.op === Op.JMP || i.op === Op.JCC || i.op === Op.JMPR) i.targets = [...new Set(i.targets.map(forward))];
    }
  }
  for (const t of tables) t.targets = t.targets.map(forward);
  // Code after a terminator inside a block is dead (e.g. after iretTo); cut it.
  for (const b of blocks) {
    const k = b.insts.findIndex((i) => isTerminator(i));
    if (k >= 0) b.insts.length = k + 1;
  }
  // Reachability from the entry block.
  const live = new Set<number>();
  const stack = [blocks[0]!.id];
  while (stack.length) {
    const id = stack.pop()!;
    if (live.has(id)) continue;
    live.add(id);
    stack.push(...successors(byId.get(id)!));
  }
  return blocks.filter((b) => live.has(b.id));
}
