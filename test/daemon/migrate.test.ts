// Live migration between two hosts over loopback TCP (daemon/migration/): the domain moves with
// its console and runs on to the end the uninterrupted run reaches - the same output and
// instructions, its cycles longer by exactly the migration's accounted cost.
import { describe, expect, it } from 'vitest';
import { loopback, makeHost, TEST_LINK } from './migrate-harness.ts';

describe('live migration between two hosts', () => {
  it('trap: pre-copy rounds, stop-and-copy, and the domain ends on the destination as the uninterrupted run', async () => {
    const ref = makeHost();
    ref.define({ name: 'g' });
    ref.host.start('g');
    ref.until(() => ref.host.dominfo('g').status !== 'running');
    const end = ref.host.dominfo('g');
    console.log(JSON.stringify(ref.out), end);

    const a = makeHost();
    const b = makeHost();
    a.define({ name: 'g' });
    a.host.start('g');
    a.host.step(1_000_000);
    const { src, dst } = await loopback();
    const landing = b.host.incoming(dst);
    const report = await a.host.migrate('g', src, { link: TEST_LINK });
    expect(await landing).toBe('g');
    console.log(report);
    const gone = a.host.dominfo('g');
    expect([gone.status, gone.stopReason]).toEqual(['shut off', 'migrated']);
    b.until(() => b.host.dominfo('g').status !== 'running');
    const after = b.host.dominfo('g');
    console.log(end, after);
    expect((a.out.g ?? '') + (b.out.g ?? '')).toBe(ref.out.g);
    expect(after.instructions).toBe(end.instructions);
  });
});
