// The shared pv machine's recording, longer: through the API of a daemon served for real (two pv
// domains started, typed to through the API's console, one shut down, the recording stopped,
// `xenolith host-replay` of the file the daemon wrote), and in-process sessions with a restart by
// on_poweroff, a reboot and a save at several wall-time patterns. Each replay repeats every
// console and the machine's final counters exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DaemonClient } from '../../daemon/client.ts';
import { StateDir } from '../../daemon/state-dir.ts';
import { readPvHostLog } from '../../daemon/pv-record.ts';
import { api, stateDir, token, useDaemon } from './api-harness.ts';
import { xenolith } from '../cli/run-in-process.ts';
import { eventNames, recordPvSession } from './pv-host-record-session.ts';
import { PV } from './default-engine.ts';

useDaemon();
const dir = mkdtempSync(join(tmpdir(), 'xenolith-pv-record-deep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('recording the shared pv machine (long)', () => {
  it('through the API: two pv domains typed to through the API, one shut down; host-replay repeats the run', async () => {
    const client = new DaemonClient(new StateDir(stateDir), token);
    expect((await api('POST', '/pv-record', { file: 'pv.log' })).body).toEqual({ machine: PV, file: 'pv.log' });
    expect((await api('POST', '/pv-record', { file: '../x.log' })).status).toBe(400);
    const text: Record<string, string> = { a: '', b: '' };
    for (const name of ['a', 'b']) expect((await api('POST', '/domains', { name, mode: 'pv', memory: 8 })).body.created).toBe(true);
    const streams = ['a', 'b'].map((name) =>
      client.stream(`/domains/${name}/console`, (event, data) => {
        if (event === 'output') text[name] += Buffer.from((data as { data: string }).data, 'base64').toString('latin1');
        return !text[name]!.includes('bye\n');
      }),
    );
    const until = async (done: () => boolean) => {
      for (let k = 0; k < 3000 && !done(); k++) await wait(5);
      expect(done()).toBe(true);
    };
    expect((await api('POST', '/domains/a/start')).body.status).toBe('running');
    await wait(3);
    expect((await api('POST', '/domains/b/start')).body.status).toBe('running');
    await until(() => text.a!.includes('$ ') && text.b!.includes('$ '));
    expect((await api('POST', '/domains/a/console', { data: 'echo one\n' })).body).toEqual({ ok: true });
    expect((await api('POST', '/domains/b/console', { data: 'echo b-one\n' })).body).toEqual({ ok: true });
    await until(() => text.a!.includes('one\n$ ') && text.b!.includes('b-one\n$ '));
    expect((await api('POST', '/domains/b/shutdown')).status).toBe(200);
    for (let k = 0; k < 200 && (await api('GET', '/domains/b')).body.status !== 'shut off'; k++) await wait(5);
    expect((await api('POST', '/domains/a/console', { data: 'echo bye\n' })).body).toEqual({ ok: true });
    await until(() => text.a!.includes('bye\n$ '));
    const end = (await api('POST', '/pv-record/stop')).body;
    expect((await api('POST', '/pv-record/stop')).body).toEqual({ error: 'no recording of a shared pv machine is being taken' });
    await api('POST', '/domains/a/destroy');
    expect(end.domains.map((d: any) => [d.name, d.status])).toEqual([['a', 'running'], ['b', 'shut off']]);
    const file = join(stateDir, 'files', 'pv.log');
    const log = readPvHostLog(file);
    expect(eventNames(log)).toEqual(['start:a', 'start:b', 'keys:a:echo one\n', 'keys:b:echo b-one\n', 'command:b:shutdown', 'settle:b', 'keys:a:echo bye\n']);
    const rep = await xenolith('host-replay', file, '--console', 'a');
    expect(rep.stderr).toBe(`[xenolith: replayed ${file}: the machine ended at cycle ${end.cycle} as recorded; 2 domains, console output identical]\n`);
    expect(rep.stdout.startsWith(text.a!.slice(0, text.a!.indexOf('bye\n$ ')))).toBe(true);
    void streams;
  }, 120_000);

  it.each([
    [[0, 0, 0]],
    [[9, 1, 4]],
    [[2, 17, 1]],
  ])('in-process, with a restart by on_poweroff, a reboot and a save (waits %j): the replay repeats the run', async (waits) => {
    const file = join(dir, `full-${waits.join('-')}.log`);
    const { out, end, log } = await recordPvSession(file, { full: true, waits });
    expect(eventNames(log).filter((e) => e.startsWith('settle') || e.startsWith('command'))).toEqual([
      'command:b:suspend', 'command:a:weight', 'command:b:resume', 'command:b:shutdown', 'settle:b', 'command:a:setmem', 'command:b:reboot', 'settle:b', 'command:b:save',
    ]);
    expect(log.events.find((e) => e.kind === 'command' && e.command === 'setmem')).toMatchObject({ args: [6] });
    const rep = await xenolith('host-replay', file, '--console', 'b');
    expect(rep.stderr).toBe(`[xenolith: replayed ${file}: the machine ended at cycle ${end.cycle} as recorded; 2 domains, console output identical]\n`);
    expect(rep.stdout).toBe(out.get('b'));
  }, 120_000);
});
