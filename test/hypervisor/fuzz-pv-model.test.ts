// The model-based PV fuzzer (fuzz-pv-model.ts), a fixed-seed slice for CI: three colluding PV
// domains (on three hosts of four next to a trap, bt or hvm domain) making hypercall sequences and
// running the host's scheduler (on every other pair of hosts with no cycle limit), checked after
// every step; grant copies, a hostile netfront's ring requests and frames from the wire for its
// network back end (page flips among them), and block requests to each domain's back end, among the commands. With the fix
// of issue 9 item 1 reverted (grant mappings outliving their L1's type: page-types.ts no longer
// calls dropGrantMapping), this slice (seed 4) fails at its eleventh host and shrinks to the attack: grant a page, hook a
// table, map the grant into it, hook another table in that slot (the first loses its type with the
// grant mapping still in it).
// `npm run fuzz` runs the same fuzzer at scale.
import { describe, expect, it } from 'vitest';
import { FuzzCounters, addCounters, countersToPlain, runModelFuzz } from './fuzz-pv-model.ts';

describe('pv mode: model-based hypercall sequences by colluding domains', () => {
  it('break no invariant, and the fuzzer counts every hypercall exactly as the hypervisor does', () => {
    const r = runModelFuzz({ seed: 4, runs: 24, maxCommands: 300 });
    expect(r.failure).toBe(null);
    const c = r.counters;
    // the run is deterministic: these are its exact figures
    expect([c.runs, c.steps, c.hypercalls, c.stores, c.grantMaps, c.grantHostMaps]).toEqual([24, 2549, 2605, 190, 2, 2]);
    expect([c.cheapChecks, c.fullChecks, c.hashChecks]).toEqual([2549, 333, 239]);
    // block requests written to the domains' rings; the back end's notifications in (every request's, and others) and out (responses)
    expect([c.blkRequests, c.blkNotifyIn, c.blkNotifyOut]).toEqual([108, 149, 25]);
    // host runs, with a cycle limit and (on 12 of the 24 hosts) with none
    expect([c.hostRuns, c.hostRunsUnlimited]).toEqual([124, 67]);
    // grant copies that went through, and the network back ends under a hostile front end: frames
    // sent, received by grant copy and by page flip (into the hole a front end leaves by giving a
    // frame back before it posts a flip buffer), requests refused by the grant checks
    expect([c.grantCopies, c.netSent, c.netCopied, c.netFlipped, c.netRefused]).toEqual([5, 7, 4, 5, 72]);
    let made = 0;
    let done = 0;
    for (let nr = 0; nr < 64; nr++) {
      made += c.issued[nr]! + c.batched[nr]!;
      done += c.ok[nr]! + c.failed[nr]!;
    }
    expect(done).toBe(made);
    expect(made).toBe(c.hypercalls);
  });

  it('npm run fuzz adds up every counter of its workers (grant copies and the network figures were left out)', () => {
    const c = new FuzzCounters();
    let v = 1;
    for (const [k, x] of Object.entries(c) as [string, unknown][]) {
      if (x instanceof Float64Array) for (let j = 0; j < x.length; j++) x[j] = v++;
      else (c as unknown as Record<string, number>)[k] = v++;
    }
    // what a worker sends: plain numbers and arrays through JSON
    const plain = JSON.parse(JSON.stringify(countersToPlain(c))) as Record<string, number | number[]>;
    expect(Object.keys(plain)).toEqual(['issued', 'batched', 'ok', 'failed', 'stores', 'storesRefused', 'hostRuns', 'hostRunsUnlimited', 'hostCycles', 'grantMaps', 'grantHostMaps', 'grantCopies', 'netSent', 'netCopied', 'netFlipped', 'netRefused', 'blkRequests', 'blkNotifyIn', 'blkNotifyOut', 'cheapChecks', 'fullChecks', 'hashChecks', 'steps', 'runs']);
    const sum = new FuzzCounters();
    addCounters(sum, plain);
    addCounters(sum, c);
    expect(countersToPlain(sum)).toEqual(Object.fromEntries(Object.entries(countersToPlain(c)).map(([k, x]) => [k, Array.isArray(x) ? x.map((n) => 2 * n) : 2 * x])));
    expect([sum.grantCopies, sum.netSent, sum.netRefused, sum.runs]).toEqual([2 * 264, 2 * 265, 2 * 268, 2 * 276]);
  });
});
