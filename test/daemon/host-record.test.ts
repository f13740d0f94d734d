// A daemon domain's recording (definition field record): a domain of an in-process host gets keys
// through the console path at arbitrary wall times and step counts, then is shut down or
// destroyed; `xenolith run --replay` of its log prints exactly the console output the daemon's
// domain printed and ends at exactly the recorded cycle. trap and native here.
import { describe, expect, it } from 'vitest';
import { validateDefinition, DefinitionError } from '../../daemon/definition.ts';
import { Host, HostError } from '../../daemon/host.ts';
import { StateDir } from '../../daemon/state-dir.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { decodeImage, encodeImage } from '../../machine/image.ts';
import { migrateGuest } from '../../bench/migrate-guest.ts';
import { parseInputLog, sha256 } from '../../hypervisor/input-log.ts';
import { xenolith } from '../cli/run-in-process.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { recordAndReplayDomain } from './host-record-session.ts';
import { monitorCommand } from '../../daemon/monitor.ts';
import { DEFAULT_ENGINE } from './default-engine.ts';

describe('recording a daemon domain (definition field record)', () => {
  it.each([
    ['trap', 'shutdown', 'guest'],
    ['native', 'destroy', 'left'],
  ] as const)('%s, ended by %s: run --replay repeats its console output and final cycle', async (mode, ending, end) => {
    await recordAndReplayDomain(mode, ending, end);
  });

  it('a pv domain (shared machine) is refused, in one line; native, trap and hvm domains of any CPUs are taken', () => {
    const refused = (d: object) => {
      try {
        validateDefinition({ name: 'x', record: 'x.log', ...d });
      } catch (e) {
        if (e instanceof DefinitionError) return e.message;
        throw e;
      }
      return 'accepted';
    };
    expect(refused({ mode: 'pv' })).toBe("field 'record': a pv domain shares its machine with the other pv domains, so its run depends on theirs and a replay of it alone cannot repeat it: record the whole shared machine (xenolith record-pv FILE, POST /pv-record)");
    expect(refused({ mode: 'native', vcpus: 2 })).toBe('accepted');
    expect(refused({ mode: 'trap', vcpus: 2 })).toBe('accepted');
    expect(refused({ mode: 'hvm' })).toBe('accepted');
  });

  it('an hvm domain with ple: its machine has pause-loop exiting (info mode), and its recording carries the control', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolith-record-ple-'));
    try {
      const host = new Host(new StateDir(dir), { hostMemoryMiB: 64, pacing: 'fast', standardGuest: (arch) => buildGuestKernel({ arch }) });
      host.define(validateDefinition({ name: 'p', mode: 'hvm', vcpus: 2, ple: true, record: 'p.log' }));
      host.start('p');
      expect(monitorCommand(host, 'p', 'info mode').split('\n').filter((l) => l.startsWith('pause-loop'))).toEqual([
        'pause-loop exiting (--ple, gap 128, window 4096 cycles): 0 exits (by vCPU: 0, 0), 0 gave the physical CPU to another vCPU',
      ]);
      host.destroy('p');
      const header = JSON.parse(readFileSync(join(dir, 'files', 'p.log'), 'utf8').split('\n')[0]!) as { run: Record<string, unknown> };
      expect([header.run.mode, header.run.smp, header.run.ple]).toEqual(['hvm', 2, true]);
      // without the field: no control, no line
      host.define(validateDefinition({ name: 'q', mode: 'hvm' }));
      host.start('q');
      expect(monitorCommand(host, 'q', 'info mode')).not.toContain('pause-loop');
      host.shutdownAll();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a plain record name (all the API accepts) is written in the state directory's files/", () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolith-record-state-'));
    try {
      const host = new Host(new StateDir(dir), { hostMemoryMiB: 64, pacing: 'fast', standardGuest: (arch) => buildGuestKernel({ arch }) });
      host.define(validateDefinition({ name: 'r', mode: 'native', record: 'r.log' }));
      host.start('r');
      host.destroy('r');
      expect(readFileSync(join(dir, 'files', 'r.log'), 'utf8')).toMatch(/^\{"format":"xenolith-input-log",[^\n]*\n\{"kind":"end","cycle":0,"end":"left",/);
      host.shutdownAll();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a record file that cannot be written refuses the start, in one line, and the domain stays as it was', () => {
    const host = new Host(null, { hostMemoryMiB: 64, pacing: 'fast', standardGuest: (arch) => buildGuestKernel({ arch }) });
    host.define(validateDefinition({ name: 'r', mode: 'native', record: '/nonexistent-dir/r.log' }));
    expect(() => host.start('r')).toThrow(new HostError(409, "domain 'r' cannot start: record /nonexistent-dir/r.log: cannot write (ENOENT)"));
    expect(host.dominfo('r').status).toBe('defined');
  });

  it('a domain with a kernel of its own (an image file): the header carries its path and SHA-256; run --replay loads it and repeats the run, and refuses, in one line, an image that changed or is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolith-record-kernel-'));
    try {
      const kernel = join(dir, 'writer.img');
      const file = join(dir, 'k.log');
      const image = encodeImage(migrateGuest({ pages: 8, passes: 300, printEvery: 100 }));
      writeFileSync(kernel, image);
      let out = '';
      const host = new Host(null, {
        hostMemoryMiB: 64,
        pacing: 'fast',
        loadKernel: (path) => decodeImage(readFileSync(path), path),
        onConsole: (_name, bytes) => (out += Buffer.from(bytes).toString('latin1')),
      });
      host.define(validateDefinition({ name: 'k', mode: 'trap', memory: 4, kernel, record: file }));
      host.start('k');
      for (let k = 0; k < 2000 && host.dominfo('k').status === 'running'; k++) host.step();
      expect(host.dominfo('k')).toMatchObject({ status: 'shut off', stopReason: 'poweroff' });
      host.shutdownAll();
      const log = parseInputLog(readFileSync(file, 'utf8'), file);
      expect(log.run).toEqual({ mode: 'trap', profile: 'p4-2003', engine: DEFAULT_ENGINE, memoryMiB: 4, add: [], net: [], image: kernel, imageSha256: sha256(image) });
      const rep = await xenolith('run', '--replay', file, '--stats');
      expect(rep.stderr).toContain(`[xenolith: replayed 0 inputs from ${file}: ended at cycle ${log.end.cycle} as recorded, console output identical]`);
      expect(rep.stdout).toBe(out);
      // another kernel in its place
      const other = encodeImage(migrateGuest({ pages: 8, passes: 301, printEvery: 100 }));
      writeFileSync(kernel, other);
      const changed = await xenolith('run', '--replay', file);
      expect(changed.stderr).toBe(`xenolith: --replay ${file}: the recording ran ${kernel} with sha256 ${sha256(image).slice(0, 16)}...; the image there now has ${sha256(other).slice(0, 16)}... (it changed)\n`);
      rmSync(kernel);
      const gone = await xenolith('run', '--replay', file);
      expect(gone.stderr).toBe(`xenolith: cannot read ${kernel}: no such file\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
