// The disassembler: one instruction word (plus extension word) to the canonical assembly text
// the assembler reads back to the same bytes, and a whole image to a listing with segment
// headers, symbol labels and branch targets. Pure; imports the ISA, the image types and syntax.ts.
import { ARCH_NAMES, SymKind, type Image, type ImageSymbol, type Segment } from '../../machine/image.ts';
import { decode, type OpInfo } from '../../machine/isa.ts';
import { assertNever, condField, CONTROL_REGISTERS, encodeFields, isReservedName, registerName, SLOT_RANGE, slotsOf, spell, type Fields } from './syntax.ts';
import { hex } from '../../machine/hex.ts';

export interface DisasmOptions {
  /** label symbol addresses and annotate branch targets with `<symbol+off>` (default true) */
  withSymbols?: boolean;
  /**
   * prefix each line with its address and hex words (default true). With false the listing is
   * plain assembly source that re-assembles to the same segment bytes.
   */
  addresses?: boolean;
}

/** a word's 8 hex digits, for the listing's code column */
const hexWord = (n: number): string => hex(n).slice(2);

/** Small numbers read best in decimal, addresses and masks in hex. */
function imm32Text(v: number): string {
  const s = v | 0;
  return s >= -4096 && s < 4096 ? String(s) : `0x${(v >>> 0).toString(16)}`;
}

/** One decoded instruction: its text, length, and the values worth a symbol annotation. */
interface Insn {
  text: string;
  bytes: 4 | 8;
  /** absolute branch target (jmp, jCC, call) */
  target: number | null;
  /** li's 32-bit value */
  value: number | null;
}

function inRange(v: number, [min, max]: readonly [number, number]): boolean {
  return v >= min && v <= max;
}

/**
 * Decode the instruction at pc, or null when the word is not the canonical encoding of any
 * instruction (undefined opcode, unused bits set, out-of-range field): such words are data.
 */
function decodeAt(word: number, ext: number, pc: number): Insn | null {
  const d = decode(word, ext);
  const info: OpInfo | undefined = d.info;
  if (!info) return null;
  const fields: Fields = { rd: 0, ra: 0, imm: 0, ext: d.ext };
  const cf = condField(info.fmt);
  let cond: number | null = null;
  if (cf !== null) {
    cond = d[cf];
    fields[cf] = cond;
  }
  let target: number | null = null;
  let value: number | null = null;
  const operands: string[] = [];
  for (const slot of slotsOf(info.fmt)) {
    switch (slot) {
      case 'rd': fields.rd = d.rd; operands.push(registerName(d.rd)); break;
      case 'ra': fields.ra = d.ra; operands.push(registerName(d.ra)); break;
      case 'rb': fields.imm = d.rb; operands.push(registerName(d.rb)); break;
      case 'crd':
      case 'cra': {
        const n = slot === 'crd' ? d.rd : d.ra;
        if (!CONTROL_REGISTERS.includes(n)) return null;
        fields[slot === 'crd' ? 'rd' : 'ra'] = n;
        operands.push(`cr${n}`);
        break;
      }
      case 'mem':
        fields.ra = d.ra;
        fields.imm = d.imm;
        operands.push(d.imm === 0 ? `[${registerName(d.ra)}]` : `[${registerName(d.ra)} ${d.imm < 0 ? '-' : '+'} ${Math.abs(d.imm)}]`);
        break;
      case 'imm16':
        fields.imm = d.imm;
        operands.push(String(d.imm));
        break;
      case 'imm32':
        value = d.ext >>> 0;
        operands.push(imm32Text(d.ext));
        break;
      case 'target':
        target = (pc + 8 + d.ext) >>> 0;
        operands.push(hex(target));
        break;
      case 'vector':
      case 'count':
      case 'ring':
        if (!inRange(d.imm, SLOT_RANGE[slot])) return null;
        fields.imm = d.imm;
        operands.push(slot === 'vector' && d.imm >= 10 ? `0x${d.imm.toString(16)}` : String(d.imm));
        break;
      case 'port': {
        const port = d.imm & 0xffff;
        fields.imm = port;
        operands.push(`0x${port.toString(16)}`);
        break;
      }
      default:
        return assertNever(slot);
    }
  }
  if (cond !== null && cond >= 10) return null;
  // Canonical means: re-encoding the fields we read gives back the same word.
  if ((encodeFields(info, fields)[0]! | 0) !== (word | 0)) return null;
  const name = spell(info, cond);
  return { text: operands.length ? `${name} ${operands.join(', ')}` : name, bytes: info.bytes, target, value };
}

