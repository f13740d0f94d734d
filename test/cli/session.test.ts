// cli/session.ts's driver: which end it reports (the guest stopped, --max-cycles, --timeout, the
// user left), and the slices it asks for, against a scripted session (no guest: exact numbers).
import { describe, expect, it } from 'vitest';
import { drive, type GuestSession } from '../../cli/session.ts';

/** A session whose guest stops after `stopAt` cycles (Infinity: never); records the slices asked for. */
function fake(stopAt: number): GuestSession & { slices: number[]; fed: number[] } {
  let used = 0;
  const slices: number[] = [];
  const fed: number[] = [];
  return {
    slices,
    fed,
    cyclesPerMs: 1000,
    run(max) {
      slices.push(max);
      const n = Math.min(max, stopAt - used);
      used += n;
      return { stopped: used >= stopAt, cycles: n, idleCycles: 0 };
    },
    feed: (b) => fed.push(...b),
    stop: () => {},
    end: () => ({ reason: 'poweroff', status: 7 }),
  };
}

describe('the run driver', () => {
  it('runs batch slices of 20M cycles until the guest stops', async () => {
    const s = fake(45_000_000);
    expect(await drive(s, { maxCycles: 1e11, timeoutMs: Infinity })).toBe('guest');
    expect(s.slices).toEqual([20_000_000, 20_000_000, 20_000_000]);
  });

  it('stops at --max-cycles exactly, the last slice cut to what is left', async () => {
    const s = fake(Infinity);
    expect(await drive(s, { maxCycles: 50_000_000, timeoutMs: Infinity })).toBe('max-cycles');
    expect(s.slices).toEqual([20_000_000, 20_000_000, 10_000_000]);
  });

  it('stops at --timeout after the slice that crossed it', async () => {
    const s = fake(Infinity);
    expect(await drive(s, { maxCycles: 1e11, timeoutMs: 0 })).toBe('timeout');
    expect(s.slices).toEqual([20_000_000]);
  });

  it('leaves when asked (Ctrl-]), interactive slices being 10 ms of simulated time', async () => {
    const s = fake(Infinity);
    let asked = 0;
    expect(await drive(s, { maxCycles: 1e11, timeoutMs: Infinity, interactive: true, left: () => ++asked > 5 })).toBe('left');
    expect(s.slices).toEqual([10_000, 10_000, 10_000]);
  });
});
