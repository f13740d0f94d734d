// The xenolith command starts without the TypeScript compiler API (toolchain/compiler/typescript.js):
// loading it took a third of a second of every command's start, and imported as an ES module
// about a second, while only a compile needs it (the standard guest kernel comes from the build
// cache). The API loads when the compiler first uses it.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** In a fresh process: is the compiler API loaded after importing the CLI, after a cached guest build, after `help` (which loads every verb's module), after a compile? */
const SCRIPT = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => Object.keys(require.cache).some((f) => f.replaceAll('\\\\', '/').endsWith('/typescript/lib/typescript.js'));
const seen = [];
const { runCli } = await import('./cli/program.ts');
seen.push(loaded());
const { buildGuestKernel } = await import('./toolchain/guest-kernel.ts');
const build = buildGuestKernel({ arch: 'native' });
seen.push(build.cached, loaded());
await runCli(['help']);
seen.push(loaded());
const { compile } = await import('./toolchain/compiler/index.ts');
const r = compile('examples/programs/primes.ts', { arch: 'native', user: true, typeCheck: false });
seen.push(r.image.segments.length > 0, loaded());
process.stderr.write(JSON.stringify(seen));
`;

/** The .ts and .js files under dir, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

describe('the command line starts without the TypeScript compiler API', () => {
  it('importing the CLI, a cached guest build and every verb\'s module (help) leave it unloaded; the first compile loads it', () => {
    buildGuestKernel({ arch: 'native' }); // the cache the child reads (a fresh clone has none until a build)
    const r = spawnSync(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', SCRIPT], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stderr)).toEqual([false, true, false, false, true, true]);
  });

  it('no module the command imports loads the package itself, but typescript.js (an ES module import of it is what took a second)', () => {
    const loaders = ['bin', 'cli', 'daemon', 'machine', 'hypervisor', 'hypercalls', 'toolchain']
      .flatMap((d) => sources(join(root, d)))
      .map((f) => relative(root, f).replaceAll('\\', '/'))
      // the editor plugin is tsserver's, never the command's
      .filter((f) => !f.startsWith('toolchain/ts-plugin/'))
      .filter((f) => /^\s*(import|export)\s+(?!type\b)[^;]*from\s+['"]typescript['"]|require\(['"]typescript['"]\)|import\(['"]typescript['"]\)/m.test(readFileSync(join(root, f), 'utf8')));
    expect(loaders).toEqual(['toolchain/compiler/typescript.js']);
  });
});
