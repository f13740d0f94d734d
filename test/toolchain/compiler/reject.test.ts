// Every construct outside the guest subset is rejected with `file:line:col: <what>; <instead>`,
// one test per construct, pinning the exact message and position (toolchain/compiler/subset.ts).
import { describe, expect, it } from 'vitest';
import { MSG } from '../../../toolchain/compiler/subset.ts';
import { compileErrors } from './helpers.ts';

const HEAD = "import { outb, cstr, addressOf, trapEntry, staticBuffer } from 'xl32';";

/** A program whose main body is `body` (lines indented by two spaces, starting on line 3). */
function inMain(...body: string[]): string {
  return [HEAD, 'export function main(): void {', ...body.map((l) => `  ${l}`), '}', ''].join('\n');
}

/** A program with extra module-level lines after main (starting on line 4). */
function atModule(...lines: string[]): string {
  return [HEAD, 'export function main(): void {}', 'function g(a: number): number { return a; }', ...lines, ''].join('\n');
}

const untyped = { arch: 'native' as const, typeCheck: false };

describe('rejected constructs: classes, functions and closures', () => {
  it('rejects a class declaration', () => {
    expect(compileErrors(atModule('class Counter { n = 0; }'))).toEqual([`main.ts:4:1: ${MSG.class}`]);
  });
  it('rejects a nested function (even one that captures nothing)', () => {
    expect(compileErrors(inMain('function inner(): number { return 1; }', 'outb(0x3f8, inner());'))).toEqual([`main.ts:3:3: ${MSG.nestedFunction}`]);
  });
  it('rejects a closure over a local', () => {
    expect(compileErrors(inMain('let n = 1;', 'function bump(): void { n++; }', 'bump();'))).toEqual([`main.ts:4:3: ${MSG.nestedFunction}`]);
  });
  it('rejects an arrow function stored in a variable', () => {
    expect(compileErrors(inMain('const f = (x: number) => x + 1;'))).toEqual([`main.ts:3:13: ${MSG.arrow}`]);
  });
  it('rejects an arrow function even as the argument of trapEntry', () => {
    expect(compileErrors(inMain('const t = trapEntry((frame: number) => {});'))).toEqual([`main.ts:3:23: ${MSG.arrow}`]);
  });
  it('rejects a function expression', () => {
    expect(compileErrors(inMain('const a = addressOf(function (x: number) { return x; });'))).toEqual([`main.ts:3:23: ${MSG.functionExpression}`]);
  });
  it('rejects a function used as a value', () => {
    expect(compileErrors(atModule('export function k(): void { let f = g; }'), untyped)).toEqual([`main.ts:4:37: ${MSG.functionValue}`]);
  });
  it('rejects calling something that is not a module function or intrinsic', () => {
    expect(compileErrors(inMain('let n = 0;', 'n(1);'), untyped)).toEqual([`main.ts:4:3: ${MSG.badCall}`]);
  });
  it('rejects default parameter values', () => {
    expect(compileErrors(atModule('function h(a: number = 1): number { return a; }'))).toEqual([`main.ts:4:24: ${MSG.defaultParam}`]);
  });
  it('rejects optional parameters', () => {
    expect(compileErrors(atModule('function h(a?: number): number { return 0; }'))).toEqual([`main.ts:4:12: ${MSG.optionalParam}`]);
  });
  it('rejects rest parameters', () => {
    expect(compileErrors(atModule('function h(...a: number[]): number { return 0; }'))).toEqual([`main.ts:4:12: ${MSG.restParam}`]);
  });
  it('rejects async functions', () => {
    expect(compileErrors(atModule('async function h(): Promise<void> {}'))).toEqual([`main.ts:4:1: ${MSG.async}`]);
  });
  it('rejects await outside async functions too', () => {
    expect(compileErrors(inMain('let x = 1;', 'x = await x;'), untyped)).toEqual([`main.ts:4:7: ${MSG.await}`]);
  });
  it('rejects generator functions', () => {
    expect(compileErrors(atModule('function* h(): Generator<number> { yield 1; }'))).toEqual([`main.ts:4:1: ${MSG.generator}`]);
  });
  it('rejects overload signatures', () => {
    expect(compileErrors(atModule('function h(a: number): number;', 'function h(a: number): number { return a; }'))).toEqual([`main.ts:4:1: ${MSG.overload}`]);
  });
});

