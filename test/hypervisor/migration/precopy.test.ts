// hypervisor/migration/precopy.ts: the link's time in simulated cycles, Xen's stop rules (round
// limit, cap on pages sent, a small round) in their order, and a whole pre-copy run against
// synthetic guests whose dirtying is known exactly.
import { describe, expect, it } from 'vitest';
import { PreCopyPlanner, runPreCopy, transferCycles, XEN_STOP_RULES, type LinkModel } from '../../../hypervisor/migration/precopy.ts';

/** 1 Gbit/s, no latency; at 1,000 MHz a 4 KiB page takes 32,768 cycles */
const GIGABIT: LinkModel = { bytesPerSecond: 125_000_000, latencyMs: 0 };

describe('the link in simulated time', () => {
  it('latency plus bytes over bandwidth, in cycles of the clock, rounded up', () => {
    expect(transferCycles({ bytesPerSecond: 125_000_000, latencyMs: 0.1 }, 4096, 1000)).toBe(100_000 + 32_768);
    expect(transferCycles(GIGABIT, 0, 1000)).toBe(0);
    expect(transferCycles({ bytesPerSecond: 3, latencyMs: 0 }, 1, 1)).toBe(333_334);
  });

  it('a bad link is one line', () => {
    expect(() => transferCycles({ bytesPerSecond: 0, latencyMs: 0 }, 1, 1000)).toThrow('link bandwidth must be a positive number of bytes per second (got 0)');
    expect(() => transferCycles({ bytesPerSecond: 1, latencyMs: -1 }, 1, 1000)).toThrow('link latency must be a number of milliseconds >= 0 (got -1)');
  });
});

describe("Xen's stop rules", () => {
  it('are 29 rounds, 3x the pages, a round under 50 pages', () => {
    expect(XEN_STOP_RULES).toEqual({ maxRounds: 29, maxFactor: 3, smallRoundPages: 50 });
  });

  it('a round that sent under 50 pages ends pre-copy', () => {
    const p = new PreCopyPlanner(1000);
    expect(p.afterRound(1000, 30, 1)).toBe('continue');
    expect(p.afterRound(50, 30, 1)).toBe('continue');
    expect(p.afterRound(49, 5, 1)).toBe('stop-and-copy');
    expect(p.stopReason).toBe('small-round');
    expect(p.totalSent).toBe(1099);
    expect(() => p.afterRound(1, 1, 1)).toThrow('pre-copy has already stopped');
  });

  it('the 29th round is the last, before the other rules are asked', () => {
    const p = new PreCopyPlanner(1000);
    for (let k = 1; k < 29; k++) expect(p.afterRound(60, 60, 1)).toBe('continue');
    expect(p.afterRound(10, 10, 1)).toBe('stop-and-copy');
    expect(p.stopReason).toBe('round-limit');
    expect(p.rounds).toHaveLength(29);
  });

  it('more than 3x the pages sent in all ends pre-copy (exactly 3x does not)', () => {
    const p = new PreCopyPlanner(100);
    expect(p.afterRound(100, 100, 1)).toBe('continue');
    expect(p.afterRound(100, 100, 1)).toBe('continue');
    expect(p.afterRound(100, 100, 1)).toBe('continue');
    expect(p.afterRound(100, 100, 1)).toBe('stop-and-copy');
    expect(p.stopReason).toBe('sent-cap');
  });

  it('refuses a domain of no pages', () => {
    expect(() => new PreCopyPlanner(0)).toThrow('a domain to migrate has a positive whole number of pages (got 0)');
  });
});

describe('a whole pre-copy run', () => {
  it('a guest writing a working set of 40 pages: two rounds, then 40 pages and the state while paused', () => {
    const hot = Array.from({ length: 40 }, (_, k) => 100 + k);
    const asked: number[] = [];
    const r = runPreCopy({ pages: 2048, link: GIGABIT, clockMHz: 1000, stateBytes: 8192, runGuest: (c) => (asked.push(c), hot) });
    expect(asked).toEqual([2048 * 32_768, 40 * 32_768]);
    expect(r.rounds).toEqual([
      { round: 1, pagesSent: 2048, pagesDirtied: 40, cycles: 2048 * 32_768 },
      { round: 2, pagesSent: 40, pagesDirtied: 40, cycles: 40 * 32_768 },
    ]);
    expect(r.stopReason).toBe('small-round');
    expect(r.stopAndCopyPages).toBe(40);
    expect(r.downtimeCycles).toBe((40 * 4096 + 8192) * 8);
    expect(r.pagesSent).toBe(2048 + 40 + 40);
  });

  it('a guest dirtying faster than the link sends: stopped by the cap on pages sent', () => {
    // one page dirtied per 10,000 cycles, any page: every round dirties all 1,000 again
    const r = runPreCopy({ pages: 1000, link: GIGABIT, clockMHz: 1000, stateBytes: 0, runGuest: (c) => Array.from({ length: Math.min(1000, Math.floor(c / 10_000)) }, (_, k) => k) });
    expect(r.rounds.map((x) => x.pagesSent)).toEqual([1000, 1000, 1000, 1000]);
    expect(r.stopReason).toBe('sent-cap');
    expect(r.stopAndCopyPages).toBe(1000);
    expect(r.pagesSent).toBe(5000);
  });
});
