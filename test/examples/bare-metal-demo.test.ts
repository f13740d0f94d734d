import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
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

  it('xenolith run prints the console to stdout and exits with the guest status', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xl-demo-'));
    const img = join(dir, 'demo.img');
    writeFileSync(img, encodeImage(assemble(source, 'demo.s').image));
    const tsx = join(process.cwd(), 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const run = spawnSync(process.execPath, [tsx, 'cli/main.ts', 'run', img, '--mode', 'native'], { encoding: 'utf8' });
    expect(run.stdout).toBe(EXPECTED);
    expect(run.status).toBe(7);
    const bad = spawnSync(process.execPath, [tsx, 'cli/main.ts', 'run', img, '--mode', 'warp'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('xenolith: unknown mode "warp" (choose one of native, trap, bt, hvm, pv)\n');
    writeFileSync(join(dir, 'junk.img'), 'not an XL32 image at all, just some text');
    const junk = spawnSync(process.execPath, [tsx, 'cli/main.ts', 'run', join(dir, 'junk.img')], { encoding: 'utf8' });
    expect(junk.status).toBe(2);
    expect(junk.stderr).toBe(`xenolith: ${join(dir, 'junk.img')}: bad magic at offset 0 (not an XL32 image; expected "XLIM")\n`);
  });
});
