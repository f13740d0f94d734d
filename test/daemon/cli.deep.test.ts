// The acceptance check through the CLI, on a fresh state directory: define two pv domains
// from files, start both (the first verb auto-starts the daemon), list --all --json shows both
// running, monitor 'info mode' names pv, destroy one, list --all shows it shut off and the other
// running; an API request without the token is refused; kill -9 of the daemon, then any verb: the
// definitions are listed again. The daemon is always ended in afterAll.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/xenolith.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'xenolith-cli-'));
const state = join(dir, 'state');

function xenolith(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, XENOLITH_STATE_DIR: state }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function daemonPid(): number | null {
  try {
    return (JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
}

afterAll(async () => {
  await xenolith('daemon', 'stop');
  const pid = daemonPid();
  if (pid !== null) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('xenolith daemon through the CLI', () => {
  it('passes the acceptance check, and a daemon killed with -9 lists the definitions again', async () => {
    writeFileSync(join(dir, 'web.json'), JSON.stringify({ name: 'web', mode: 'pv', memory: 8 }));
    writeFileSync(join(dir, 'db.json'), JSON.stringify({ name: 'db', mode: 'pv', memory: 8, on_crash: 'restart' }));
    expect(await xenolith('define', join(dir, 'web.json'))).toMatchObject({ code: 0, stdout: `domain 'web' defined from ${join(dir, 'web.json')}\n` });
    expect((await xenolith('define', join(dir, 'db.json'))).code).toBe(0);
    expect(await xenolith('start', 'web')).toMatchObject({ code: 0, stdout: "domain 'web' started\n" });
    expect((await xenolith('start', 'db')).code).toBe(0);
    const listed = JSON.parse((await xenolith('list', '--all', '--json')).stdout) as { name: string; status: string }[];
    expect(listed.map((d) => [d.name, d.status])).toEqual([
      ['db', 'running'],
      ['web', 'running'],
    ]);
    const mode = await xenolith('monitor', 'web', 'info mode');
    expect(mode.stdout.split('\n')[0]).toBe('mode: pv (paravirtualization: hypercalls, validated direct page tables, event channels)');
    expect(await xenolith('destroy', 'db')).toMatchObject({ code: 0, stdout: "domain 'db' destroyed\n" });
    const table = (await xenolith('list', '--all')).stdout.split('\n');
    expect(table.slice(0, 3).map((l) => l.split(/\s{2,}/).slice(1, 3))).toEqual([
      ['Name', 'State'],
      ['db', 'shut off'],
      ['web', 'running'],
    ]);
    expect(await xenolith('start', 'web')).toMatchObject({ code: 1, stderr: "xenolith: domain 'web' is already running\n" });

    // no token, no answer
    const { port } = JSON.parse(readFileSync(join(state, 'daemon.json'), 'utf8')) as { port: number };
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/domains' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(401);

    // the console: attach, type, read the answer
    const con = await xenolith('console', 'web', '--input', 'echo attached\\n', '--until', 'attached\n$ ');
    expect(con.stdout.endsWith('echo attached\nattached\n$ ')).toBe(true);

    // kill -9 mid-run, then any verb: a new daemon lists every definition again; the domain that
    // was running is shut off, with the reason (its running state died with the host)
    const pid = daemonPid()!;
    process.kill(pid, 'SIGKILL');
    const again = JSON.parse((await xenolith('list', '--all', '--json')).stdout) as { name: string; status: string; stopReason: string | null }[];
    expect(again.map((d) => [d.name, d.status, d.stopReason])).toEqual([
      ['db', 'defined', null],
      ['web', 'shut off', 'daemon-died'],
    ]);
    expect(daemonPid()).not.toBe(pid);
    expect(await xenolith('daemon', 'stop')).toMatchObject({ code: 0, stdout: `xenolith daemon for ${state} stopped\n` });
  }, 300_000);
});
