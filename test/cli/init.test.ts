// `xenolith init DIR`: a folder whose program compiles, runs in the guest as its README says, and
// type-checks with its tsconfig (xl32, no Node types, the subset plugin named).
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { xenolith } from './run-in-process.ts';

describe('xenolith init', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'xl-init-')), 'greet');

  it('scaffolds a program, a tsconfig and a README, and the README\'s command runs the program in the guest', async () => {
    const r = await xenolith('init', dir);
    expect(r.status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['README.md', 'greet.ts', 'tsconfig.json']);
    const runLine = `npx xenolith run --add ${dir}/greet.ts --input 'greet world'`;
    expect(r.stdout).toBe(`created ${dir}/tsconfig.json, ${dir}/greet.ts, ${dir}/README.md\nrun it: ${runLine}\n`);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain(`\n${runLine}\n`);
    const run = await xenolith('run', '--add', `${dir}/greet.ts`, '--input', 'greet world\\ngreet a b c');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('$ greet world\nhello, world from 1 argument(s)\n$ greet a b c\nhello, a, b, c from 3 argument(s)\n');
  });

  it('its tsconfig types the program without Node types and names the subset plugin', () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    expect(parsed.fileNames).toContain(join(dir, 'greet.ts'));
    expect(parsed.options.types).toEqual([]);
    expect(parsed.options.plugins).toEqual([{ name: 'xenolith-guest-plugin', arch: 'native', user: true }]);
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
    expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '))).toEqual([]);
  });

  it('refuses a folder that is not empty', async () => {
    const full = mkdtempSync(join(tmpdir(), 'xl-init-'));
    writeFileSync(join(full, 'mine.txt'), 'keep');
    const r = await xenolith('init', full);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`xenolith: ${full} is not empty; init writes into a new or empty folder\n`);
    expect(readdirSync(full)).toEqual(['mine.txt']);
  });
});
