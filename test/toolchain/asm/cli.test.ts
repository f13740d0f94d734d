// `xenolith asm` and `xenolith disasm` as a user runs them: spawned in a temp directory (each
// spawn costs ~0.5 s, so only the essential cases are here).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../../machine/image.ts';
import { defaultOutput } from '../../../cli/commands/asm.ts';
import { assemble } from '../../../toolchain/asm/index.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'xenolith-asm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function xenolith(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'cli/main.ts'), ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const PROGRAM = '.org 0x1000\n_start: li r1, msg\n  jmp _start\nmsg: .asciz "hi"\n';

describe('xenolith asm / disasm', () => {
  it('asm writes the image the library builds, and disasm lists it with symbols', () => {
    writeFileSync(join(dir, 'prog.s'), PROGRAM);
    const asm = xenolith('asm', 'prog.s', '-o', 'out.img');
    expect(asm).toMatchObject({ status: 0, stderr: '', stdout: 'out.img: 1 segment, 19 bytes, 2 symbols, entry 0x00001000\n' });
    expect(decodeImage(new Uint8Array(readFileSync(join(dir, 'out.img'))))).toEqual(assemble(PROGRAM, 'prog.s').image);
    const dis = xenolith('disasm', 'out.img');
    expect(dis.status).toBe(0);
    expect(dis.stdout).toBe(`; XL32 image: arch bare, entry 0x00001000 <_start>, 1 segment, 2 symbols
.arch bare
.entry 0x00001000

.org 0x00001000                          ; 19 bytes, rwx
_start:
  0x00001000  00000103 00001010  li r1, 0x1010 <msg>
  0x00001008  00000048 fffffff0  jmp 0x00001000 <_start>
msg:
  0x00001010  68 69 00           .byte 0x68, 0x69, 0x00
`);
  });

  it('a bad source prints its file:line:col message on one line and exits 1', () => {
    writeFileSync(join(dir, 'bad.s'), 'nop\n  addi r1, r2, 70000\n');
    expect(xenolith('asm', 'bad.s')).toEqual({
      status: 1,
      stdout: '',
      stderr: 'xenolith: bad.s:2:16: immediate 70000 does not fit in 16 signed bits (-32768..32767); load it with li into a register\n',
    });
  });

  it('disasm of a file that is not an image prints the ImageError message', () => {
    writeFileSync(join(dir, 'junk.img'), 'this is not an image, just some text');
    expect(xenolith('disasm', 'junk.img')).toEqual({
      status: 2,
      stdout: '',
      stderr: 'xenolith: junk.img: bad magic at offset 0 (not an XL32 image; expected "XLIM")\n',
    });
  });

  it('a missing source file is reported plainly', () => {
    expect(xenolith('asm', 'missing.s')).toEqual({ status: 2, stdout: '', stderr: 'xenolith: cannot read missing.s: no such file\n' });
  });

  it('the default output name replaces the source extension with .img', () => {
    expect(defaultOutput('demo.s')).toBe('demo.img');
    expect(defaultOutput('dir.v2/boot')).toBe('dir.v2/boot.img');
    expect(defaultOutput('a/b.asm')).toBe('a/b.img');
  });
});
