// Live migration in every mode that can be migrated (bench migrate's mechanism: identical to the
// uninterrupted run; pv and trap are in npm test, test/daemon/migrate.test.ts), and the faults that npm test leaves out: the connection dropping at the
// source's end, in each round.
import { describe, expect, it } from 'vitest';
import { attempt, loopback, makeHost, reference, START, TEST_LINK, TEST_SHAPE } from './migrate-harness.ts';
import { runMigrateBench, type MigrateMode } from '../../bench/migrate.ts';

describe('live migration: every mode', () => {
  for (const mode of ['bt', 'hvm', 'native'] as MigrateMode[]) {
    it(`${mode}: identical to the uninterrupted run; the cycles differ by exactly the accounted cost`, async () => {
      const r = await runMigrateBench({ mode, shape: TEST_SHAPE, link: TEST_LINK, startCycles: START });
      expect(r.differences).toEqual([]);
      expect(r.identical).toBe(true);
      expect(r.source).toBe('shut off migrated');
      expect(r.migrated.cycles - r.reference.cycles).toBe(r.cost.cycles);
      expect(r.pagesSent).toBe(r.rounds.reduce((n, x) => n + x.pagesSent, 0) + r.stopAndCopyPages);
      if (mode === 'native') {
        // no hypervisor logs its writes: no rounds, every page in the stop-and-copy
        expect([r.rounds, r.stopReason, r.stopAndCopyPages, r.cost.logDirtyFaults]).toEqual([[], 'no-log-dirty', 1024, 0]);
      } else {
        expect(r.rounds[0]!.pagesSent).toBe(1024);
        expect(r.stopReason).toBe('small-round');
        expect(r.cost.logDirtyFaults).toBeGreaterThan(0);
      }
    });
  }
});

describe('live migration: every mode with two CPUs or vCPUs (the bare writer on CPU 0)', () => {
  for (const mode of ['native', 'trap', 'bt', 'hvm'] as MigrateMode[]) {
    it(`${mode}: identical to the uninterrupted run; the cycles differ by exactly the accounted cost`, async () => {
      const r = await runMigrateBench({ mode, shape: TEST_SHAPE, link: TEST_LINK, startCycles: START, vcpus: 2 });
      expect(r.differences).toEqual([]);
      expect(r.identical).toBe(true);
      expect(r.migrated.cycles - r.reference.cycles).toBe(r.cost.cycles);
    });
  }
});

describe("live migration: the connection drops at the source's end", () => {
  for (const round of [1, 2]) {
    it(`after round ${round}'s acknowledgement: the source runs on unchanged, the destination keeps nothing`, async () => {
      const ref = reference();
      const { a, b, outcome, landed } = await attempt({ srcDropsOn: (m) => m.type === 'round-ok' && m.round === round });
      expect(outcome.ok).toBe(false);
      expect(landed.ok).toBe(false);
      expect(b.host.list()).toEqual([]);
      expect(a.host.dominfo('g').status).toBe('running');
      a.until(() => a.host.dominfo('g').status !== 'running');
      expect([a.host.dominfo('g').instructions, a.out.g]).toEqual([ref.instructions, ref.output]);
    });
  }
});

describe("docs/migration.md's bench migrate figures", () => {
  it('are what bench migrate prints (all but the wall time)', async () => {
    const { readFileSync } = await import('node:fs');
    const { migrateBenchText } = await import('../../bench/migrate.ts');
    const doc = readFileSync(new URL('../../docs/migration.md', import.meta.url), 'utf8');
    const block = /<!-- bench migrate: [^\n]*-->\n```\n\$ npx xenolith bench migrate\n([\s\S]*?)```/.exec(doc);
    expect(block).not.toBeNull();
    const wall = (t: string) => t.replace(/, [\d.]+ ms wall$/m, ', (wall) ms wall');
    expect(wall(block![1]!)).toBe(wall(`${migrateBenchText(await runMigrateBench())}\n`));
  }, 120_000);
});

describe('live migration of a pv domain of several vCPUs', () => {
  it("pv, two vCPUs of the shared machine: moves at its shell prompt with both vCPUs' state (each one's CR3 and base pointer canonicalised), and its shell answers on the destination (nproc: 2)", async () => {
    const a = makeHost();
    const b = makeHost();
    a.define({ name: 'p', mode: 'pv', kernel: undefined, memory: 4, vcpus: 2, on_poweroff: 'destroy' });
    a.host.start('p');
    a.until(() => (a.out.p ?? '').includes('$ '));
    const { src, dst } = await loopback();
    const landing = b.host.incoming(dst);
    const report = await a.host.migrate('p', src, { link: TEST_LINK });
    expect(await landing).toBe('p');
    expect(report.rounds[0]!.pagesSent).toBe(1024);
    expect([a.host.dominfo('p').status, a.host.dominfo('p').stopReason]).toEqual(['shut off', 'migrated']);
    expect([b.host.dominfo('p').status, b.host.dominfo('p').vcpus]).toEqual(['running', 2]);
    b.host.consoleInput('p', Buffer.from('nproc\n'));
    b.until(() => (b.out.p ?? '').endsWith('nproc\n2\n$ '));
    expect((a.out.p ?? '') + b.out.p).toMatch(/smp: 2 CPUs\n[\s\S]*\$ nproc\n2\n\$ $/);
  });
});
