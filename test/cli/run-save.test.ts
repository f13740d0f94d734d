// `run --save-at CYCLES FILE` and `run --restore FILE`: what the saving run printed followed by what
// the restored run prints is the uninterrupted run's console, and the restored run's final cycle
// and instruction counts (--stats) are the uninterrupted run's - in this process, and once in
// another process (the command as a user runs it). Bad files and clashing options: one line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { xenolith } from './run-in-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-save-'));
const counts = (stderr: string) => ({ cycles: /^cycles: (\d+)$/m.exec(stderr)?.[1], instructions: /^instructions: (\d+)$/m.exec(stderr)?.[1] });

describe('run --save-at, then run --restore', () => {
  for (const mode of [['--mode', 'pv'], ['--mode', 'hvm', '--mmu', 'ept'], ['--mode', 'native', '--engine', 'translator']]) {
    test(`${mode.join(' ')}: the two halves are the uninterrupted run`, async () => {
      const common = [...mode, '--memory', '4', '--input', 'echo halves'];
      const u = await xenolith('run', ...common, '--stats');
      expect(u.status).toBe(0);
      const total = Number(counts(u.stderr).cycles);
      const at = Math.floor(total / 2);
      const file = join(dir, `${mode[1]}.xls`);
      const s = await xenolith('run', ...common, '--save-at', String(at), file);
      expect(s.status).toBe(0);
      expect(s.stderr).toMatch(new RegExp(`^\\[xenolith: saved at cycle \\d+ to ${file.replace(/[.]/g, '\\.')} \\(\\d+ bytes\\); go on with: xenolith run --restore`));
      const r = await xenolith('run', '--restore', file, '--stats');
      expect(r.status).toBe(0);
      expect(s.stdout + r.stdout).toBe(u.stdout);
      expect(counts(r.stderr)).toEqual(counts(u.stderr));
    });
  }

  test('--mode trap --smp 2: two vCPUs (their seeded scheduler, physical CPUs and virtual LAPICs) saved and restored, the two halves are the uninterrupted run', async () => {
    const common = ['--mode', 'trap', '--smp', '2', '--smp-seed', '3', '--memory', '4', '--input', 'echo two'];
    const u = await xenolith('run', ...common, '--stats');
    expect(u.status).toBe(0);
    const file = join(dir, 'smp.xls');
    const s = await xenolith('run', ...common, '--save-at', '2500000', file);
    expect(s.status).toBe(0);
    const r = await xenolith('run', '--restore', file, '--stats');
    expect(r.status).toBe(0);
    expect(s.stdout + r.stdout).toBe(u.stdout);
    expect(counts(r.stderr)).toEqual(counts(u.stderr));
    expect(counts(u.stderr).cycles).toMatch(/^\d+$/);
  });

  test('in another process: the restored run prints the rest and exits with the guest status (trap on the traced shadow: its shadows per address space saved and restored)', async () => {
    const common = ['--mode', 'trap', '--shadow', 'traced', '--memory', '4', '--input', 'echo elsewhere'];
    const u = await xenolith('run', ...common, '--stats');
    const file = join(dir, 'other.xls');
    const s = await xenolith('run', ...common, '--save-at', '3000000', file);
    expect(s.status).toBe(0);
    const r = spawnSync(process.execPath, ['bin/xenolith.mjs', 'run', '--restore', file, '--stats'], { encoding: 'utf8', input: '' });
    expect(r.status).toBe(0);
    expect(s.stdout + r.stdout).toBe(u.stdout);
    expect(counts(r.stderr)).toEqual(counts(u.stderr));
  });

  test('--trace and --hypercalls: the restored run goes on with the trace and the handler module loaded again; its trace ends as the uninterrupted run\'s', async () => {
    const common = ['--mode', 'pv', '--memory', '4', '--input', 'echo traced', '--hypercalls', 'examples/hypercall-experiment/handler.ts'];
    const whole = join(dir, 'whole.json');
    const u = await xenolith('run', ...common, '--stats', '--trace', whole);
    expect(u.status).toBe(0);
    const file = join(dir, 'traced.xls');
    const s = await xenolith('run', ...common, '--trace', join(dir, 'unused.json'), '--save-at', String(Math.floor(Number(counts(u.stderr).cycles) / 2)), file);
    expect(s.status).toBe(0);
    const halves = join(dir, 'halves.json');
    const r = await xenolith('run', '--restore', file, '--stats', '--trace', halves);
    expect(r.status).toBe(0);
    expect(s.stdout + r.stdout).toBe(u.stdout);
    expect(counts(r.stderr)).toEqual(counts(u.stderr));
    // the trace is the uninterrupted run's and one record more: the CPU's deadline exit the save
    // stopped the run with (a real exit of the machine, as a daemon's slices make)
    const at = Number(/saved at cycle (\d+)/.exec(s.stderr)![1]);
    type Ev = { name: string; args: { cycle: number } };
    const a = JSON.parse(readFileSync(whole, 'utf8')) as { traceEvents: Ev[]; otherData: { records: number; counts: Record<string, number> } };
    const b = JSON.parse(readFileSync(halves, 'utf8')) as typeof a;
    const k = b.traceEvents.findIndex((e) => e.name === 'exit deadline' && e.args.cycle === at);
    expect(k).toBeGreaterThan(0);
    expect(b.traceEvents.filter((_e, i) => i !== k)).toEqual(a.traceEvents);
    expect([b.otherData.records, b.otherData.counts.exit]).toEqual([a.otherData.records + 1, a.otherData.counts.exit! + 1]);
  });

  test('a guest that stops before the save point: nothing is saved', async () => {
    const file = join(dir, 'never.xls');
    const r = await xenolith('run', '--mode', 'pv', '--memory', '4', '--input', 'echo x', '--save-at', '900000000000', file);
    expect(r.stderr).toContain('xenolith: --save-at: the guest stopped before cycle 900000000000; nothing saved\n');
    expect(() => readFileSync(file)).toThrow();
  });

  test('bad files and clashing options are one line each', async () => {
    const junk = join(dir, 'junk.xls');
    writeFileSync(junk, 'not a save file, clearly, it is far too plain and readable');
    expect(await xenolith('run', '--restore', junk)).toMatchObject({ status: 2, stderr: `xenolith: ${junk}: not a xenolith save file (bad magic)\n` });
    expect((await xenolith('run', '--restore', join(dir, 'missing.xls'))).stderr).toBe(`xenolith: --restore ${join(dir, 'missing.xls')}: cannot read (ENOENT)\n`);
    const good = join(dir, 'pv.xls');
    const cut = join(dir, 'cut.xls');
    writeFileSync(cut, readFileSync(good).subarray(0, 200));
    expect((await xenolith('run', '--restore', cut)).stderr).toMatch(/^xenolith: .*cut\.xls: truncated: the header promises \d+ bytes of state, the file has 148\n$/);
    expect((await xenolith('run', '--restore', good, '--cmdline', 'sh')).stderr).toBe('xenolith: --restore: the saved run decides its guest and machine; drop --cmdline\n');
    // a run saved without a trace cannot have one begun in its middle
    expect((await xenolith('run', '--restore', good, '--trace', join(dir, 't.json'))).stderr).toBe(`xenolith: --trace: the run saved in ${good} was not traced (a trace cannot begin in the middle: save a run with --trace)\n`);
    expect((await xenolith('run', '--save-at', '100')).stderr).toBe('xenolith: --save-at takes CYCLES and FILE (got 1 value)\n');
    expect((await xenolith('run', '--save-at', '1e5', 'f')).stderr).toBe("xenolith: --save-at: CYCLES must be a positive whole number (got '1e5')\n");
  });
});
