// The README examples too long for `npm test` (readme-examples.ts isLongExample): each passes as
// printed (exit status 0).
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLongExample, isManagementExample, readmeExamples, runExample, runShellExample, scratchFolder } from './readme-examples.ts';

describe('README examples (long)', () => {
  const dir = scratchFolder();
  // the disk examples need the image the README makes first
  const all = readmeExamples();
  const setup = all.filter((e) => !e.args && !e.line.startsWith('npm '));
  // the management examples in order, as a reader types them, against a daemon on a scratch state directory
  const env = { XENOLITH_STATE_DIR: mkdtempSync(join(tmpdir(), 'xenolith-readme-state-')) };
  for (const ex of all.filter(isManagementExample)) {
    it(ex.line, () => {
      for (const s of setup) void runExample(s, dir);
      const r = runShellExample(ex, dir, env);
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    });
  }
  for (const ex of all.filter((e) => isLongExample(e) && !isManagementExample(e))) {
    it(ex.line, async () => {
      for (const s of setup) await runExample(s, dir);
      const r = await runExample(ex, dir);
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      if (ex.args?.includes('usertests')) expect(r.stdout).toMatch(/^usertests: \d+ passed, 0 failed$/m);
    });
  }
});
