// toolchain/asm disassembler: canonical text, round trips (every opcode, the demo, random
// instructions and words, random data), the listing format, and garbage images. The random cases
// come from a fixed seed, as the fuzzers' do (a repeatable run); FUZZ_SEED chooses others.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeImage, encodeImage, ImageError, SymKind, type Image } from '../../../machine/image.ts';
import { COND_NAMES, encode, Fmt, INSTRUCTIONS, Op, type OpInfo } from '../../../machine/isa.ts';
import { assemble, disassemble, disassembleOne } from '../../../toolchain/asm/index.ts';
import { wordsOf } from './helpers.ts';

const seed = Number(process.env.FUZZ_SEED ?? 0xd15a);

/** One canonical operand text per format (what the disassembler prints for these fields). */
function sampleOperands(fmt: Fmt): string {
  switch (fmt) {
    case Fmt.None: return '';
    case Fmt.D: return 'r3';
    case Fmt.A: return 'r4';
    case Fmt.DA: return 'r1, r2';
    case Fmt.DAB: return 'r1, r2, r3';
    case Fmt.DAI: return 'r5, sp, -8';
    case Fmt.Load: return 'r1, [fp - 4]';
    case Fmt.Store: return '[r2 + 8], r1';
    case Fmt.DImm32: return 'r1, 0x12345678';
    case Fmt.Rel: return '0x00001000';
    case Fmt.CondRel: return '0x00001000';
    case Fmt.AB: return 'r6, r7';
    case Fmt.AI: return 'r8, 100';
    case Fmt.DCond: return 'r9';
    case Fmt.Vec: return '0x80';
    case Fmt.DPort: return 'r1, 0x3f8';
    case Fmt.PortA: return '0x3f8, r2';
    case Fmt.CrA: return 'cr3, r1';
    case Fmt.DCr: return 'r2, cr0';
    case Fmt.AImm: return 'r1, 256';
    case Fmt.RingA: return '1, r2';
    case Fmt.DD: return 'r1, r2';
    default: {
      const never: never = fmt;
      throw new Error(`format ${String(never)}`);
    }
  }
}

/** Every opcode once, and jCC / setCC once per condition code, in canonical text. */
const everyInstruction: string[] = INSTRUCTIONS.flatMap((info) => {
  const names = info.fmt === Fmt.CondRel || info.fmt === Fmt.DCond ? COND_NAMES.map((c) => info.mnemonic + c) : [info.mnemonic];
  return names.map((name) => `${name} ${sampleOperands(info.fmt)}`.trim());
});

function segmentsOf(img: Image): [number, number, number[]][] {
  return img.segments.map((s) => [s.vaddr, s.paddr, Array.from(s.data)]);
}

describe('disassembleOne', () => {
  it('prints each instruction in the canonical form the assembler reads', () => {
    expect(disassembleOne(encode(Op.ADDI, 15, 15, -8), 0, 0)).toBe('addi sp, sp, -8');
    expect(disassembleOne(encode(Op.LDW, 1, 14, -4), 0, 0)).toBe('ldw r1, [fp - 4]');
    expect(disassembleOne(encode(Op.STB, 2, 3, 0), 0, 0)).toBe('stb [r3], r2');
    expect(disassembleOne(encode(Op.LI, 1), 0x1000, 0)).toBe('li r1, 0x1000');
    expect(disassembleOne(encode(Op.LI, 1), -5, 0)).toBe('li r1, -5');
    expect(disassembleOne(encode(Op.JCC, 2), -12, 0x100c)).toBe('jlt 0x00001008');
    expect(disassembleOne(encode(Op.SETCC, 4, 9), 0, 0)).toBe('seta r4');
    expect(disassembleOne(encode(Op.OUTB, 0, 1, 0x3f8), 0, 0)).toBe('outb 0x3f8, r1');
    expect(disassembleOne(encode(Op.IN, 1, 0, 0xffff), 0, 0)).toBe('in r1, 0xffff');
    expect(disassembleOne(encode(Op.INT, 0, 0, 3), 0, 0)).toBe('int 3');
    expect(disassembleOne(encode(Op.MOVFROMCR, 7, 2), 0, 0)).toBe('movfcr r7, cr2');
    expect(disassembleOne(encode(Op.HYPERCALL), 0, 0)).toBe('hypercall');
  });

  it('a word that is not a canonical instruction is shown as .word', () => {
    expect(disassembleOne(0, 0, 0)).toBe('.word 0x00000000');
    expect(disassembleOne(encode(Op.ADD, 1, 2, 3) | (1 << 20), 0, 0)).toBe('.word 0x00132110');
    expect(disassembleOne(encode(Op.NOP, 1), 0, 0)).toBe('.word 0x00000101');
    expect(disassembleOne(encode(Op.JCC, 12), 0, 0)).toBe('.word 0x00000c49');
    expect(disassembleOne(encode(Op.MOVTOCR, 1, 1), 0, 0)).toBe('.word 0x00001169');
    expect(disassembleOne(encode(Op.LKSP, 0, 1, 3), 0, 0)).toBe('.word 0x0003106d');
    expect(disassembleOne(encode(Op.INT, 0, 0, -1), 0, 0)).toBe('.word 0xffff0050');
  });
});

