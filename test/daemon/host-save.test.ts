// The daemon's save and restore (Host.save / Host.restore): a domain with a machine of its own is
// saved whole and taken down; restored, it goes on and its console and counters end exactly as a
// domain that was never saved; a pv domain of the shared machine is saved alone, its frames
// renamed, and restored among other domains. Bad files are refused in one line.
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostError } from '../../daemon/host.ts';
import { validateDefinition, type DomainDefinitionInput } from '../../daemon/definition.ts';
import { testHost } from './test-host.ts';
import { PV } from './default-engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-host-save-'));

function makeHost() {
  const { host, out } = testHost();
  const define = (d: Partial<DomainDefinitionInput> & { name: string }) => host.define(validateDefinition({ mode: 'pv', memory: 4, ...d }));
  const until = (done: () => boolean, max = 400) => {
    for (let k = 0; k < max; k++) {
      if (done()) return k;
      host.step();
    }
    throw new Error(`not done after ${max} steps`);
  };
  return { host, out, define, until };
}

function refusal(f: () => unknown): [number, string] {
  try {
    f();
  } catch (e) {
    if (e instanceof HostError) return [e.status, e.message];
    throw e;
  }
  throw new Error('not refused');
}

describe('the host saves and restores a domain', () => {
  for (const mode of ['native', 'trap', 'hvm'] as const) {
    it(`${mode}: saved after three short slices, restored, it ends as the domain that was never saved`, () => {
      const input = 'echo one\\necho two\\n\x04';
      const ref = makeHost();
      ref.define({ name: 'g', mode, console: { input } });
      ref.host.start('g');
      ref.until(() => ref.host.dominfo('g').status !== 'running');
      const end = ref.host.dominfo('g');
      expect([end.status, end.stopReason]).toEqual(['shut off', 'poweroff']);

      const a = makeHost();
      a.define({ name: 'g', mode, console: { input } });
      a.host.start('g');
      for (let k = 0; k < 3; k++) a.host.step(300_000);
      const file = join(dir, `${mode}.xls`);
      const saved = a.host.save('g', file);
      expect([saved.status, saved.stopReason]).toEqual(['shut off', 'saved']);

      const b = makeHost(); // another host: the file carries the definition
      const back = b.host.restore(file);
      expect([back.name, back.status]).toEqual(['g', 'running']);
      b.until(() => b.host.dominfo('g').status !== 'running');
      const after = b.host.dominfo('g');
      expect([after.stopReason, after.cycles, after.instructions]).toEqual([end.stopReason, end.cycles, end.instructions]);
      expect((a.out.g ?? '') + (b.out.g ?? '')).toBe(ref.out.g);
    });
  }

  it('trap, two vCPUs: saved after three short slices (both vCPUs, the physical CPUs\' clocks and scheduler, the virtual LAPICs), restored on another host, it ends as the domain never saved', () => {
    const input = 'echo one\\necho two\\n\x04';
    const ref = makeHost();
    ref.define({ name: 'g', mode: 'trap', vcpus: 2, console: { input } });
    ref.host.start('g');
    ref.until(() => ref.host.dominfo('g').status !== 'running');
    const end = ref.host.dominfo('g');
    expect([end.status, end.stopReason, end.vcpus]).toEqual(['shut off', 'poweroff', 2]);
    const a = makeHost();
    a.define({ name: 'g', mode: 'trap', vcpus: 2, console: { input } });
    a.host.start('g');
    for (let k = 0; k < 3; k++) a.host.step(300_000);
    const file = join(dir, 'trap-smp.xls');
    expect(a.host.save('g', file).stopReason).toBe('saved');
    const b = makeHost();
    expect(b.host.restore(file).status).toBe('running');
    b.until(() => b.host.dominfo('g').status !== 'running');
    const after = b.host.dominfo('g');
    expect([after.stopReason, after.cycles, after.instructions, after.vcpus]).toEqual([end.stopReason, end.cycles, end.instructions, 2]);
    expect((a.out.g ?? '') + (b.out.g ?? '')).toBe(ref.out.g);
  });

  it('pv: saved from the shared machine idle at its prompt, restored on hosts with other frames, it ends as the domain never saved', () => {
    const typed = new TextEncoder().encode('echo two\n\x04');
    // each host runs the domain two slices (booted, idle at the prompt), then it is saved and
    // restored, then the input is typed: at the same point of the domain's time on every host
    const ref = makeHost();
    ref.define({ name: 'g' });
    ref.host.start('g');
    ref.host.step();
    ref.host.step();
    ref.host.consoleInput('g', typed);
    ref.until(() => ref.host.dominfo('g').status !== 'running');
    const end = ref.host.dominfo('g');
    expect([end.status, end.stopReason]).toEqual(['shut off', 'poweroff']);
    expect(ref.out.g).toContain('$ echo two\ntwo\n');

    const a = makeHost();
    a.define({ name: 'g' });
    a.host.start('g');
    a.host.step();
    a.host.step();
    const file = join(dir, 'pv.xls');
    const saved = a.host.save('g', file);
    expect([saved.status, saved.stopReason, saved.machine]).toEqual(['shut off', 'saved', null]);

    // a host laid out as the first: exactly the uninterrupted domain
    const b = makeHost();
    expect(b.host.restore(file).machine).toBe(PV);
    b.host.consoleInput('g', typed);
    b.until(() => b.host.dominfo('g').status !== 'running');
    const after = b.host.dominfo('g');
    expect([after.stopReason, after.cycles, after.instructions]).toEqual([end.stopReason, end.cycles, end.instructions]);
    expect((a.out.g ?? '') + (b.out.g ?? '')).toBe(ref.out.g);

    // another domain took the first frames: output and instructions exactly (its cycles differ
    // only by the TLB walks of its own m2p reads: test/hypervisor/pv-domain-save.test.ts)
    const c = makeHost();
    c.define({ name: 'o' });
    c.host.start('o');
    c.host.suspend('o');
    const back = c.host.restore(file);
    expect([back.name, back.status, back.id]).toEqual(['g', 'running', 2]);
    c.host.consoleInput('g', typed);
    c.until(() => c.host.dominfo('g').status !== 'running');
    const moved = c.host.dominfo('g');
    expect([moved.stopReason, moved.instructions]).toEqual([end.stopReason, end.instructions]);
    expect((a.out.g ?? '') + (c.out.g ?? '')).toBe(ref.out.g);
  });

  it('pv, two vCPUs: saved from the shared machine at its prompt (both vCPUs, their vcpu_info, timers and event channels), restored, it ends as the domain never saved', () => {
    const typed = new TextEncoder().encode('echo both\n\x04');
    const ref = makeHost();
    ref.define({ name: 'g', vcpus: 2 });
    ref.host.start('g');
    ref.host.step();
    ref.host.step();
    ref.host.consoleInput('g', typed);
    ref.until(() => ref.host.dominfo('g').status !== 'running');
    const end = ref.host.dominfo('g');
    expect([end.status, end.stopReason, end.vcpus]).toEqual(['shut off', 'poweroff', 2]);
    expect(ref.out.g).toContain('smp: 2 CPUs\n');
    expect(ref.out.g).toContain('$ echo both\nboth\n');

    const a = makeHost();
    a.define({ name: 'g', vcpus: 2 });
    a.host.start('g');
    a.host.step();
    a.host.step();
    const file = join(dir, 'pv2.xls');
    expect(a.host.save('g', file).stopReason).toBe('saved');

    const b = makeHost();
    expect(b.host.restore(file).vcpus).toBe(2);
    b.host.consoleInput('g', typed);
    b.until(() => b.host.dominfo('g').status !== 'running');
    const after = b.host.dominfo('g');
    expect([after.stopReason, after.cycles, after.instructions]).toEqual([end.stopReason, end.cycles, end.instructions]);
    expect((a.out.g ?? '') + (b.out.g ?? '')).toBe(ref.out.g);

  });

  it('refuses a name that is running, and bad files, in one line each', () => {
    const { host } = makeHost();
    expect(refusal(() => host.save('nobody', join(dir, 'x.xls')))[0]).toBe(404);
    const junk = join(dir, 'junk.xls');
    writeFileSync(junk, 'definitely not a saved domain; just some text that is long enough');
    expect(refusal(() => host.restore(junk))).toEqual([400, `${junk}: not a xenolith save file (bad magic)`]);
    expect(refusal(() => host.restore(join(dir, 'none.xls')))).toEqual([400, `${join(dir, 'none.xls')}: cannot read (ENOENT)`]);
    const t = makeHost();
    t.define({ name: 'n', mode: 'native' });
    t.host.start('n');
    t.host.step();
    const file = join(dir, 'n.xls');
    t.host.save('n', file);
    t.host.start('n');
    expect(refusal(() => t.host.restore(file))).toEqual([409, "domain 'n' is running: destroy it before restoring it"]);
    const cut = join(dir, 'cut.xls');
    writeFileSync(cut, readFileSync(file).subarray(0, 100));
    expect(refusal(() => t.host.restore(cut))[1]).toMatch(/^.*cut\.xls: truncated: the header promises \d+ bytes of state, the file has 48$/);
  });
});
