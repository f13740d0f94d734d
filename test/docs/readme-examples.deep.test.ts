// The README examples too long for `npm test` (readme-examples.ts isLongExample): each passes as
// printed (exit status 0).
import { describe, expect, it } from 'vitest';
import { isLongExample, readmeExamples, runExample, scratchFolder } from './readme-examples.ts';

describe('README examples (long)', () => {
  const dir = scratchFolder();
  // the disk examples need the image the README makes first
  const all = readmeExamples();
  const setup = all.filter((e) => !e.args && !e.line.startsWith('npm '));
  for (const ex of all.filter(isLongExample)) {
    it(ex.line, async () => {
      for (const s of setup) await runExample(s, dir);
      const r = await runExample(ex, dir);
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      if (ex.args?.includes('usertests')) expect(r.stdout).toMatch(/^usertests: \d+ passed, 0 failed$/m);
    });
  }
});
