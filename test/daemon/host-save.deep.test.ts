// The daemon's save and restore, the longer case (the quick ones: host-save.test.ts): a pv domain
// of two vCPUs saved from the shared machine at its prompt and restored on a host where another
// domain took the first frames - its console output and instructions are the domain's never
// saved (its cycles differ only by the TLB walks of its own m2p reads, which name machine frames:
// test/hypervisor/pv-domain-save.test.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Host } from '../../daemon/host.ts';
import { validateDefinition, type DomainDefinitionInput } from '../../daemon/definition.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-host-save-deep-'));

function makeHost() {
  const out: Record<string, string> = {};
  const host = new Host(null, { hostMemoryMiB: 64, pacing: 'fast', standardGuest: (arch) => buildGuestKernel({ arch }), onConsole: (name, bytes) => (out[name] = (out[name] ?? '') + Buffer.from(bytes).toString('latin1')) });
  const define = (d: Partial<DomainDefinitionInput> & { name: string }) => host.define(validateDefinition({ mode: 'pv', memory: 4, ...d }));
  const until = (done: () => boolean, max = 400) => {
    for (let k = 0; k < max && !done(); k++) host.step();
    expect(done()).toBe(true);
  };
  return { host, out, define, until };
}

describe('the host saves and restores a pv domain of two vCPUs', () => {
  it('restored on a host where another domain took the first frames: the same output and instructions', () => {
    const typed = new TextEncoder().encode('echo both\n\x04');
    const ref = makeHost();
    ref.define({ name: 'g', vcpus: 2 });
    ref.host.start('g');
    ref.host.step();
    ref.host.step();
    ref.host.consoleInput('g', typed);
    ref.until(() => ref.host.dominfo('g').status !== 'running');
    const end = ref.host.dominfo('g');
    expect(ref.out.g).toContain('$ echo both\nboth\n');

    const a = makeHost();
    a.define({ name: 'g', vcpus: 2 });
    a.host.start('g');
    a.host.step();
    a.host.step();
    const file = join(dir, 'pv2.xls');
    expect(a.host.save('g', file).stopReason).toBe('saved');

    const c = makeHost();
    c.define({ name: 'o' });
    c.host.start('o');
    c.host.suspend('o');
    expect(c.host.restore(file).id).toBe(2);
    c.host.consoleInput('g', typed);
    c.until(() => c.host.dominfo('g').status !== 'running');
    expect([c.host.dominfo('g').stopReason, c.host.dominfo('g').instructions, c.host.dominfo('g').vcpus]).toEqual([end.stopReason, end.instructions, 2]);
    expect((a.out.g ?? '') + (c.out.g ?? '')).toBe(ref.out.g);
  });
});
