// A daemon domain's recording (definition field record): a domain of an in-process host gets keys
// through the console path at arbitrary wall times and step counts, then is shut down or
// destroyed; `xenolith run --replay` of its log prints exactly the console output the daemon's
// domain printed and ends at exactly the recorded cycle. trap and native here.
import { describe, expect, it } from 'vitest';
import { validateDefinition, DefinitionError } from '../../daemon/definition.ts';
import { Host, HostError } from '../../daemon/host.ts';
import { StateDir } from '../../daemon/state-dir.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { recordAndReplayDomain } from './host-record-session.ts';
import { monitorCommand } from '../../daemon/monitor.ts';

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
});
