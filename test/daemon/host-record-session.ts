// Helpers for host-record.test.ts and its deep twin: a recorded session of a daemon domain (keys
// through the console path at arbitrary wall times and step counts), and its replay by `run --replay`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Host } from '../../daemon/host.ts';
import { validateDefinition } from '../../daemon/definition.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { parseInputLog } from '../../hypervisor/input-log.ts';
import { xenolith } from '../cli/run-in-process.ts';
import { DEFAULT_ENGINE } from './default-engine.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function recordedSession(dir: string, mode: 'native' | 'trap' | 'bt' | 'hvm', ending: 'shutdown' | 'destroy', vcpus: number) {
  const file = join(dir, `${mode}-${ending}-${vcpus}.log`);
  let out = '';
  const host = new Host(null, {
    hostMemoryMiB: 64,
    pacing: 'fast',
    standardGuest: (arch) => buildGuestKernel({ arch }),
    onConsole: (_name, bytes) => (out += Buffer.from(bytes).toString('latin1')),
  });
  host.define(validateDefinition({ name: 'r', mode, memory: 32, vcpus, record: file, console: { input: 'echo typed before\\n' } }));
  host.start('r');
  const until = async (done: () => boolean) => {
    for (let k = 0; k < 2000 && !done(); k++) {
      host.step();
      if (k % 7 === 0) await wait(1);
    }
    expect(done()).toBe(true);
  };
  await until(() => out.includes('typed before\n$ '));
  // keys at arbitrary wall times and slice boundaries: a few steps and a wait between them
  for (let k = 0; k < 3; k++) host.step();
  await wait(13);
  host.consoleInput('r', Buffer.from('echo o'));
  host.step();
  await wait(7);
  host.consoleInput('r', Buffer.from('ne\n'));
  await until(() => out.includes('one\n$ '));
  for (let k = 0; k < 5; k++) host.step();
  host.consoleInput('r', Buffer.from('echo two\n'));
  await until(() => out.includes('two\n$ '));
  if (ending === 'shutdown') {
    host.shutdown('r');
    await until(() => host.dominfo('r').status === 'shut off');
  } else {
    host.step();
    host.destroy('r');
  }
  host.shutdownAll();
  return { file, out, log: parseInputLog(readFileSync(file, 'utf8'), file) };
}

/** Record a session of a `mode` domain ended by `ending`, replay it, and compare. */
export async function recordAndReplayDomain(mode: 'native' | 'trap' | 'bt' | 'hvm', ending: 'shutdown' | 'destroy', end: 'guest' | 'left', vcpus = 1): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'xenolith-host-record-'));
  try {
    const { file, out, log } = await recordedSession(dir, mode, ending, vcpus);
    expect(log.run).toEqual({ mode, profile: 'p4-2003', engine: DEFAULT_ENGINE, memoryMiB: 32, add: [], net: [], input: 'echo typed before\n', ...(vcpus > 1 ? { smp: vcpus } : {}) });
    expect(log.events.map((e) => (e.kind === 'keys' ? e.text : e.kind))).toEqual(['echo o', 'ne\n', 'echo two\n', ...(ending === 'shutdown' ? ['\x04'] : [])]);
    expect(log.end.end).toBe(end);
    expect(log.end.outputBytes).toBe(Buffer.byteLength(out, 'latin1'));
    const rep = await xenolith('run', '--replay', file, '--stats');
    expect(rep.stderr).toContain(`[xenolith: replayed ${log.events.length} inputs from ${file}: ended at cycle ${log.end.cycle} as recorded, console output identical]`);
    expect(rep.stderr).toContain(`cycles: ${log.end.cycle}\n`);
    expect(rep.stdout).toBe(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
