// Constant evaluation: the value of a guest expression known at compile time (integers with
// 32-bit wrapping semantics, enum members, module and local consts) or at link time (the
// address of a string, buffer, function or trap stub, plus an offset). Registers the static
// data such constants name; otherwise side-effect free.
import ts from './typescript.js';
import type { Names } from './names.ts';
import { intConst, Statics, type ConstValue } from './statics.ts';

/** Largest magnitude an integer literal may have: int32 and uint32 spellings are both accepted. */
export const LITERAL_MAX = 0xffffffff;

/** The int32 value of a numeric literal, or null if it is not an integer in 32-bit range. */
export function literalValue(lit: ts.NumericLiteral): number | null {
  const v = Number(lit.text);
  if (!Number.isInteger(v) || v < 0 || v > LITERAL_MAX) return null;
  return v | 0;
}

export class ConstEval {
  /** declaration -> value (null = not constant), memoized */
  private readonly memo = new Map<ts.Node, ConstValue | null>();
  /** declarations being evaluated, to stop on cycles */
  private readonly active = new Set<ts.Node>();

  constructor(
    private readonly names: Names,
    private readonly statics: Statics,
  ) {}

  /** The constant integer value of `e`, or null. */
  int(e: ts.Expression): number | null {
    const c = this.eval(e);
    return c && c.kind === 'int' ? c.value : null;
  }

  eval(e: ts.Expression): ConstValue | null {
    switch (e.kind) {
      case ts.SyntaxKind.NumericLiteral: {
        const v = literalValue(e as ts.NumericLiteral);
        return v === null ? null : intConst(v);
      }
      case ts.SyntaxKind.TrueKeyword:
        return intConst(1);
      case ts.SyntaxKind.FalseKeyword:
        return intConst(0);
      case ts.SyntaxKind.ParenthesizedExpression:
      case ts.SyntaxKind.AsExpression:
      case ts.SyntaxKind.TypeAssertionExpression:
      case ts.SyntaxKind.NonNullExpression:
      case ts.SyntaxKind.SatisfiesExpression:
        return this.eval((e as ts.ParenthesizedExpression).expression);
      case ts.SyntaxKind.PrefixUnaryExpression:
        return this.prefix(e as ts.PrefixUnaryExpression);
      case ts.SyntaxKind.BinaryExpression:
        return this.binary(e as ts.BinaryExpression);
      case ts.SyntaxKind.ConditionalExpression: {
        const c = e as ts.ConditionalExpression;
        const cond = this.int(c.condition);
        if (cond === null) return null;
        return this.eval(cond !== 0 ? c.whenTrue : c.whenFalse);
      }
      case ts.SyntaxKind.PropertyAccessExpression: {
        const v = this.names.checker.getConstantValue(e as ts.PropertyAccessExpression);
        return typeof v === 'number' && Number.isInteger(v) ? intConst(v) : null;
      }
      case ts.SyntaxKind.Identifier:
        return this.identifier(e as ts.Identifier);
      case ts.SyntaxKind.CallExpression:
        return this.call(e as ts.CallExpression);
      default:
        return null;
    }
  }

  private prefix(e: ts.PrefixUnaryExpression): ConstValue | null {
    if (e.operator === ts.SyntaxKind.PlusPlusToken || e.operator === ts.SyntaxKind.MinusMinusToken) return null;
    const v = this.int(e.operand);
    if (v === null) return null;
    switch (e.operator) {
      case ts.SyntaxKind.MinusToken: return intConst(-v);
      case ts.SyntaxKind.PlusToken: return intConst(v);
      case ts.SyntaxKind.TildeToken: return intConst(~v);
      case ts.SyntaxKind.ExclamationToken: return intConst(v === 0 ? 1 : 0);
      default: return null;
    }
  }

