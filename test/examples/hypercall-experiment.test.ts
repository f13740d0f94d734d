// The hypercall experiment (examples/hypercall-experiment, walked through in docs/hypercalls.md):
// a new hypercall registered in the EXPERIMENT range, called by a PV guest, answers the same
// checksum the guest computes, is refused for bad arguments, and shows up in the statistics.
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../examples/hypercall-experiment/run.ts';

describe('examples/hypercall-experiment', () => {
  const r = runExperiment();

  it('agrees with the guest on every size and reports cycles both ways', () => {
    expect(r.status).toBe(0);
    expect(r.console).not.toContain('MISMATCH');
    expect(r.rows.map(([bytes]) => bytes)).toEqual([16, 64, 256, 1024, 4096, 16384]);
    for (const [, guest, hyper] of r.rows) {
      expect(guest).toBeGreaterThan(0);
      expect(hyper).toBeGreaterThan(0);
    }
    // a hypercall costs a fixed entry and exit, so small sizes are cheaper in the guest
    expect(r.rows[0]![1]).toBeLessThan(r.rows[0]![2]);
  });

  it('refuses an odd size (EINVAL) and memory the guest does not have (EFAULT)', () => {
    expect(r.console).toContain('odd size: 22, unmapped: 14 (negated error codes)\n');
  });

  it('appears in the --stats report under its own name, with its calls and failures', () => {
    expect(r.stats).toMatch(/^ {2}40 checksum {17}8 +\d+ +\d+ +2 +0$/m);
  });

  it('is deterministic', () => {
    expect(runExperiment().console).toBe(r.console);
  });
});
