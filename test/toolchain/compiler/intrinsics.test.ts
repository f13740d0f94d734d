// The "xl32" intrinsics: constant-argument rules with their messages, hypercall only for pv
// kernels, and the exact instructions and stubs each intrinsic becomes.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compileErrors, compileTree, functionAsm } from './helpers.ts';
import { INTRINSICS, isIntrinsicName } from '../../../toolchain/compiler/intrinsics.ts';
import { XL32_PATH } from '../../../toolchain/compiler/program.ts';

const untyped = { arch: 'native' as const, typeCheck: false };

/** A native program whose main body is `body` (starting on line 3), importing `names` from xl32. */
function prog(names: string, ...body: string[]): string {
  return [`import { ${names} } from 'xl32';`, 'export function main(): void {', ...body.map((l) => `  ${l}`), '}', ''].join('\n');
}

describe('intrinsics that need constant arguments', () => {
  it('rejects readCr with a variable register number', () => {
    expect(compileErrors(prog('readCr', 'let n = 3;', 'let v = readCr(n);'))).toEqual([
      'main.ts:4:18: readCr needs a constant control register number (0, 2, 3 or 4); write e.g. readCr(3)',
    ]);
  });
  it('rejects writeCr of a control register that does not exist', () => {
    expect(compileErrors(prog('writeCr', 'writeCr(5, 0);'))).toEqual(['main.ts:3:11: writeCr: control register number 5 is out of range (0, 2, 3 or 4)']);
  });
  it('rejects lksp with a variable ring', () => {
    expect(compileErrors(prog('lksp', 'let ring = 0;', 'lksp(ring, 0x9000);'))).toEqual([
      'main.ts:4:8: lksp needs a constant ring (0, 1 or 2); write e.g. lksp(0, stackTop)',
    ]);
  });
  it('rejects lksp for ring 3', () => {
    expect(compileErrors(prog('lksp', 'lksp(3, 0x9000);'))).toEqual(['main.ts:3:8: lksp: ring 3 is out of range (0, 1 or 2)']);
  });
  it('rejects softInt with a variable vector', () => {
    expect(compileErrors(prog('softInt', 'let v = 0x80;', 'softInt(v);'))).toEqual(['main.ts:4:11: softInt needs a constant vector (0..255); write e.g. softInt(0x80)']);
  });
  it('rejects softInt beyond vector 255', () => {
    expect(compileErrors(prog('softInt', 'softInt(256);'))).toEqual(['main.ts:3:11: softInt: vector 256 is out of range (0..255)']);
  });
  it('rejects outb with a port computed at run time, pointing at out32', () => {
    expect(compileErrors(prog('outb', 'let port = 0x3f8;', 'outb(port, 65);'))).toEqual([
      'main.ts:4:8: outb needs a constant port number (0..65535); XL32 has no 8-bit port instruction taking the port from a register; use out32(port, value) for a port computed at run time',
    ]);
  });
  it('rejects inb with a port computed at run time, pointing at in32', () => {
    expect(compileErrors(prog('inb', 'let port = 0x3fd;', 'let x = inb(port);'))).toEqual([
      'main.ts:4:15: inb needs a constant port number (0..65535); XL32 has no 8-bit port instruction taking the port from a register; use in32(port) for a port computed at run time',
    ]);
  });
  it('rejects lidt with a variable entry count', () => {
    expect(compileErrors(prog('lidt', 'let n = 256;', 'lidt(0x1000, n);'))).toEqual(['main.ts:4:16: lidt needs a constant entry count (0..256); write e.g. lidt(base, 256)']);
  });
  it('accepts constants from const enums, module consts and expressions', () => {
    const src = [
      "import { outb, readCr, lksp } from 'xl32';",
      'const enum Port { UART = 0x3f8 }',
      'const RING = 1 - 1;',
      'export function main(): void { outb(Port.UART + 0, readCr(2 + 1)); lksp(RING, 0x9000); }',
      '',
    ].join('\n');
    const { asm } = compileTree(src);
    expect(functionAsm(asm, 'main.main')).toEqual(['main.main:', 'movfcr r0, cr3', 'outb 0x3f8, r0', 'li r0, 0x9000', 'lksp 0, r0', 'ret']);
  });
  it('reports a wrong number of intrinsic arguments', () => {
    expect(compileErrors(prog('load32', 'let x = load32();'), untyped)).toEqual(['main.ts:3:11: load32 takes 1 argument, not 0']);
  });
  it('requires addressOf to name a module-level function', () => {
    expect(compileErrors(prog('addressOf', 'let x = 1;', 'let a = addressOf(x);'), untyped)).toEqual([
      'main.ts:4:21: addressOf needs the name of a module-level function, e.g. addressOf(handler)',
    ]);
  });
  it('rejects a trapEntry handler with more than one parameter', () => {
    const src = "import { trapEntry } from 'xl32';\nfunction h(a: number, b: number): void {}\nexport function main(): void { let t = trapEntry(h); }\n";
    expect(compileErrors(src, untyped)).toEqual(["main.ts:3:50: trapEntry handler 'h' must take at most one parameter (the trap frame address)"]);
  });
});

