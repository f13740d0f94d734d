// Phase 2 of the assembler: turns each source line's tokens into statements (labels, constant
// assignments, directives, instructions), checking operand counts and kinds against the slots
// of the instruction's format. No addresses or values yet. Pure; imports the ISA (through
// syntax.ts), the image arch names, and the lexer and expression parser.
import { ARCH_NAMES, type ArchName } from '../../machine/image.ts';
import { BY_MNEMONIC, COND_NAMES, Fmt } from '../../machine/isa.ts';
import { formatSyntax } from '../../machine/isa-doc.ts';
import { Diagnostics, didYouMean, StmtError, type Pos } from './errors.ts';
import { Cursor, parseExpr, type Expr } from './expr.ts';
import { lexLine, type Token } from './lexer.ts';
import { assertNever, CONTROL_REGISTERS, crSpelling, isReservedName, MNEMONICS, registerNumber, slotsOf, spell, type Mnemonic, type Slot } from './syntax.ts';

/** An operand bound to its slot. */
export type Arg =
  | { slot: 'rd' | 'ra' | 'rb'; reg: number; pos: Pos }
  | { slot: 'crd' | 'cra'; cr: number; pos: Pos }
  | { slot: 'mem'; base: number; offset: Expr | null; pos: Pos }
  | { slot: 'imm16' | 'imm32' | 'target' | 'vector' | 'port' | 'count' | 'ring'; expr: Expr; pos: Pos };

export type Directive =
  | { dir: 'org'; vaddr: Expr; paddr: Expr | null }
  | { dir: 'entry'; expr: Expr }
  | { dir: 'arch'; arch: ArchName }
  | { dir: 'equ'; name: string; namePos: Pos; expr: Expr }
  | { dir: 'data'; width: 1 | 2 | 4; exprs: Expr[] }
  | { dir: 'ascii'; bytes: Uint8Array }
  | { dir: 'space'; size: Expr; fill: Expr | null }
  | { dir: 'align'; n: Expr }
  | { dir: 'func'; name: string; namePos: Pos }
  | { dir: 'endfunc' }
  | { dir: 'object'; name: string; namePos: Pos; size: Expr };

export type Stmt =
  | { kind: 'label'; name: string; pos: Pos }
  | { kind: 'insn'; mnemonic: Mnemonic; args: Arg[]; pos: Pos }
  | ({ kind: 'directive'; pos: Pos } & Directive);

/** Directive names as written; `.equ` and `NAME = expr` both make an 'equ'. */
export const DIRECTIVE_NAMES = ['.org', '.entry', '.arch', '.equ', '.word', '.half', '.byte', '.ascii', '.asciz', '.space', '.align', '.func', '.endfunc', '.object'] as const;
type DirectiveName = (typeof DIRECTIVE_NAMES)[number];

/** Result of parsing: the statements, and names whose definition failed (uses stay silent). */
export interface Parsed {
  stmts: Stmt[];
  poisoned: Set<string>;
}

export function parse(source: string, diags: Diagnostics): Parsed {
  const stmts: Stmt[] = [];
  const poisoned = new Set<string>();
  const lines = source.split('\n');
  lines.forEach((text, k) => {
    const line = k + 1;
    let tokens: Token[] = [];
    if (!diags.guard(() => { tokens = lexLine(text, line); })) return;
    const c = new Cursor(tokens, { line, col: text.replace(/\s+$/, '').length + 1 });
    diags.guard(() => {
      // Leading labels: `name:` (several may share a line).
      for (;;) {
        const t = c.peek();
        const after = c.tokens[c.i + 1];
        if (t?.kind !== 'ident' || after?.kind !== 'punct' || after.text !== ':') break;
        checkSymbolName(t.text, t.pos, 'a label');
        stmts.push({ kind: 'label', name: t.text, pos: t.pos });
        c.i += 2;
      }
      if (c.atEnd()) return;
      const head = c.next()!;
      if (head.kind !== 'ident') throw new StmtError(head.pos, `expected a label, instruction or directive, found \`${head.text}\``);
      if (c.isPunct('=')) {
        checkSymbolName(head.text, head.pos, 'a constant');
        c.next();
        try {
          stmts.push({ kind: 'directive', pos: head.pos, dir: 'equ', name: head.text, namePos: head.pos, expr: parseWholeExpr(c, 'the value') });
        } catch (e) {
          poisoned.add(head.text);
          throw e;
        }
        return;
      }
      if (head.text.startsWith('.')) {
        stmts.push({ kind: 'directive', pos: head.pos, ...parseDirective(head.text, head.pos, c, poisoned) });
      } else {
        stmts.push(parseInstruction(head.text, head.pos, c));
      }
    });
  });
  return { stmts, poisoned };
}

