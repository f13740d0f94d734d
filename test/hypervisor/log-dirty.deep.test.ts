// The log-dirty oracle over many random workloads in every hypervisor mode (log-dirty.test.ts runs
// one seed in two modes): between two peeks at random cycles, every frame whose bytes changed is
// reported dirty, and the guest's output is the same as without log-dirty.
import { describe, expect, it } from 'vitest';
import { runPlain, runWithLogDirty, type OracleMode } from './log-dirty-oracle.ts';

const MODES: OracleMode[] = ['trap', 'bt', 'hvm-shadow', 'hvm-ept', 'pv'];
const SEEDS = [1, 2, 3, 4, 5, 6, 8, 9];

describe('log-dirty oracle, many workloads', () => {
  for (const mode of MODES) {
    it(`${mode}: ${SEEDS.length} random workloads, no changed frame unreported`, () => {
      for (const seed of SEEDS) {
        const run = runWithLogDirty(mode, seed);
        expect({ seed, stopped: run.stopped }).toEqual({ seed, stopped: true });
        expect({ seed, missed: run.missed.flat() }).toEqual({ seed, missed: [] });
        expect(run.ledgerFaults).toBe(run.faults);
        expect({ seed, output: run.output }).toEqual({ seed, output: runPlain(mode, seed).output });
      }
    });
  }
});
