// `run --record FILE` / `run --replay FILE`: an interactive session at a (fake) terminal, with keys
// typed at host times the test varies and a host datagram through a hostfwd, is recorded; its
// replay, with no terminal and no socket, prints exactly the same console output and ends at
// exactly the same cycle and instruction count. trap here; every mode in record-replay.deep.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseInputLog } from '../../hypervisor/input-log.ts';
import { counts, recordAndReplay, until, wait, xenolith } from './record-replay-session.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('record and replay of an interactive session', () => {
  it('trap: keys typed at varying host times and a hostfwd datagram replay to the same output, cycles, instructions and counters', async () => {
    await recordAndReplay('trap', dir);
  });

  it('a session left with Ctrl-] replays to the same cycle, and ends the same way', async () => {
    const file = join(dir, 'left.log');
    const rec = await xenolith(['run', '--record', file, '--stats'], async (type, out) => {
      await until(() => out().includes('$ '));
      type('echo x\r');
      await until(() => out().includes('x\n'));
      await wait(25);
      type('\x1d');
    });
    expect(rec.status).toBe(129);
    const log = parseInputLog(readFileSync(file, 'utf8'), file);
    expect(log.end.end).toBe('left');
    const rep = await xenolith(['run', '--replay', file, '--stats']);
    expect(rep.status).toBe(129);
    expect(rep.stdout).toBe(rec.stdout);
    expect(counts(rep.stderr)).toEqual(counts(rec.stderr));
    expect(counts(rep.stderr)).toContain(`cycles: ${log.end.cycle}`);
  });
});

describe('a replay that cannot follow its recording, and bad input logs', () => {
  const header = '{"format":"xenolith-input-log","version":1,"run":{"mode":"native","profile":"p4-2003","engine":"interpreter","memoryMiB":32,"add":[],"net":[],"input":"echo hi\\n\\u0004"}}';
  const end = (cycle: number) => `{"kind":"end","cycle":${cycle},"end":"guest","outputBytes":1,"outputSha256":"${'0'.repeat(64)}"}`;

  it('a recorded end the guest does not reach: replay diverged, one line, status 2', async () => {
    const file = join(dir, 'diverged.log');
    writeFileSync(file, `${header}\n${end(1000)}\n`);
    const r = await xenolith(['run', '--replay', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`xenolith: --replay ${file}: replay diverged: the recorded guest stopped at cycle 1000; the replay's was still running at cycle 3718\n`);
  });

  it.each([
    ['', 'empty (not a xenolith input log)'],
    ['{"format":"other"}\n', '1: not a xenolith input log (no "format": "xenolith-input-log")'],
    ['{"format":"xenolith-input-log","version":2}\n', '1: input log version 2; this xenolith reads version 1'],
    [`${header}\n`, '1: truncated: no end line (the recording did not finish)'],
    [`${header}\n{"kind":"keys","cycle":5}\n${end(9)}\n`, '2: text: Invalid input: expected string, received undefined'],
    [`${header}\n{"kind":"keys","cycle":50,"text":"a"}\n{"kind":"keys","cycle":5,"text":"b"}\n${end(90)}\n`, "3: cycle 5 comes before the previous line's cycle 50"],
    [`${header}\nnot json\n`, '2: not a JSON line'],
    [`${header}\n${end(9)}\n${end(9)}\n`, '3: a line after the end line'],
  ])('%j is refused with one line', async (text, message) => {
    const file = join(dir, 'bad.log');
    writeFileSync(file, text);
    const r = await xenolith(['run', '--replay', file]);
    expect(r.stderr).toBe(`xenolith: ${file}${message.startsWith('empty') ? ': ' : ':'}${message}\n`);
    expect(r.status).toBe(2);
  });

  it('settings come from the file: --mode beside --replay, or --record with --replay, is refused', async () => {
    const file = join(dir, 'ok.log');
    writeFileSync(file, `${header}\n${end(9)}\n`);
    expect((await xenolith(['run', '--replay', file, '--mode', 'pv'])).stderr).toBe(`xenolith: --replay takes the run's settings from ${file}; --mode cannot be given with it\n`);
    expect((await xenolith(['run', '--replay', file, '--record', file])).stderr).toBe('xenolith: --record and --replay: a run is either recorded or replayed, not both\n');
    expect((await xenolith(['run', '--replay', file, '--smp', '2'])).stderr).toBe(`xenolith: --replay takes the run's settings from ${file}; --smp cannot be given with it\n`);
  });
});
