// Live migration between two real daemons (main thread + host thread each, their own state
// directories, loopback): the API route on the source, the destination's token-checked upgrade on
// its HTTP port and its relay to its host thread. The domain (the standard kernel under trap,
// idle at its shell prompt) goes on at the destination with its console: a command typed there
// is answered there.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type RunningDaemon } from '../../daemon/server.ts';
import { StateDir } from '../../daemon/state-dir.ts';

interface Running {
  daemon: RunningDaemon;
  token: string;
  dir: string;
}

function call(d: Running, method: string, path: string, body?: unknown, token = d.token): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (data !== undefined) headers['content-type'] = 'application/json';
    const req = request({ host: '127.0.0.1', port: d.daemon.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

async function waitFor(f: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const daemons: Running[] = [];

beforeAll(async () => {
  for (let k = 0; k < 2; k++) {
    const dir = mkdtempSync(join(tmpdir(), `xenolith-migrate-${k}-`));
    const daemon = await startDaemon({ stateDir: dir, port: 0, hostMemoryMiB: 64, pacing: 'fast', version: '0.1.0' });
    daemons.push({ daemon, token: new StateDir(dir).readToken()!, dir });
  }
}, 60_000);

afterAll(async () => {
  for (const d of daemons) {
    await d.daemon.close();
    rmSync(d.dir, { recursive: true, force: true });
  }
});

describe('xenolith migrate between two daemons', () => {
  it('moves a running trap domain; its console answers on the destination; a wrong token is one line and changes nothing', async () => {
    const [a, b] = daemons as [Running, Running];
    expect((await call(a, 'POST', '/domains', { name: 'm', mode: 'trap', memory: 4 })).status).toBe(200);
    expect((await call(a, 'POST', '/domains/m/start')).status).toBe(200);
    await waitFor(async () => (await call(a, 'GET', '/domains/m')).body.cycles > 50_000_000, 'the guest to boot');
    const to = `http://127.0.0.1:${b.daemon.port}`;
    const refused = await call(a, 'POST', '/domains/m/migrate', { to, token: 'not-the-token' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/^migration of 'm' failed: the destination 127\.0\.0\.1:\d+ refused the migration \(401\): a migration needs the destination's token/);
    expect((await call(a, 'GET', '/domains/m')).body.status).toBe('running');
    const moved = await call(a, 'POST', '/domains/m/migrate', { to, token: b.token, linkMbps: 10_000 });
    expect(moved.status).toBe(200);
    expect(moved.body.rounds[0].pagesSent).toBe(1024);
    expect(moved.body.pagesSent).toBe(moved.body.rounds.reduce((n: number, r: { pagesSent: number }) => n + r.pagesSent, 0) + moved.body.stopAndCopyPages);
    const left = (await call(a, 'GET', '/domains/m')).body;
    expect([left.status, left.stopReason, left.stopDetail]).toEqual(['shut off', 'migrated', `to ${to}`]);
    await waitFor(async () => (await call(b, 'GET', '/domains/m')).status === 200 && (await call(b, 'GET', '/domains/m')).body.status === 'running', 'the domain on the destination');
    expect((await call(b, 'POST', '/domains/m/console', { data: 'echo migrated-ok\n' })).status).toBe(200);
    await waitFor(async () => {
      const s = await call(b, 'GET', '/domains/m/stats');
      return s.body.stats.consoleBytes > 0 && (await consoleText(b)).includes('migrated-ok\n');
    }, 'the echo on the destination');
  }, 120_000);
});

/** The console log the daemon keeps for domain m (its SSE stream's first event). */
function consoleText(d: Running): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: d.daemon.port, method: 'GET', path: '/domains/m/console', headers: { authorization: `Bearer ${d.token}` } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        const m = /event: output\ndata: (.*)\n\n/.exec(buf);
        if (m || buf.includes('event: state')) {
          req.destroy();
          resolve(m ? Buffer.from((JSON.parse(m[1]!) as { data: string }).data, 'base64').toString('latin1') : '');
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}
