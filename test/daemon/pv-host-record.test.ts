// Recording the daemon's shared pv machine (daemon/pv-record.ts, POST /pv-record) and replaying it
// (`xenolith host-replay`, daemon/pv-replay.ts): two pv domains of one host typed to at arbitrary
// wall times and slice counts, paused, reweighted, one shut down; the replay repeats every
// domain's console output, its cycles and instructions and the machine's final counters exactly.
// A changed or cut recording is refused in one line; what the recording cannot hold is refused.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pvMachineKey, Host, HostError } from '../../daemon/host.ts';
import { validateDefinition } from '../../daemon/definition.ts';
import { xenolith } from '../cli/run-in-process.ts';
import { eventNames, recordPvSession, standardGuest } from './pv-host-record-session.ts';
import { loopback, makeHost, START, TEST_LINK, TEST_SHAPE } from './migrate-harness.ts';
import { decodeImage, encodeImage } from '../../machine/image.ts';
import { migratePvGuest } from '../../bench/migrate-pv-guest.ts';
import { readPvHostLog } from '../../daemon/pv-record.ts';
import { sha256 } from '../../hypervisor/input-log.ts';
import { DEFAULT_ENGINE, OTHER_ENGINE, PV } from './default-engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-pv-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('recording the shared pv machine', () => {
  it('two pv domains typed to, paused, shut down: host-replay repeats every console and the final counters; a changed or cut file is refused', async () => {
    const file = join(dir, 'pv.log');
    const { out, end, log } = await recordPvSession(file);
    expect(eventNames(log)).toEqual([
      'start:a', 'start:b', 'keys:a:echo o', 'keys:b:echo b-one\n', 'command:b:suspend', 'keys:a:ne\n', 'command:a:weight', 'command:b:resume',
      'command:b:shutdown', 'settle:b', 'keys:a:echo two\n',
    ]);
    expect(log.events[0]!.cycle).toBe(0);
    expect(log.events[1]!.cycle).toBe(9000000);
    expect(end.domains.map((d) => [d.name, d.status, d.outputBytes])).toEqual([
      ['a', 'running', Buffer.byteLength(out.get('a')!, 'latin1')],
      ['b', 'shut off', Buffer.byteLength(out.get('b')!, 'latin1')],
    ]);
    expect(out.get('b')).toContain('b-one\n$ ');
    const rep = await xenolith('host-replay', file, '--console', 'a');
    expect(rep.stderr).toBe(`[xenolith: replayed ${file}: the machine ended at cycle ${end.cycle} as recorded; 2 domains, console output identical]\n`);
    expect(rep.stdout).toBe(out.get('a'));
    expect(rep.status).toBe(0);

    // a key changed after the fact: the checksum refuses the file before anything runs
    const text = readFileSync(file, 'utf8');
    const changed = join(dir, 'changed.log');
    writeFileSync(changed, text.replace('"text":"echo two\\n"', '"text":"echo six\\n"'));
    const lines = text.split('\n').length - 1;
    let r = await xenolith('host-replay', changed);
    expect([r.status, r.stderr]).toEqual([2, `xenolith: ${changed}:${lines}: checksum mismatch: the recording was changed after it was written\n`]);
    // cut before its end line (a daemon that died while recording)
    const cut = join(dir, 'cut.log');
    writeFileSync(cut, text.split('\n').slice(0, -2).join('\n') + '\n');
    r = await xenolith('host-replay', cut);
    expect([r.status, r.stderr]).toEqual([2, `xenolith: ${cut}:${lines - 1}: truncated: no end line (the recording did not finish)\n`]);
    // a single run's input log is not a host recording
    const single = join(dir, 'single.log');
    writeFileSync(single, '{"format":"xenolith-input-log","version":1}\n');
    r = await xenolith('host-replay', single);
    expect(r.stderr).toBe(`xenolith: ${single}:1: not a xenolith pv host recording (no "format": "xenolith-pv-host-log")\n`);
  });

  it('what the recording cannot hold is refused in one line: a machine with domains, a second recording, a bridge shared with another machine, a breakpoint', () => {
    const host = new Host(null, { hostMemoryMiB: 64, pacing: 'fast', standardGuest });
    host.define(validateDefinition({ name: 'a', mode: 'pv', memory: 8 }));
    host.define(validateDefinition({ name: 'n', mode: 'pv', memory: 8, bridge: 'br0', ip: '10.0.2.30' }));
    host.start('a');
    expect(() => host.recordPv(join(dir, 'x.log'), 'p4-2003', DEFAULT_ENGINE)).toThrow(
      new HostError(409, `the shared machine ${PV} has domains on it ('a'): a recording starts with the machine, before its first domain; destroy them first`),
    );
    // another machine's profile records; one recording at a time
    expect(host.recordPv(join(dir, 'y.log'), 'p4-2003', OTHER_ENGINE)).toEqual({ machine: pvMachineKey('p4-2003', OTHER_ENGINE), file: join(dir, 'y.log') });
    expect(() => host.recordPv(join(dir, 'z.log'), 'p4-2003', DEFAULT_ENGINE)).toThrow(
      new HostError(409, `the shared machine ${pvMachineKey('p4-2003', OTHER_ENGINE)} is being recorded already (to ${join(dir, 'y.log')}); one recording at a time`),
    );
    host.stopPvRecording();
    expect(() => host.stopPvRecording()).toThrow(new HostError(409, 'no recording of a shared pv machine is being taken'));
    host.destroy('a');
    // the machine is empty again: a recording replaces it by a fresh one
    host.recordPv(join(dir, 'w.log'), 'p4-2003', DEFAULT_ENGINE);
    expect(host.machineStats().find((m) => m.key === PV)!.cycles).toBe(0);
    // a bridge with another machine's domain on it: its frames would come from outside the recording
    host.define(validateDefinition({ name: 'x', mode: 'native', memory: 4, bridge: 'br0', ip: '10.0.2.31' }));
    host.start('x');
    expect(() => host.start('n')).toThrow(
      new HostError(409, `domain 'n' cannot start: the shared machine ${PV} is being recorded, and bridge br0 has domains of other machines on it ('x'), whose frames would come from outside the recording`),
    );
    host.destroy('x');
    host.start('n');
    expect(() => host.start('x')).toThrow(
      new HostError(409, `domain 'x' cannot join bridge br0: domains of the shared machine ${PV}, which is being recorded, are on it, and its frames would come from outside the recording`),
    );
    host.destroy('n');
    host.start('a');
    expect(() => host.addBreakpoint('a', 0x1000)).toThrow(
      new HostError(409, `the shared machine ${PV} is being recorded: cannot set a breakpoint in a domain of it (a monitor stop is not logged); stop the recording first`),
    );
    host.shutdownAll();
    // the daemon's end ends the recording too
    expect(readFileSync(join(dir, 'w.log'), 'utf8').split('\n').at(-2)).toMatch(/^\{"kind":"end","cycle":0,"instructions":0,"idleCycles":0,"domains":\[\{"name":"a","status":"running","cycles":0,"instructions":0,/);
  });

  it("what would bring state from outside the recording, or stop a domain unlogged, is refused in one line: a start with breakpoints, a single step, a restore into the machine, a migration into it and out of it", async () => {
    // the hosts of the migration tests (the small ring-3 pv guest): a (not recorded) and b (recording)
    const a = makeHost(TEST_SHAPE, true);
    const b = makeHost(TEST_SHAPE, true);
    b.define({ name: 'q', kernel: undefined });
    b.host.addBreakpoint('q', 0x1000);
    b.host.recordPv(join(dir, 'refusals.log'), 'p4-2003', DEFAULT_ENGINE);
    expect(() => b.host.start('q')).toThrow(
      new HostError(409, `domain 'q' cannot start: the shared machine ${PV} is being recorded, and the recording cannot take breakpoints (monitor stops are not logged; delete them)`),
    );
    b.define({ name: 'r', kernel: undefined });
    b.host.start('r');
    b.host.step(START);
    // out of it
    const out = await loopback();
    await expect(b.host.migrate('r', out.src, { link: TEST_LINK })).rejects.toThrow(
      new HostError(409, `the shared machine ${PV} is being recorded: cannot migrate a domain away from it; stop the recording first`),
    );
    out.dst.close();
    // a single step of a stopped domain
    b.host.suspend('r');
    expect(() => b.host.step1('r', () => '')).toThrow(new HostError(409, `the shared machine ${PV} is being recorded: cannot single-step a domain of it (a step is not logged); stop the recording first`));
    // into it: the destination refuses at the hello; the source runs on
    a.define({ name: 'g' });
    a.host.start('g');
    a.host.step(START);
    const into = await loopback();
    const landing = b.host.incoming(into.dst).catch((e: Error) => e.message);
    await expect(a.host.migrate('g', into.src, { link: TEST_LINK })).rejects.toThrow(
      new HostError(409, `migration of 'g' failed: the destination: the shared machine ${PV} is being recorded here: a migrated domain's state comes from outside the recording`),
    );
    expect(await landing).toBe(`the shared machine ${PV} is being recorded here: a migrated domain's state comes from outside the recording`);
    expect(a.host.dominfo('g').status).toBe('running');
    // a restore into it
    const saved = join(dir, 'g.xls');
    a.host.save('g', saved);
    expect(() => b.host.restore(saved)).toThrow(
      new HostError(409, `the shared machine ${PV} is being recorded: cannot restore a pv domain into it (its state comes from outside the recording); stop the recording first`),
    );
    expect(b.host.list().map((d) => [d.name, d.status])).toEqual([
      ['q', 'defined'],
      ['r', 'paused'],
    ]);
    b.host.shutdownAll();
    a.host.shutdownAll();
  });

  it('a pv domain with a kernel of its own (an image file): its start line carries the SHA-256 of the image; host-replay loads it and repeats the run, and refuses, in one line, an image that changed', async () => {
    const kernel = join(dir, 'writer-pv.img');
    const file = join(dir, 'kernel.log');
    const image = encodeImage(migratePvGuest({ pages: 8, passes: 300, printEvery: 100 }));
    writeFileSync(kernel, image);
    let out = '';
    const host = new Host(null, { hostMemoryMiB: 64, pacing: 'fast', standardGuest, loadKernel: (path) => decodeImage(readFileSync(path), path), onConsole: (_n, b) => (out += Buffer.from(b).toString('latin1')) });
    host.recordPv(file, 'p4-2003', DEFAULT_ENGINE);
    host.define(validateDefinition({ name: 'k', mode: 'pv', memory: 4, kernel, on_poweroff: 'preserve' }));
    host.start('k');
    for (let k = 0; k < 2000 && host.dominfo('k').status === 'running'; k++) host.step();
    expect(host.dominfo('k')).toMatchObject({ status: 'shut off', stopReason: 'poweroff' });
    const end = host.stopPvRecording();
    host.shutdownAll();
    const log = readPvHostLog(file);
    expect(log.events.map((e) => (e.kind === 'start' ? [e.kind, e.name, e.kernelSha256] : [e.kind, e.name]))).toEqual([
      ['start', 'k', sha256(image)],
      ['settle', 'k'],
    ]);
    const rep = await xenolith('host-replay', file, '--console', 'k');
    expect(rep.stderr).toBe(`[xenolith: replayed ${file}: the machine ended at cycle ${end.cycle} as recorded; 1 domain, console output identical]\n`);
    expect(rep.stdout).toBe(out);
    const other = encodeImage(migratePvGuest({ pages: 8, passes: 301, printEvery: 100 }));
    writeFileSync(kernel, other);
    const changed = await xenolith('host-replay', file);
    expect([changed.status, changed.stderr]).toEqual([2, `xenolith: ${file}: domain 'k' started with the kernel ${kernel} of sha256 ${sha256(image).slice(0, 16)}...; the image there now has ${sha256(other).slice(0, 16)}... (it changed)\n`]);
  });
});
