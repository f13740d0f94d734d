// `xenolith asm` and `xenolith disasm` as a user runs them, in-process (test/cli/run-in-process.ts)
// in a temporary directory.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { xenolithIn } from '../../cli/run-in-process.ts';
import { decodeImage } from '../../../machine/image.ts';
import { defaultOutput } from '../../../cli/commands/asm.ts';
import { assemble } from '../../../toolchain/asm/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-asm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI run in this process (test/cli/run-in-process.ts), in the temporary directory. */
const xenolith = (...args: string[]) => xenolithIn(dir, ...args);

const PROGRAM = '.org 0x1000\n_start: li r1, msg\n  jmp _start\nmsg: .asciz "hi"\n';

describe('xenolith asm / disasm', async () => {
  it('asm writes the image the library builds, and disasm lists it with symbols', async () => {
    writeFileSync(join(dir, 'prog.s'), PROGRAM);
    const asm = await xenolith('asm', 'prog.s', '-o', 'out.img');
    expect(asm).toMatchObject({ status: 0, stderr: '', stdout: 'out.img: 1 segment, 19 bytes, 2 symbols, entry 0x00001000\n' });
    expect(decodeImage(new Uint8Array(readFileSync(join(dir, 'out.img'))))).toEqual(assemble(PROGRAM, 'prog.s').image);
    const dis = await xenolith('disasm', 'out.img');
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

  it('a bad source prints its file:line:col message on one line and exits 1', async () => {
    writeFileSync(join(dir, 'bad.s'), 'nop\n  addi r1, r2, 70000\n');
    expect(await xenolith('asm', 'bad.s')).toEqual({
      status: 1,
      stdout: '',
      stderr: 'xenolith: bad.s:2:16: immediate 70000 does not fit in 16 signed bits (-32768..32767); load it with li into a register\n',
    });
  });

  it('disasm of a file that is not an image prints the ImageError message', async () => {
    writeFileSync(join(dir, 'junk.img'), 'this is not an image, just some text');
    expect(await xenolith('disasm', 'junk.img')).toEqual({
      status: 2,
      stdout: '',
      stderr: 'xenolith: junk.img: bad magic at offset 0 (not an XL32 image; expected "XLIM")\n',
    });
  });

  it('a missing source file is reported plainly', async () => {
    expect(await xenolith('asm', 'missing.s')).toEqual({ status: 2, stdout: '', stderr: 'xenolith: cannot read missing.s: no such file\n' });
  });

  it('the default output name replaces the source extension with .img', async () => {
    expect(defaultOutput('demo.s')).toBe('demo.img');
    expect(defaultOutput('dir.v2/boot')).toBe('dir.v2/boot.img');
    expect(defaultOutput('a/b.asm')).toBe('a/b.img');
  });
});