describe('rejected constructs: values outside 32-bit integers', () => {
  it('rejects a non-integer literal', () => {
    expect(compileErrors(inMain('let x = 1.5;'))).toEqual([
      'main.ts:3:11: non-integer number 1.5 is outside the subset (numbers are 32-bit integers); use integer or fixed-point arithmetic',
    ]);
  });
  it('rejects an integer literal wider than 32 bits', () => {
    expect(compileErrors(inMain('let x = 0x100000000;'))).toEqual([
      'main.ts:3:11: integer 0x100000000 does not fit in 32 bits; use a value from -2147483648 to 4294967295',
    ]);
  });
  it('rejects Math functions other than Math.imul', () => {
    expect(compileErrors(inMain('let x = Math.sqrt(16);'))).toEqual([
      'main.ts:3:11: Math.sqrt is outside the subset (there is no floating point); only Math.imul is supported',
    ]);
  });
  it('rejects Math constants', () => {
    expect(compileErrors(inMain('let x = Math.PI;'))).toEqual([
      'main.ts:3:11: Math.PI is outside the subset (there is no floating point); only Math.imul is supported',
    ]);
  });
  it('rejects the ** operator', () => {
    expect(compileErrors(inMain('let p = 2 ** 3;'))).toEqual([`main.ts:3:13: ${MSG.exponent}`]);
  });
  it('rejects any-typed variables', () => {
    expect(compileErrors(inMain('let x: any = 1;'))).toEqual([
      "main.ts:3:7: 'x' has type 'any', which is outside the subset; declare it as number (or boolean)",
    ]);
  });
  it('rejects any-typed parameters', () => {
    expect(compileErrors(atModule('function h(a: any): number { return 0; }'))).toEqual([
      "main.ts:4:12: 'a' has type 'any', which is outside the subset; declare it as number (or boolean)",
    ]);
  });
  it('rejects casts to any', () => {
    expect(compileErrors(inMain('let x = 1 as any;'))).toEqual([
      "main.ts:3:11: a value of type 'any' is outside the subset; values are 32-bit numbers (number, boolean or an enum)",
    ]);
  });
  it('rejects functions returning other types', () => {
    expect(compileErrors(atModule('function h(): string { return cstr("a") + ""; }'), untyped)).toEqual([
      "main.ts:4:10: function 'h' returns 'string', which is outside the subset; return number, boolean or void",
      `main.ts:4:43: ${MSG.string}`,
    ]);
  });
  it('rejects bigint literals', () => {
    expect(compileErrors(inMain('let x = 1n;'))).toEqual([`main.ts:3:11: ${MSG.bigint}`]);
  });
  it('rejects null', () => {
    expect(compileErrors(inMain('let x = null;'))).toEqual([`main.ts:3:11: ${MSG.null}`]);
  });
  it('rejects undefined', () => {
    expect(compileErrors(inMain('let x = undefined;'))).toEqual([`main.ts:3:11: ${MSG.undefined}`]);
  });
  it('rejects typeof', () => {
    expect(compileErrors(inMain('let x = 1;', 'let t = typeof x;'))).toEqual([`main.ts:4:11: ${MSG.typeof}`]);
  });
  it('rejects the void operator', () => {
    expect(compileErrors(inMain('let x = void 0;'))).toEqual([`main.ts:3:11: ${MSG.void}`]);
  });
});

