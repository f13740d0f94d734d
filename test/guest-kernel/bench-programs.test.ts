// The guest benchmark programs run and report every measurement (numbers are not asserted:
// benchmarks belong to bench/, not to tests).
import { describe, expect, it } from 'vitest';
import { bootKernel } from './harness.ts';

describe('guest benchmark programs', () => {
  it('lmbench reports every latency', () => {
    const { output, result } = bootKernel({ cmdline: 'lmbench all 3' });
    const lines = output.split('\n').filter((l) => l.startsWith('lmbench '));
    expect(lines.map((l) => l.split(':')[0])).toEqual(['null', 'fork', 'exec', 'ctx', 'pipe', 'pagefault', 'sbrk'].map((n) => `lmbench ${n}`));
    for (const l of lines) expect(l).toMatch(/^lmbench \w+: [1-9]\d* cycles\/op \(3 ops\)$/);
    expect(result.status).toBe(0);
  });

  it('nanobench reports the kernel operations through pvops', () => {
    const { output, result } = bootKernel({ cmdline: 'nanobench 20' });
    const lines = output.split('\n').filter((l) => l.startsWith('nanobench '));
    expect(lines.map((l) => l.split(':')[0])).toEqual(['irq-save-restore', 'pte-update', 'address-space-switch', 'syscall'].map((n) => `nanobench ${n}`));
    for (const l of lines) expect(l).toMatch(/^nanobench [\w-]+: [1-9]\d* cycles\/op$/);
    expect(result.status).toBe(0);
  });
});
