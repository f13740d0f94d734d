// How `compare` judges the equivalence matrix and checks determinism, with scripted runners in
// place of guests (bench/compare.ts's `runners` option): a critical-instruction test's difference
// from native is explained only by the value it observed, and the benchmark program runs twice
// even with --runs 1.
import { describe, expect, it } from 'vitest';
import { runCompare, parseObserved, type CompareReport } from '../../bench/compare.ts';
import { ZERO_COUNTERS, type GuestRun, type ModeName, type Runner, type RunSpec } from '../../bench/runners.ts';
import { renderText } from '../../bench/compare-render.ts';
import { PV_MAX_VCPUS } from '../../hypervisor/modes.ts';
import { SharedInfo } from '../../hypercalls/structs.ts';

/**
 * A runner that prints `suite` for usertests and fixed figures for the benchmarks; `cycles(k)` gives
 * the simulated cycles of its k-th lmbench run. Records every command line it ran.
 */
function scripted(mode: ModeName, suite: string, ran: string[], cycles: (k: number) => number = () => 1000): Runner {
  let lm = 0;
  return (spec: RunSpec): GuestRun => {
    ran.push(`${mode}: ${spec.cmdline}`);
    const console = spec.cmdline === 'usertests' ? suite : spec.cmdline === 'lmbench all' ? 'lmbench null: 100 cycles/op\n' : 'nanobench syscall: 50 cycles/op\n';
    const bridge = spec.bridge ? { bridge: { switch: { forwarded: 27, flooded: 1, dropped: 0, late: 0 }, peerConsole: '', peerStopped: 'poweroff' } } : {};
    return { mode, console, stopped: 'poweroff', status: 0, cycles: spec.cmdline === 'lmbench all' ? cycles(lm++) : 1000, instructions: 10, wallMs: 1, counters: ZERO_COUNTERS, ...bridge };
  };
}

const NATIVE_SUITE = 'PASS getpid\nPASS critical-rdcpl (observed 0)\nPASS critical-sidt (observed 1)\n';

function judge(trapSuite: string, extra: Partial<Record<ModeName, string>> = {}): CompareReport {
  const ran: string[] = [];
  const modes: ModeName[] = ['native', 'trap', ...(Object.keys(extra) as ModeName[])];
  const runners: Partial<Record<ModeName, Runner>> = { native: scripted('native', NATIVE_SUITE, ran), trap: scripted('trap', trapSuite, ran) };
  for (const [m, suite] of Object.entries(extra)) runners[m as ModeName] = scripted(m as ModeName, suite, ran);
  return runCompare({ modes, profile: 'p4-2003', runs: 2, maxCycles: 1, runners });
}

describe('compare judges a critical test by what it observed, not by its name', () => {
  it('reads the observed value from PASS and FAIL lines', () => {
    expect([...parseObserved('PASS critical-rdcpl (observed 0)\nFAIL critical-sidt: observed (got 0)\nFAIL critical-popf: this architecture has no probe for it (got -38)\nPASS getpid\n')]).toEqual([
      ['critical-rdcpl', 0],
      ['critical-sidt', 0],
    ]);
  });

  it('explains trap mode\'s documented observations (ring 1, the hypervisor\'s IDT)', () => {
    const r = judge('PASS getpid\nFAIL critical-rdcpl: observed (got 1)\nFAIL critical-sidt: observed (got 0)\n');
    expect(r.unexplained).toEqual([]);
    expect(r.matrix.find((row) => row.test === 'critical-rdcpl')).toMatchObject({ observed: { native: 0, trap: 1 }, notes: { trap: expect.stringMatching(/^RDCPL is sensitive but not privileged/) } });
  });

  it('a critical test that fails with another value is unexplained', () => {
    const r = judge('PASS getpid\nFAIL critical-rdcpl: observed (got 2)\nFAIL critical-sidt: observed (got 0)\n');
    expect(r.unexplained).toEqual(['trap: guest test critical-rdcpl is FAIL, observed 2 (native: PASS; documented for trap: observed 1)']);
    expect(r.matrix.find((row) => row.test === 'critical-rdcpl')!.notes.trap).toBe('UNEXPECTED: a bug in this mode');
  });

  it('a critical test that fails without an observation (no probe) is unexplained', () => {
    const r = judge('PASS getpid\nFAIL critical-rdcpl: observed (got 1)\nFAIL critical-sidt: this architecture has no probe for it (got -38)\n');
    expect(r.unexplained).toEqual(['trap: guest test critical-sidt is FAIL (native: PASS; documented for trap: observed 0)']);
  });

  it('trap\'s documented observation under another mode is unexplained there', () => {
    const trap = 'PASS getpid\nFAIL critical-rdcpl: observed (got 1)\nFAIL critical-sidt: observed (got 0)\n';
    const r = judge(trap, { bt: 'PASS getpid\nFAIL critical-rdcpl: observed (got 1)\nPASS critical-sidt (observed 1)\n' });
    expect(r.unexplained).toEqual(['bt: guest test critical-rdcpl is FAIL, observed 1 (native: PASS)']);
  });
});

