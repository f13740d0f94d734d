// Phase 4 of the assembler (pass 2): evaluates every expression with the complete symbol table,
// range-checks it for its field, encodes instructions through machine/isa.ts's `encode`, fills
// the segment bytes and builds the Image. Pure; imports the ISA, the image types and earlier phases.
import { ImageArch, ARCH_NAMES, SegFlag, SymKind, type Image, type ImageSymbol } from '../../machine/image.ts';
import { Diagnostics, StmtError } from './errors.ts';
import { evaluate, type Expr, type Scope } from './expr.ts';
import { evalAddress, evalRange, type Layout } from './layout.ts';
import type { Arg } from './parser.ts';
import { assertNever, condField, encodeFields, SLOT_RANGE, U32_MAX, type Fields } from './syntax.ts';

/** Where each statement that produced bytes came from. */
export interface ListingEntry {
  line: number;
  addr: number;
  bytes: number;
}

export interface Emitted {
  image: Image;
  listing: ListingEntry[];
}

const RANGE_WORDS = {
  imm16: (v: bigint) => `immediate ${v} does not fit in 16 signed bits (${SLOT_RANGE.imm16[0]}..${SLOT_RANGE.imm16[1]}); load it with li into a register`,
  vector: (v: bigint) => `vector ${v} is out of range 0..255`,
  port: (v: bigint) => `port ${v} is out of range 0..65535`,
  count: (v: bigint) => `IDT entry count ${v} is out of range 0..256 (vectors are 0..255)`,
  ring: (v: bigint) => `ring ${v} is out of range for lksp: kernel stack pointers exist for rings 0..2`,
} as const;

function checked(slot: keyof typeof RANGE_WORDS, e: Expr, scope: Scope): number {
  const v = evaluate(e, scope);
  const [min, max] = SLOT_RANGE[slot];
  if (v < BigInt(min) || v > BigInt(max)) throw new StmtError(e.pos, RANGE_WORDS[slot](v));
  return Number(v);
}

/** A value for a field of `bits` bits that may be written signed or unsigned. */
function dataValue(e: Expr, scope: Scope, bytes: 1 | 2 | 4): number {
  const v = evaluate(e, scope);
  const bits = bytes * 8;
  const min = -(1n << BigInt(bits - 1));
  const max = (1n << BigInt(bits)) - 1n;
  if (v < min || v > max) {
    const what = bytes === 1 ? 'a byte' : bytes === 2 ? 'a halfword' : 'a word';
    throw new StmtError(e.pos, `value ${v} does not fit in ${what} (${min}..${max})`);
  }
  return Number(BigInt.asUintN(32, v));
}

function fieldsOf(args: readonly Arg[], addr: number, scope: Scope): Fields {
  const f: Fields = { rd: 0, ra: 0, imm: 0, ext: 0 };
  for (const a of args) {
    switch (a.slot) {
      case 'rd': f.rd = a.reg; break;
      case 'ra': f.ra = a.reg; break;
      case 'rb': f.imm = a.reg; break;
      case 'crd': f.rd = a.cr; break;
      case 'cra': f.ra = a.cr; break;
      case 'mem': {
        f.ra = a.base;
        if (a.offset) {
          const v = evaluate(a.offset, scope);
          const [min, max] = SLOT_RANGE.imm16;
          if (v < BigInt(min) || v > BigInt(max)) {
            throw new StmtError(a.offset.pos, `offset ${v} does not fit in 16 signed bits (${min}..${max}); compute the address in a register first`);
          }
          f.imm = Number(v);
        }
        break;
      }
      case 'imm16':
      case 'vector':
      case 'port':
      case 'count':
      case 'ring':
        f.imm = checked(a.slot, a.expr, scope);
        break;
      case 'imm32':
        f.ext = dataValue(a.expr, scope, 4) | 0;
        break;
      case 'target': {
        // Displacement from the address after this 8-byte instruction; wraps modulo 2^32, so
        // every address is reachable.
        const target = evalAddress(a.expr, scope, a.pos, 'branch target');
        f.ext = (target - (addr + 8)) | 0;
        break;
      }
      default:
        assertNever(a);
    }
  }
  return f;
}

