// Linking guest modules into one image: per-module symbol prefixes (clashing names stay apart),
// imports of functions, enums, consts and live `let` bindings, the section layout and segment
// rights, the source-line map, and byte-for-byte determinism.
import { describe, expect, it } from 'vitest';
import { encodeImage, SegFlag, SymKind } from '../../../machine/image.ts';
import { compile } from '../../../toolchain/compiler/index.ts';
import { join } from 'node:path';
import { compileAndRun, compileTree, writeTree, PRINT_TS } from './helpers.ts';

describe('multi-module programs', () => {
  it('keeps same-named functions of different modules apart (module.name symbols)', () => {
    const files = {
      'main.ts': "import { init as initA } from './a.ts';\nimport { init as initB } from './b.ts';\nfunction init(): number { return 1; }\nexport function main(): number { return init() * 100 + initA() * 10 + initB(); }\n",
      'a.ts': 'export function init(): number { return 2; }\n',
      'b.ts': 'export function init(): number { return 3; }\n',
    };
    const { image } = compileTree(files);
    const fns = image.symbols.filter((s) => s.kind === SymKind.Function).map((s) => s.name);
    expect(fns).toEqual(expect.arrayContaining(['main.init', 'a.init', 'b.init', 'main.main', '_start']));
    expect(compileAndRun(files).status).toBe(123);
  });

  it('widens the prefix with directories when two modules share a base name', () => {
    const files = {
      'main.ts': "import { f as kf } from './kernel/lib.ts';\nimport { f as uf } from './user/lib.ts';\nexport function main(): number { return kf() - uf(); }\n",
      'kernel/lib.ts': 'export function f(): number { return 50; }\n',
      'user/lib.ts': 'export function f(): number { return 8; }\n',
    };
    const { image } = compileTree(files);
    const names = image.symbols.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['kernel.lib.f', 'user.lib.f']));
    expect(compileAndRun(files).status).toBe(42);
  });

  it('shares module state: an imported let is a live binding, consts and enums fold', () => {
    const files = {
      'main.ts': `import { count, bump, LIMIT, Kind } from './state.ts';
import { putn } from './print.ts';
export function main(): number { bump(); bump(); putn(count); return count + LIMIT + Kind.B; }
`,
      'state.ts': 'export let count = 40;\nexport const LIMIT = 1 << 8;\nexport const enum Kind { A = 1, B }\nexport function bump(): void { count++; }\n',
      'print.ts': PRINT_TS,
    };
    const r = compileAndRun(files);
    expect(r).toMatchObject({ output: '42', status: 42 + 256 + 2 });
    expect(r.asm).not.toContain('LIMIT');
  });

  it('compiles each module once even when imported from several places', () => {
    const files = {
      'main.ts': "import { a } from './a.ts';\nimport { b } from './b.ts';\nexport function main(): number { return a() + b(); }\n",
      'a.ts': "import { shared } from './shared.ts';\nexport function a(): number { return shared(); }\n",
      'b.ts': "import { shared } from './shared.ts';\nexport function b(): number { return shared() * 2; }\n",
      'shared.ts': 'let n = 0;\nexport function shared(): number { return ++n; }\n',
    };
    const { asm } = compileTree(files);
    expect(asm.split('\n').filter((l) => l === '.func shared.shared')).toHaveLength(1);
    expect(compileAndRun(files).status).toBe(1 + 4);
  });

  it('follows re-exports', () => {
    const files = {
      'main.ts': "import { f } from './index.ts';\nexport function main(): number { return f(); }\n",
      'index.ts': "export { f } from './impl.ts';\n",
      'impl.ts': 'export function f(): number { return 17; }\n',
    };
    expect(compileAndRun(files).status).toBe(17);
  });
});

