// Phase 3 of the assembler (pass 1): collects every symbol definition, then walks the statements
// once to give each its segment and address, so labels are known before any byte is written and
// symbols may be used before their definition. Also checks segments (overlap, 4 GiB) and
// .func/.endfunc pairing. Pure; imports the phases before it and the ISA through syntax.ts.
import type { ArchName } from '../../machine/image.ts';
import { Diagnostics, didYouMean, Silenced, StmtError, type Pos } from './errors.ts';
import { evaluate, type Expr, type Scope } from './expr.ts';
import type { Parsed, Stmt } from './parser.ts';
import { assertNever, isReservedName, U32_MAX } from './syntax.ts';
import { hex } from '../../machine/hex.ts';

export interface SegmentLayout {
  vaddr: number;
  paddr: number;
  /** bytes placed so far (final after pass 1) */
  size: number;
  /** the `.org` that opened it (line 1 col 1 for the implicit segment at 0) */
  pos: Pos;
}

/** A statement with its place in the image. */
export interface Placed {
  stmt: Stmt;
  seg: number;
  /** virtual address of the statement's first byte (`.` while it is evaluated) */
  addr: number;
  size: number;
}

type SymDef =
  | { kind: 'label'; name: string; pos: Pos; addr: number | null; seg: number }
  | { kind: 'equ'; name: string; pos: Pos; expr: Expr; dot: number | null; value: bigint | null; busy: boolean };

/** Extra facts about a label from .func / .object. */
export interface SymbolMark {
  kind: 'func' | 'object';
  pos: Pos;
  /** known after pass 1 for functions; evaluated in pass 2 for objects */
  size: number;
  sizeExpr: Expr | null;
}

export interface Layout {
  segments: SegmentLayout[];
  placed: Placed[];
  symbols: SymbolTable;
  marks: Map<string, SymbolMark>;
  arch: ArchName;
  /** the `.entry` statement, if any */
  entry: Expr | null;
}

/** Labels and constants, and the Scope through which expressions read them. */
export class SymbolTable {
  readonly defs = new Map<string, SymDef>();

  constructor(readonly poisoned: ReadonlySet<string>) {}

  /** Labels in definition order, with their addresses (after pass 1). */
  labels(): { name: string; addr: number; pos: Pos }[] {
    const out: { name: string; addr: number; pos: Pos }[] = [];
    for (const d of this.defs.values()) if (d.kind === 'label' && d.addr !== null) out.push({ name: d.name, addr: d.addr, pos: d.pos });
    return out;
  }

  label(name: string): { addr: number | null; seg: number; pos: Pos } | undefined {
    const d = this.defs.get(name);
    return d?.kind === 'label' ? d : undefined;
  }

  private dotValue = 0;
  private readonly shared: Scope = {
    dot: () => BigInt(this.dotValue),
    symbol: (name, pos) => this.value(name, pos),
  };

  /** The scope in which `.` is `dot` (one shared object: valid until the next call). */
  scope(dot: number): Scope {
    this.dotValue = dot;
    return this.shared;
  }

  value(name: string, pos: Pos): bigint {
    if (this.poisoned.has(name)) throw new Silenced();
    const d = this.defs.get(name);
    if (!d) {
      if (isReservedName(name)) throw new StmtError(pos, `\`${name}\` is a register; registers cannot be used inside expressions`);
      throw new StmtError(pos, `undefined symbol \`${name}\`${didYouMean(name, this.defs.keys())}`);
    }
    switch (d.kind) {
      case 'label':
        if (d.addr === null) {
          throw new StmtError(pos, `the address of \`${name}\` is not known here: it is defined on line ${d.pos.line}, below; .org, .space and .align values may only use symbols defined above them`);
        }
        return BigInt(d.addr);
      case 'equ': {
        if (d.value !== null) return d.value;
        if (d.busy) throw new StmtError(d.pos, `circular definition: \`${name}\` depends on itself`);
        d.busy = true;
        try {
          const dot = d.dot;
          const v = evaluate(d.expr, {
            symbol: (n, p) => this.value(n, p),
            dot: (p) => {
              if (dot === null) throw new StmtError(p, `\`.\` in the definition of \`${name}\` is not known yet: the constant is used above its definition`);
              return BigInt(dot);
            },
          });
          d.value = v;
          return v;
        } finally {
          d.busy = false;
        }
      }
      default:
        return assertNever(d);
    }
  }
}

const FOUR_GIB = 0x1_0000_0000;