describe('hypercall', () => {
  const src = prog('hypercall', 'let r = hypercall(3, 1, 2);');
  it('is rejected for --arch native, saying it needs pv', () => {
    expect(compileErrors(src)).toEqual(['main.ts:3:11: hypercall is available only with --arch pv; a native kernel uses the CPU instructions directly']);
  });
  it('is rejected in user programs', () => {
    expect(compileErrors(src, { arch: 'pv', user: true })).toEqual([
      'main.ts:3:11: hypercall is available only to pv kernels, not to user programs; user programs make system calls',
    ]);
  });
  it('compiles for --arch pv: number in r0, arguments in r1.., result from r0', () => {
    const { asm } = compileTree(prog('hypercall, outb', 'outb(0x3f8, hypercall(3, 1, 2));'), { arch: 'pv' });
    expect(functionAsm(asm, 'main.main')).toEqual(['main.main:', 'li r0, 3', 'li r1, 1', 'li r2, 2', 'hypercall', 'outb 0x3f8, r0', 'ret']);
  });
});

describe('syscall', () => {
  it('compiles to INT 0x80 with the number in r0, arguments in r1.., the result from r0', () => {
    const { asm } = compileTree(prog('syscall, outb', 'outb(0x3f8, syscall(4, 1, 0x1234, 5));'), { arch: 'native', user: true });
    expect(functionAsm(asm, 'main.main')).toEqual(['main.main:', 'li r0, 4', 'li r1, 1', 'li r2, 0x1234', 'li r3, 5', 'int 0x80', 'outb 0x3f8, r0', 'ret']);
  });
  it('treats r0..r6 as clobbered, keeping live values in callee-saved registers', () => {
    const { asm } = compileTree(prog('syscall, load32', 'let p = load32(0x100);', 'syscall(1);', 'syscall(p);'), { arch: 'native', user: true });
    expect(functionAsm(asm, 'main.main')).toEqual([
      'main.main:', 'push r7', 'li r0, 256', 'ldw r7, [r0]', 'li r0, 1', 'int 0x80', 'mov r0, r7', 'int 0x80', 'pop r7', 'ret',
    ]);
  });
});