describe('image layout', () => {
  const src = "import { staticBuffer, cstr, store32 } from 'xl32';\nlet zero = 0;\nlet seven = 7;\nconst buf = staticBuffer(64);\nexport function main(): void { store32(buf, cstr('x') + zero + seven); }\n";

  it('links a kernel at 0x00100000 with page-aligned text, rodata, data and bss and their rights', () => {
    const { image, sections } = compileTree(src);
    expect(image.entry).toBe(0x00100000);
    expect(image.symbols.find((s) => s.name === '_start')!.addr).toBe(0x00100000);
    expect(sections.map((s) => s.name)).toEqual(['text', 'rodata', 'data', 'bss']);
    for (const s of sections) expect(s.vaddr % 4096).toBe(0);
    const flags = image.segments.map((s) => s.flags);
    expect(flags).toEqual([SegFlag.R | SegFlag.X, SegFlag.R, SegFlag.R | SegFlag.W, SegFlag.R | SegFlag.W]);
    const bss = image.segments[3]!;
    expect(bss.data.length).toBe(0);
    expect(bss.memBytes).toBeGreaterThanOrEqual(16 * 1024 + 64 + 4);
  });

  it('puts zero-initialized module variables in bss and the others in data', () => {
    const { image, sections } = compileTree(src);
    const addr = (n: string) => image.symbols.find((s) => s.name === n)!.addr;
    const data = sections.find((s) => s.name === 'data')!;
    const bss = sections.find((s) => s.name === 'bss')!;
    expect(addr('main.seven')).toBe(data.vaddr);
    expect(addr('main.zero')).toBe(bss.vaddr);
    expect(addr('main.buf')).toBeGreaterThan(bss.vaddr);
  });

  it('links a user program at 0x00400000 and ends _start with the exit system call', () => {
    const { image, asm } = compileTree('export function main(): number { return 3; }\n', { arch: 'native', user: true });
    expect(image.entry).toBe(0x00400000);
    expect(asm).toContain('.arch user');
    const start = asm.split('.func _start\n')[1]!.split('.endfunc')[0]!.trim().split('\n').map((l) => l.trim());
    expect(start).toEqual(['_start:', 'li sp, __stack_top', 'call main.main', 'mov r1, r0', 'li r0, 0', 'int 0x80', '.Lexit:', 'jmp .Lexit']);
  });

  it('marks functions with their sizes for disassembly and backtraces', () => {
    const { image } = compileTree('function f(x: number): number { return x + 1; }\nexport function main(): number { return f(1); }\n');
    const f = image.symbols.find((s) => s.name === 'main.f')!;
    expect(f.kind).toBe(SymKind.Function);
    expect(f.size).toBe(8); // addi r0, r0, 1; ret
  });

  it('records a pc -> file:line map in the image notes', () => {
    const { image } = compileTree('function f(x: number): number {\n  let y = x * 3;\n  return y + 1;\n}\nexport function main(): number { return f(1); }\n');
    const notes = image.notes as { sourceFiles: string[]; lineMap: number[] };
    expect(notes.sourceFiles).toEqual(['main.ts']);
    const f = image.symbols.find((s) => s.name === 'main.f')!;
    const entries: [number, number, number][] = [];
    for (let k = 0; k < notes.lineMap.length; k += 3) entries.push([notes.lineMap[k]!, notes.lineMap[k + 1]!, notes.lineMap[k + 2]!]);
    const inF = entries.filter(([pc]) => pc >= f.addr && pc < f.addr + f.size);
    expect(inF).toEqual([
      [f.addr, 0, 2],
      [f.addr + 4, 0, 3],
    ]);
  });
});

describe('determinism', () => {
  it('compiles the same source twice to identical image bytes and assembly', () => {
    const files = {
      'main.ts': "import { putn } from './print.ts';\nimport { cstr, staticBuffer } from 'xl32';\nconst b = staticBuffer(100);\nlet t = cstr('t');\nfunction g(a: number, b: number): number { switch (a) { case 1: return b; case 2: return a; case 3: return 4; case 4: return 9; default: return 0; } }\nexport function main(): void { for (let i = 0; i < 5; i++) putn(g(i, t + b)); }\n",
      'print.ts': PRINT_TS,
    };
    const dir = writeTree(files);
    const one = compile(join(dir, 'main.ts'), { arch: 'native' });
    const two = compile(join(dir, 'main.ts'), { arch: 'native' });
    expect(two.asm).toBe(one.asm);
    expect(Buffer.from(encodeImage(two.image)).equals(Buffer.from(encodeImage(one.image)))).toBe(true);
    const elsewhere = writeTree(files);
    const three = compile(join(elsewhere, 'main.ts'), { arch: 'native' });
    expect(Buffer.from(encodeImage(three.image)).equals(Buffer.from(encodeImage(one.image)))).toBe(true);
  });
});
