// The host process's loader and V8's typed arrays: tsx's CommonJS hook (`node --import tsx`, the
// `tsx` command) lexes each CommonJS file the process loads with a WebAssembly lexer, and the
// TypeScript compiler's file makes that lexer's memory grow, which detaches the memory's old
// ArrayBuffer; from then on V8 checks every typed-array access of optimized code for a detached
// buffer, and every engine runs slower (docs/engine.md, "The twenty-eighth round"). The xenolith
// command, and the npm scripts that run it, register tsx's ES module hooks alone.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const probe = fileURLToPath(new URL('../fixtures/wasm-grow-probe.mjs', import.meta.url));
const warning = fileURLToPath(new URL('../fixtures/loader-warning.ts', import.meta.url));

/** a command that compiles, so loads the TypeScript compiler (test/cli/startup.test.ts: others do not) */
const COMPILE = ['compile', 'examples/programs/primes.ts', '--user', '--no-type-check', '-o', join(mkdtempSync(join(tmpdir(), 'xl-loader-')), 'primes.img')];

/** stderr of `node ...args` run in the repository */
function stderrOf(args: string[]): string {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stderr;
}

describe('the host process keeps its ArrayBuffers attached', () => {
  it('the xenolith command loads the whole CLI and, to compile, the TypeScript compiler, and grows no WebAssembly memory', () => {
    expect(stderrOf(['--import', probe, 'bin/xenolith.mjs', ...COMPILE])).toBe('wasm memory grows: 0\n');
  });

  it("the same command under tsx's CommonJS hook grows the lexer's memory (the probe sees what the rule avoids)", () => {
    expect(stderrOf(['--import', probe, '--import', 'tsx', 'bin/xenolith.mjs', ...COMPILE])).not.toBe('wasm memory grows: 0\n');
  });

  it('npm start, npm run bench and npm run xenolith run the xenolith command', () => {
    const scripts = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect([scripts.start, scripts.bench, scripts.xenolith]).toEqual(['node bin/xenolith.mjs demo', 'node bin/xenolith.mjs bench all', 'node bin/xenolith.mjs']);
  });

  it('the timing benches warn when tsx\'s CommonJS hook is registered, and only then', () => {
    expect(stderrOf(['--import', 'tsx', warning])).toBe(
      "bench/example.ts: tsx's CommonJS hook is registered (node --import tsx, or the tsx command), which makes every engine slower here than under the xenolith command: run node --import tsx/esm bench/example.ts instead\n",
    );
    expect(stderrOf(['--import', 'tsx/esm', warning])).toBe('');
  });
});
