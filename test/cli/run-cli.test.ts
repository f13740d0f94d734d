import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { assemble } from '../../toolchain/asm/index.ts';
import { encodeImage } from '../../machine/image.ts';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { xenolith } from './run-in-process.ts';

/** The command as a user runs it: bin/xenolith.mjs, one Node process with tsx registered in it. */
const xenolithProcess = (...args: string[]) => spawnSync(process.execPath, ['bin/xenolith.mjs', ...args], { encoding: 'utf8', input: '' });

describe('xenolith run (the standard guest)', () => {
  it('boots the kernel, feeds --input to the shell, runs an --add program and exits with the shell status (as a process)', () => {
    const r = xenolithProcess('run', '--mode', 'native', '--add', 'examples/programs/primes.ts', '--input', 'primes 20\\necho done\\nexit 5');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(5);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('xenolith kernel 0.1 (native) booting');
    expect(lines.slice(lines.indexOf('$ primes 20'))).toEqual([
      '$ primes 20',
      '2 3 5 7 11 13 17 19',
      'primes: 8 found',
      '$ echo done',
      'done',
      '$ exit 5',
      'init exited with status 5: powering off',
      '',
    ]);
  });

  it('--mode trap boots the same unmodified kernel under trap-and-emulate, with the same console', async () => {
    const native = await xenolith('run', '--mode', 'native', '--input', 'echo same console\\nexit 4');
    const trap = await xenolith('run', '--mode', 'trap', '--input', 'echo same console\\nexit 4');
    expect(trap.status).toBe(4);
    expect(trap.stderr).toBe('');
    expect(trap.stdout).toBe(native.stdout);
    expect(trap.stdout).toContain('$ echo same console\nsame console\n$ exit 4\ninit exited with status 4: powering off\n');
  });

  it('--mode pv boots the kernel built against the hypercall interface; only the banner names the arch', async () => {
    const native = await xenolith('run', '--mode', 'native', '--input', 'echo same console\\nexit 4');
    const pv = await xenolith('run', '--mode', 'pv', '--input', 'echo same console\\nexit 4');
    expect(pv.status).toBe(4);
    expect(pv.stderr).toBe('');
    const body = (out: string) => out.split('\n').filter((l) => !l.startsWith('xenolith kernel') && !l.startsWith('memory:') && !l.startsWith('initrd:'));
    expect(pv.stdout.split('\n')[0]).toBe('xenolith kernel 0.1 (pv) booting');
    expect(body(pv.stdout)).toEqual(body(native.stdout));
  });

  it('exits with the guest\'s status: a failing usertests under trap mode exits 1, the shell passing its last status on', async () => {
    const r = await xenolith('run', '--mode', 'trap', '--input', 'usertests critical-rdcpl');
    expect(r.stdout).toContain('usertests: 0 passed, 1 failed\n$ \ninit exited with status 1: powering off\n');
    expect(r.status).toBe(1);
  });

  it('says which limit ended the run, with its own exit status: --max-cycles 124, --timeout 123', async () => {
    const cycles = await xenolith('run', '--input', 'spin', '--max-cycles', '30000000');
    expect(cycles.stderr).toBe('xenolith: stopped by --max-cycles: the guest was still running after 30000000 simulated cycles (exit status 124)\n');
    expect(cycles.status).toBe(124);
    const wall = await xenolith('run', '--input', 'spin', '--timeout', '0.2');
    expect(wall.stderr).toBe('xenolith: stopped by --timeout: the guest was still running after 0.2 s of wall-clock time (exit status 123)\n');
    expect(wall.status).toBe(123);
    const bad = await xenolith('run', '--timeout', 'soon');
    expect(bad.stderr).toBe('xenolith: --timeout must be a number of seconds\n');
    expect(bad.status).toBe(2);
  });

  it('--mode pv --stats prints the hypercalls by number with their calls and cycles', async () => {
    const r = await xenolith('run', '--mode', 'pv', '--stats', '--input', 'exit');
    expect(r.status).toBe(0);
    expect(r.stderr.split('\n').slice(0, 3)).toEqual(['mode: pv', 'profile: p4-2003', 'stopped: poweroff']);
    expect(r.stderr).toMatch(/^ {2}nr {2}hypercall {10}calls +cycles +cycles\/call +failed +in multicalls$/m);
    expect(r.stderr).toMatch(/^ +0 +set_trap_table +1 +\d+ +\d+ +0 +0$/m);
    expect(r.stderr).toMatch(/^ +13 +multicall +\d+ +\d+ +\d+ +0 +0$/m);
  });

  it('--engine-stats prints the translator\'s counters and cache; --stats is the same under either engine', async () => {
    const t = await xenolith('run', '--engine', 'translator', '--stats', '--engine-stats', '--input', 'lmbench null 1000');
    const i = await xenolith('run', '--engine', 'interpreter', '--stats', '--engine-stats', '--input', 'lmbench null 1000');
    expect([t.status, i.status]).toEqual([0, 0]);
    expect(t.stdout).toBe(i.stdout);
    const [tStats, tEngine] = [t.stderr.split('\ntranslator: ')[0], t.stderr.split('\ntranslator: ')[1]];
    expect(tStats).toBe(i.stderr.split('\ntranslator: ')[0]);
    expect(i.stderr.split('\n').filter((l) => l.startsWith('translat'))).toEqual(['translator: none (the interpreter engine)']);
    expect(tEngine!.split('\n').length).toBe(4);
    expect(t.stderr).toMatch(/^translator: \d+ translations \(\d+ blocks, \d+ instructions, \d+ guest bytes; \d+ spanning pages\), \d+ compiled, \d+ recalled \(\d+ at their first landing\)$/m);
    expect(t.stderr).toMatch(/^translator entries: [1-9]\d*; instructions in cold slices: \d+; invalidations: \d+; flushes: 0; promotions: \d+; loop heads translated: \d+, cold slices ended at one: \d+$/m);
    expect(t.stderr).toMatch(/^translation cache: [1-9]\d* translations, \d+ guest bytes, \d+ chars of JavaScript$/m);
  });

  it('refuses, in one line, an image of the wrong kind for the mode, a directory as a disk, and too much memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xl-run-'));
    const img = join(dir, 'demo.img');
    writeFileSync(img, encodeImage(assemble(readFileSync('examples/bare-metal/demo.s', 'utf8'), 'demo.s').image));
    const pv = await xenolith('run', img, '--mode', 'pv');
    expect(pv.status).toBe(2);
    expect(pv.stderr).toBe(`xenolith: ${img}: --mode pv boots a kernel compiled with --arch pv; this is a bare image\n`);
    const disk = await xenolith('run', '--disk', 'test', '--input', '');
    expect(disk.status).toBe(2);
    expect(disk.stderr).toBe('xenolith: cannot read test: it is a directory\n');
    const mem = await xenolith('run', '--memory', '4096', '--input', '');
    expect(mem.status).toBe(2);
    expect(mem.stderr).toBe('xenolith: --memory must be a number of MiB from 1 to 1024\n');
  });

  it('reports a program that does not compile with file:line:col and exit status 1, booting nothing', async () => {
    const r = await xenolith('run', '--add', 'test/fixtures/bad-program.ts', '--input', '');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'xenolith: test/fixtures/bad-program.ts:4:13: object literals are outside the subset; reserve memory with staticBuffer and name field offsets in a const enum\n' +
        "test/fixtures/bad-program.ts:5:10: property access 'x.a' is outside the subset; use a const enum member, or load32(base + Field.OFFSET) for a struct field\n",
    );
  });
});