/**
 * The canonical assembly text of the instruction `word` (with extension word `ext` for the long
 * forms) at address `pc`; branch targets are absolute addresses. A word that is not a valid
 * instruction comes back as `.word 0x...`. Assembling the text at pc gives the same word(s).
 */
export function disassembleOne(word: number, ext: number, pc: number): string {
  return decodeAt(word, ext, pc)?.text ?? `.word ${hex(word)}`;
}

const bytesHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

const STRING_ESCAPES: Record<number, string> = { 10: '\\n', 9: '\\t', 13: '\\r', 34: '\\"', 92: '\\\\' };

/**
 * `.ascii "..."` or `.asciz "..."` when the `room` bytes at off are at least four characters of
 * printable ASCII text, then either nothing or a NUL (zero padding after it is left to the caller).
 */
function stringAt(data: Uint8Array, off: number, room: number): { text: string; bytes: number } | null {
  let n = 0;
  while (n < room) {
    const b = data[off + n]!;
    if ((b < 0x20 || b > 0x7e) && STRING_ESCAPES[b] === undefined) break;
    n++;
  }
  if (n < 4) return null;
  const zero = n < room && data[off + n] === 0;
  if (n < room && !zero) return null;
  if (zero) for (let k = n + 1; k < room; k++) if (data[off + k] !== 0) return null;
  const text = Array.from(data.subarray(off, off + n), (b) => STRING_ESCAPES[b] ?? String.fromCharCode(b)).join('');
  return { text: `${zero ? '.asciz' : '.ascii'} "${text}"`, bytes: zero ? n + 1 : n };
}

const SYMBOL_NAME = /^[A-Za-z_.$][A-Za-z0-9_.$]*$/;

function flagsText(flags: number): string {
  return `${flags & 1 ? 'r' : '-'}${flags & 2 ? 'w' : '-'}${flags & 4 ? 'x' : '-'}`;
}