  private binary(e: ts.BinaryExpression): ConstValue | null {
    const op = e.operatorToken.kind;
    if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken) {
      const a = this.int(e.left);
      if (a === null) return null;
      const pick = op === ts.SyntaxKind.AmpersandAmpersandToken ? (a === 0 ? null : e.right) : a !== 0 ? null : e.right;
      return pick === null ? intConst(a) : this.eval(pick);
    }
    const l = this.eval(e.left);
    if (!l) return null;
    const r = this.eval(e.right);
    if (!r) return null;
    if (l.kind === 'addr' || r.kind === 'addr') return addrArith(op, l, r);
    const v = foldBinary(op, l.value, r.value);
    return v === null ? null : intConst(v);
  }

  private identifier(id: ts.Identifier): ConstValue | null {
    const ent = this.names.entityOf(id);
    if (ent.kind !== 'global' && ent.kind !== 'local') return null;
    const decl = ent.decl;
    if (!ts.isVariableDeclaration(decl)) return null;
    const isConst = (decl.parent.flags & ts.NodeFlags.Const) !== 0;
    if (!isConst || !decl.initializer) return null;
    if (this.memo.has(decl)) return this.memo.get(decl)!;
    if (this.active.has(decl)) return null;
    this.active.add(decl);
    let v: ConstValue | null;
    if (ent.kind === 'global' && this.isStaticBufferCall(decl.initializer)) {
      v = this.staticBuffer(decl.initializer as ts.CallExpression, ent.sym);
    } else {
      v = this.eval(decl.initializer);
    }
    this.active.delete(decl);
    this.memo.set(decl, v);
    return v;
  }

  isStaticBufferCall(e: ts.Expression): boolean {
    return ts.isCallExpression(e) && this.names.intrinsicOf(e.expression) === 'staticBuffer';
  }

  /** Size and alignment of a staticBuffer call, or null when not constant and valid. */
  staticBufferShape(call: ts.CallExpression): { bytes: number; align: number } | null {
    const [sizeArg, alignArg] = call.arguments;
    const bytes = sizeArg ? this.int(sizeArg) : null;
    const align = alignArg ? this.int(alignArg) : 4;
    if (bytes === null || bytes <= 0 || align === null || align <= 0 || (align & (align - 1)) !== 0) return null;
    return { bytes, align };
  }

  private staticBuffer(call: ts.CallExpression, sym: string): ConstValue | null {
    const shape = this.staticBufferShape(call);
    if (!shape) return null;
    this.statics.buffer(sym, shape.bytes, shape.align);
    return { kind: 'addr', sym, offset: 0 };
  }

  private call(call: ts.CallExpression): ConstValue | null {
    if (this.names.isMathImul(call.expression)) {
      const [a, b] = call.arguments.map((x) => this.int(x));
      return a === null || a === undefined || b === null || b === undefined ? null : intConst(Math.imul(a, b));
    }
    const name = this.names.intrinsicOf(call.expression);
    if (!name) return null;
    const arg0 = call.arguments[0];
    switch (name) {
      case 'cstr': {
        if (!arg0 || !(ts.isStringLiteral(arg0) || ts.isNoSubstitutionTemplateLiteral(arg0))) return null;
        return { kind: 'addr', sym: this.statics.string(arg0.text), offset: 0 };
      }
      case 'addressOf':
      case 'trapEntry': {
        if (!arg0 || !ts.isIdentifier(arg0)) return null;
        const ent = this.names.entityOf(arg0);
        if (ent.kind !== 'function') return null;
        return { kind: 'addr', sym: name === 'addressOf' ? ent.sym : this.statics.trapStub(ent.sym), offset: 0 };
      }
      case 'ltu':
      case 'leu':
      case 'gtu':
      case 'geu':
      case 'divu':
      case 'remu':
      case 'mulhu': {
        const a = arg0 ? this.int(arg0) : null;
        const b = call.arguments[1] ? this.int(call.arguments[1]) : null;
        if (a === null || b === null) return null;
        const v = foldUnsigned(name, a, b);
        return v === null ? null : intConst(v);
      }
      default:
        return null;
    }
  }
}