describe('rejected constructs: strings', () => {
  it('rejects a string literal outside cstr', () => {
    expect(compileErrors(inMain('let s = "hi";'))).toEqual([`main.ts:3:11: ${MSG.string}`]);
  });
  it('rejects a bare string literal where a number is expected (cstr is required)', () => {
    expect(compileErrors(inMain('outb(0x3f8, "A");'), untyped)).toEqual([`main.ts:3:15: ${MSG.string}`]);
  });
  it('rejects a template literal with substitutions, even inside cstr', () => {
    expect(compileErrors(inMain('let n = 1;', 'let s = cstr(`n=${n}`);'))).toEqual([`main.ts:4:16: ${MSG.template}`]);
  });
  it('rejects a tagged template', () => {
    expect(compileErrors(atModule('function tag(s: TemplateStringsArray): number { return 0; }', 'export function f(): number { return tag`x`; }'), untyped)).toEqual([
      "main.ts:4:14: 's' has type 'TemplateStringsArray', which is outside the subset; values are 32-bit numbers (number, boolean or an enum)",
      `main.ts:5:38: ${MSG.taggedTemplate}`,
    ]);
  });
  it('rejects cstr of something other than a literal', () => {
    expect(compileErrors(inMain('let n = 1;', 'let s = cstr(n);'), untyped)).toEqual(['main.ts:4:16: cstr needs a string literal, e.g. cstr("hello\\n")']);
  });
  it('rejects characters beyond Latin-1 in cstr', () => {
    expect(compileErrors(inMain('let s = cstr("€");'))).toEqual(['main.ts:3:16: cstr strings are Latin-1 bytes; character U+20AC does not fit in a byte']);
  });
  it('rejects regular expressions', () => {
    expect(compileErrors(inMain('let r = /a+/;'))).toEqual([`main.ts:3:11: ${MSG.regex}`]);
  });
});

describe('rejected constructs: objects and arrays', () => {
  it('rejects object literals', () => {
    expect(compileErrors(inMain('let o = { a: 1 };'))).toEqual([`main.ts:3:11: ${MSG.objectLiteral}`]);
  });
  it('rejects array literals', () => {
    expect(compileErrors(inMain('let a = [1, 2];'))).toEqual([`main.ts:3:11: ${MSG.arrayLiteral}`]);
  });
  it('rejects array destructuring in a declaration', () => {
    expect(compileErrors(inMain('const [a, b] = [1, 2];'))).toEqual([`main.ts:3:9: ${MSG.destructuring}`]);
  });
  it('rejects destructuring assignment', () => {
    expect(compileErrors(inMain('let a = 1;', 'let b = 2;', '[a, b] = [b, a];'))).toEqual([`main.ts:5:3: ${MSG.destructuring}`, `main.ts:5:12: ${MSG.arrayLiteral}`]);
  });
  it('rejects spread arguments', () => {
    expect(compileErrors(atModule('function h(a: number, b: number): number { return g(a) + b; }', 'export function k(): number { return h(...([1, 2] as const)); }'))).toEqual([
      `main.ts:5:40: ${MSG.spread}`,
    ]);
  });
  it('rejects new', () => {
    expect(compileErrors(inMain('let d = new Date();'))).toEqual([`main.ts:3:11: ${MSG.new}`]);
  });
  it('rejects indexing', () => {
    expect(compileErrors(inMain('let x = 1;', 'let y = x[0];'), untyped)).toEqual([`main.ts:4:11: ${MSG.indexing}`]);
  });
  it('rejects property access that is not an enum member', () => {
    expect(compileErrors(inMain('let n = cstr("ab").length;'), untyped)).toEqual([
      'main.ts:3:11: property access \'cstr("ab").length\' is outside the subset; use a const enum member, or load32(base + Field.OFFSET) for a struct field',
    ]);
  });
  it('rejects delete', () => {
    expect(compileErrors(inMain('let x = 1;', 'delete x;'), untyped)).toEqual([`main.ts:4:3: ${MSG.delete}`]);
  });
  it('rejects optional chaining', () => {
    expect(compileErrors(atModule('export function k(): number { return g?.(1); }'))).toEqual([`main.ts:4:38: ${MSG.optionalChain}`]);
  });
  it('rejects the ?? operator', () => {
    expect(compileErrors(inMain('let x = 1;', 'let y = x ?? 2;'), untyped)).toEqual([`main.ts:4:13: ${MSG.nullish}`]);
  });
  it('rejects instanceof', () => {
    expect(compileErrors(inMain('let x = 1;', 'let y = x instanceof Object;'), untyped)).toEqual([`main.ts:4:13: ${MSG.instanceof}`]);
  });
  it('rejects this', () => {
    expect(compileErrors(atModule('export function k(): number { return this; }'), untyped)).toEqual([`main.ts:4:38: ${MSG.this}`]);
  });
});

