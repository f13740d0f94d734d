// toolchain/asm assembler: encodings of every format (against isa.ts encode), branches,
// expressions and precedence, forward references, and every directive.
import { describe, expect, it } from 'vitest';
import { Cond, COND_NAMES, encode, Fmt, INSTRUCTIONS, Op } from '../../../machine/isa.ts';
import { ImageArch, SegFlag, SymKind } from '../../../machine/image.ts';
import { assemble } from '../../../toolchain/asm/index.ts';
import { bytesOf, image, wordsOf } from './helpers.ts';

describe('instruction encoding (one case per operand format, compared with isa.ts encode)', () => {
  const cases: [Fmt, string, number[]][] = [
    [Fmt.None, 'nop', [encode(Op.NOP)]],
    [Fmt.D, 'pop r3', [encode(Op.POP, 3)]],
    [Fmt.A, 'push r4', [encode(Op.PUSH, 0, 4)]],
    [Fmt.DA, 'mov r1, r2', [encode(Op.MOV, 1, 2)]],
    [Fmt.DAB, 'add r1, r2, r3', [encode(Op.ADD, 1, 2, 3)]],
    [Fmt.DAI, 'addi sp, sp, -8', [encode(Op.ADDI, 15, 15, -8)]],
    [Fmt.Load, 'ldw r1, [fp - 4]', [encode(Op.LDW, 1, 14, -4)]],
    [Fmt.Store, 'stw [r2 + 8], r1', [encode(Op.STW, 1, 2, 8)]],
    [Fmt.DImm32, 'li r1, 0x12345678', [encode(Op.LI, 1), 0x12345678]],
    [Fmt.Rel, 'jmp 0x2000', [encode(Op.JMP), 0x2000 - 0x1008]],
    [Fmt.CondRel, 'jlt 0x1000', [encode(Op.JCC, Cond.LT), -8]],
    [Fmt.AB, 'cmp r1, r2', [encode(Op.CMP, 0, 1, 2)]],
    [Fmt.AI, 'cmpi r1, 10', [encode(Op.CMPI, 0, 1, 10)]],
    [Fmt.DCond, 'seteq r1', [encode(Op.SETCC, 1, Cond.EQ)]],
    [Fmt.Vec, 'int 0x80', [encode(Op.INT, 0, 0, 0x80)]],
    [Fmt.DPort, 'inb r1, 0x3fd', [encode(Op.INB, 1, 0, 0x3fd)]],
    [Fmt.PortA, 'outb 0x3f8, r1', [encode(Op.OUTB, 0, 1, 0x3f8)]],
    [Fmt.CrA, 'movcr cr3, r1', [encode(Op.MOVTOCR, 3, 1)]],
    [Fmt.DCr, 'movfcr r2, cr2', [encode(Op.MOVFROMCR, 2, 2)]],
    [Fmt.AImm, 'lidt r1, 256', [encode(Op.LIDT, 0, 1, 256)]],
    [Fmt.RingA, 'lksp 2, r2', [encode(Op.LKSP, 0, 2, 2)]],
    [Fmt.DD, 'rdtsc r1, r2', [encode(Op.RDTSC, 1, 2)]],
  ];

  it('the cases cover every format the opcode table uses', () => {
    expect(new Set(cases.map(([f]) => f))).toEqual(new Set(INSTRUCTIONS.map((x) => x.fmt)));
  });

  for (const [, src, expected] of cases) {
    it(`${src} encodes to ${expected.map((w) => `0x${(w >>> 0).toString(16)}`).join(' ')}`, () => {
      expect(wordsOf(`.org 0x1000\n${src}`)).toEqual(expected);
    });
  }

  it('every mnemonic in INSTRUCTIONS without operands encodes to its bare opcode', () => {
    for (const info of INSTRUCTIONS.filter((x) => x.fmt === Fmt.None)) {
      expect(wordsOf(info.mnemonic)).toEqual([encode(info.op)]);
    }
  });

  it('every condition code is accepted as a jCC and setCC suffix, in COND_NAMES order', () => {
    const src = COND_NAMES.map((c) => `j${c} 8\nset${c} r5`).join('\n');
    const expected = COND_NAMES.flatMap((_, cond) => [encode(Op.JCC, cond), 8 - (12 * cond + 8), encode(Op.SETCC, 5, cond)]);
    expect(wordsOf(src)).toEqual(expected);
  });

  it('mnemonics and registers are case-insensitive; sp is r15 and fp is r14', () => {
    expect(wordsOf('ADD R1, SP, Fp\nMov r15, r14')).toEqual([encode(Op.ADD, 1, 15, 14), encode(Op.MOV, 15, 14)]);
  });

  it('memory operands: [ra] is offset 0, and the offset may be any expression', () => {
    expect(wordsOf('ldbu r2, [r1]\nstb [r3 - 2 * 4], r4\nldh r5, [sp + 8 - 2]')).toEqual([
      encode(Op.LDBU, 2, 1, 0),
      encode(Op.STB, 4, 3, -8),
      encode(Op.LDH, 5, 15, 6),
    ]);
  });

  it('imm16 accepts exactly -32768..32767 and ports exactly 0..65535', () => {
    expect(wordsOf('addi r1, r1, -32768\naddi r1, r1, 32767\nout 0xffff, r1\nin r1, 0')).toEqual([
      encode(Op.ADDI, 1, 1, -32768),
      encode(Op.ADDI, 1, 1, 32767),
      encode(Op.OUT, 0, 1, 0xffff),
      encode(Op.IN, 1, 0, 0),
    ]);
  });

  it('li takes any 32-bit value, signed or unsigned', () => {
    expect(wordsOf('li r1, -1\nli r2, 0xffffffff\nli r3, -0x80000000')).toEqual([
      encode(Op.LI, 1), -1, encode(Op.LI, 2), -1, encode(Op.LI, 3), -0x80000000,
    ]);
  });
});