/** Link-time arithmetic: address +/- integer, address - address of the same symbol, `| 0`. */
function addrArith(op: ts.SyntaxKind, l: ConstValue, r: ConstValue): ConstValue | null {
  if (op === ts.SyntaxKind.PlusToken) {
    if (l.kind === 'addr' && r.kind === 'int') return { kind: 'addr', sym: l.sym, offset: (l.offset + r.value) | 0 };
    if (l.kind === 'int' && r.kind === 'addr') return { kind: 'addr', sym: r.sym, offset: (r.offset + l.value) | 0 };
  }
  if (op === ts.SyntaxKind.MinusToken) {
    if (l.kind === 'addr' && r.kind === 'int') return { kind: 'addr', sym: l.sym, offset: (l.offset - r.value) | 0 };
    if (l.kind === 'addr' && r.kind === 'addr' && l.sym === r.sym) return intConst(l.offset - r.offset);
  }
  if ((op === ts.SyntaxKind.BarToken) && l.kind === 'addr' && r.kind === 'int' && r.value === 0) return l;
  return null;
}

/** Int32 result of a binary operator on constants (null: not foldable, e.g. division by zero). */
export function foldBinary(op: ts.SyntaxKind, a: number, b: number): number | null {
  switch (op) {
    case ts.SyntaxKind.PlusToken: return (a + b) | 0;
    case ts.SyntaxKind.MinusToken: return (a - b) | 0;
    case ts.SyntaxKind.AsteriskToken: return Math.imul(a, b);
    case ts.SyntaxKind.SlashToken: return b === 0 ? null : a === -0x80000000 && b === -1 ? a : (a / b) | 0;
    case ts.SyntaxKind.PercentToken: return b === 0 ? null : b === -1 ? 0 : (a % b) | 0;
    case ts.SyntaxKind.AmpersandToken: return a & b;
    case ts.SyntaxKind.BarToken: return a | b;
    case ts.SyntaxKind.CaretToken: return a ^ b;
    case ts.SyntaxKind.LessThanLessThanToken: return a << b;
    case ts.SyntaxKind.GreaterThanGreaterThanToken: return a >> b;
    case ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken: return (a >>> b) | 0;
    case ts.SyntaxKind.LessThanToken: return a < b ? 1 : 0;
    case ts.SyntaxKind.LessThanEqualsToken: return a <= b ? 1 : 0;
    case ts.SyntaxKind.GreaterThanToken: return a > b ? 1 : 0;
    case ts.SyntaxKind.GreaterThanEqualsToken: return a >= b ? 1 : 0;
    case ts.SyntaxKind.EqualsEqualsToken:
    case ts.SyntaxKind.EqualsEqualsEqualsToken: return a === b ? 1 : 0;
    case ts.SyntaxKind.ExclamationEqualsToken:
    case ts.SyntaxKind.ExclamationEqualsEqualsToken: return a !== b ? 1 : 0;
    case ts.SyntaxKind.CommaToken: return b;
    default: return null;
  }
}

/** Int32 result of an unsigned intrinsic on constants. */
export function foldUnsigned(name: string, a: number, b: number): number | null {
  const ua = a >>> 0;
  const ub = b >>> 0;
  switch (name) {
    case 'ltu': return ua < ub ? 1 : 0;
    case 'leu': return ua <= ub ? 1 : 0;
    case 'gtu': return ua > ub ? 1 : 0;
    case 'geu': return ua >= ub ? 1 : 0;
    case 'divu': return ub === 0 ? null : (ua / ub) | 0;
    case 'remu': return ub === 0 ? null : (ua % ub) | 0;
    case 'mulhu': return Number((BigInt(ua) * BigInt(ub)) >> 32n) | 0;
    default: return null;
  }
}