describe('rejected constructs: statements', () => {
  it('rejects try/catch', () => {
    expect(compileErrors(inMain('try { outb(0x3f8, 1); } catch (e) {}'))).toEqual([`main.ts:3:3: ${MSG.try}`]);
  });
  it('rejects throw', () => {
    expect(compileErrors(inMain('throw 1;'))).toEqual([`main.ts:3:3: ${MSG.throw}`]);
  });
  it('rejects for..of', () => {
    expect(compileErrors(inMain('for (const c of [1]) outb(0x3f8, c);'))).toEqual([`main.ts:3:3: ${MSG.forOf}`]);
  });
  it('rejects for..in', () => {
    expect(compileErrors(inMain('for (const k in {}) {}'))).toEqual([`main.ts:3:3: ${MSG.forIn}`]);
  });
  it('rejects var', () => {
    expect(compileErrors(inMain('var x = 1;'))).toEqual([`main.ts:3:3: ${MSG.var}`]);
  });
  it('rejects var in a for loop header', () => {
    expect(compileErrors(inMain('for (var i = 0; i < 3; i++) {}'))).toEqual([`main.ts:3:3: ${MSG.var}`]);
  });
  it('rejects a label on a block (labels are for loops and switch only)', () => {
    expect(compileErrors(inMain('done: { break done; }'))).toEqual([`main.ts:3:3: ${MSG.label}`]);
  });
  it('rejects assignment to a const even without the type checker', () => {
    expect(compileErrors(inMain('const k = 1;', 'k = 2;'), untyped)).toEqual(["main.ts:4:3: cannot assign to 'k' because it is a const; declare it with let"]);
  });
  it('leaves assignment to a const to the type checker when it runs', () => {
    expect(compileErrors(inMain('const k = 1;', 'k++;'))).toEqual(["main.ts:4:3: Cannot assign to 'k' because it is a constant. (TS2588)"]);
  });
  it('rejects debugger', () => {
    expect(compileErrors(inMain('debugger;'))).toEqual([`main.ts:3:3: ${MSG.debugger}`]);
  });
  it('rejects enums declared inside functions', () => {
    expect(compileErrors(inMain('const enum E { A }'))).toEqual([`main.ts:3:3: ${MSG.localEnum}`]);
  });
});

