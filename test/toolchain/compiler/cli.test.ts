// `xenolith compile` as a user runs it (spawned; each spawn costs about a second, so only the
// essential cases): writes the image and the assembly, and reports errors as file:line:col.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, encodeImage } from '../../../machine/image.ts';
import { compile } from '../../../toolchain/compiler/index.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'xenolith-compile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function xenolith(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'cli/main.ts'), ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('xenolith compile', () => {
  it('writes the image compile() builds and, on request, the assembly', () => {
    writeFileSync(join(dir, 'prog.ts'), "import { outb } from 'xl32';\nexport function main(): number { outb(0x3f8, 72); return 0; }\n");
    const r = xenolith('compile', 'prog.ts', '--arch', 'native', '-o', 'prog.img', '--emit-asm', 'prog.s');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^prog\.img: native kernel, \d+ bytes of code, \d+ bytes loaded, entry 0x00100000\n$/);
    const expected = compile(join(dir, 'prog.ts'), { arch: 'native' });
    expect(readFileSync(join(dir, 'prog.img'))).toEqual(Buffer.from(encodeImage(expected.image)));
    expect(decodeImage(new Uint8Array(readFileSync(join(dir, 'prog.img')))).entry).toBe(0x00100000);
    expect(readFileSync(join(dir, 'prog.s'), 'utf8')).toBe(expected.asm);
  });

  it('prints every diagnostic as file:line:col and exits with status 1', () => {
    writeFileSync(join(dir, 'bad.ts'), 'export function main(): void {\n  let x = 1.5;\n  let y = [x];\n}\n');
    const r = xenolith('compile', 'bad.ts', '--arch', 'native');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'xenolith: bad.ts:2:11: non-integer number 1.5 is outside the subset (numbers are 32-bit integers); use integer or fixed-point arithmetic\n' +
        'bad.ts:3:11: array literals are outside the subset; reserve memory with staticBuffer and use load32/store32\n',
    );
  });

  it('rejects an unknown arch', () => {
    writeFileSync(join(dir, 'ok.ts'), 'export function main(): void {}\n');
    const r = xenolith('compile', 'ok.ts', '--arch', 'x86');
    expect(r).toMatchObject({ status: 2, stderr: 'xenolith: unknown arch "x86" (choose native or pv)\n' });
  });
});
