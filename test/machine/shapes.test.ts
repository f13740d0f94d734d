// The hidden classes of the objects compiled code reads stay what they were when the objects were
// built (machine/shapes.ts): a number field that comes to hold a double during a run is a double
// from the start. V8 gives an object built after a run the widened class and leaves one built
// before it, untouched since, with the old one, so the two differ exactly when a run widened a
// field (fixtures/shapes-child.ts checks that in a fresh process). Each object there is read by the
// unit loops or by compiled code, and is widened by its boot without doubleFields (each one seen
// failing so). A widening after functions are optimized throws them away: every chain of bt's
// second boot was compiled again. (The trap virtual CPU's state, the translator's counters and the
// bt cache's host counters widened too in longer boots traced with --trace-generalization, but
// not in these, so they are not listed.)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { doubleFields } from '../../machine/shapes.ts';

const child = fileURLToPath(new URL('./fixtures/shapes-child.ts', import.meta.url));
const limitsChild = fileURLToPath(new URL('./fixtures/translator-limits-child.ts', import.meta.url));
const lookupChild = fileURLToPath(new URL('./fixtures/bt-lookup-child.ts', import.meta.url));

/** The classes whose objects a boot under `mode` left with another hidden class. */
function widenedBy(mode: 'bt' | 'hvm'): string[] {
  const run = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx/esm', child, mode], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`shapes-child ${mode} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[];
}

describe('hidden classes kept through a run (machine/shapes.ts)', () => {
  it('objects built before a bt boot of the kernel have the class of those built after it', () => {
    expect(widenedBy('bt')).toEqual([]);
  });

  it('and through an hvm boot: the CPU and the VMCS, whose exit qualification holds 32-bit addresses', () => {
    expect(widenedBy('hvm')).toEqual([]);
  });

  it("every translator's limits have one hidden class, also past the tenth translator of the process", () => {
    // (built from an object spread, the tenth one got another class: V8 copies a spread
    // differently from then on, and every optimized function that had read the limits - bt's
    // unit loop among them - was thrown away in the middle of that boot)
    const run = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx/esm', limitsChild, '16'], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`translator-limits-child failed: ${run.stderr}`);
    expect(JSON.parse(run.stdout)).toBe(0);
  });

  it("the lookup cost bt's compiled chains charge (UnitChain.lk) is a small integer, not a heap number", () => {
    // (read from the ledger's Float64Array it was a heap number 40.0, and every chain then did the
    // arithmetic on its deadline in floating point: docs/engine.md, "The twenty-eighth round")
    const run = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx/esm', lookupChild], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`bt-lookup-child failed: ${run.stderr}`);
    expect(JSON.parse(run.stdout)).toEqual(['40 small integer']);
  });

  it('doubleFields keeps the values and refuses a name that is not a number field', () => {
    const o = { a: 7, b: -3, s: 'x' };
    doubleFields(o, ['a', 'b']);
    expect(o).toEqual({ a: 7, b: -3, s: 'x' });
    expect(Object.is(o.a, 7)).toBe(true);
    expect(() => doubleFields(o, ['s'])).toThrow('doubleFields: s is not a number field of Object');
    expect(() => doubleFields(o, ['c'])).toThrow('doubleFields: c is not a number field of Object');
  });
});
