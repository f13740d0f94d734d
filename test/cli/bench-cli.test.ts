import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('xenolith bench cpu --json', () => {
  it('prints one object per loop and engine with mips and jsMips figures', () => {
    const tsx = join(process.cwd(), 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const run = spawnSync(process.execPath, [tsx, 'cli/main.ts', 'bench', 'cpu', '--json', '--scale', '0.01'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const rows = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.loop, r.engine])).toEqual([
      ['compute', 'interpreter'],
      ['memory', 'interpreter'],
    ]);
    for (const r of rows) {
      expect(Object.keys(r).sort()).toEqual(['engine', 'jsMips', 'loop', 'mips']);
      expect(r.mips).toBeGreaterThan(0);
      expect(r.jsMips).toBeGreaterThan(0);
    }
  });
});
