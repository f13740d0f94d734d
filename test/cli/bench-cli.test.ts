import { describe, expect, it } from 'vitest';
import { xenolith } from './run-in-process.ts';

describe('xenolith bench --json', () => {
  it('bench cpu prints the rows under "cpu", the same shape bench all uses: loop, engine, mips, jsMips, instructions, cycles', async () => {
    const run = await xenolith('bench', 'cpu', '--json', '--scale', '0.01');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { cpu: Array<Record<string, unknown>> };
    expect(Object.keys(out)).toEqual(['cpu']);
    expect(out.cpu.map((r) => [r.loop, r.engine])).toEqual([
      ['compute', 'interpreter'],
      ['memory', 'interpreter'],
      ['kernel', 'interpreter'],
    ]);
    for (const r of out.cpu) {
      expect(Object.keys(r)).toEqual(['loop', 'engine', 'mips', 'jsMips', 'instructions', 'cycles']);
      expect(r.mips).toBeGreaterThan(0);
      // the kernel-heavy row (lmbench under the native kernel) has no plain-JavaScript twin
      if (r.loop === 'kernel') expect(r.jsMips).toBe(null);
      else expect(r.jsMips).toBeGreaterThan(0);
      expect(Number.isInteger(r.instructions) && Number.isInteger(r.cycles)).toBe(true);
    }
  });
});
