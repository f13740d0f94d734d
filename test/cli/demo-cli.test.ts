import { describe, expect, it } from 'vitest';
import { DEMO_SESSION } from '../../cli/commands/demo.ts';
import { xenolith } from './run-in-process.ts';

describe('xenolith demo (npm start)', () => {
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
  });

  it('--bare boots the bare-metal assembly demo', async () => {
    const r = await xenolith('demo', '--bare');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('[user] rdcpl says ring 3\n');
    expect(r.stdout).toMatch(/== machine stopped: poweroff with status 7; \d+ instructions, \d+ simulated cycles ==/);
  });
});
