// `xenolith demo` (npm start): its first part, the pv guest running the demo session at its shell,
// and `demo --bare`. The whole demo, with its five-mode comparison, is demo-cli.deep.test.ts; the
// comparison itself is pinned by test/bench/compare.test.ts (the same runCompare, run once there).
import { describe, expect, it } from 'vitest';
import { DEMO_SESSION, demoPvSession } from '../../cli/commands/demo.ts';
import { xenolith } from './run-in-process.ts';

/** stdout of fn, captured. */
async function captured(fn: () => Promise<void>): Promise<string> {
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1'));
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return out.join('');
}

describe('xenolith demo (npm start)', () => {
  it('part 1 boots the pv guest, runs the session at its shell and prints the domain\'s statistics', async () => {
    const out = await captured(() => demoPvSession('p4-2003'));
    expect(out).toContain('xenolith kernel 0.1 (pv) booting\n');
    for (const command of DEMO_SESSION) expect(out).toContain(`$ ${command}\n`);
    expect(out).toContain('hello from a paravirtualized guest\n');
    expect(out).toContain('usertests: 4 passed, 0 failed\n');
    expect(out).toMatch(/^lmbench null: \d+ cycles\/op \(200 ops\)$/m);
    expect(out).toContain('== the domain stopped: poweroff, status 0;');
    expect(out).toMatch(/^ {2}nr {2}hypercall +calls +cycles +cycles\/call +failed +in multicalls$/m);
  });

  it('--bare boots the bare-metal assembly demo', async () => {
    const r = await xenolith('demo', '--bare');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('[user] rdcpl says ring 3\n');
    expect(r.stdout).toMatch(/== machine stopped: poweroff with status 7; \d+ instructions, \d+ simulated cycles ==/);
  });
});