/** A text listing of the whole image; see DisasmOptions. */
export function disassemble(image: Image, opts: DisasmOptions = {}): string {
  const withSymbols = opts.withSymbols ?? true;
  const addresses = opts.addresses ?? true;
  const symbols: readonly ImageSymbol[] = withSymbols ? image.symbols : [];
  const out: string[] = [];
  const printed = new Set<ImageSymbol>();

  const byAddr = new Map<number, ImageSymbol[]>();
  for (const s of symbols) {
    const list = byAddr.get(s.addr >>> 0);
    if (list) list.push(s);
    else byAddr.set(s.addr >>> 0, [s]);
  }
  const symAddrs = [...byAddr.keys()].sort((a, b) => a - b);

  // Branch targets are named after the nearest code symbol at or below them; at one address a
  // function beats a plain label.
  const rank = (s: ImageSymbol): number => (s.kind === SymKind.Function ? 2 : s.kind === SymKind.Label ? 1 : 0);
  const code = symbols
    .filter((s) => s.kind !== SymKind.Object)
    .map((s) => ({ s, addr: s.addr >>> 0 }))
    .sort((a, b) => a.addr - b.addr || rank(a.s) - rank(b.s));
  const annotate = (target: number): string => {
    let lo = 0;
    let hi = code.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (code[mid]!.addr <= target) lo = mid + 1;
      else hi = mid;
    }
    const best = code[lo - 1];
    if (!best) return '';
    const off = target - best.addr;
    return off === 0 ? `<${best.s.name}>` : `<${best.s.name}+0x${off.toString(16)}>`;
  };
  /** The name for li's value when it is exactly a symbol's address (objects first). */
  const exactName = (value: number): string => {
    const list = byAddr.get(value);
    if (!list || value === 0) return '';
    const best = [...list].sort((a, b) => (b.kind === SymKind.Object ? 3 : rank(b)) - (a.kind === SymKind.Object ? 3 : rank(a)))[0]!;
    return `<${best.name}>`;
  };
  const labelLines = (addr: number): void => {
    for (const s of byAddr.get(addr) ?? []) {
      if (printed.has(s)) continue;
      printed.add(s);
      out.push(SYMBOL_NAME.test(s.name) && !isReservedName(s.name) ? `${s.name}:` : `; symbol ${JSON.stringify(s.name)} here`);
    }
  };
  const line = (pc: number, hexCol: string, text: string, note: string): void => {
    if (addresses) out.push(`  ${hex(pc)}  ${hexCol.padEnd(17)}  ${text}${note ? ` ${note}` : ''}`.trimEnd());
    else out.push(`  ${text}${note ? `  ; ${note}` : ''}`);
  };

  const arch = ARCH_NAMES[image.arch] ?? `${image.arch}`;
  const entryNote = annotate(image.entry);
  out.push(`; XL32 image: arch ${arch}, entry ${hex(image.entry)}${entryNote ? ` ${entryNote}` : ''}, ${image.segments.length} segment${image.segments.length === 1 ? '' : 's'}, ${image.symbols.length} symbol${image.symbols.length === 1 ? '' : 's'}`);
  if (ARCH_NAMES[image.arch]) out.push(`.arch ${arch}`);
  out.push(`.entry ${hex(image.entry)}`);

  for (const seg of image.segments) disassembleSegment(seg);

  const leftovers = symbols.filter((s) => !printed.has(s));
  if (leftovers.length) {
    out.push('', '; symbols outside the stored segment bytes:');
    for (const s of leftovers) out.push(`;   ${hex(s.addr)}  ${JSON.stringify(s.name)}`);
  }
  return `${out.join('\n')}\n`;

  function disassembleSegment(seg: Segment): void {
    const start = seg.vaddr >>> 0;
    const data = seg.data;
    const end = start + data.length;
    out.push('');
    const phys = seg.paddr !== seg.vaddr ? `, ${hex(seg.paddr)}` : '';
    const bss = seg.memBytes > data.length ? `, plus ${seg.memBytes - data.length} zero-filled (bss)` : '';
    out.push(`.org ${hex(start)}${phys}${' '.repeat(Math.max(1, 26 - phys.length))}; ${data.length} bytes${bss}, ${flagsText(seg.flags)}`);

    // Objects are shown as data; inside functions every word is decoded as code. Coverage is
    // tracked with a moving end because pc only grows.
    const covering = (kind: SymKind) => {
      const list = symbols.filter((s) => s.kind === kind && s.size > 0 && s.addr < end && s.addr + s.size > start).sort((a, b) => a.addr - b.addr);
      let k = 0;
      let until = 0;
      return (pc: number): boolean => {
        while (k < list.length && list[k]!.addr <= pc) until = Math.max(until, list[k]!.addr + list[k++]!.size);
        return pc < until;
      };
    };
    const inObject = covering(SymKind.Object);
    const inFunction = covering(SymKind.Function);
    let symIdx = 0;
    const word = (off: number): number => (data[off]! | (data[off + 1]! << 8) | (data[off + 2]! << 16) | (data[off + 3]! << 24)) | 0;

    let pc = start;
    while (pc < end) {
      const atLabel = byAddr.has(pc);
      labelLines(pc);
      while (symIdx < symAddrs.length && symAddrs[symIdx]! <= pc) symIdx++;
      const nextSym = symIdx < symAddrs.length ? symAddrs[symIdx]! : Infinity;
      const off = pc - start;
      const limit = Math.min(end, nextSym);
      const room = limit - pc;
      const object = inObject(pc);
      const code = inFunction(pc);

      // A label outside code whose bytes are text (then NUL padding) reads best as a string.
      if (atLabel && !code) {
        const str = stringAt(data, off, room);
        if (str) {
          line(pc, bytesHex(data.subarray(off, off + Math.min(str.bytes, 4))) + (str.bytes > 4 ? ' ...' : ''), str.text, '');
          pc += str.bytes;
          continue;
        }
      }
      // A run of zero bytes (two words or more) is one .space.
      if (pc % 4 === 0 && room >= 8 && word(off) === 0 && word(off + 4) === 0) {
        let n = 8;
        while (n < room && data[off + n] === 0) n++;
        line(pc, '00000000 ...', `.space ${n}`, '');
        pc += n;
        continue;
      }
      // Bytes up to the next word boundary, the segment end or the next label, whichever is first.
      if (pc % 4 !== 0 || room < 4) {
        const n = Math.min(room, pc % 4 === 0 ? 4 : 4 - (pc % 4));
        const bytes = data.subarray(off, off + n);
        line(pc, bytesHex(bytes), `.byte ${Array.from(bytes, (b) => hex(b, 2)).join(', ')}`, '');
        pc += n;
        continue;
      }
      const w = word(off);
      const insn = object ? null : decodeAt(w, room >= 8 ? word(off + 4) : 0, pc);
      if (insn && (insn.bytes === 4 || room >= 8)) {
        let note = '';
        if (insn.target !== null) note = annotate(insn.target);
        else if (insn.value !== null) note = exactName(insn.value);
        const hexCol = insn.bytes === 8 ? `${hexWord(w)} ${hexWord(word(off + 4))}` : hexWord(w);
        line(pc, hexCol, insn.text, note);
        pc += insn.bytes;
      } else {
        line(pc, hexWord(w), `.word ${hex(w)}`, '');
        pc += 4;
      }
    }
    labelLines(end);
  }
}