function checkSymbolName(name: string, pos: Pos, what: string): void {
  if (isReservedName(name)) throw new StmtError(pos, `\`${name}\` is a register name and cannot be ${what}`);
  if (name === '.') throw new StmtError(pos, `\`.\` is the current address and cannot be ${what}; use .org to start code at an address`);
}

/** An expression that must be the rest of an operand: followed by `,` or the end of the line. */
function parseWholeExpr(c: Cursor, what: string): Expr {
  const e = parseExpr(c);
  if (!c.atEnd() && !c.isPunct(',')) throw new StmtError(c.pos(), `unexpected ${c.describe()} after ${what}`);
  return e;
}

/** Comma-separated items up to the end of the line. */
function commaList<T>(c: Cursor, item: () => T): T[] {
  const out: T[] = [];
  if (c.atEnd()) return out;
  for (;;) {
    out.push(item());
    if (c.atEnd()) return out;
    c.expectPunct(',', 'between operands');
  }
}

function parseDirective(name: string, pos: Pos, c: Cursor, poisoned: Set<string>): Directive {
  const lower = name.toLowerCase() as DirectiveName;
  if (!(DIRECTIVE_NAMES as readonly string[]).includes(lower)) {
    throw new StmtError(pos, `unknown directive \`${name}\`${didYouMean(lower, DIRECTIVE_NAMES)}`);
  }
  const exprs = (min: number, max: number, shape: string): Expr[] => {
    const list = commaList(c, () => parseWholeExpr(c, 'the expression'));
    if (list.length < min || list.length > max) {
      throw new StmtError(list.length > max ? list[max]!.pos : c.pos(), `\`${lower}\` takes ${shape}; found ${list.length} operand${list.length === 1 ? '' : 's'}`);
    }
    return list;
  };
  /** `NAME` as the first operand (then a comma if more follows). */
  const symbolOperand = (): { name: string; namePos: Pos } => {
    const t = c.next();
    if (t?.kind !== 'ident' || t.text === '.') throw new StmtError(t?.pos ?? c.end, `\`${lower}\` needs a symbol name first, found ${t ? `\`${t.text}\`` : 'the end of the line'}`);
    checkSymbolName(t.text, t.pos, 'a symbol');
    return { name: t.text, namePos: t.pos };
  };
  switch (lower) {
    case '.org': {
      const [vaddr, paddr] = exprs(1, 2, 'vaddr [, paddr]');
      return { dir: 'org', vaddr: vaddr!, paddr: paddr ?? null };
    }
    case '.entry':
      return { dir: 'entry', expr: exprs(1, 1, 'one address')[0]! };
    case '.arch': {
      const t = c.next();
      const arch = t?.kind === 'ident' ? t.text.toLowerCase() : '';
      if (!(ARCH_NAMES as readonly string[]).includes(arch)) {
        throw new StmtError(t?.pos ?? c.end, `\`.arch\` takes one of ${ARCH_NAMES.join(', ')}; found ${t ? `\`${t.text}\`` : 'nothing'}`);
      }
      if (!c.atEnd()) throw new StmtError(c.pos(), `unexpected ${c.describe()} after the arch name`);
      return { dir: 'arch', arch: arch as ArchName };
    }
    case '.equ': {
      const { name: sym, namePos } = symbolOperand();
      try {
        c.expectPunct(',', `after the name in \`.equ ${sym}, value\``);
        return { dir: 'equ', name: sym, namePos, expr: exprs(1, 1, 'NAME, value')[0]! };
      } catch (e) {
        poisoned.add(sym);
        throw e;
      }
    }
    case '.word':
    case '.half':
    case '.byte':
      return { dir: 'data', width: lower === '.word' ? 4 : lower === '.half' ? 2 : 1, exprs: exprs(1, Infinity, 'one or more values') };
    case '.ascii':
    case '.asciz': {
      const parts = commaList(c, () => {
        const t = c.next();
        if (t === undefined) throw new StmtError(c.end, `expected a quoted string after the comma`);
        if (t.kind !== 'str') throw new StmtError(t.pos, `\`${lower}\` takes quoted strings, found \`${t.text}\``);
        return lower === '.asciz' ? [...t.bytes, 0] : [...t.bytes];
      });
      if (parts.length === 0) throw new StmtError(c.end, `\`${lower}\` needs a quoted string`);
      return { dir: 'ascii', bytes: Uint8Array.from(parts.flat()) };
    }
    case '.space': {
      const [size, fill] = exprs(1, 2, 'size [, fill]');
      return { dir: 'space', size: size!, fill: fill ?? null };
    }
    case '.align':
      return { dir: 'align', n: exprs(1, 1, 'one power of two')[0]! };
    case '.func': {
      const s = symbolOperand();
      if (!c.atEnd()) throw new StmtError(c.pos(), `unexpected ${c.describe()} after the function name`);
      return { dir: 'func', ...s };
    }
    case '.endfunc':
      if (!c.atEnd()) throw new StmtError(c.pos(), '`.endfunc` takes no operands');
      return { dir: 'endfunc' };
    case '.object': {
      const s = symbolOperand();
      c.expectPunct(',', 'after the name in `.object NAME, size`');
      return { dir: 'object', ...s, size: exprs(1, 1, 'NAME, size')[0]! };
    }
    default:
      return assertNever(lower);
  }
}

