// The model-based PV fuzzer, a longer fixed-seed run (npm run test:deep; not in npm test).
import { describe, expect, it } from 'vitest';
import { formatReport, runModelFuzz } from './fuzz-pv-model.ts';

describe('pv mode: model-based hypercall sequences, deep', () => {
  it('400 hosts of up to 1,000 commands break no invariant', () => {
    const r = runModelFuzz({ seed: 0x5eed, runs: 400, maxCommands: 1000 });
    if (r.failure !== null) console.log(formatReport(r, String));
    expect(r.failure).toBe(null);
    expect(r.counters.runs).toBe(400);
  }, 600_000);
});
