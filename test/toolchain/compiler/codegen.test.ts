// The shape of generated code: locals in registers, immediate forms, fused compare-and-branch,
// rotated loops, frameless leaf functions, constant folding, jump tables, the calling
// convention (r0..r5 in, r0 out, r7..r13 preserved, fp chain in non-leaf functions).
import { describe, expect, it } from 'vitest';
import { compileTree, functionAsm } from './helpers.ts';

/** The assembly of `name` in a program made of `src` plus a trivial main. */
function asmOf(src: string, name: string): string[] {
  const { asm } = compileTree(`${src}\nexport function main(): void {}\n`);
  return functionAsm(asm, `main.${name}`);
}

describe('generated code', () => {
  it('compiles a sum loop to the hand-written shape: registers only, one compare-and-branch per iteration', () => {
    const src = 'export function sum(n: number): number {\n  let s = 0;\n  for (let i = 0; i < n; i++) s = (s + i) | 0;\n  return s;\n}';
    expect(asmOf(src, 'sum')).toEqual([
      'main.sum:',
      'li r2, 0',
      'li r1, 0',
      'cmpi r0, 0',
      'jle .L0.4',
      '.L0.2:',
      'add r2, r2, r1',
      'addi r1, r1, 1',
      'cmp r1, r0',
      'jlt .L0.2',
      '.L0.4:',
      'mov r0, r2',
      'ret',
    ]);
  });

  it('skips the entry test of a loop whose bounds are known constants', () => {
    const src = 'function f(): number { let s = 0; for (let i = 0; i < 10; i++) s += i; return s; }';
    expect(asmOf(src, 'f')).toEqual(['main.f:', 'li r0, 0', 'li r1, 0', '.L0.2:', 'add r0, r0, r1', 'addi r1, r1, 1', 'cmpi r1, 10', 'jlt .L0.2', 'ret']);
  });

  it('hoists loop-invariant constants and addresses out of loops', () => {
    const src = "import { staticBuffer, store8 } from 'xl32';\nconst buf = staticBuffer(64);\nfunction fill(n: number): void { for (let i = 0; i < n; i++) store8(buf + i, 0x5a5a5); }";
    expect(asmOf(src, 'fill')).toEqual([
      'main.fill:', 'li r4, 0', 'li r3, main.buf', 'li r1, 0x5a5a5', 'cmpi r0, 0', 'jle .L0.0',
      '.L0.2:', 'add r2, r3, r4', 'stb [r2], r1', 'addi r4, r4, 1', 'cmp r4, r0', 'jlt .L0.2',
      '.L0.0:', 'ret',
    ]);
  });

  it('folds constant expressions, const enum members and consts', () => {
    const src = 'const enum F { A = 4, B = A << 2 }\nconst K = 3;\nfunction f(): number { return (2 * K + F.B) ^ ~0; }';
    expect(asmOf(src, 'f')).toEqual(['main.f:', 'li r0, -23', 'ret']);
  });

  it('uses immediate forms when the constant fits 16 bits, li otherwise', () => {
    const src = 'function f(x: number): number { return ((x + 5) & 0x7f) | 0x10000; }';
    expect(asmOf(src, 'f')).toEqual(['main.f:', 'addi r0, r0, 5', 'andi r1, r0, 127', 'li r0, 0x10000', 'or r0, r1, r0', 'ret']);
  });

  it('makes | 0 free and strength-reduces multiplication by a power of two', () => {
    expect(asmOf('function f(x: number): number { return (x * 8) | 0; }', 'f')).toEqual(['main.f:', 'shli r0, r0, 3', 'ret']);
  });

  it('fuses a comparison into the branch (cmpi + jCC), with a constant on either side', () => {
    const src = 'function f(a: number): number { if (10 > a) return 1; return 2; }';
    expect(asmOf(src, 'f')).toEqual(['main.f:', 'cmpi r0, 10', 'jge .L0.3', 'li r0, 1', 'ret', '.L0.3:', 'li r0, 2', 'ret']);
  });

  it('uses unsigned branches for ltu/geu and short-circuits &&', () => {
    const src = "import { ltu } from 'xl32';\nfunction f(a: number, b: number): number { return ltu(a, b) && b !== 0 ? 1 : 0; }";
    expect(asmOf(src, 'f')).toEqual([
      'main.f:', 'cmp r0, r1', 'jae .L0.3', 'cmpi r1, 0', 'jeq .L0.3', 'li r0, 1', 'ret', '.L0.3:', 'li r0, 0', 'ret',
    ]);
  });

  it('gives leaf functions no frame, and non-leaf functions an fp chain and saved registers', () => {
    const src = 'function leaf(a: number, b: number): number { return a * b - 1; }\nfunction outer(x: number): number { return leaf(x, x) + x; }';
    const { asm } = compileTree(`${src}\nexport function main(): void {}\n`);
    expect(functionAsm(asm, 'main.leaf')).toEqual(['main.leaf:', 'mul r0, r0, r1', 'addi r0, r0, -1', 'ret']);
    expect(functionAsm(asm, 'main.outer')).toEqual([
      'main.outer:', 'push fp', 'mov fp, sp', 'push r7', 'mov r7, r0', 'mov r1, r7', 'call main.leaf', 'add r0, r0, r7', 'pop r7', 'pop fp', 'ret',
    ]);
  });

  it('compiles a dense switch to a bounds check and a jump table', () => {
    const src = 'function f(x: number): number { switch (x) { case 1: return 5; case 2: return 6; case 3: return 7; case 4: return 8; default: return 0; } }';
    const lines = asmOf(src, 'f');
    expect(lines.slice(0, 8)).toEqual(['main.f:', 'addi r0, r0, -1', 'cmpi r0, 4', 'jae .L0.6', 'shli r1, r0, 2', 'li r0, .Ljt.main.f.0', 'add r0, r0, r1', 'ldw r0, [r0]']);
    expect(lines[8]).toBe('jmpr r0');
  });

  it('compiles a sparse switch to compare-and-branch chains', () => {
    const src = 'function f(x: number): number { switch (x) { case 100: return 1; case -7: return 2; default: return 3; } }';
    expect(asmOf(src, 'f')).toEqual([
      'main.f:', 'cmpi r0, 100', 'jeq .L0.2', 'cmpi r0, -7', 'jeq .L0.3', 'li r0, 3', 'ret', '.L0.2:', 'li r0, 1', 'ret', '.L0.3:', 'li r0, 2', 'ret',
    ]);
  });

  it('loads a module variable once per read and updates it in place', () => {
    const src = 'let ticks = 0;\nfunction tick(): void { ticks += 2; }';
    expect(asmOf(src, 'tick')).toEqual(['main.tick:', 'li r1, main.ticks', 'ldw r0, [r1]', 'addi r0, r0, 2', 'stw [r1], r0', 'ret']);
  });

  it('spills to fp-relative slots only when registers run out', () => {
    const decls = Array.from({ length: 16 }, (_, k) => `let v${k} = g(${k});`).join(' ');
    const sum = Array.from({ length: 16 }, (_, k) => `v${k}`).join(' + ');
    const src = `function g(x: number): number { return x; }\nfunction f(): number { ${decls} return ${sum}; }`;
    const lines = asmOf(src, 'f');
    expect(lines.filter((l) => /\[fp - \d+\]/.test(l)).length).toBeGreaterThan(0);
    expect(lines).toContain('push r13');
  });
});
