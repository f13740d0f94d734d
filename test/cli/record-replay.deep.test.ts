// `run --record` / `run --replay` of an interactive session in every mode (record-replay.test.ts
// runs trap alone in npm test): keys typed at varying host times at a fake terminal and, with a
// NIC, a datagram through a hostfwd; the replay's output, cycles, instructions and counters equal
// the recording's. pv has no NIC yet: keys only. And with two vCPUs (keys only; the header keeps
// --smp) in the modes that record them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseInputLog } from '../../hypervisor/input-log.ts';
import { counts, recordAndReplay, until, wait, xenolith } from './record-replay-session.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-replay-deep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('record and replay in every mode', () => {
  for (const mode of ['native', 'trap', 'bt', 'hvm', 'pv']) {
    it(`${mode}: the replay repeats the recorded session exactly`, async () => {
      await recordAndReplay(mode, dir);
    });
  }
  // several CPUs or vCPUs: the replay's run() calls cut the run elsewhere than the recording's
  // slices did (Machine.runSmp and Hypervisor.runMulti go on with a cut slice, so that changes nothing)
  for (const mode of ['native', 'pv', 'trap', 'bt', 'hvm']) {
    it(`${mode} --smp 2: the replay repeats the recorded session exactly`, async () => {
      await recordAndReplay(mode, dir, 2);
    });
  }

  it('native --smp 2, keys typed while both CPUs compute (parbench): the replay repeats the session exactly', async () => {
    const file = join(dir, 'native-smp-busy.log');
    const rec = await xenolith(['run', '--mode', 'native', '--smp', '2', '--record', file, '--stats'], async (type, out) => {
      await until(() => out().includes('$ '));
      type('parbench 2 20000\r');
      await wait(7);
      type('echo typed while busy\r');
      await until(() => out().includes('typed while busy\n$ '));
      type('exit 4\r');
    });
    expect(rec.status).toBe(4);
    expect(rec.stdout).toContain('parbench: 2 workers x 20000 rounds on 2 CPUs');
    const log = parseInputLog(readFileSync(file, 'utf8'), file);
    expect(log.run.smp).toBe(2);
    const rep = await xenolith(['run', '--replay', file, '--stats']);
    expect(rep.stderr).toContain(`ended at cycle ${log.end.cycle} as recorded, console output identical]`);
    expect(rep.stdout).toBe(rec.stdout);
    expect(counts(rep.stderr)).toEqual(counts(rec.stderr));
  });

  // co-scheduling: a gang turn the replay's slicing cuts goes on at the next run() (Hypervisor.runGang)
  for (const mode of ['trap', 'bt', 'hvm']) {
    it(`${mode} --smp 2 --pcpus 2 --cosched: the replay repeats the recorded session exactly`, async () => {
      await recordAndReplay(mode, dir, 2, ['--pcpus', '2', '--cosched']);
    });
  }

  // pause-loop exiting: the exits and yields (two vCPUs on one physical CPU) repeat however the run is cut
  it('hvm --smp 2 --pcpus 1 --ple: the replay repeats the recorded session exactly', async () => {
    await recordAndReplay('hvm', dir, 2, ['--pcpus', '1', '--ple']);
  });
});

describe('record and replay with pause-loop exiting (--ple)', () => {
  it('hvm --smp 2 --pcpus 1 --ple: the log carries the control and the replay repeats the run, its exits and yields included', async () => {
    const file = join(dir, 'ple.log');
    const rec = await xenolith(['run', '--mode', 'hvm', '--smp', '2', '--pcpus', '1', '--ple', '--input', 'nproc', '--record', file, '--stats']);
    expect(rec.status).toBe(0);
    expect(parseInputLog(readFileSync(file, 'utf8'), file).run.ple).toBe(true);
    const ple = (stderr: string) => counts(stderr).filter((l) => l.startsWith('pause-loop'));
    // vCPU 1 spins for the kernel lock vCPU 0 holds at boot, on their one physical CPU: exits
    expect(ple(rec.stderr)).toEqual(['pause-loop exiting (--ple, gap 128, window 4096 cycles): 47 exits (by vCPU: 1, 46), 47 gave the physical CPU to another vCPU']);
    const rep = await xenolith(['run', '--replay', file, '--stats']);
    expect(rep.status).toBe(0);
    expect(rep.stdout).toBe(rec.stdout);
    expect(counts(rep.stderr)).toEqual(counts(rec.stderr));
  });
});
