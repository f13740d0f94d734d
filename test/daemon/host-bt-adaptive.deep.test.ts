// A daemon domain with bt_adaptive (bt on the traced shadow with adaptive retranslation): saved
// after three short slices and restored on another host, it ends as the domain never saved -
// console, cycles, instructions and the adaptive counters (what it learnt before the save, the
// trace faults counted per store and the stores retranslated, is in the file); migrated live to
// another host, it ends with the console, instructions and adaptive counters of the one never moved.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Host } from '../../daemon/host.ts';
import { validateDefinition, type DomainDefinitionInput } from '../../daemon/definition.ts';
import { monitorCommand } from '../../daemon/monitor.ts';
import { testHost } from './test-host.ts';

function makeHost() {
  const { host, out } = testHost();
  const define = (d: Partial<DomainDefinitionInput> & { name: string }) => host.define(validateDefinition({ mode: 'bt', shadow: 'traced', bt_adaptive: true, memory: 4, on_poweroff: 'preserve', ...d }));
  const until = (done: () => boolean, max = 4000) => {
    for (let k = 0; k < max; k++) {
      if (done()) return;
      host.step();
    }
    throw new Error(`not done after ${max} steps`);
  };
  return { host, out, define, until };
}

const adaptiveLine = (host: Host) => monitorCommand(host, 'g', 'info mode').split('\n').find((l) => l.startsWith('adaptive retranslation:'));

describe('a bt_adaptive domain saved and restored by the daemon', () => {
  it('ends as the domain never saved, with the same adaptive counters', () => {
    const input = 'echo one\\necho two\\n\x04';
    const ref = makeHost();
    ref.define({ name: 'g', console: { input } });
    ref.host.start('g');
    ref.until(() => ref.host.dominfo('g').status !== 'running');
    const end = ref.host.dominfo('g');
    const line = adaptiveLine(ref.host);
    expect(end.stopReason).toBe('poweroff');
    expect(line).toMatch(/^adaptive retranslation: [1-9]\d* stores retranslated/);

    const a = makeHost();
    a.define({ name: 'g', console: { input } });
    a.host.start('g');
    for (let k = 0; k < 3; k++) a.host.step(300_000);
    const file = join(mkdtempSync(join(tmpdir(), 'xenolith-adaptive-save-')), 'g.xls');
    expect(a.host.save('g', file).stopReason).toBe('saved');
    const b = makeHost();
    expect(b.host.restore(file).status).toBe('running');
    b.until(() => b.host.dominfo('g').status !== 'running');
    const after = b.host.dominfo('g');
    expect([after.stopReason, after.cycles, after.instructions]).toEqual([end.stopReason, end.cycles, end.instructions]);
    expect((a.out.g ?? '') + (b.out.g ?? '')).toBe(ref.out.g);
    expect(adaptiveLine(b.host)).toBe(line);
  });
});

describe('a bt_adaptive domain migrated live between two hosts', () => {
  it('moves with what it learnt and ends with the console, instructions and adaptive counters of the domain never moved', async () => {
    const { loopback, TEST_LINK } = await import('./migrate-harness.ts');
    const input = 'echo one\\necho two\\n\x04';
    const ref = makeHost();
    ref.define({ name: 'g', console: { input } });
    ref.host.start('g');
    ref.until(() => ref.host.dominfo('g').status !== 'running');
    const end = ref.host.dominfo('g');
    const line = adaptiveLine(ref.host);

    const a = makeHost();
    const b = makeHost();
    a.define({ name: 'g', console: { input } });
    a.host.start('g');
    for (let k = 0; k < 3; k++) a.host.step(300_000);
    const { src, dst } = await loopback();
    const landing = b.host.incoming(dst);
    await a.host.migrate('g', src, { link: TEST_LINK });
    expect(await landing).toBe('g');
    expect(a.host.dominfo('g').stopReason).toBe('migrated');
    b.until(() => b.host.dominfo('g').status !== 'running');
    const after = b.host.dominfo('g');
    expect([after.stopReason, after.instructions]).toEqual([end.stopReason, end.instructions]);
    expect((a.out.g ?? '') + (b.out.g ?? '')).toBe(ref.out.g);
    expect(adaptiveLine(b.host)).toBe(line);
  });
});