describe('round trip: assemble -> disassemble -> assemble', () => {
  it('a program with every opcode and every condition code disassembles to its own text and bytes', () => {
    const src = `.org 0x1000\n${everyInstruction.map((l) => `  ${l}`).join('\n')}\n`;
    const img = assemble(src, 'all.s').image;
    const text = disassemble(img, { addresses: false, withSymbols: false });
    expect(text.split('\n').filter((l) => l.startsWith('  '))).toEqual(everyInstruction.map((l) => `  ${l}`));
    expect(segmentsOf(assemble(text, 'again.s').image)).toEqual(segmentsOf(img));
    expect(new Set(img.segments[0]!.data.filter((_, k) => k % 4 === 0)).size).toBeGreaterThanOrEqual(INSTRUCTIONS.length - 1);
  });

  it('the bare-metal demo survives the round trip with its bytes, entry, arch and symbol addresses', () => {
    const demo = readFileSync(new URL('../../../examples/bare-metal/demo.s', import.meta.url), 'utf8');
    const img = assemble(demo, 'demo.s').image;
    const again = assemble(disassemble(img, { addresses: false }), 'demo-again.s').image;
    expect(segmentsOf(again)).toEqual(segmentsOf(img));
    expect([again.entry, again.arch]).toEqual([img.entry, img.arch]);
    expect(again.symbols.map((s) => [s.name, s.addr])).toEqual(img.symbols.map((s) => [s.name, s.addr]));
  });

  it('property: a random valid instruction -> disassembleOne -> assemble gives the same words', () => {
    const reg = fc.integer({ min: 0, max: 15 });
    const insn = fc.record({
      info: fc.constantFrom(...INSTRUCTIONS),
      rd: reg,
      ra: reg,
      rb: reg,
      imm16: fc.integer({ min: -32768, max: 32767 }),
      vector: fc.integer({ min: 0, max: 255 }),
      port: fc.integer({ min: 0, max: 65535 }),
      cond: fc.integer({ min: 0, max: COND_NAMES.length - 1 }),
      cr: fc.constantFrom(0, 2, 3, 4),
      count: fc.integer({ min: 0, max: 256 }),
      ring: fc.integer({ min: 0, max: 2 }),
      ext: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      pc: fc.integer({ min: 0, max: 0x3ffffffb }).map((k) => k * 4),
    });
    fc.assert(
      fc.property(insn, (x) => {
        const words = encodeRandom(x.info, x);
        const text = disassembleOne(words[0]!, words[1] ?? 0, x.pc);
        expect(text.startsWith('.word')).toBe(false);
        expect(wordsOf(`.org ${x.pc}\n${text}`)).toEqual(words);
      }),
      { seed, numRuns: 2000 },
    );
  });

  it('property: any 32-bit word (and extension word) disassembles to text that assembles back to it', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.integer({ min: 0, max: 0x3ffffffb }), fc.integer({ min: 0, max: 0x7f }), (w, ext, pcWords, op) => {
        // Half the time force a defined opcode so the decoder is exercised, not just .word.
        const word = pcWords % 2 ? (w & ~0xff) | op : w;
        const text = disassembleOne(word, ext, pcWords * 4);
        const back = wordsOf(`.org ${pcWords * 4}\n${text}`);
        expect(back[0]).toBe(word);
        if (back.length === 2) expect(back[1]).toBe(ext);
      }),
      { seed, numRuns: 3000 },
    );
  });
});