describe('rejected constructs: modules', () => {
  it('rejects statements at module level', () => {
    expect(compileErrors(atModule('outb(0x3f8, 65);'))).toEqual([`main.ts:4:1: ${MSG.moduleStatement}`]);
  });
  it('rejects non-constant module-level initializers', () => {
    expect(compileErrors(atModule('let x = g(1);'))).toEqual([`main.ts:4:9: ${MSG.moduleInit}`]);
  });
  it('rejects staticBuffer inside a function', () => {
    expect(compileErrors(inMain('const b = staticBuffer(16);'))).toEqual([`main.ts:3:13: ${MSG.staticBufferPlace}`]);
  });
  it('rejects staticBuffer as a module-level let', () => {
    expect(compileErrors(atModule('let b = staticBuffer(16);'))).toEqual([`main.ts:4:9: ${MSG.staticBufferPlace}`]);
  });
  it('rejects a staticBuffer of non-constant size', () => {
    expect(compileErrors(atModule('let n = 16;', 'const b = staticBuffer(n);'))).toEqual([`main.ts:5:11: ${MSG.staticBufferShape}`]);
  });
  it('rejects a staticBuffer alignment that is not a power of two', () => {
    expect(compileErrors(atModule('const b = staticBuffer(16, 12);'))).toEqual([`main.ts:4:11: ${MSG.staticBufferShape}`]);
  });
  it('rejects namespaces', () => {
    expect(compileErrors(atModule('namespace N { export const x = 1; }'))).toEqual([`main.ts:4:1: ${MSG.namespace}`]);
  });
  it('rejects default exports', () => {
    expect(compileErrors(atModule('export default function h(): number { return 1; }'))).toEqual([`main.ts:4:1: ${MSG.exportDefault}`]);
  });
  it('rejects ambient declarations', () => {
    expect(compileErrors(atModule('declare const x: number;'))).toEqual([`main.ts:4:1: ${MSG.ambient}`]);
  });
  it('rejects default imports', () => {
    const files = { 'main.ts': "import lib from './lib.ts';\nexport function main(): void {}\n", 'lib.ts': 'export default 1;\n' };
    expect(compileErrors(files)).toEqual([`lib.ts:1:1: ${MSG.exportDefault}`, `main.ts:1:8: ${MSG.defaultImport}`]);
  });
  it('rejects namespace imports', () => {
    const files = { 'main.ts': "import * as lib from './lib.ts';\nexport function main(): void {}\n", 'lib.ts': 'export const x = 1;\n' };
    expect(compileErrors(files)).toEqual([`main.ts:1:8: ${MSG.namespaceImport}`]);
  });
  it('rejects imports of packages', () => {
    expect(compileErrors("import { readFileSync } from 'node:fs';\nexport function main(): void {}\n", untyped)).toEqual([
      "main.ts:1:30: imports from 'node:fs' are outside the subset; import guest modules by relative path ('./name.ts') and intrinsics from 'xl32'",
    ]);
  });
  it('rejects string enum members', () => {
    expect(compileErrors(atModule("const enum S { A = 'a' }"))).toEqual([`main.ts:4:16: ${MSG.stringEnum}`]);
  });
  it('rejects using an enum object as a value', () => {
    expect(compileErrors(atModule('enum E { A, B }', 'export function k(): number { return E; }'), untyped)).toEqual([`main.ts:5:38: ${MSG.enumValue}`]);
  });
  it('rejects globals of the JavaScript library', () => {
    expect(compileErrors(inMain('let n = Date.now();'), untyped)).toEqual([
      "main.ts:3:11: property access 'Date.now' is outside the subset; use a const enum member, or load32(base + Field.OFFSET) for a struct field",
    ]);
  });
  it('rejects an intrinsic used as a value', () => {
    expect(compileErrors(inMain('let f = outb;'), untyped)).toEqual([`main.ts:3:11: ${MSG.intrinsicValue}`]);
  });
  it('reports a missing main in the entry module', () => {
    expect(compileErrors('export function start(): void {}\n')).toEqual(['main.ts:1:1: the entry module has no function main(); declare `export function main(): void`']);
  });
  it('reports a main that takes parameters', () => {
    expect(compileErrors('export function main(argc: number): void {}\n')).toEqual(['main.ts:1:22: main must take no parameters']);
  });
  it('reports several problems at once, in source order', () => {
    expect(compileErrors(inMain('let a = 1.5;', 'let b = [1];', 'throw 1;'))).toEqual([
      'main.ts:3:11: non-integer number 1.5 is outside the subset (numbers are 32-bit integers); use integer or fixed-point arithmetic',
      `main.ts:4:11: ${MSG.arrayLiteral}`,
      `main.ts:5:3: ${MSG.throw}`,
    ]);
  });
});
