// Helpers for pv-host-record.test.ts and its deep twin: a recorded session of the daemon's shared
// pv machine - two pv domains started at different cycles, typed to at arbitrary wall times and
// slice counts, paused, reweighted and shut down (with `full`: restarted by on_poweroff, rebooted
// and saved, and the other ballooned, too) - driven through the Host methods the API dispatches to (daemon/worker.ts).
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { Host } from '../../daemon/host.ts';
import { validateDefinition } from '../../daemon/definition.ts';
import { parsePvHostLog, type PvHostEnd, type PvHostLog } from '../../daemon/pv-record.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { DEFAULT_ENGINE, PV } from './default-engine.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const standardGuest = (arch: 'native' | 'pv') => buildGuestKernel({ arch });

/** The session's events as `kind:name[:command or keys]`. */
export function eventNames(log: PvHostLog): string[] {
  return log.events.map((e) => `${e.kind}:${e.name}${e.kind === 'command' ? `:${e.command}` : e.kind === 'keys' ? `:${e.text}` : ''}`);
}

export interface RecordedSession {
  out: Map<string, string>;
  end: PvHostEnd;
  log: PvHostLog;
}

/** Record a session of two pv domains into `file`; `waits` shifts the wall times keys come at. */
export async function recordPvSession(file: string, opts: { full?: boolean; waits?: number[] } = {}): Promise<RecordedSession> {
  const waits = opts.waits ?? [5, 3, 2];
  const out = new Map<string, string>();
  const text = (n: string) => out.get(n) ?? '';
  const host = new Host(null, { hostMemoryMiB: 64, pacing: 'fast', standardGuest, onConsole: (n, b) => out.set(n, text(n) + Buffer.from(b).toString('latin1')) });
  expect(host.recordPv(file, 'p4-2003', DEFAULT_ENGINE)).toEqual({ machine: PV, file });
  host.define(validateDefinition({ name: 'a', mode: 'pv', memory: 8, console: { input: 'echo a-before\\n' } }));
  host.define(validateDefinition({ name: 'b', mode: 'pv', memory: 8, weight: 512, ...(opts.full ? { on_poweroff: 'restart' } : {}) }));
  const until = async (done: () => boolean) => {
    for (let k = 0; k < 4000 && !done(); k++) {
      host.step();
      if (k % 7 === 0) await wait(1);
    }
    expect(done()).toBe(true);
  };
  host.start('a');
  for (let k = 0; k < 3; k++) host.step();
  host.start('b');
  await until(() => text('a').includes('a-before\n$ ') && text('b').includes('$ '));
  await wait(waits[0]!);
  host.consoleInput('a', Buffer.from('echo o'));
  host.step();
  host.consoleInput('b', Buffer.from('echo b-one\n'));
  await wait(waits[1]!);
  host.suspend('b');
  host.consoleInput('a', Buffer.from('ne\n'));
  await until(() => text('a').includes('one\n$ '));
  host.setWeight('a', 128);
  host.resume('b');
  await until(() => text('b').includes('b-one\n$ '));
  await wait(waits[2]!);
  host.shutdown('b');
  if (opts.full) {
    // on_poweroff restart: b boots again on the machine (the host's own action, logged as a settle)
    await until(() => host.dominfo('b').restarts === 1 && text('b').split('$ ').length >= 4);
    // a balloon target for a: its guest gives pages back (memory_op), at the logged cycle
    host.setmem('a', 6);
    host.reboot('b');
    await until(() => host.dominfo('b').restarts === 2 && text('b').split('$ ').length >= 5);
    // saved: the domain leaves the machine at its quiet point (the replay takes it away there)
    host.save('b', `${file}.b.xls`);
  } else await until(() => host.dominfo('b').status === 'shut off');
  host.consoleInput('a', Buffer.from('echo two\n'));
  await until(() => text('a').includes('two\n$ '));
  for (let k = 0; k < 4; k++) host.step();
  const end = host.stopPvRecording();
  host.shutdownAll();
  return { out, end, log: parsePvHostLog(readFileSync(file, 'utf8'), file) };
}
