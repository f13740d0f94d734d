// `compare --jobs N` (bench/compare-parallel.ts) with scripted guests in place of worker threads:
// whatever order the untimed runs finish in, the report is the serial run's, and the warm-ups and
// the timed runs still go one at a time, after every other untimed run. (The worker pool itself,
// with real guests, is compared with a serial run in compare-parallel.deep.test.ts.)
import { describe, expect, it } from 'vitest';
import { runCompare, type CompareReport } from '../../bench/compare.ts';
import { runCompareParallel, type CompareExecutor } from '../../bench/compare-parallel.ts';
import { ZERO_COUNTERS, type GuestRun, type ModeName, type ModeTimeline, type Runner, type RunSpec } from '../../bench/runners.ts';

const SUITES: Record<string, string> = {
  native: 'PASS getpid\nPASS critical-rdcpl (observed 0)\n',
  trap: 'PASS getpid\nFAIL critical-rdcpl: observed (got 1)\n',
  pv: 'PASS getpid\nPASS critical-rdcpl (observed 0)\n',
};

/** A guest whose output and cycles depend on its mode and command line only. */
function scripted(mode: ModeName): Runner {
  return (spec: RunSpec): GuestRun => {
    const figure = mode.length * 100 + spec.cmdline.length;
    const console =
      spec.cmdline === 'usertests' ? SUITES[mode]! : spec.cmdline === 'lmbench all' ? `lmbench null: ${figure} cycles/op\n` : spec.cmdline.startsWith('netbench') ? `netbench rtt-64: ${figure} cycles\n` : `nanobench syscall: ${figure} cycles/op\n`;
    const bridge = spec.bridge ? { bridge: { switch: { forwarded: figure, flooded: 1, dropped: 0, late: 0 }, peerConsole: 'udpecho: echoed 9 datagrams\n', peerStopped: 'poweroff' } } : {};
    return { mode, console, stopped: 'poweroff', status: 0, cycles: figure * 7, instructions: figure, wallMs: 1, counters: ZERO_COUNTERS, ...bridge };
  };
}

function timeline(mode: ModeName): ModeTimeline | null {
  return mode === 'native' ? null : { mode, cmdline: 'true', cycles: 100, bins: 1, records: mode.length, dropped: 0, counts: {} as ModeTimeline['counts'] };
}

const MODES: ModeName[] = ['native', 'trap', 'pv'];

/** Without the date and the wall times: what must be identical. */
function simulated(r: CompareReport): unknown {
  return { ...r, meta: { ...r.meta, date: '' }, summaries: r.summaries.map((s) => ({ ...s, lmbench: { ...s.lmbench, wallMs: [], wallMedianMs: 0 } })) };
}

describe('compare --jobs', () => {
  it('the report is the serial run\'s whatever order the runs finish in; timed runs go one at a time, after all the others', async () => {
    const runners = Object.fromEntries(MODES.map((m) => [m, scripted(m)])) as Record<ModeName, Runner>;
    const serial = runCompare({ modes: MODES, profile: 'p4-2003', runs: 2, maxCycles: 1, runners, timeline });
    let running = 0;
    /** per task as it starts: what it runs, and how many tasks run then (itself included) */
    const starts: Array<[string, number]> = [];
    const executor: CompareExecutor = {
      run: async (task) => {
        running++;
        starts.push([task.kind === 'run' ? `${task.mode}: ${task.spec.cmdline}` : `${task.mode}: timeline`, running]);
        // later tasks finish first: the completion order is the reverse of the submission order
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 20 - starts.length)));
        running--;
        return task.kind === 'timeline' ? timeline(task.mode) : runners[task.mode](task.spec);
      },
      close: async () => {},
    };
    const progress: string[] = [];
    const parallel = await runCompareParallel({ modes: MODES, profile: 'p4-2003', runs: 2, maxCycles: 1, onProgress: (_d, _t, what) => progress.push(what) }, 4, executor);
    expect(simulated(parallel)).toEqual(simulated(serial));
    expect(serial.unexplained).toEqual([]);
    expect(serial.lmbench[0]!.values).toEqual({ native: 611, trap: 411, pv: 211 });
    // the untimed runs but the warm-ups (2 per mode, netbench for each against the simulated peer
    // and between two domains) and the timelines overlapped; then the three warm-ups and the six
    // timed runs, each alone, in the serial order (so the pool hands them all to one worker)
    expect(starts.length).toBe(3 * 3 + 3 + 3 + 3 + 6);
    expect(Math.max(...starts.slice(0, -9).map(([, n]) => n))).toBeGreaterThan(1);
    expect(starts.slice(-9)).toEqual(['native', 'trap', 'pv', 'native', 'trap', 'pv', 'native', 'trap', 'pv'].map((m) => [`${m}: lmbench all`, 1]));
    expect(progress.slice(-9)).toEqual([
      ...['native', 'trap', 'pv'].map((m) => `${m}: lmbench all (warm-up)`),
      ...['native', 'trap', 'pv', 'native', 'trap', 'pv'].map((m, k) => `${m}: lmbench all (${k < 3 ? 1 : 2}/2)`),
    ]);
  });

  it('refuses scripted runners (they cannot cross into worker threads)', async () => {
    const executor: CompareExecutor = { run: async () => null, close: async () => {} };
    await expect(runCompareParallel({ modes: ['native'], profile: 'p4-2003', runs: 1, maxCycles: 1, runners: { native: scripted('native') } }, 2, executor)).rejects.toThrow('compare --jobs: scripted runners cannot run in worker threads');
  });
});
