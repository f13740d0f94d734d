// Assembler expressions: the parser (C precedence: unary > * / % > + - > << >> > & > ^ > |) over
// a line's tokens, and the evaluator (64-bit signed arithmetic, as C's int64_t; the caller then
// range-checks the value for its field). Pure; imports errors.ts and lexer.ts types only.
import { StmtError, type Pos } from './errors.ts';
import type { Punct, Token } from './lexer.ts';
import { assertNever } from '../../machine/never.ts';

export type BinaryOp = '*' | '/' | '%' | '+' | '-' | '<<' | '>>' | '&' | '^' | '|';
export type UnaryOp = '-' | '~' | '+';

export type Expr =
  | { kind: 'num'; value: bigint; pos: Pos }
  | { kind: 'sym'; name: string; pos: Pos }
  /** `.`, the address of the statement */
  | { kind: 'dot'; pos: Pos }
  | { kind: 'unary'; op: UnaryOp; operand: Expr; pos: Pos }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; pos: Pos };

/** Binary operators from loosest to tightest binding (C's order). */
const LEVELS: readonly (readonly BinaryOp[])[] = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

/** A cursor over one line's tokens. */
export class Cursor {
  i = 0;
  constructor(
    readonly tokens: readonly Token[],
    /** position just past the last token, for "expected ... at end of line" */
    readonly end: Pos,
  ) {}

  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  next(): Token | undefined {
    return this.tokens[this.i++];
  }
  atEnd(): boolean {
    return this.i >= this.tokens.length;
  }
  isPunct(p: Punct): boolean {
    const t = this.tokens[this.i];
    return t !== undefined && t.kind === 'punct' && t.text === p;
  }
  /** Position of the next token, or the end of the line. */
  pos(): Pos {
    return this.tokens[this.i]?.pos ?? this.end;
  }
  /** A description of the next token for messages: "`x`" or "the end of the line". */
  describe(): string {
    const t = this.tokens[this.i];
    return t === undefined ? 'the end of the line' : `\`${t.text}\``;
  }
  expectPunct(p: Punct, what: string): Pos {
    if (!this.isPunct(p)) throw new StmtError(this.pos(), `expected \`${p}\` ${what}, found ${this.describe()}`);
    return this.next()!.pos;
  }
}

/** Parse one expression starting at the cursor. */
export function parseExpr(c: Cursor): Expr {
  return parseLevel(c, 0);
}

function parseLevel(c: Cursor, level: number): Expr {
  if (level === LEVELS.length) return parseUnary(c);
  const ops = LEVELS[level]!;
  let left = parseLevel(c, level + 1);
  for (;;) {
    const t = c.peek();
    if (!t || t.kind !== 'punct' || !(ops as readonly string[]).includes(t.text)) return left;
    c.next();
    const right = parseLevel(c, level + 1);
    left = { kind: 'binary', op: t.text as BinaryOp, left, right, pos: t.pos };
  }
}

function parseUnary(c: Cursor): Expr {
  const t = c.peek();
  if (t && t.kind === 'punct' && (t.text === '-' || t.text === '~' || t.text === '+')) {
    c.next();
    return { kind: 'unary', op: t.text, operand: parseUnary(c), pos: t.pos };
  }
  return parsePrimary(c);
}

function parsePrimary(c: Cursor): Expr {
  const t = c.peek();
  if (t === undefined) throw new StmtError(c.pos(), 'expected an expression, found the end of the line');
  switch (t.kind) {
    case 'num':
      c.next();
      return { kind: 'num', value: t.value, pos: t.pos };
    case 'ident':
      c.next();
      return t.text === '.' ? { kind: 'dot', pos: t.pos } : { kind: 'sym', name: t.text, pos: t.pos };
    case 'punct':
      if (t.text === '(') {
        c.next();
        const e = parseExpr(c);
        c.expectPunct(')', 'to close the parenthesis');
        return e;
      }
      throw new StmtError(t.pos, `expected an expression, found \`${t.text}\``);
    case 'str':
      throw new StmtError(t.pos, 'a string is not a number here; use a character literal such as \'A\' for one byte');
  }
}

/** How the evaluator learns the values of names. */
export interface Scope {
  /** the value of a symbol; throws StmtError (undefined symbol, not yet known, ...) */
  symbol(name: string, pos: Pos): bigint;
  /** the value of `.` */
  dot(pos: Pos): bigint;
}

const wrap64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** Evaluate in 64-bit signed arithmetic; division truncates toward zero, as in C. */
export function evaluate(e: Expr, scope: Scope): bigint {
  switch (e.kind) {
    case 'num': return wrap64(e.value);
    case 'sym': return scope.symbol(e.name, e.pos);
    case 'dot': return scope.dot(e.pos);
    case 'unary': {
      const v = evaluate(e.operand, scope);
      const op = e.op;
      switch (op) {
        case '-': return wrap64(-v);
        case '~': return ~v;
        case '+': return v;
        default: return assertNever(op, 'operator');
      }
    }
    case 'binary': {
      const a = evaluate(e.left, scope);
      const b = evaluate(e.right, scope);
      const op = e.op;
      switch (op) {
        case '+': return wrap64(a + b);
        case '-': return wrap64(a - b);
        case '*': return wrap64(a * b);
        case '/':
        case '%':
          if (b === 0n) throw new StmtError(e.pos, `division by zero in \`${op}\``);
          return wrap64(op === '/' ? a / b : a % b);
        case '<<':
        case '>>':
          if (b < 0n || b > 63n) throw new StmtError(e.pos, `shift count ${b} is out of range 0..63`);
          return op === '<<' ? wrap64(a << b) : a >> b;
        case '&': return a & b;
        case '^': return a ^ b;
        case '|': return a | b;
        default: return assertNever(op, 'operator');
      }
    }
    default: return assertNever(e, 'expression case');
  }
}


/** The symbols an expression mentions (for dependency checks). */
export function symbolsOf(e: Expr, out: string[] = []): string[] {
  switch (e.kind) {
    case 'sym': out.push(e.name); break;
    case 'unary': symbolsOf(e.operand, out); break;
    case 'binary': symbolsOf(e.left, out); symbolsOf(e.right, out); break;
    case 'num':
    case 'dot': break;
    default: assertNever(e, 'expression case');
  }
  return out;
}