interface RandomFields {
  rd: number; ra: number; rb: number; imm16: number; vector: number; port: number; cond: number;
  cr: number; count: number; ring: number; ext: number; pc: number;
}

/** Encode random in-range fields for an opcode's format, independently of the assembler. */
function encodeRandom(info: OpInfo, x: RandomFields): number[] {
  const { op } = info;
  switch (info.fmt) {
    case Fmt.None: return [encode(op)];
    case Fmt.D: return [encode(op, x.rd)];
    case Fmt.A: return [encode(op, 0, x.ra)];
    case Fmt.DA: return [encode(op, x.rd, x.ra)];
    case Fmt.DAB: return [encode(op, x.rd, x.ra, x.rb)];
    case Fmt.DAI: return [encode(op, x.rd, x.ra, x.imm16)];
    case Fmt.Load: return [encode(op, x.rd, x.ra, x.imm16)];
    case Fmt.Store: return [encode(op, x.rd, x.ra, x.imm16)];
    case Fmt.DImm32: return [encode(op, x.rd), x.ext];
    case Fmt.Rel: return [encode(op), x.ext];
    case Fmt.CondRel: return [encode(op, x.cond), x.ext];
    case Fmt.AB: return [encode(op, 0, x.ra, x.rb)];
    case Fmt.AI: return [encode(op, 0, x.ra, x.imm16)];
    case Fmt.DCond: return [encode(op, x.rd, x.cond)];
    case Fmt.Vec: return [encode(op, 0, 0, x.vector)];
    case Fmt.DPort: return [encode(op, x.rd, 0, x.port)];
    case Fmt.PortA: return [encode(op, 0, x.ra, x.port)];
    case Fmt.CrA: return [encode(op, x.cr, x.ra)];
    case Fmt.DCr: return [encode(op, x.rd, x.cr)];
    case Fmt.AImm: return [encode(op, 0, x.ra, x.count)];
    case Fmt.RingA: return [encode(op, 0, x.ra, x.ring)];
    case Fmt.DD: return [encode(op, x.rd, x.ra)];
    default: {
      const never: never = info.fmt;
      throw new Error(`format ${String(never)}`);
    }
  }
}

describe('round trip of data', () => {
  it('property: any segment bytes with any labels print as source that assembles to the same bytes', () => {
    const kinds = [SymKind.Function, SymKind.Object, SymKind.Label];
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }),
        fc.array(fc.tuple(fc.nat(120), fc.nat(40), fc.constantFrom(...kinds)), { maxLength: 6 }),
        fc.constantFrom(0, 0x20, 0x30, 0x41, 0x7e, 0x0a),
        (random, labels, bias) => {
          // Mix in text-like and zero bytes so the .ascii and .space paths are exercised.
          const data = random.map((b, k) => (k % 3 === 0 ? b : k % 3 === 1 ? bias : 0));
          const img: Image = {
            entry: 0x1000, arch: 0, notes: {},
            segments: [{ vaddr: 0x1000, paddr: 0x1000, memBytes: data.length, flags: 7, data }],
            symbols: labels.map(([off, size, kind], k) => ({ name: `s${k}`, addr: 0x1000 + Math.min(off, data.length), size, kind })),
          };
          const again = assemble(disassemble(img, { addresses: false }), 'again.s').image;
          expect(segmentsOf(again)).toEqual(segmentsOf(img).filter(([, , bytes]) => bytes.length > 0));
        },
      ),
      { seed, numRuns: 1000 },
    );
  });
});

