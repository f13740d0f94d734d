// The hostile-guest fuzzing of fuzz-trap.test.ts under hvm mode on shadow paging with the caching
// shadow (`--mmu shadow --shadow traced`): the same generator (its kernels turn paging on through
// their own tables and write them at random) and the same invariants (no hypervisor crash, one
// owner per frame, no shadow entry outside the domain's frames, everything given back, the other
// domain's output as alone), the shadow's events reaching the monitor as CR3-load, INVLPG and
// page-fault exits. 12 runs here; 150 in fuzz-hvm-traced.deep.test.ts. The suite runs at slices of
// at least three exit round trips (hvmPairSlices): the cases below, pinned, are why.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HvmMode } from '../../hypervisor/hvm/index.ts';
import { Op, encode } from '../../machine/isa.ts';
import { type Hostile, hvmPairSlices, pairRun, shadowFuzzSuite, tableWritingArb } from './fixtures/hostile.ts';

const traced = () => new HvmMode({ mmu: 'shadow', shadow: 'traced' });
shadowFuzzSuite('hvm mode on shadow paging, traced shadow: a hostile guest next to a well-behaved one', traced, 12, tableWritingArb, hvmPairSlices());

describe('hvm on shadow paging: a liveness limit at slices below what a tick costs the good domain (docs/hypervisor.md)', () => {
  // found at FUZZ_SEED=777, case 230: a neighbour whose I/O exits make a round of the two domains
  // last just under the good domain's timer period
  const livelock = JSON.parse(readFileSync(new URL('./fixtures/hvm-livelock-case.json', import.meta.url), 'utf8')) as Hostile;
  // found at FUZZ_SEED=20261205, case 186, at 15,000 cycles (two exit round trips, the floor
  // then): a neighbour without I/O whose own runs make the round last the timer's period
  const livelock2 = JSON.parse(readFileSync(new URL('./fixtures/hvm-livelock-case-2.json', import.meta.url), 'utf8')) as Hostile;
  const spinner: Hostile = { ...livelock, code: [[encode(Op.JMP), -8]] };
  const good = (h: Hostile, slice: number) => {
    const { good: g } = pairRun(traced(), h, slice);
    return { stop: g.stopReason ?? null, output: g.consoleOutput(), ticks: g.stats.injectedInterrupts };
  };

  it('such a neighbour keeps the good domain in its tick handler; a CPU-bound one does not; at the suite floor it finishes', () => {
    for (const [h, slice] of [[livelock, 5_000], [livelock2, 15_000]] as const) {
      const stuck = good(h, slice);
      // it takes a tick at nearly every other run and never reaches its loop to count three of them
      expect(stuck.stop).toBe(null);
      expect(stuck.output).toMatch(/^good domain\n[0-9a-f]{8}\n$/);
      expect(stuck.ticks).toBeGreaterThan(200);
    }
    const floor = hvmPairSlices()[0]!;
    expect(floor).toBeGreaterThan(15_000);
    for (const [h, slice] of [[spinner, 5_000], [spinner, 15_000], [livelock, floor], [livelock2, floor]] as const) {
      const r = good(h, slice);
      expect(r.stop).toBe('poweroff');
      expect(r.output).toMatch(/three ticks\n$/);
    }
  });
});
