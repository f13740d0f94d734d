// The acceptance flow through the API, served for real: two pv domains started on the
// shared machine, list, monitor 'info mode', destroy one; the event stream shows every change;
// every response checked against the OpenAPI document.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonClient } from '../../daemon/client.ts';
import { StateDir } from '../../daemon/state-dir.ts';
import { api, stateDir as dir, token, useDaemon } from './api-harness.ts';
import { PV } from './default-engine.ts';

useDaemon();

describe('the daemon API with guests', () => {
  it('passes the acceptance flow: two pv domains, list, monitor, destroy; events stream the changes', async () => {
    const client = new DaemonClient(new StateDir(dir), token);
    const seen: string[] = [];
    let subscribed!: () => void;
    const ready = new Promise<void>((r) => (subscribed = r));
    const events = client.stream('/events', (event, data) => {
      if (event === 'ready') subscribed();
      const e = data as { name: string; status: string };
      if (event === 'state') seen.push(`${e.name} ${e.status}`);
      return seen.length < 5;
    });
    await ready;
    for (const name of ['alpha', 'beta']) expect((await api('POST', '/domains', { name, mode: 'pv', memory: 8 })).body.created).toBe(true);
    for (const name of ['alpha', 'beta']) expect((await api('POST', `/domains/${name}/start`)).body.status).toBe('running');
    const list = (await api('GET', '/domains')).body.domains.map((d: any) => [d.name, d.status, d.machine]);
    expect(list).toEqual([
      ['alpha', 'running', PV],
      ['beta', 'running', PV],
    ]);
    const mon = await api('POST', '/domains/alpha/monitor', { command: 'info mode' });
    expect(mon.body.output.split('\n')[0]).toBe('mode: pv (paravirtualization: hypercalls, validated direct page tables, event channels)');
    expect((await api('POST', '/domains/beta/destroy')).body).toMatchObject({ status: 'shut off', stopReason: 'destroyed', id: null });
    expect((await api('GET', '/domains')).body.domains.map((d: any) => d.status)).toEqual(['running', 'shut off']);
    await events.done;
    expect(seen).toEqual(['alpha defined', 'beta defined', 'alpha running', 'beta running', 'beta shut off']);
    expect((await api('POST', '/domains/beta/resume')).body).toEqual({ error: "domain 'beta' is shut off; only a paused domain can be resumed" });
    expect((await api('DELETE', '/domains/alpha')).status).toBe(409);
    expect((await api('GET', '/domains/alpha/stats')).body.info.name).toBe('alpha');
    expect((await api('PUT', '/domains/alpha/schedinfo', { weight: 5 })).body).toMatchObject({ scheduler: 'bvt', weight: 5 });
    expect((await api('PUT', '/domains/beta/memory', { memory: 4 })).body.memoryMiB).toBe(4);
    expect((await api('GET', '/domains/beta/definition')).body.memory).toBe(4);
    expect((await api('GET', '/daemon')).body.pacing).toBe('fast');

    // requests on one domain never interleave: of two concurrent starts, one starts it
    const both = await Promise.all([api('POST', '/domains/beta/start'), api('POST', '/domains/beta/start')]);
    expect(both.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(both.find((a) => a.status === 409)!.body).toEqual({ error: "domain 'beta' is already running" });

    // several console clients see the same output
    const texts = ['', ''];
    const attached: (() => void)[] = [];
    const bothAttached = Promise.all(texts.map(() => new Promise<void>((r) => attached.push(r))));
    const streams = texts.map((_, k) =>
      client.stream('/domains/alpha/console', (event, data) => {
        // the first state event comes once the client is subscribed to live output
        if (event === 'state') attached[k]!();
        if (event === 'output') texts[k] += Buffer.from((data as { data: string }).data, 'base64').toString('latin1');
        return !texts[k]!.includes('two clients\n$ ');
      }),
    );
    await bothAttached;
    expect((await api('POST', '/domains/alpha/console', { data: 'echo two clients\n' })).body).toEqual({ ok: true });
    await Promise.all(streams.map((s) => s.done));
    expect(texts[0]!.endsWith('echo two clients\ntwo clients\n$ ')).toBe(true);
    expect(texts[1]!.endsWith('echo two clients\ntwo clients\n$ ')).toBe(true);
  }, 60_000);

  it('saves an hvm domain to a file of STATE_DIR/files and restores it: it goes on where it was', async () => {
    const file = 'saved-hvm.xls';
    expect((await api('POST', '/domains', { name: 'keeper', mode: 'hvm', memory: 4, console: { input: 'echo before\\n' } })).body.created).toBe(true);
    expect((await api('POST', '/domains/keeper/start')).body.status).toBe('running');
    const info = async () => (await api('GET', '/domains/keeper')).body;
    for (let k = 0; k < 200 && (await info()).instructions < 200_000; k++) await new Promise((r) => setTimeout(r, 20));
    const saved = (await api('POST', '/domains/keeper/save', { file })).body;
    expect([saved.status, saved.stopReason]).toEqual(['shut off', 'saved']);
    expect(readFileSync(join(dir, 'files', file)).subarray(0, 8).toString('latin1')).toBe('XLSAVE\r\n');
    const back = (await api('POST', '/restore', { file })).body;
    expect([back.name, back.status, back.mode]).toEqual(['keeper', 'running', 'hvm']);
    // the restored domain's counters go on from the saved run's, not from zero
    expect(back.instructions).toBeGreaterThanOrEqual(200_000);
    expect((await api('POST', '/restore', { file })).body).toEqual({ error: "domain 'keeper' is running: destroy it before restoring it" });
    expect((await api('POST', '/domains/keeper/destroy')).body.status).toBe('shut off');
  }, 60_000);
});