/** Evaluate to a number in 0..max (addresses, sizes). */
export function evalRange(e: Expr, scope: Scope, pos: Pos, min: number, max: number, what: string): number {
  const v = evaluate(e, scope);
  if (v < BigInt(min) || v > BigInt(max)) throw new StmtError(pos, `${what} ${v} is out of range ${min}..${max}`);
  return Number(v);
}

/** Evaluate an address: any 32-bit value, signed or unsigned, as an unsigned address. */
export function evalAddress(e: Expr, scope: Scope, pos: Pos, what: string): number {
  const v = evaluate(e, scope);
  if (v < -0x8000_0000n || v > BigInt(U32_MAX)) throw new StmtError(pos, `${what} ${v} does not fit in 32 bits`);
  return Number(BigInt.asUintN(32, v));
}

export function layout(parsed: Parsed, diags: Diagnostics, defaultArch: ArchName | undefined): Layout {
  const symbols = new SymbolTable(parsed.poisoned);
  const { stmts } = parsed;
  const marks = new Map<string, SymbolMark>();

  // Every definition first, so later passes can tell "undefined" from "defined below".
  for (const s of stmts) {
    diags.guard(() => {
      if (s.kind === 'label') define(symbols, { kind: 'label', name: s.name, pos: s.pos, addr: null, seg: 0 });
      else if (s.kind === 'directive' && s.dir === 'equ') define(symbols, { kind: 'equ', name: s.name, pos: s.namePos, expr: s.expr, dot: null, value: null, busy: false });
    });
  }
  // `.func NAME` defines NAME at its own address when no label NAME exists.
  const funcLabels = new Set<Stmt>();
  for (const s of stmts) {
    if (s.kind !== 'directive' || (s.dir !== 'func' && s.dir !== 'object')) continue;
    diags.guard(() => {
      const d = symbols.defs.get(s.name);
      const what = s.dir === 'func' ? '.func' : '.object';
      if (d?.kind === 'equ') throw new StmtError(s.namePos, `\`${what} ${s.name}\`: \`${s.name}\` is a constant (line ${d.pos.line}), not a label`);
      const prior = marks.get(s.name);
      if (prior) throw new StmtError(s.namePos, `\`${s.name}\` is already marked with .${prior.kind} on line ${prior.pos.line}`);
      if (!d) {
        if (s.dir === 'object') {
          throw new StmtError(s.namePos, `\`.object ${s.name}\`: no label \`${s.name}\` is defined${didYouMean(s.name, symbols.defs.keys())}`);
        }
        symbols.defs.set(s.name, { kind: 'label', name: s.name, pos: s.namePos, addr: null, seg: 0 });
        funcLabels.add(s);
      }
      marks.set(s.name, { kind: s.dir, pos: s.namePos, size: 0, sizeExpr: s.dir === 'object' ? s.size : null });
    });
  }

  const segments: SegmentLayout[] = [{ vaddr: 0, paddr: 0, size: 0, pos: { line: 1, col: 1 } }];
  let cur = 0;
  const placed: Placed[] = [];
  let arch: ArchName | undefined = defaultArch;
  let archPos: Pos | null = null;
  let entry: Expr | null = null;
  let entryPos: Pos | null = null;
  let openFunc: { name: string; pos: Pos } | null = null;

  for (const s of stmts) {
    const seg = segments[cur]!;
    const addr = seg.vaddr + seg.size;
    let size = 0;
    const ok = diags.guard(() => {
      const scope = symbols.scope(addr);
      switch (s.kind) {
        case 'label': {
          const d = symbols.label(s.name);
          // A duplicate label keeps the first definition's address.
          if (d && d.pos === s.pos) { d.addr = addr; d.seg = cur; }
          return;
        }
        case 'insn':
          if (addr % 4 !== 0) throw new StmtError(s.pos, `instruction at ${hex(addr)} is not 4-byte aligned; put \`.align 4\` before it`);
          size = s.mnemonic.info.bytes;
          return;
        case 'directive':
          switch (s.dir) {
            case 'org': {
              const vaddr = evalRange(s.vaddr, scope, s.vaddr.pos, 0, U32_MAX, '.org address');
              const paddr = s.paddr ? evalRange(s.paddr, scope, s.paddr.pos, 0, U32_MAX, '.org physical address') : vaddr;
              segments.push({ vaddr, paddr, size: 0, pos: s.pos });
              cur = segments.length - 1;
              return;
            }
            case 'entry':
              if (entryPos) throw new StmtError(s.pos, `duplicate .entry: the entry point was already set on line ${entryPos.line}`);
              entry = s.expr;
              entryPos = s.pos;
              return;
            case 'arch':
              if (archPos && arch !== s.arch) throw new StmtError(s.pos, `.arch ${s.arch} contradicts .arch ${arch} on line ${archPos.line}`);
              if (!archPos && arch !== undefined && arch !== s.arch) throw new StmtError(s.pos, `.arch ${s.arch} contradicts the arch the assembler was asked for (${arch})`);
              arch = s.arch;
              archPos = s.pos;
              return;
            case 'equ': {
              const d = symbols.defs.get(s.name);
              if (d?.kind === 'equ' && d.pos === s.namePos) d.dot = addr;
              return;
            }
            case 'data':
              size = s.width * s.exprs.length;
              return;
            case 'ascii':
              size = s.bytes.length;
              return;
            case 'space':
              size = evalRange(s.size, scope, s.size.pos, 0, FOUR_GIB - addr - 1, '.space size');
              return;
            case 'align': {
              const n = evalRange(s.n, scope, s.n.pos, 1, 0x8000_0000, '.align boundary');
              if ((n & (n - 1)) !== 0) throw new StmtError(s.n.pos, `.align ${n}: the boundary must be a power of two (1, 2, 4, 8, ...)`);
              size = (n - (addr % n)) % n;
              return;
            }
            case 'func':
              if (openFunc) throw new StmtError(s.pos, `.func ${s.name} inside .func ${openFunc.name} (line ${openFunc.pos.line}); close it with .endfunc first`);
              openFunc = { name: s.name, pos: s.pos };
              if (funcLabels.has(s)) {
                const d = symbols.label(s.name)!;
                d.addr = addr;
                d.seg = cur;
              }
              return;
            case 'endfunc': {
              if (!openFunc) throw new StmtError(s.pos, '.endfunc without a .func before it');
              const f: { name: string; pos: Pos } = openFunc;
              openFunc = null;
              const d = symbols.label(f.name);
              const mark = marks.get(f.name);
              if (!d || !mark) return;
              if (d.addr === null) throw new StmtError(f.pos, `function \`${f.name}\` must be defined before its .endfunc (line ${s.pos.line})`);
              if (d.seg !== cur) throw new StmtError(s.pos, `.endfunc for \`${f.name}\` is in a different segment than the function's start (a .org lies between them)`);
              mark.size = addr - d.addr;
              return;
            }
            case 'object':
              return;
            default:
              return assertNever(s);
          }
        default:
          return assertNever(s);
      }
    });
    if (!ok) size = 0;
    const at = segments[cur]!;
    const start = at.vaddr + at.size;
    if (start + size > FOUR_GIB) {
      diags.error(s.pos, `this runs past the end of the 32-bit address space (segment from ${hex(at.vaddr)})`);
      size = 0;
    }
    placed.push({ stmt: s, seg: cur, addr: s.kind === 'directive' && s.dir === 'org' ? start : addr, size });
    at.size += size;
  }
  if (openFunc) {
    const f: { name: string; pos: Pos } = openFunc;
    diags.error(f.pos, `.func ${f.name} has no matching .endfunc`);
  }
  checkSegments(segments, diags);
  return { segments, placed, symbols, marks, arch: arch ?? 'bare', entry };
}

