// The model-based PV fuzzer (fuzz-pv-model.ts), a fixed-seed slice for CI: three colluding PV
// domains (on three hosts of four next to a trap, bt or hvm domain) making hypercall sequences and
// running the host's scheduler (on every other pair of hosts with no cycle limit), checked after
// every step. With the fix of issue 9 item 1 reverted (grant mappings outliving
// their L1's type), this slice fails and shrinks to the attack: grant read-only, hook a table, map
// the grant into it, unhook and edit it. `npm run fuzz` runs the same fuzzer at scale.
import { describe, expect, it } from 'vitest';
import { runModelFuzz } from './fuzz-pv-model.ts';

describe('pv mode: model-based hypercall sequences by colluding domains', () => {
  it('break no invariant, and the fuzzer counts every hypercall exactly as the hypervisor does', () => {
    const r = runModelFuzz({ seed: 0x9e57, runs: 24, maxCommands: 300 });
    expect(r.failure).toBe(null);
    const c = r.counters;
    // the run is deterministic: these are its exact figures
    expect([c.runs, c.steps, c.hypercalls, c.stores, c.grantMaps, c.grantHostMaps]).toEqual([24, 3000, 3314, 332, 17, 9]);
    expect([c.cheapChecks, c.fullChecks, c.hashChecks]).toEqual([3000, 389, 293]);
    // host runs, with a cycle limit and (on 12 of the 24 hosts) with none
    expect([c.hostRuns, c.hostRunsUnlimited]).toEqual([120, 64]);
    let made = 0;
    let done = 0;
    for (let nr = 0; nr < 64; nr++) {
      made += c.issued[nr]! + c.batched[nr]!;
      done += c.ok[nr]! + c.failed[nr]!;
    }
    expect(done).toBe(made);
    expect(made).toBe(c.hypercalls);
  });
});