describe('disassemble (the listing)', () => {
  const src = `.org 0x1000
.func _start
_start:
  li r1, msg
  call puts
.Lspin:
  jmp .Lspin
.endfunc
.func puts
puts: ret
.endfunc
msg: .asciz "hi\\tthere"
.align 4
buf: .space 16
.object buf, 16
tail: .byte 1, 2, 3
end:
.org 0x8000, 0x2000
table: .word 0xdeadbeef
`;
  const img = assemble(src, 'l.s').image;

  it('shows segment headers, labels, addresses, hex words, branch targets as <symbol+off>, strings and data', () => {
    expect(disassemble(img)).toBe(`; XL32 image: arch bare, entry 0x00001000 <_start>, 2 segments, 7 symbols
.arch bare
.entry 0x00001000

.org 0x00001000                          ; 59 bytes, rwx
_start:
  0x00001000  00000103 0000101c  li r1, 0x101c <msg>
  0x00001008  0000004a 00000008  call 0x00001018 <puts>
  0x00001010  00000048 fffffff8  jmp 0x00001010 <_start+0x10>
puts:
  0x00001018  0000004d           ret
msg:
  0x0000101c  68 69 09 74 ...    .asciz "hi\\tthere"
  0x00001025  00 00 00           .byte 0x00, 0x00, 0x00
buf:
  0x00001028  00000000 ...       .space 16
tail:
  0x00001038  01 02 03           .byte 0x01, 0x02, 0x03
end:

.org 0x00008000, 0x00002000              ; 4 bytes, rwx
table:
  0x00008000  deadbeef           .word 0xdeadbeef
`);
  });

  it('without addresses the listing is assembly source, with symbol names in comments', () => {
    const text = disassemble(img, { addresses: false });
    expect(text).toContain('\n_start:\n  li r1, 0x101c  ; <msg>\n  call 0x00001018  ; <puts>\n');
    expect(segmentsOf(assemble(text, 'again.s').image)).toEqual(segmentsOf(img));
  });

  it('without symbols there are no labels and no <names>', () => {
    const text = disassemble(img, { withSymbols: false });
    expect(text).not.toMatch(/<|^\w+:/m);
    expect(text).toContain('  0x00001008  0000004a 00000008  call 0x00001018\n');
  });

  it('a bss tail and symbols outside the stored bytes are mentioned in comments', () => {
    const bss: Image = {
      entry: 0, arch: 0, notes: {},
      segments: [{ vaddr: 0x100, paddr: 0x100, memBytes: 0x200, flags: 3, data: Uint8Array.of(1, 0, 0, 0) }],
      symbols: [{ name: 'heap', addr: 0x180, size: 0, kind: 2 }],
    };
    expect(disassemble(bss)).toBe(`; XL32 image: arch bare, entry 0x00000000, 1 segment, 1 symbol
.arch bare
.entry 0x00000000

.org 0x00000100                          ; 4 bytes, plus 508 zero-filled (bss), rw-
  0x00000100  00000001           nop

; symbols outside the stored segment bytes:
;   0x00000180  "heap"
`);
  });
});

describe('garbage images', () => {
  const good = encodeImage(assemble('.org 0x1000\n_start: li r1, s\njmp _start\ns: .asciz "x"\n.object s, 2', 'g.s').image);

  /** decodeImage either throws ImageError or returns an image the disassembler can always print. */
  const check = (bytes: Uint8Array) => {
    let img: Image;
    try {
      img = decodeImage(bytes, 'g.img');
    } catch (e) {
      expect(e).toBeInstanceOf(ImageError);
      return;
    }
    expect(typeof disassemble(img)).toBe('string');
  };

  it('random bytes give ImageError, never another exception', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), check), { seed, numRuns: 500 });
  });

  it('a valid image with random bytes changed or cut off gives ImageError or a printable image', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(good.length), (edits, cut) => {
        const bytes = good.slice(0, Math.max(cut, 32));
        for (const [off, v] of edits) if (off < bytes.length) bytes[off] = v;
        check(bytes);
      }),
      { seed, numRuns: 1000 },
    );
  });

  it('a valid image header with a random tail is handled the same way', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => check(Uint8Array.from([...good.subarray(0, 32), ...tail]))), { seed, numRuns: 500 });
  });
});