function define(symbols: SymbolTable, def: SymDef): void {
  const prior = symbols.defs.get(def.name);
  if (prior) {
    const what = def.kind === 'label' ? 'label' : 'constant';
    throw new StmtError(def.pos, `duplicate ${what} \`${def.name}\`: already defined on line ${prior.pos.line}`);
  }
  symbols.defs.set(def.name, def);
}

/** Non-empty segments must not overlap, virtually or physically, nor wrap past 4 GiB. */
function checkSegments(segments: SegmentLayout[], diags: Diagnostics): void {
  const used = segments.filter((s) => s.size > 0);
  for (const s of used) {
    if (s.paddr + s.size > FOUR_GIB) diags.error(s.pos, `segment loaded at physical ${hex(s.paddr)} runs past the end of the 32-bit address space`);
  }
  used.forEach((b, j) => {
    for (const a of used.slice(0, j)) {
      for (const [key, space] of [['vaddr', 'addresses'], ['paddr', 'physical addresses']] as const) {
        if (a[key] < b[key] + b.size && b[key] < a[key] + a.size) {
          diags.error(b.pos, `this segment (${space} ${hex(b[key])}..${hex(b[key] + b.size - 1)}) overlaps the one from line ${a.pos.line} (${hex(a[key])}..${hex(a[key] + a.size - 1)})`);
          break;
        }
      }
    }
  });
}