describe('what intrinsics compile to', () => {
  it('folds a constant displacement into loads and stores', () => {
    const { asm } = compileTree(prog('load32, store16, load8s', 'let p = load32(0x2000);', 'store16(p + 6, load8s(p - 2));'));
    expect(functionAsm(asm, 'main.main')).toEqual(['main.main:', 'li r0, 0x2000', 'ldw r1, [r0]', 'ldb r0, [r1 - 2]', 'sth [r1 + 6], r0', 'ret']);
  });
  it('uses in/out for constant ports and inr/outr for computed ones', () => {
    const { asm } = compileTree(prog('in32, out32', 'let p = in32(0x40);', 'out32(p, in32(p));', 'out32(0x41, 1);'));
    expect(functionAsm(asm, 'main.main')).toEqual(['main.main:', 'in r1, 0x40', 'inr r0, r1', 'outr r1, r0', 'li r0, 1', 'out 0x41, r0', 'ret']);
  });
  it('reads FLAGS with pushf/pop and restores them with push/popf', () => {
    const { asm } = compileTree(prog('pushf, popf, cli', 'let f = pushf();', 'cli();', 'popf(f);'));
    expect(functionAsm(asm, 'main.main')).toEqual(['main.main:', 'pushf', 'pop r0', 'cli', 'push r0', 'popf', 'ret']);
  });
  it('stores the four cpuid result words', () => {
    const { asm } = compileTree(prog('cpuid', 'cpuid(0, 0x3000);'));
    expect(functionAsm(asm, 'main.main')).toEqual([
      'main.main:', 'li r4, 0x3000', 'li r0, 0', 'cpuid', 'stw [r4], r0', 'stw [r4 + 4], r1', 'stw [r4 + 8], r2', 'stw [r4 + 12], r3', 'ret',
    ]);
  });
  it('reads the stack pointer with stackPointer() (mov from sp)', () => {
    const { asm } = compileTree(prog('stackPointer, store32', 'store32(0x3000, stackPointer());'));
    expect(functionAsm(asm, 'main.main')).toContain('mov r0, sp');
  });
  it('emits PAUSE for pause() inside a spin loop, which dead-code removal keeps', () => {
    const { asm } = compileTree(prog('load32, pause', 'while (load32(0x3000) !== 0) { pause(); }'));
    expect(functionAsm(asm, 'main.main')).toContain('pause');
  });
  it('turns iretTo into loading sp and IRET', () => {
    const { asm } = compileTree(prog('iretTo', 'iretTo(0x8000);'));
    expect(functionAsm(asm, 'main.main')).toEqual(['main.main:', 'li r0, 0x8000', 'mov sp, r0', 'iret']);
  });
  it('emits one trap stub per handler: push r14..r0, call with the frame, pop, drop vector and error, iret', () => {
    const src = "import { trapEntry, store32 } from 'xl32';\nfunction onTrap(frame: number): void {}\nexport function main(): void { store32(0x1000, trapEntry(onTrap)); store32(0x1008, trapEntry(onTrap)); }\n";
    const { asm } = compileTree(src);
    const pushes = ['fp', 'r13', 'r12', 'r11', 'r10', 'r9', 'r8', 'r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0'];
    expect(functionAsm(asm, 'main.onTrap$trap')).toEqual([
      'main.onTrap$trap:',
      ...pushes.map((r) => `push ${r}`),
      'mov r0, sp',
      'call main.onTrap',
      ...[...pushes].reverse().map((r) => `pop ${r}`),
      'addi sp, sp, 8',
      'iret',
    ]);
    expect(asm.split('\n').filter((l) => l === '.func main.onTrap$trap')).toHaveLength(1);
  });
  it('emits the contextSwitch helper once: save r14..r7, store sp, switch, restore, return', () => {
    const src = "import { contextSwitch } from 'xl32';\nexport function main(): void { contextSwitch(0x1000, 0x2000); contextSwitch(0x1004, 0x3000); }\n";
    const { asm } = compileTree(src);
    expect(functionAsm(asm, '__xl32.contextSwitch')).toEqual([
      '__xl32.contextSwitch:',
      'push fp', 'push r13', 'push r12', 'push r11', 'push r10', 'push r9', 'push r8', 'push r7',
      'stw [r0], sp',
      'mov sp, r1',
      'pop r7', 'pop r8', 'pop r9', 'pop r10', 'pop r11', 'pop r12', 'pop r13', 'pop fp',
      'ret',
    ]);
  });
  it('places each distinct cstr string once in read-only data', () => {
    const src = "import { cstr, store32 } from 'xl32';\nexport function main(): void { store32(0x1000, cstr(\"hi\\n\")); store32(0x1004, cstr(\"hi\\n\")); store32(0x1008, cstr(\"x\")); }\n";
    const { asm } = compileTree(src);
    expect(asm.split('\n').filter((l) => l.includes('.asciz'))).toEqual(['    .asciz "hi\\n"', '    .asciz "x"']);
  });
  it('gives a static buffer its alignment, size and a zeroed bss home', () => {
    const src = "import { staticBuffer, store32 } from 'xl32';\nconst small = staticBuffer(3, 1);\nconst page = staticBuffer(4096, 4096);\nexport function main(): void { store32(page, small); }\n";
    const { image } = compileTree(src);
    const page = image.symbols.find((s) => s.name === 'main.page')!;
    const small = image.symbols.find((s) => s.name === 'main.small')!;
    expect(page.addr % 4096).toBe(0);
    expect(page.size).toBe(4096);
    expect(small.size).toBe(3);
  });
});

describe('the intrinsic table', () => {
  it('has one entry for each function toolchain/lib/xl32.ts exports, and no other', () => {
    const exported = [...readFileSync(XL32_PATH, 'utf8').matchAll(/^export function (\w+)/gm)].map((m) => m[1]!);
    expect(exported.length).toBe(48);
    expect([...exported].sort()).toEqual(Object.keys(INTRINSICS).sort());
  });
  it('knows its own names and nothing inherited', () => {
    expect(isIntrinsicName('load32')).toBe(true);
    expect(isIntrinsicName('toString')).toBe(false);
    expect(isIntrinsicName('hasOwnProperty')).toBe(false);
  });
});