describe('branches', () => {
  it('displacements are relative to the address after the 8-byte instruction, backward and forward', () => {
    const src = `
      .org 0x1000
back: nop            ; 0x1000
      jmp back       ; 0x1004: 0x1000 - 0x100c
      jeq fwd        ; 0x100c: 0x1018 - 0x1014
      nop            ; 0x1014
fwd:  call back      ; 0x1018: 0x1000 - 0x1020
      jmp .          ; 0x1020: itself, -8
    `;
    expect(wordsOf(src)).toEqual([
      encode(Op.NOP),
      encode(Op.JMP), -12,
      encode(Op.JCC, Cond.EQ), 4,
      encode(Op.NOP),
      encode(Op.CALL), -32,
      encode(Op.JMP), -8,
    ]);
  });

  it('a target anywhere in the 4 GiB space is reachable (the displacement wraps)', () => {
    expect(wordsOf('.org 0xfffff000\njmp 0x10')).toEqual([encode(Op.JMP), 0x10 - 0xfffff008 + 0x1_0000_0000]);
  });
});

describe('expressions', () => {
  const cases: [string, number][] = [
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 2 - 3', 5],
    ['100 / 10 / 5', 2],
    ['2 * 3 % 4', 2],
    ['1 << 2 + 1', 8],
    ['1 + 2 << 3', 24],
    ['6 & 3 | 8', 10],
    ['1 | 2 ^ 3', 1],
    ['5 ^ 1 & 3', 4],
    ['4 & 12 << 1', 0],
    ['-2 * 3', -6],
    ['- -5', 5],
    ['+7', 7],
    ['~0 & 0xff', 255],
    ['~0x0f', -16],
    ['7 / 2', 3],
    ['-7 / 2', -3],
    ['-7 % 2', -1],
    ['7 % -2', 1],
    ['0x80000000 >> 4', 0x08000000],
    ['-16 >> 2', -4],
    ['0b101', 5],
    ['0X1F', 31],
    ["'A' + 1", 66],
    ["'\\n'", 10],
    ["'\\x41'", 65],
    ["'\\''", 39],
    ['1 << 32 >> 32', 1],
  ];
  for (const [expr, value] of cases) {
    it(`${expr} = ${value}`, () => {
      expect(wordsOf(`.word ${expr}`)).toEqual([value | 0]);
    });
  }

  it('symbols may be used before they are defined, in instructions, data and constants', () => {
    const src = `
      .org 0x100
start: li r1, later
      .word later - start, SIZE
      SIZE = later - start + EXTRA
      .equ EXTRA, 2
later: nop
    `;
    expect(wordsOf(src)).toEqual([encode(Op.LI, 1), 0x110, 0x10, 0x12, encode(Op.NOP)]);
  });

  it('. is the address of the statement it appears in, also when captured by a constant', () => {
    const src = '.org 0x40\n.word ., .\nhere = .\n.word here, here + 4';
    expect(wordsOf(src)).toEqual([0x40, 0x40, 0x48, 0x4c]);
  });

  it('constants defined from other constants and labels are resolved in any order', () => {
    expect(wordsOf('.word C\nC = B * 2\nB = A + 1\nA = 20')).toEqual([42]);
  });
});