function put32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = (v >>> 24) & 0xff;
}

export function emit(lay: Layout, diags: Diagnostics): Emitted {
  const data = lay.segments.map((s) => new Uint8Array(s.size));
  const listing: ListingEntry[] = [];
  const { symbols } = lay;
  for (const p of lay.placed) {
    const s = p.stmt;
    const buf = data[p.seg]!;
    const off = p.addr - lay.segments[p.seg]!.vaddr;
    const scope = symbols.scope(p.addr);
    diags.guard(() => {
      switch (s.kind) {
        case 'label':
          return;
        case 'insn': {
          if (p.size === 0) return; // failed in pass 1
          const f = fieldsOf(s.args, p.addr, scope);
          const field = condField(s.mnemonic.info.fmt);
          if (field !== null) f[field] = s.mnemonic.cond!;
          encodeFields(s.mnemonic.info, f).forEach((w, k) => put32(buf, off + 4 * k, w));
          return;
        }
        case 'directive':
          switch (s.dir) {
            case 'data':
              if (p.size === 0) return;
              s.exprs.forEach((e, k) => {
                const v = dataValue(e, scope, s.width);
                const at = off + k * s.width;
                for (let b = 0; b < s.width; b++) buf[at + b] = (v >>> (8 * b)) & 0xff;
              });
              return;
            case 'ascii':
              if (p.size === s.bytes.length) buf.set(s.bytes, off);
              return;
            case 'space':
              if (s.fill) buf.fill(dataValue(s.fill, scope, 1), off, off + p.size);
              return;
            case 'equ':
              // Force the constant here, so an error in its definition is reported at its line.
              symbols.value(s.name, s.namePos);
              return;
            case 'object': {
              const mark = lay.marks.get(s.name);
              if (mark?.kind === 'object') mark.size = evalRange(s.size, scope, s.size.pos, 0, U32_MAX, '.object size');
              return;
            }
            case 'org':
            case 'entry':
            case 'arch':
            case 'align':
            case 'func':
            case 'endfunc':
              return;
            default:
              return assertNever(s);
          }
        default:
          return assertNever(s);
      }
    });
    if (p.size > 0) listing.push({ line: s.pos.line, addr: p.addr, bytes: p.size });
  }

  let entry = 0;
  const entryExpr = lay.entry;
  const start = symbols.label('_start');
  if (entryExpr) {
    diags.guard(() => { entry = evalAddress(entryExpr, symbols.scope(0), entryExpr.pos, 'entry point'); });
  } else if (start && start.addr !== null) {
    entry = start.addr;
  } else {
    entry = lay.segments.find((s) => s.size > 0)?.vaddr ?? 0;
  }

  const imageSymbols: ImageSymbol[] = symbols
    .labels()
    .filter((l) => !l.name.startsWith('.L'))
    .map((l): ImageSymbol => {
      const mark = lay.marks.get(l.name);
      const kind = mark?.kind === 'func' ? SymKind.Function : mark?.kind === 'object' ? SymKind.Object : SymKind.Label;
      return { name: l.name, addr: l.addr, size: mark?.size ?? 0, kind };
    })
    .map((sym, order) => ({ sym, order }))
    .sort((a, b) => a.sym.addr - b.sym.addr || a.order - b.order)
    .map(({ sym }) => sym);

  const image: Image = {
    entry,
    arch: ARCH_NAMES.indexOf(lay.arch) as ImageArch,
    segments: lay.segments
      .map((s, k) => ({ vaddr: s.vaddr, paddr: s.paddr, memBytes: s.size, flags: SegFlag.R | SegFlag.W | SegFlag.X, data: data[k]! }))
      .filter((s) => s.memBytes > 0),
    symbols: imageSymbols,
    notes: {},
  };
  return { image, listing };
}