/** A raw operand before it meets its slot. */
type RawOperand =
  | { kind: 'reg'; reg: number; text: string; pos: Pos }
  | { kind: 'cr'; cr: number; text: string; pos: Pos }
  | { kind: 'mem'; base: number; offset: Expr | null; pos: Pos }
  | { kind: 'expr'; expr: Expr; pos: Pos };

function parseOperand(c: Cursor): RawOperand {
  const t = c.peek();
  if (t === undefined) throw new StmtError(c.end, 'expected an operand after the comma');
  const next = c.tokens[c.i + 1];
  const alone = next === undefined || (next.kind === 'punct' && next.text === ',');
  if (t.kind === 'ident' && alone) {
    const reg = registerNumber(t.text);
    if (reg !== undefined) { c.next(); return { kind: 'reg', reg, text: t.text, pos: t.pos }; }
    const cr = crSpelling(t.text);
    if (cr !== undefined) { c.next(); return { kind: 'cr', cr, text: t.text, pos: t.pos }; }
  }
  if (t.kind === 'punct' && t.text === '[') {
    c.next();
    const b = c.next();
    const base = b?.kind === 'ident' ? registerNumber(b.text) : undefined;
    if (base === undefined) {
      throw new StmtError(b?.pos ?? c.end, `a memory operand needs a base register first, as in [r1 + 8]; found ${b ? `\`${b.text}\`` : 'the end of the line'} (load an absolute address with li first)`);
    }
    let offset: Expr | null = null;
    if (c.isPunct('+') || c.isPunct('-')) {
      // The offset is everything after the register, read as an expression starting with its sign.
      offset = parseExpr(c);
    }
    c.expectPunct(']', offset ? 'to close the memory operand' : 'or `+ offset` after the base register');
    return { kind: 'mem', base, offset, pos: t.pos };
  }
  return { kind: 'expr', expr: parseExpr(c), pos: t.pos };
}

const SLOT_WORDS: Record<Slot, string> = {
  rd: 'a register',
  ra: 'a register',
  rb: 'a register',
  crd: 'a control register (cr0, cr2, cr3, cr4)',
  cra: 'a control register (cr0, cr2, cr3, cr4)',
  mem: 'a memory operand [ra + offset]',
  imm16: 'an immediate expression',
  imm32: 'an immediate expression',
  target: 'an address (a label or expression)',
  vector: 'a vector number',
  port: 'a port number',
  count: 'an entry count',
  ring: 'a ring number',
};

function describeRaw(op: RawOperand): string {
  switch (op.kind) {
    case 'reg': return `register ${op.text}`;
    case 'cr': return `control register ${op.text}`;
    case 'mem': return 'a memory operand';
    case 'expr': return 'an expression';
    default: return assertNever(op);
  }
}

/** A hint when an operand has the wrong kind and another mnemonic takes it. */
function kindHint(mnemonic: string, slot: Slot, op: RawOperand): string {
  const regSlot = slot === 'rd' || slot === 'ra' || slot === 'rb';
  if (regSlot && op.kind === 'expr') {
    if (mnemonic === 'mov') return '; use `li` to load a constant';
    if (BY_MNEMONIC.has(`${mnemonic}i`)) return `; use \`${mnemonic}i\` for an immediate`;
    if (mnemonic === 'jmpr' || mnemonic === 'callr') return `; use \`${mnemonic.slice(0, -1)}\` to go to a label`;
  }
  if (op.kind === 'reg' && slot === 'target') {
    if (mnemonic === 'jmp' || mnemonic === 'call') return `; use \`${mnemonic}r ${op.text}\` to go to the address in a register`;
  }
  if (op.kind === 'reg' && (slot === 'imm16' || slot === 'imm32')) {
    const base = mnemonic.slice(0, -1);
    if (mnemonic.endsWith('i') && BY_MNEMONIC.has(base) && BY_MNEMONIC.get(base)!.fmt !== Fmt.None) return `; use \`${base}\` for register operands`;
    if (mnemonic === 'li') return '; use `mov` to copy a register';
  }
  if (op.kind === 'reg' && slot === 'port') return `; use \`${mnemonic.startsWith('in') ? 'inr' : 'outr'}\` for a port number in a register`;
  return '';
}

/** x86 condition spellings and the XL32 names for them. */
const X86_CONDS: Record<string, string> = {
  z: 'eq', e: 'eq', nz: 'ne', l: 'lt', nge: 'lt', nl: 'ge', ng: 'le', g: 'gt', nle: 'gt',
  c: 'b', nae: 'b', nc: 'ae', nb: 'ae', na: 'be', nbe: 'a',
};

function x86Hint(mnemonic: string): string | undefined {
  const m = /^(j|set)([a-z]+)$/.exec(mnemonic);
  const cond = m ? X86_CONDS[m[2]!] : undefined;
  return cond === undefined ? undefined : `; did you mean \`${m![1]}${cond}\`? (XL32 conditions are ${COND_NAMES.join(' ')})`;
}

function parseInstruction(name: string, pos: Pos, c: Cursor): Stmt {
  const lower = name.toLowerCase();
  const mnemonic = MNEMONICS.get(lower);
  if (!mnemonic) {
    const hint = lower === 'j' || lower === 'set' ? `; \`${lower}\` needs a condition suffix (${lower}eq, ${lower}ne, ${lower}lt, ...)` : x86Hint(lower) ?? didYouMean(lower, MNEMONICS.keys());
    throw new StmtError(pos, `unknown instruction \`${name}\`${hint}`);
  }
  const spelled = spell(mnemonic.info, mnemonic.cond);
  const slots = slotsOf(mnemonic.info.fmt);
  const raws = commaList(c, () => parseOperand(c));
  if (raws.length !== slots.length) {
    const shape = slots.length === 0 ? 'no operands' : `${slots.length} operand${slots.length === 1 ? '' : 's'} (${spelled} ${formatSyntax(mnemonic.info.fmt)})`;
    const where = raws.length > slots.length ? raws[slots.length]!.pos : c.end;
    throw new StmtError(where, `\`${spelled}\` takes ${shape}, but ${raws.length} ${raws.length === 1 ? 'was' : 'were'} given`);
  }
  const args = slots.map((slot, k): Arg => {
    const op = raws[k]!;
    const wrongKind = (): never => {
      throw new StmtError(op.pos, `operand ${k + 1} of \`${spelled}\` must be ${SLOT_WORDS[slot]}, found ${describeRaw(op)}${kindHint(mnemonic.info.mnemonic, slot, op)}`);
    };
    switch (slot) {
      case 'rd':
      case 'ra':
      case 'rb':
        return op.kind === 'reg' ? { slot, reg: op.reg, pos: op.pos } : wrongKind();
      case 'crd':
      case 'cra':
        if (op.kind !== 'cr') return wrongKind();
        if (!CONTROL_REGISTERS.includes(op.cr)) {
          throw new StmtError(op.pos, `control register ${op.text} does not exist; XL32 has ${CONTROL_REGISTERS.map((n) => `cr${n}`).join(', ')}`);
        }
        return { slot, cr: op.cr, pos: op.pos };
      case 'mem':
        return op.kind === 'mem' ? { slot, base: op.base, offset: op.offset, pos: op.pos } : wrongKind();
      case 'imm16':
      case 'imm32':
      case 'target':
      case 'vector':
      case 'port':
      case 'count':
      case 'ring':
        return op.kind === 'expr' ? { slot, expr: op.expr, pos: op.pos } : wrongKind();
      default:
        return assertNever(slot);
    }
  });
  return { kind: 'insn', mnemonic, args, pos };
}
