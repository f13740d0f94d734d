// npm run test:alone: every test file of `npm test` in a vitest process of its own, two at a time.
//
// The suite runs with `isolate: false` (vitest.config.ts): the files a worker runs share module
// state - the translator's process-wide memo and kept heat, bt's chain recipes - so a file can pass
// only because of what ran before it in the same worker, and which files share a worker moves
// with timing. (test/bench/mechanisms.test.ts once passed in the suite and failed alone:
// docs/engine.md "The twenty-ninth round".) This runs each file as if it were the first, and
// names the ones that fail; about ten minutes on a 2-core machine. Outside CI.
//
//   npm run test:alone [-- FILTER]   (FILTER: only files whose path contains it)

import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filter = process.argv[2] ?? '';

/** The files `npm test` runs: test/**\/*.test.ts but the deep ones (vitest.config.ts's include and exclude). */
function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.ts') && !name.endsWith('.deep.test.ts')) out.push(relative(root, p));
  }
  return out;
}

/** Run one file in a vitest process of its own; resolves to its output when it failed, else null. */
function runAlone(file: string): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve(code === 0 ? null : out));
  });
}

const files = testFiles(join(root, 'test')).filter((f) => f.includes(filter));
const failed: string[] = [];
let next = 0;
let done = 0;
async function worker(): Promise<void> {
  while (next < files.length) {
    const file = files[next++]!;
    const out = await runAlone(file);
    done++;
    if (out !== null) {
      failed.push(file);
      process.stdout.write(`FAIL ${file}\n${out.split('\n').filter((l) => /AssertionError|Error:|✗|×/.test(l)).slice(0, 5).join('\n')}\n`);
    }
    if (done % 20 === 0 || done === files.length) process.stdout.write(`${done}/${files.length} files run, ${failed.length} failed\n`);
  }
}
await Promise.all([worker(), worker()]);
process.stdout.write(failed.length === 0 ? `every file passed alone (${files.length})\n` : `failed alone: ${failed.join(', ')}\n`);
process.exitCode = failed.length === 0 ? 0 : 1;
