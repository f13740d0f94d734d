// Every README example passes as printed (exit status 0): the quick ones here, the long ones in
// readme-examples.deep.test.ts (`npm run test:deep`). Examples run in order in one scratch folder,
// as a reader would type them (the disk example makes disk.img before using it).
import { describe, expect, it } from 'vitest';
import { isLongExample, isManagementExample, isNpmLine, readmeExamples, runExample, scratchFolder, shellWords } from './readme-examples.ts';

const all = readmeExamples();

describe('README examples', () => {
  it('are found: the xenolith lines of every sh block, split as the shell splits them', () => {
    expect(shellWords(`npx xenolith run --input 'usertests' # a comment`)).toEqual(['npx', 'xenolith', 'run', '--input', 'usertests']);
    expect(shellWords(`run --input "a 'b' c"`)).toEqual(['run', '--input', "a 'b' c"]);
    expect(all.map((e) => e.line)).toContain("npx xenolith run --input 'usertests'");
    // each example is run by one of the two files, or is a quick-start npm line covered elsewhere
    expect(all.filter((e) => !isNpmLine(e)).length).toBeGreaterThanOrEqual(8);
  });

  const dir = scratchFolder();
  for (const ex of all.filter((e) => !isLongExample(e) && !isManagementExample(e) && !isNpmLine(e))) {
    it(ex.line, async () => {
      const r = await runExample(ex, dir);
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      if (ex.args?.includes('usertests')) expect(r.stdout).toMatch(/^usertests: \d+ passed, 0 failed$/m);
    });
  }
});
