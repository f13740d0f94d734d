// toolchain/asm assembler errors: each message with its exact file:line:col, several errors
// in one report, and no cascades from a broken definition.
import { describe, expect, it } from 'vitest';
import { assemble, AsmError } from '../../../toolchain/asm/index.ts';
import { errorOf } from './helpers.ts';

describe('assembler errors name the exact file:line:col and say what is wrong', () => {
  const cases: [string, string, string][] = [
    // range checks
    ['imm16 too large', '  nop\n  addi r1, r2, 70000', 'demo.s:2:16: immediate 70000 does not fit in 16 signed bits (-32768..32767); load it with li into a register'],
    ['imm16 too small', 'cmpi r1, -32769', 'demo.s:1:10: immediate -32769 does not fit in 16 signed bits (-32768..32767); load it with li into a register'],
    ['memory offset', 'ldw r1, [r2 + 40000]', 'demo.s:1:13: offset 40000 does not fit in 16 signed bits (-32768..32767); compute the address in a register first'],
    ['vector', 'int 256', 'demo.s:1:5: vector 256 is out of range 0..255'],
    ['negative vector', 'int -1', 'demo.s:1:5: vector -1 is out of range 0..255'],
    ['port', 'outb 65536, r1', 'demo.s:1:6: port 65536 is out of range 0..65535'],
    ['lksp ring', 'lksp 3, r1', 'demo.s:1:6: ring 3 is out of range for lksp: kernel stack pointers exist for rings 0..2'],
    ['lidt count', 'lidt r1, 257', 'demo.s:1:10: IDT entry count 257 is out of range 0..256 (vectors are 0..255)'],
    ['control register', 'movcr cr1, r1', 'demo.s:1:7: control register cr1 does not exist; XL32 has cr0, cr2, cr3, cr4'],
    ['align not a power of two', '.align 3', 'demo.s:1:8: .align 3: the boundary must be a power of two (1, 2, 4, 8, ...)'],
    ['align zero', '.align 0', 'demo.s:1:8: .align boundary 0 is out of range 1..2147483648'],
    ['byte value', '.byte 256', 'demo.s:1:7: value 256 does not fit in a byte (-128..255)'],
    ['half value', '.half 65536', 'demo.s:1:7: value 65536 does not fit in a halfword (-32768..65535)'],
    ['li value', 'li r1, 0x100000000', 'demo.s:1:8: value 4294967296 does not fit in a word (-2147483648..4294967295)'],
    ['negative space', '.space -1', 'demo.s:1:8: .space size -1 is out of range 0..4294967295'],
    // symbols
    ['undefined symbol', 'jmp nowhere', 'demo.s:1:5: undefined symbol `nowhere`'],
    ['undefined symbol with a suggestion', 'li r1, strat\nstart: nop', 'demo.s:1:8: undefined symbol `strat`; did you mean `start`?'],
    ['duplicate label', 'foo: nop\n  foo: nop', 'demo.s:2:3: duplicate label `foo`: already defined on line 1'],
    ['duplicate constant', 'A = 1\nA = 2', 'demo.s:2:1: duplicate constant `A`: already defined on line 1'],
    ['register as label', 'r1: nop', 'demo.s:1:1: `r1` is a register name and cannot be a label'],
    ['register in an expression', '.word r3 + 1', 'demo.s:1:7: `r3` is a register; registers cannot be used inside expressions'],
    ['size needs a symbol defined above', '.space later\nlater:', 'demo.s:1:8: the address of `later` is not known here: it is defined on line 2, below; .org, .space and .align values may only use symbols defined above them'],
    ['circular constants', 'x = x + 1\n.word x', 'demo.s:1:1: circular definition: `x` depends on itself'],
    // mnemonics and operands
    ['unknown mnemonic, closest suggested', '  ad r1, r2, r3', 'demo.s:1:3: unknown instruction `ad`; did you mean `add`?'],
    ['x86 condition name', 'jz loop', 'demo.s:1:1: unknown instruction `jz`; did you mean `jeq`? (XL32 conditions are eq ne lt ge le gt b ae be a)'],
    ['condition missing', 'j loop', 'demo.s:1:1: unknown instruction `j`; `j` needs a condition suffix (jeq, jne, jlt, ...)'],
    ['unknown directive', '.wrod 1', 'demo.s:1:1: unknown directive `.wrod`; did you mean `.word`?'],
    ['too few operands', 'add r1, r2', 'demo.s:1:11: `add` takes 3 operands (add rd, ra, rb), but 2 were given'],
    ['too many operands', 'add r1, r2, r3, r4', 'demo.s:1:17: `add` takes 3 operands (add rd, ra, rb), but 4 were given'],
    ['operands on a bare instruction', 'ret 1', 'demo.s:1:5: `ret` takes no operands, but 1 was given'],
    ['register where memory is needed', 'ldw r1, r2', 'demo.s:1:9: operand 2 of `ldw` must be a memory operand [ra + offset], found register r2'],
    ['constant in mov', 'mov r1, 5', 'demo.s:1:9: operand 2 of `mov` must be a register, found an expression; use `li` to load a constant'],
    ['constant in a register form', 'add r1, r2, 5', 'demo.s:1:13: operand 3 of `add` must be a register, found an expression; use `addi` for an immediate'],
    ['register in an immediate form', 'addi r1, r2, r3', 'demo.s:1:14: operand 3 of `addi` must be an immediate expression, found register r3; use `add` for register operands'],
    ['register as a jump target', 'jmp r1', 'demo.s:1:5: operand 1 of `jmp` must be an address (a label or expression), found register r1; use `jmpr r1` to go to the address in a register'],
    ['register as a port', 'outb r2, r1', 'demo.s:1:6: operand 1 of `outb` must be a port number, found register r2; use `outr` for a port number in a register'],
    ['memory without a base register', 'ldw r1, [5]', 'demo.s:1:10: a memory operand needs a base register first, as in [r1 + 8]; found `5` (load an absolute address with li first)'],
    ['unclosed memory operand', 'ldw r1, [r1 + 4', 'demo.s:1:16: expected `]` to close the memory operand, found the end of the line'],
    // lexical
    ['unterminated string', '.ascii "abc', 'demo.s:1:8: unterminated string: add the closing "'],
    ['bad escape', '.ascii "a\\qb"', 'demo.s:1:10: bad escape \\q; use \\n \\t \\r \\0 \\\\ \\" \\\' \\xNN'],
    ['short \\x escape', '.ascii "\\x4"', 'demo.s:1:9: bad escape \\x: it needs exactly two hex digits, as in \\x1b'],
    ['long character literal', "li r1, 'ab'", 'demo.s:1:8: character literal must hold exactly one character; use "..." with .ascii for strings'],
    ['bad number', 'li r1, 12ab', 'demo.s:1:8: bad number `12ab`; write decimal (123), hex (0x7b) or binary (0b1111011)'],
    ['stray character', '  nop @', 'demo.s:1:7: unexpected character `@`'],
    ['incomplete expression', '.word 1 +', 'demo.s:1:10: expected an expression, found the end of the line'],
    ['unclosed parenthesis', '.word (1 + 2', 'demo.s:1:13: expected `)` to close the parenthesis, found the end of the line'],
    ['division by zero', '.word 1 / 0', 'demo.s:1:9: division by zero in `/`'],
    // layout
    ['unaligned instruction', '.byte 1\nnop', 'demo.s:2:1: instruction at 0x00000001 is not 4-byte aligned; put `.align 4` before it'],
    ['overlapping segments', '.org 0x100\n.word 1, 2\n.org 0x104\n.word 3', 'demo.s:3:1: this segment (addresses 0x00000104..0x00000107) overlaps the one from line 1 (0x00000100..0x00000107)'],
    ['past 4 GiB', '.org 0xfffffffc\nli r1, 0', 'demo.s:2:1: this runs past the end of the 32-bit address space (segment from 0xfffffffc)'],
    ['unclosed .func', '.func f\nnop', 'demo.s:1:1: .func f has no matching .endfunc'],
    ['stray .endfunc', '.endfunc', 'demo.s:1:1: .endfunc without a .func before it'],
    ['.object of nothing', '.object nothing, 4', 'demo.s:1:9: `.object nothing`: no label `nothing` is defined'],
    ['unknown arch', '.arch arm', 'demo.s:1:7: `.arch` takes one of bare, native, pv, user; found `arm`'],
    ['contradicting arch', '.arch pv\n.arch native', 'demo.s:2:1: .arch native contradicts .arch pv on line 1'],
    ['duplicate entry', '.entry 1\n.entry 2', 'demo.s:2:1: duplicate .entry: the entry point was already set on line 1'],
  ];
  for (const [what, src, message] of cases) {
    it(what, () => {
      expect(errorOf(src)).toBe(message);
    });
  }

  it('AsmError carries file, line and col of the first error', () => {
    let err: unknown;
    try {
      assemble('nop\n\n   bogus r1', 'k/boot.s');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AsmError);
    expect(err).toMatchObject({ file: 'k/boot.s', line: 3, col: 4, message: 'k/boot.s:3:4: unknown instruction `bogus`' });
  });

  it('reports every error of the file in line order, one per line', () => {
    expect(errorOf('int 300\nnop\n.word nope\nadd r1')).toBe([
      'demo.s:1:5: vector 300 is out of range 0..255',
      'demo.s:3:7: undefined symbol `nope`',
      'demo.s:4:7: `add` takes 3 operands (add rd, ra, rb), but 1 was given',
    ].join('\n'));
  });

  it('stops listing after 20 errors and counts the rest', () => {
    const lines = errorOf(Array.from({ length: 25 }, () => 'frob').join('\n'), 'many.s').split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[19]).toBe('many.s:20:1: unknown instruction `frob`');
    expect(lines[20]).toBe('many.s: ... and 5 more errors');
  });

  it('a constant whose definition is broken is reported once, not at every use', () => {
    expect(errorOf('X = 1 +\n.word X\nli r1, X')).toBe('demo.s:1:8: expected an expression, found the end of the line');
  });

  it('the arch the caller asks for must agree with .arch', () => {
    expect(() => assemble('.arch pv', 'k.s', { arch: 'native' })).toThrow('k.s:1:1: .arch pv contradicts the arch the assembler was asked for (native)');
  });
});
