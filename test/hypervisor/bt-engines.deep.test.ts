// bt mode on both CPU engines over the guest kernel's suites (issue 15; the cheap slice is
// bt-engines.test.ts): usertests, lmbench and the shell, the translator compiling every unit
// entered twice and with its default limits, and usertests with --bt-adaptive on the traced
// shadow, must agree exactly with the interpreter: cycles, instructions, console, bt's counters,
// the domain's counters and the cost ledger. `npm run test:deep`.

import { describe, expect, it } from 'vitest';
import { runBtEngine } from './fixtures/bt-engines.ts';

describe('bt under the translator agrees exactly with the interpreter over the guest suites', () => {
  for (const cmdline of ['usertests', 'lmbench all 20']) {
    it(`${cmdline}, at thresholds 2 and the default`, () => {
      const i = runBtEngine('interpreter', cmdline, {});
      expect(i.sim.reason).toBe('poweroff');
      expect(i.sim.status).toBe(0);
      const t2 = runBtEngine('translator', cmdline, { threshold: 2, unitHeat: 1 });
      expect(t2.sim).toEqual(i.sim);
      expect(t2.host.chainedInline).toBeGreaterThan((i.sim.bt as { chained: number }).chained / 4);
      expect(runBtEngine('translator', cmdline, {}).sim).toEqual(i.sim);
    });
  }

  it('the shell, with typed input', () => {
    const input = 'echo hello world\nps\necho a b | cat\necho one | cat | cat\nexit 3\n';
    const i = runBtEngine('interpreter', 'init', {}, {}, input);
    expect(i.sim.status).toBe(3);
    expect(runBtEngine('translator', 'init', { threshold: 2, unitHeat: 1 }, {}, input).sim).toEqual(i.sim);
  });

  it('usertests with --bt-adaptive on the traced shadow', () => {
    const opts = { shadow: 'traced' as const, adaptive: true };
    const i = runBtEngine('interpreter', 'usertests', {}, opts);
    expect(i.sim.status).toBe(0);
    expect(runBtEngine('translator', 'usertests', { threshold: 2, unitHeat: 1 }, opts).sim).toEqual(i.sim);
  });
});
