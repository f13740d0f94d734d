// Type errors from the TypeScript checker are reported like every other diagnostic (file:line:col,
// with the TS code), together with subset errors; syntax errors stop compilation early.
import { describe, expect, it } from 'vitest';
import { compileErrors, compileTree } from './helpers.ts';

describe('type checking', () => {
  it('reports a type error with its position and TS code', () => {
    expect(compileErrors('export function main(): void {\n  let x: number = true;\n}\n')).toEqual([
      "main.ts:2:7: Type 'boolean' is not assignable to type 'number'. (TS2322)",
    ]);
  });
  it('reports a call with the wrong number of arguments', () => {
    expect(compileErrors('function f(a: number): number { return a; }\nexport function main(): void { f(1, 2); }\n')).toEqual([
      'main.ts:2:37: Expected 1 arguments, but got 2. (TS2554)',
      "main.ts:2:32: 'f' takes 1 argument, not 2",
    ].sort((a, b) => (a < b ? -1 : 1)));
  });
  it('reports type errors and subset errors together', () => {
    expect(compileErrors('export function main(): void {\n  let x: number = true;\n  let y = 1.5;\n}\n')).toEqual([
      "main.ts:2:7: Type 'boolean' is not assignable to type 'number'. (TS2322)",
      'main.ts:3:11: non-integer number 1.5 is outside the subset (numbers are 32-bit integers); use integer or fixed-point arithmetic',
    ]);
  });
  it('reports names the guest cannot see (no DOM or Node globals)', () => {
    expect(compileErrors('export function main(): void { console.log(1); }\n')).toEqual([
      "main.ts:1:32: Cannot find name 'console'. Do you need to change your target library? Try changing the 'lib' compiler option to include 'dom'. (TS2584)",
      "main.ts:1:32: property access 'console.log' is outside the subset; use a const enum member, or load32(base + Field.OFFSET) for a struct field",
    ]);
  });
  it('checks intrinsic signatures from xl32.ts', () => {
    expect(compileErrors("import { store32 } from 'xl32';\nexport function main(): void { store32(1); }\n")).toEqual([
      'main.ts:2:32: Expected 2 arguments, but got 1. (TS2554)',
      'main.ts:2:32: store32 takes 2 arguments, not 1',
    ]);
  });
  it('reports errors in imported modules at their own file', () => {
    const files = { 'main.ts': "import { f } from './lib/util.ts';\nexport function main(): void { f(); }\n", 'lib/util.ts': 'export function f(): void {\n  let s: number = 1 < 2 ? 3 : false;\n}\n' };
    expect(compileErrors(files)).toEqual(["lib/util.ts:2:7: Type 'number | boolean' is not assignable to type 'number'. Type 'boolean' is not assignable to type 'number'. (TS2322)"]);
  });
  it('skips type errors with typeCheck: false', () => {
    const { image } = compileTree('export function main(): void {\n  let x: number = true;\n}\n', { arch: 'native', typeCheck: false });
    expect(image.entry).toBe(0x00100000);
  });
  it('stops at syntax errors without running later phases', () => {
    expect(compileErrors('export function main(): void {\n  let x = (1 + ;\n}\n')).toEqual(['main.ts:2:16: Expression expected. (TS1109)']);
  });
  it('reports an import of a module that does not exist', () => {
    expect(compileErrors("import { f } from './nope.ts';\nexport function main(): void {}\n")).toEqual(["main.ts:1:19: cannot find module './nope.ts'"]);
  });
  it('reports a missing entry file', () => {
    expect(compileErrors({}, { arch: 'native' }, 'missing.ts')).toEqual(['missing.ts:1:1: cannot read the entry file (no such file)']);
  });
});

describe('imports that do not resolve', () => {
  const src = "import { nosuch } from 'xl32';\nexport function main(): void { nosuch(1); }\n";
  it('reports the missing export once, with the type checker', () => {
    expect(compileErrors(src)).toEqual(["main.ts:1:10: Module '\"xl32\"' has no exported member 'nosuch'. (TS2305)"]);
  });
  it('reports the missing export once, without the type checker', () => {
    expect(compileErrors(src, { arch: 'native', typeCheck: false })).toEqual(["main.ts:1:10: 'nosuch' is not exported by 'xl32'"]);
  });
});
