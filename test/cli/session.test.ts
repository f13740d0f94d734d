// cli/session.ts's driver: which end it reports (the guest stopped, --max-cycles, --timeout, the
// user left), and the slices it asks for, against a scripted session (no guest: exact numbers).
import { describe, expect, it } from 'vitest';
import { drive, type GuestSession } from '../../cli/session.ts';
import { exitWith } from '../../cli/commands/run.ts';

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

describe('how run reports the end', () => {
  /** exitWith's stderr and exit status for `ended`. */
  function report(ended: Parameters<typeof exitWith>[0]): { stderr: string; status: number } {
    const err: string[] = [];
    const write = process.stderr.write;
    const before = process.exitCode;
    process.stderr.write = ((chunk: string) => {
      err.push(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      exitWith(ended, fake(0), { maxCycles: 5, timeoutS: 2 }, []);
      return { stderr: err.join(''), status: Number(process.exitCode) };
    } finally {
      process.stderr.write = write;
      process.exitCode = before;
    }
  }

  it('Ctrl-] says so and exits 129; each limit names itself and its status; a powered-off guest gives its own status', () => {
    expect(report('left')).toEqual({ stderr: '\n[xenolith: left the console with Ctrl-]; the guest was still running]\n', status: 129 });
    expect(report('max-cycles')).toEqual({ stderr: 'xenolith: stopped by --max-cycles: the guest was still running after 5 simulated cycles (exit status 124)\n', status: 124 });
    expect(report('timeout')).toEqual({ stderr: 'xenolith: stopped by --timeout: the guest was still running after 2 s of wall-clock time (exit status 123)\n', status: 123 });
    expect(report('guest')).toEqual({ stderr: '', status: 7 });
  });
});
