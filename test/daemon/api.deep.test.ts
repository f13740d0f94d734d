// The acceptance flow through the API, served for real: two pv domains started on the
// shared machine, list, monitor 'info mode', destroy one; the event stream shows every change;
// every response checked against the OpenAPI document.
import { describe, expect, it } from 'vitest';
import { DaemonClient } from '../../daemon/client.ts';
import { StateDir } from '../../daemon/state-dir.ts';
import { api, stateDir as dir, token, useDaemon } from './api-harness.ts';

useDaemon();

describe('the daemon API with guests', () => {
  it('passes the acceptance flow: two pv domains, list, monitor, destroy; events stream the changes', async () => {
    const client = new DaemonClient(new StateDir(dir), token);
    const seen: string[] = [];
    const events = client.stream('/events', (event, data) => {
      const e = data as { name: string; status: string };
      if (event === 'state') seen.push(`${e.name} ${e.status}`);
      return seen.length < 5;
    });
    for (const name of ['alpha', 'beta']) expect((await api('POST', '/domains', { name, mode: 'pv', memory: 8 })).body.created).toBe(true);
    for (const name of ['alpha', 'beta']) expect((await api('POST', `/domains/${name}/start`)).body.status).toBe('running');
    const list = (await api('GET', '/domains')).body.domains.map((d: any) => [d.name, d.status, d.machine]);
    expect(list).toEqual([
      ['alpha', 'running', 'pv:p4-2003'],
      ['beta', 'running', 'pv:p4-2003'],
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
  }, 60_000);
});
