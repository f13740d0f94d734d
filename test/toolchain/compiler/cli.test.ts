// `xenolith compile` as a user runs it, in-process (test/cli/run-in-process.ts) in a temporary
// directory: writes the image and the assembly, and reports errors as file:line:col.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { xenolithIn } from '../../cli/run-in-process.ts';
import { decodeImage, encodeImage } from '../../../machine/image.ts';
import { compile } from '../../../toolchain/compiler/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-compile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI run in this process (test/cli/run-in-process.ts), in the temporary directory. */
const xenolith = (...args: string[]) => xenolithIn(dir, ...args);

describe('xenolith compile', async () => {
  it('writes the image compile() builds and, on request, the assembly', async () => {
    writeFileSync(join(dir, 'prog.ts'), "import { outb } from 'xl32';\nexport function main(): number { outb(0x3f8, 72); return 0; }\n");
    const r = await xenolith('compile', 'prog.ts', '--arch', 'native', '-o', 'prog.img', '--emit-asm', 'prog.s');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^prog\.img: native kernel, \d+ bytes of code, \d+ bytes loaded, entry 0x00100000\n$/);
    const expected = compile(join(dir, 'prog.ts'), { arch: 'native' });
    expect(readFileSync(join(dir, 'prog.img'))).toEqual(Buffer.from(encodeImage(expected.image)));
    expect(decodeImage(new Uint8Array(readFileSync(join(dir, 'prog.img')))).entry).toBe(0x00100000);
    expect(readFileSync(join(dir, 'prog.s'), 'utf8')).toBe(expected.asm);
  });

  it('prints every diagnostic as file:line:col and exits with status 1', async () => {
    writeFileSync(join(dir, 'bad.ts'), 'export function main(): void {\n  let x = 1.5;\n  let y = [x];\n}\n');
    const r = await xenolith('compile', 'bad.ts', '--arch', 'native');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'xenolith: bad.ts:2:11: non-integer number 1.5 is outside the subset (numbers are 32-bit integers); use integer or fixed-point arithmetic\n' +
        'bad.ts:3:11: array literals are outside the subset; reserve memory with staticBuffer and use load32/store32\n',
    );
  });

  it('rejects an unknown arch', async () => {
    writeFileSync(join(dir, 'ok.ts'), 'export function main(): void {}\n');
    const r = await xenolith('compile', 'ok.ts', '--arch', 'x86');
    expect(r).toMatchObject({ status: 2, stderr: 'xenolith: unknown arch "x86" (choose native or pv)\n' });
  });
});