describe('compare checks determinism even with --runs 1', () => {
  it('runs the benchmark program twice (an untimed warm-up and a timed run) and reports simulated results that differ between the runs', () => {
    const ran: string[] = [];
    const progress: string[] = [];
    const r = runCompare({
      modes: ['native'],
      profile: 'p4-2003',
      runs: 1,
      maxCycles: 1,
      runners: { native: scripted('native', NATIVE_SUITE, ran, (k) => 1000 + k) },
      onProgress: (done, total, what) => progress.push(`${done}/${total} ${what}`),
    });
    // (and netbench twice, for the network rows - against the simulated peer, and domain to domain - before the warm-up)
    expect(ran).toEqual(['native: usertests', 'native: nanobench', 'native: netbench 8 1472', 'native: netbench 8 1472 10.0.2.16', 'native: lmbench all', 'native: lmbench all']);
    expect(progress).toEqual([
      '1/6 native: usertests',
      '2/6 native: nanobench',
      '3/6 native: netbench 8 1472',
      '4/6 native: netbench 8 1472 10.0.2.16 (two domains on a bridge)',
      '5/6 native: lmbench all (warm-up)',
      '6/6 native: lmbench all (1/1)',
    ]);
    expect(r.unexplained).toEqual(['native: lmbench gave different simulated results from run to run (simulated time must be deterministic)']);
    expect(r.summaries[0]!.lmbench.wallMs).toHaveLength(1); // the untimed warm-up is the determinism reference
  });

  it('identical runs pass the check', () => {
    const ran: string[] = [];
    const r = runCompare({ modes: ['native'], profile: 'p4-2003', runs: 1, maxCycles: 1, runners: { native: scripted('native', NATIVE_SUITE, ran) } });
    expect(r.unexplained).toEqual([]);
    expect(ran.filter((c) => c === 'native: lmbench all')).toHaveLength(2);
  });
});

describe('the network rows', () => {
  it('run netbench with the simulated peer and between two domains on a bridge for every mode; a netbench that fails is unexplained', () => {
    const specs: RunSpec[] = [];
    const runner = (mode: ModeName, netConsole: string, status: number): Runner => (spec) => {
      if (spec.cmdline.startsWith('netbench')) specs.push(spec);
      const run = scripted(mode, NATIVE_SUITE, [])(spec);
      return spec.cmdline.startsWith('netbench') ? { ...run, console: netConsole, status } : run;
    };
    const ok = 'netbench: udp round trip (64 bytes, 8 times): 10 us\nnetbench: udp send (8 x 1472 bytes): 97 us, 121402 KB/s\n';
    const r = runCompare({
      modes: ['native', 'hvm', 'pv'],
      profile: 'p4-2003',
      runs: 1,
      maxCycles: 1,
      runners: { native: runner('native', ok, 0), hvm: runner('hvm', 'netbench: recvfrom: error -11\n', 1), pv: runner('pv', ok, 0) },
    });
    expect(specs.map((s) => [s.cmdline, s.net ?? false, s.bridge ?? false])).toEqual([
      ...['native', 'hvm', 'pv'].map(() => ['netbench 8 1472', true, false]),
      ...['native', 'hvm', 'pv'].map(() => ['netbench 8 1472 10.0.2.16', false, true]),
    ]);
    expect(r.network).toEqual([
      { name: 'udp round trip, 64 bytes (us)', unit: 'us', values: { native: 10, hvm: null, pv: 10 } },
      { name: 'udp send, 8 x 1472 bytes (us)', unit: 'us', values: { native: 97, hvm: null, pv: 97 } },
      { name: 'udp send throughput (KB/s)', unit: 'KB/s', values: { native: 121402, hvm: null, pv: 121402 } },
      { name: 'domain to domain: udp round trip, 64 bytes (us)', unit: 'us', values: { native: 10, hvm: null, pv: 10 } },
      { name: 'domain to domain: udp send, 8 x 1472 bytes (us)', unit: 'us', values: { native: 97, hvm: null, pv: 97 } },
      { name: 'domain to domain: udp send throughput (KB/s)', unit: 'KB/s', values: { native: 121402, hvm: null, pv: 121402 } },
    ]);
    expect(r.networkNotes).toEqual({});
    expect(r.unexplained).toEqual(['hvm: netbench failed (poweroff, status 1)', 'hvm: netbench between two domains failed (poweroff, status 1; the peer: poweroff)']);
    expect(r.summaries.map((x) => x.bridged?.forwarded)).toEqual([27, 27, 27]);
  });
});

