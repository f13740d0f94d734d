// Save and restore of a run on several CPUs: native's machine of two CPUs (a local APIC each, its
// timer's pending expiry a deferred call in the event queue). A run saved at a cycle
// and restored onto a fresh machine ends exactly as the run that went on from the same cycle
// without a save (console output, every CPU's clock, instructions). trap, bt and hvm (per-vCPU
// state, the physical CPUs' clocks and the seeded scheduler in the graph) and more points in
// save-smp.deep.test.ts; trap's two vCPUs through the command in test/cli/run-save.test.ts.
import { describe, test } from 'vitest';
import { checkSmpSavePoint } from './save-smp-oracle.ts';

describe('a run of two CPUs, saved and restored, ends as the run that went on', () => {
  test('native, two CPUs: at 2,000,000 cycles', () => {
    checkSmpSavePoint('native', 2_000_000);
  });
});
