// test/mutation/run.ts's time cap (npm run mutate): a file that is running when the cap passes is
// let finish, since a stopped Stryker run keeps nothing; no file starts after the cap. Fake
// Stryker runs and a fake clock: nothing here runs Stryker or waits.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultLog, resultLogPath, strykerPlugins } from './result-log.mjs';
import { runFiles, tallyLog, type Clock } from './run.ts';

/** A clock the test moves; `at` callbacks fire when it moves past them. */
class FakeClock implements Clock {
  t = 0;
  private pending: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  at(at: number, fn: () => void): () => void {
    const p = { at, fn };
    this.pending.push(p);
    return () => {
      this.pending = this.pending.filter((q) => q !== p);
    };
  }
  advance(to: number): void {
    this.t = to;
    const due = this.pending.filter((p) => p.at <= to);
    this.pending = this.pending.filter((p) => p.at > to);
    for (const p of due) p.fn();
  }
  get waiting(): number {
    return this.pending.length;
  }
}

describe('npm run mutate: the time cap', () => {
  it('lets the file running at the cap finish (its report kept), warns, and starts no other', async () => {
    const clock = new FakeClock();
    const warnings: string[] = [];
    const started: string[] = [];
    // each fake run takes 40 minutes of the fake clock; the cap is at 60
    const out = await runFiles(['a.ts', 'b.ts', 'c.ts'], 60, async (file) => {
      started.push(file);
      clock.advance(clock.t + 40);
      return true;
    }, clock, (m) => warnings.push(m));
    expect(started).toEqual(['a.ts', 'b.ts']);
    expect(out).toEqual({ finished: ['a.ts', 'b.ts'], overran: ['b.ts'], failed: [], notStarted: ['c.ts'] });
    expect(warnings).toEqual([
      'mutate: the time cap passed while b.ts runs; letting it finish so that its results are kept (no other file starts)',
      'mutate: not started (the time cap had passed): c.ts',
    ]);
    expect(clock.waiting).toBe(0);
  });

  it('files that end before the cap: no warning, every cap callback cancelled; a failed run is counted as failed', async () => {
    const clock = new FakeClock();
    const warnings: string[] = [];
    const out = await runFiles(['a.ts', 'b.ts'], 60, async (file) => {
      clock.advance(clock.t + 10);
      return file === 'a.ts';
    }, clock, (m) => warnings.push(m));
    expect(out).toEqual({ finished: ['a.ts'], overran: [], failed: ['b.ts'], notStarted: [] });
    expect(warnings).toEqual([]);
    expect(clock.waiting).toBe(0);
  });

  it('a run ending exactly at the cap starts nothing more', async () => {
    const clock = new FakeClock();
    const warnings: string[] = [];
    const out = await runFiles(['a.ts', 'b.ts'], 60, async () => {
      clock.advance(60);
      return true;
    }, clock, (m) => warnings.push(m));
    expect(out).toEqual({ finished: ['a.ts'], overran: ['a.ts'], failed: [], notStarted: ['b.ts'] });
    expect(warnings).toHaveLength(2);
  });
});

describe('npm run mutate: the result log a stopped run leaves', () => {
  it('result-log.mjs writes one line per tested mutant, and run.ts counts them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolith-mutate-'));
    try {
      const path = join(dir, 'sub', 'events.results.jsonl');
      const log = new ResultLog(path);
      const at = (line: number) => ({ start: { line, column: 3 }, end: { line, column: 9 } });
      log.onMutantTested({ status: 'Killed', fileName: 'hypervisor/pv/events.ts', location: at(10), mutatorName: 'EqualityOperator', replacement: 'p <= 0' });
      log.onMutantTested({ status: 'Survived', fileName: 'hypervisor/pv/events.ts', location: at(12), mutatorName: 'BlockStatement', replacement: '{}' });
      log.onMutantTested({ status: 'Timeout', fileName: 'hypervisor/pv/events.ts', location: at(14), mutatorName: 'ConditionalExpression', replacement: 'true' });
      const text = readFileSync(path, 'utf8');
      expect(text.split('\n')[1]).toBe('{"status":"Survived","file":"hypervisor/pv/events.ts","line":12,"column":3,"mutator":"BlockStatement","replacement":"{}"}');
      expect(tallyLog(text)).toEqual({ killed: 1, timeout: 1, survived: 1, noCoverage: 0 });
      expect(tallyLog('')).toBeNull();
      // a new run of the same file starts a new log
      new ResultLog(path);
      expect(readFileSync(path, 'utf8')).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the log after the mutated file', () => {
    expect(resultLogPath('hypervisor/pv/page-types.ts')).toBe('reports/mutation/page-types.results.jsonl');
    expect(resultLogPath(undefined)).toBe('reports/mutation/all.results.jsonl');
  });

  it('is a Stryker reporter plugin named xenolith-log', () => {
    expect(strykerPlugins.map((p: { kind: string; name: string }) => [p.kind, p.name])).toEqual([['Reporter', 'xenolith-log']]);
  });
});