describe('directives', () => {
  it('.org starts a segment at vaddr, loaded at paddr (default vaddr); flags are rwx', () => {
    const img = image('.org 0x1000\nnop\n.org 0xc0002000, 0x2000\n.word 1');
    expect(img.segments.map((s) => [s.vaddr, s.paddr, s.memBytes, s.data.length, s.flags])).toEqual([
      [0x1000, 0x1000, 4, 4, SegFlag.R | SegFlag.W | SegFlag.X],
      [0xc0002000, 0x2000, 4, 4, SegFlag.R | SegFlag.W | SegFlag.X],
    ]);
  });

  it('code before any .org is placed at address 0; empty segments are dropped', () => {
    const img = image('nop\n.org 0x500\n.org 0x600\nnop');
    expect(img.segments.map((s) => s.vaddr)).toEqual([0, 0x600]);
  });

  it('.entry sets the entry point; without it _start, else the first segment', () => {
    expect(image('.org 0x100\nnop\nmain: nop\n.entry main').entry).toBe(0x104);
    expect(image('.org 0x100\nnop\n_start: nop').entry).toBe(0x104);
    expect(image('.org 0x100\nnop\nnop').entry).toBe(0x100);
  });

  it('.arch sets the image arch (default bare); the caller may ask for one', () => {
    expect(image('nop').arch).toBe(ImageArch.Bare);
    expect(image('.arch pv\nnop').arch).toBe(ImageArch.Pv);
    expect(image('.ARCH User\nnop').arch).toBe(ImageArch.User);
    expect(assemble('nop', 'k.s', { arch: 'native' }).image.arch).toBe(ImageArch.Native);
    expect(assemble('.arch native\nnop', 'k.s', { arch: 'native' }).image.arch).toBe(ImageArch.Native);
  });

  it('.equ and NAME = expr define constants that are not image symbols', () => {
    const img = image('.equ A, 5\nB = A * 2\n.word A, B');
    expect(Array.from(img.segments[0]!.data)).toEqual([5, 0, 0, 0, 10, 0, 0, 0]);
    expect(img.symbols).toEqual([]);
  });

  it('.word, .half and .byte write little-endian 32/16/8-bit values, signed or unsigned', () => {
    expect(bytesOf('.word 0x11223344, -1\n.half 0xbeef, -2\n.byte 1, 255, -128')).toEqual([
      0x44, 0x33, 0x22, 0x11, 0xff, 0xff, 0xff, 0xff, 0xef, 0xbe, 0xfe, 0xff, 1, 255, 0x80,
    ]);
  });

  it('.ascii and .asciz write string bytes with escapes; .asciz adds a NUL', () => {
    expect(bytesOf('.ascii "a\\n\\t\\0\\\\\\"\\x7f", "b"\n.asciz "hi"')).toEqual([
      0x61, 10, 9, 0, 0x5c, 0x22, 0x7f, 0x62, 0x68, 0x69, 0,
    ]);
  });

  it('non-ASCII characters in strings are written as UTF-8', () => {
    expect(bytesOf('.ascii "é"')).toEqual([0xc3, 0xa9]);
  });

  it('.space writes n fill bytes (default 0)', () => {
    expect(bytesOf('.byte 9\n.space 3\n.space 2, 0xaa\n.space 0')).toEqual([9, 0, 0, 0, 0xaa, 0xaa]);
  });

  it('.align pads with zeros to a multiple of n, relative to the absolute address', () => {
    const img = image('.org 0x1001\n.byte 1\n.align 4\nx: .byte 2\n.align 1\n.align 16\ny: .byte 3');
    expect(img.symbols.map((s) => [s.name, s.addr])).toEqual([['x', 0x1004], ['y', 0x1010]]);
    expect(Array.from(img.segments[0]!.data.subarray(0, 4))).toEqual([1, 0, 0, 2]);
  });

  it('.func/.endfunc make a function symbol with its size; .func defines the label when absent', () => {
    const img = image('.org 0x10\n.func f\nf: nop\nnop\n.endfunc\n.func g\nli r1, 1\n.endfunc\nplain: nop');
    expect(img.symbols).toEqual([
      { name: 'f', addr: 0x10, size: 8, kind: SymKind.Function },
      { name: 'g', addr: 0x18, size: 8, kind: SymKind.Function },
      { name: 'plain', addr: 0x20, size: 0, kind: SymKind.Label },
    ]);
  });

  it('.object marks a label as a data object of the given size', () => {
    const img = image('table: .word 1, 2, 3\n.object table, . - table');
    expect(img.symbols).toEqual([{ name: 'table', addr: 0, size: 12, kind: SymKind.Object }]);
  });

  it('.L local labels are usable but are not written to the symbol table', () => {
    const img = image('top: nop\n.Lloop: jmp .Lloop\nend:');
    expect(img.symbols.map((s) => s.name)).toEqual(['top', 'end']);
    expect(wordsOf('top: nop\n.Lloop: jmp .Lloop')).toEqual([encode(Op.NOP), encode(Op.JMP), -8]);
  });

  it('several labels may share a line, and symbols are sorted by address', () => {
    const img = image('.org 0x20\nb: a: nop\n.org 0x10\nc: nop');
    expect(img.symbols.map((s) => [s.name, s.addr])).toEqual([['c', 0x10], ['b', 0x20], ['a', 0x20]]);
  });

  it('comments start with ; or // and blank lines are ignored', () => {
    expect(wordsOf('; nothing\n\n  nop // trailing\n  .word 1 ; x')).toEqual([encode(Op.NOP), 1]);
  });

  it('the same source always gives the same bytes', () => {
    const src = 'x: li r1, y\n.asciz "s"\n.align 4\ny: .word x';
    expect(assemble(src, 'a.s')).toEqual(assemble(src, 'a.s'));
  });

  it('the listing maps every statement that produced bytes to its line and address', () => {
    expect(assemble('.org 0x100\nl: nop\n.word 1, 2\nli r1, 3', 'a.s').listing).toEqual([
      { line: 2, addr: 0x100, bytes: 4 },
      { line: 3, addr: 0x104, bytes: 8 },
      { line: 4, addr: 0x10c, bytes: 8 },
    ]);
  });
});
