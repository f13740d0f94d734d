// The whole `xenolith demo` (npm start), in-process: the pv session, then the five-mode comparison.
// Deep suite: the comparison is the same runCompare test/bench/compare.test.ts runs (about 40 s on
// a loaded 2-core machine); npm test checks the pv session (demo-cli.test.ts) and the comparison
// (compare.test.ts) once each.
import { describe, expect, it } from 'vitest';
import { DEMO_SESSION } from '../../cli/commands/demo.ts';
import { xenolith } from './run-in-process.ts';

describe('xenolith demo (npm start), whole', () => {
  it('boots the pv guest, runs the session at its shell, then prints the five-mode comparison', async () => {
    const r = await xenolith('demo');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).toContain('xenolith kernel 0.1 (pv) booting\n');
    for (const command of DEMO_SESSION) expect(out).toContain(`$ ${command}\n`);
    expect(out).toContain('hello from a paravirtualized guest\n');
    expect(out).toContain('usertests: 4 passed, 0 failed\n');
    expect(out).toMatch(/^lmbench null: \d+ cycles\/op \(200 ops\)$/m);
    expect(out).toContain('== the domain stopped: poweroff, status 0;');
    expect(out).toMatch(/^critical-sidt +PASS +FAIL +PASS +PASS +PASS +trap: SIDT returns the real IDT base/m);
    expect(out).toContain('Every difference from native is explained.\n');
    // wall time as compare reports it by default: a median of three runs after the warm-up (one
    // run would show mostly the JavaScript engine's warm-up for bt)
    expect(out).toMatch(/^wall time, ms \(median of 3\) /m);
  });
});
