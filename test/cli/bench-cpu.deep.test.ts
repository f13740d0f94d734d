// `bench cpu`'s rows for the software techniques of full virtualization (issue 15): the native
// kernel's lmbench in a trap and in a bt domain under both engines, in the same run (bt's
// translation units compiled by the translator). Shapes and exact simulated figures only; the
// times are the benchmark's. `npm run test:deep`.

import { describe, expect, it } from 'vitest';
import { xenolith } from './run-in-process.ts';

describe('bench cpu --loops kernel-trap,kernel-bt', () => {
  it('a row per mode and engine, both engines with the same instructions and cycles, the translator rows with their cache (bt\'s with its compiled functions)', async () => {
    const run = await xenolith('bench', 'cpu', '--json', '--scale', '0.01', '--loops', 'kernel-trap,kernel-bt');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { cpu: Array<Record<string, unknown>> };
    expect(out.cpu.map((r) => [r.loop, r.engine])).toEqual([
      ['kernel-trap', 'interpreter'],
      ['kernel-trap', 'translator'],
      ['kernel-bt', 'interpreter'],
      ['kernel-bt', 'translator'],
    ]);
    for (const r of out.cpu) {
      // warmed up as the kernel row is: the first of the untimed runs as firstMips
      expect(Object.keys(r)).toEqual(['loop', 'engine', 'mips', 'cpuMips', 'jsMips', 'instructions', 'cycles', ...(r.engine === 'translator' ? ['cache'] : []), 'firstMips']);
      expect(r.firstMips).toBeGreaterThan(0);
      expect(r.jsMips).toBe(null);
      expect(r.mips).toBeGreaterThan(0);
    }
    // the kernel-bt translator row's cache counts bt's compiled functions (chains and straight runs of its units) with the translations
    const btRow = out.cpu.find((r) => r.loop === 'kernel-bt' && r.engine === 'translator')!;
    const cache = btRow.cache as Record<string, number>;
    expect(Object.keys(cache)).toEqual(['translations', 'btFunctions', 'guestBytes', 'sourceChars', 'hostCodeBytes', 'hostBytesPerGuestMiB']);
    expect(cache.btFunctions).toBeGreaterThan(0);
    expect(cache.sourceChars).toBeGreaterThan(cache.guestBytes!);
    expect(Object.keys(out.cpu.find((r) => r.loop === 'kernel-trap' && r.engine === 'translator')!.cache as object)).not.toContain('btFunctions');
    for (const loop of ['kernel-trap', 'kernel-bt']) {
      const [i, t] = out.cpu.filter((r) => r.loop === loop);
      expect([t!.instructions, t!.cycles]).toEqual([i!.instructions, i!.cycles]);
    }
  });
});

describe('bench cpu --loops kernel-trap (text)', () => {
  it("prints the row's warm-up under the table, each engine's first run of the workload and their ratio", async () => {
    const run = await xenolith('bench', 'cpu', '--scale', '0.01', '--loops', 'kernel-trap');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/\nkernel-trap, the warm-up \(the engine's first run of the workload in this process; the medians are of its 4th-6th runs\): interpreter \d+\.\d M instr\/s, translator \d+\.\d M instr\/s \(\d+\.\d\dx\)/);
  });
});
