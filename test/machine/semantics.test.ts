// The one definition (machine/semantics.ts): the interpreter's generated cases in machine/cpu.ts
// are exactly the generator's output, and every opcode the fast loop handles is defined there.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SEMANTICS, applyRegions, generatedRegions } from '../../machine/semantics.ts';

const cpuSource = readFileSync(new URL('../../machine/cpu.ts', import.meta.url), 'utf8');

describe('machine/semantics.ts generates the interpreter', () => {
  it('machine/cpu.ts holds the generated regions as generated (run npm run gen:interp after changing semantics.ts)', () => {
    expect(applyRegions(cpuSource) === cpuSource).toBe(true);
  });

  it('each defined instruction has exactly one case in each path, and the fast loop has no hand-written case besides', () => {
    const regions = generatedRegions();
    for (const [name] of SEMANTICS) {
      expect(regions['fast-cases']!.split(`case Handler.${name}:`).length - 1, name).toBe(1);
      expect(regions['step-cases']!.split(`case Handler.${name}:`).length - 1, name).toBe(1);
    }
    const fastLoop = cpuSource.slice(cpuSource.indexOf('switch (decode[w & 0xff])'), cpuSource.indexOf('break loop; // everything else'));
    expect(fastLoop.match(/case Handler\.\w+:/g)!.length).toBe(SEMANTICS.length);
    expect(SEMANTICS.length).toBe(49);
  });

  it('a missing region is a clear error', () => {
    expect(() => applyRegions('no markers')).toThrow("machine/cpu.ts: no '@generated fast-cases' region");
  });
});
