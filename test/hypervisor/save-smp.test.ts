// Save and restore of a run on several CPUs: native's machine of two CPUs (a local APIC each, its
// timer's pending expiry a deferred call in the event queue). A run saved at a cycle
// and restored onto a fresh machine ends exactly as the run that went on from the same cycle
// without a save (console output, every CPU's clock, instructions). trap, bt and hvm (per-vCPU
// state, the physical CPUs' clocks and the seeded scheduler in the graph) and more points in
// save-smp.deep.test.ts; trap's two vCPUs through the command in test/cli/run-save.test.ts.
//
// A pv domain of two vCPUs (each vCPU's PvVcpu, its vcpu_info in the shared-info page, its timer,
// runstate and event channels bound to it, all in the graph): saved at cycles drawn by fast-check,
// each save restored, the run ends as the run never stopped - to every physical CPU's clock, the
// idle cycles and the cost ledger (more points and seeds in the deep file; the command in
// test/cli/run-save.deep.test.ts).
import { describe, test } from 'vitest';
import { checkSmpSavePoint, checkSmpSavePoints } from './save-smp-oracle.ts';

describe('a run of two CPUs, saved and restored, ends as the run that went on', () => {
  test('native, two CPUs: at 2,000,000 cycles', () => {
    checkSmpSavePoint('native', 2_000_000);
  });
  test('pv, two vCPUs: saved at a cycle drawn by fast-check and restored, ends as the run never stopped', () => {
    checkSmpSavePoints('pv', 1, 12);
  });
});
