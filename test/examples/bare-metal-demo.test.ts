import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { xenolith } from '../cli/run-in-process.ts';
import { assemble } from '../../toolchain/asm/index.ts';
import { encodeImage } from '../../machine/image.ts';
import { Machine } from '../../machine/machine.ts';

const source = readFileSync(new URL('../../examples/bare-metal/demo.s', import.meta.url), 'utf8');
const EXPECTED = [
  'XL32 bare-metal demo: IDT loaded, paging on, entering ring 3',
  '[user] hello from ring 3 through a system call',
  '[user] rdcpl says ring 3',
  '[user] timer tick 1',
  '[user] timer tick 2',
  '[user] timer tick 3',
  '[kernel] user program exited, powering off',
  '',
].join('\n');

function boot(profile = 'p4-2003') {
  const machine = new Machine({ profile });
  machine.loadImage(assemble(source, 'demo.s').image);
  const result = machine.run({ maxCycles: 100_000_000 });
  return { machine, result };
}

describe('the bare-metal demo', () => {
  it('enters ring 3, takes system calls and timer interrupts, and powers off with status 7', () => {
    const { machine, result } = boot();
    expect(machine.consoleOutput()).toBe(EXPECTED);
    expect(result.reason).toBe('poweroff');
    expect(result.status).toBe(7);
  });

  it('is deterministic: two boots retire the same instructions in the same cycles', () => {
    const a = boot();
    const b = boot();
    expect(b.machine.cpu.cycles).toBe(a.machine.cpu.cycles);
    expect(b.machine.cpu.instructions).toBe(a.machine.cpu.instructions);
  });

  it('prints the same console under the modern profile, with its own cycle count', () => {
    const p4 = boot('p4-2003');
    const modern = boot('modern');
    expect(modern.machine.consoleOutput()).toBe(EXPECTED);
    expect(modern.machine.cpu.cycles).not.toBe(p4.machine.cpu.cycles);
  });

  it('xenolith run prints the console to stdout and exits with the guest status (bin/xenolith.mjs, as a process, from another directory)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xl-demo-'));
    const img = join(dir, 'demo.img');
    writeFileSync(img, encodeImage(assemble(source, 'demo.s').image));
    const run = spawnSync(process.execPath, [join(process.cwd(), 'bin', 'xenolith.mjs'), 'run', img, '--mode', 'native'], { cwd: dir, encoding: 'utf8', input: '' });
    expect(run.stdout).toBe(EXPECTED);
    expect(run.status).toBe(7);
    const bad = await xenolith('run', img, '--mode', 'warp', '--input', '');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('xenolith: unknown mode "warp" (choose one of native, trap, bt, hvm, pv)\n');
    writeFileSync(join(dir, 'junk.img'), 'not an XL32 image at all, just some text');
    const junk = await xenolith('run', join(dir, 'junk.img'), '--input', '');
    expect(junk.status).toBe(2);
    expect(junk.stderr).toBe(`xenolith: ${join(dir, 'junk.img')}: bad magic at offset 0 (not an XL32 image; expected "XLIM")\n`);
  });
});