describe('compare --smp: the suite again on several CPUs, judged against native on as many', () => {
  /** A runner whose suite depends on the CPUs it was given (spec.cpus); records what it ran. */
  function bySmp(mode: ModeName, one: string, many: string, ran: string[]): Runner {
    const inner = scripted(mode, one, []);
    return (spec: RunSpec): GuestRun => {
      ran.push(`${mode}: ${spec.cmdline}${spec.cpus !== undefined ? ` cpus ${spec.cpus}` : ''}`);
      const r = inner(spec);
      return spec.cpus !== undefined ? { ...r, console: many } : r;
    };
  }
  const ONE = 'PASS getpid\nPASS smp-parallel\n';

  it('runs usertests with N CPUs in native, trap, bt, hvm and pv; smp-parallel\'s timing is explained, any other difference is not', () => {
    const ran: string[] = [];
    const runners: Partial<Record<ModeName, Runner>> = {
      native: bySmp('native', ONE, 'PASS getpid\nPASS smp-parallel\n', ran),
      hvm: bySmp('hvm', ONE, 'PASS getpid\nFAIL smp-parallel: two at once took 1.5x one or more (tenths) (got 19)\n', ran),
      bt: bySmp('bt', ONE, 'FAIL getpid: wrong pid (got 7)\nPASS smp-parallel\n', ran),
      pv: bySmp('pv', ONE, 'PASS getpid\nFAIL smp-parallel: two at once took 1.5x one or more (tenths) (got 20)\n', ran),
    };
    const r = runCompare({ modes: ['native', 'bt', 'hvm', 'pv'], profile: 'p4-2003', runs: 1, maxCycles: 1, runners, smp: 2 });
    expect(ran.filter((x) => x.includes('cpus'))).toEqual(['native: usertests cpus 2', 'bt: usertests cpus 2', 'hvm: usertests cpus 2', 'pv: usertests cpus 2']);
    expect(r.smp!.cpus).toBe(2);
    expect(r.smp!.modes).toEqual(['native', 'bt', 'hvm', 'pv']);
    expect(r.smp!.matrix.map((row) => [row.test, row.results])).toEqual([
      ['getpid', { native: 'PASS', bt: 'FAIL', hvm: 'PASS', pv: 'PASS' }],
      ['smp-parallel', { native: 'PASS', bt: 'PASS', hvm: 'FAIL', pv: 'FAIL' }],
    ]);
    expect(r.smp!.matrix[1]!.notes.pv).toMatch(/^a timing assertion inside the guest/);
    expect(r.smp!.matrix[1]!.notes.hvm).toMatch(/^a timing assertion inside the guest/);
    expect(r.unexplained).toEqual(['bt: guest test getpid on 2 CPUs is FAIL (native: PASS)']);
    // the one-CPU matrix is the one-CPU runs'
    expect(r.matrix.map((row) => row.results.hvm)).toEqual(['PASS', 'PASS']);
    expect(renderText(r)).toContain('Equivalence matrix on 2 CPUs (usertests; native\'s 2 CPUs are the reference; bt, hvm, pv: 2 vCPUs, seed 1)');
  });

  it('--ple: only hvm\'s runs on several vCPUs get pause-loop exiting; the title says so', () => {
    const ran: string[] = [];
    const ple = (mode: ModeName): Runner => {
      const inner = bySmp(mode, ONE, ONE, ran);
      return (spec: RunSpec): GuestRun => {
        if (spec.ple) ran.push(`${mode}: ple`);
        return inner(spec);
      };
    };
    const runners: Partial<Record<ModeName, Runner>> = { native: ple('native'), trap: ple('trap'), hvm: ple('hvm') };
    const r = runCompare({ modes: ['native', 'trap', 'hvm'], profile: 'p4-2003', runs: 1, maxCycles: 1, runners, smp: 2, ple: true });
    expect(ran.filter((x) => x.includes('cpus') || x.endsWith('ple'))).toEqual(['native: usertests cpus 2', 'trap: usertests cpus 2', 'hvm: ple', 'hvm: usertests cpus 2']);
    expect(r.smp!.ple).toBe(true);
    expect(renderText(r)).toContain("Equivalence matrix on 2 CPUs (usertests; native's 2 CPUs are the reference; trap, hvm: 2 vCPUs, seed 1; hvm with pause-loop exiting)");
  });

  it('leaves pv out with more CPUs than a pv domain has vCPUs (4)', () => {
    const ran: string[] = [];
    const runners: Partial<Record<ModeName, Runner>> = {
      native: bySmp('native', ONE, ONE, ran),
      pv: bySmp('pv', ONE, ONE, ran),
    };
    const r = runCompare({ modes: ['native', 'pv'], profile: 'p4-2003', runs: 1, maxCycles: 1, runners, smp: 5 });
    expect(ran.filter((x) => x.includes('cpus'))).toEqual(['native: usertests cpus 5']);
    expect(r.smp!.modes).toEqual(['native']);
    expect(PV_MAX_VCPUS).toBe(SharedInfo.MAX_VCPUS);
  });
});
