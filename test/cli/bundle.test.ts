// The xenolith command runs its TypeScript from bundles (bin/host-bundle.mjs): the same commands
// print the same from the bundle as from the sources through tsx (XENOLITH_BUNDLE=0), paths
// relative to a source file included (the guest build cache, package.json, a user's hypercall
// module loaded through tsx then); a bundle is built once and reused while its inputs stay as they
// were; an edit is in the next command; a source that does not build leaves the command to tsx.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { compile } from '../../toolchain/compiler/index.ts';
import { encodeImage } from '../../machine/image.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** `node TREE/bin/xenolith.mjs ...args` in `cwd`, from the bundle or (bundle: false) the sources */
function xenolith(tree: string, args: string[], bundle = true): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, XENOLITH_BUNDLE: bundle ? '1' : '0' };
  const r = spawnSync(process.execPath, [join(tree, 'bin/xenolith.mjs'), ...args], { cwd: root, encoding: 'utf8', input: '', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the command from its bundle', () => {
  it('prints what it prints from the sources: a boot with --stats, a user hypercall module', () => {
    buildGuestKernel({ arch: 'native' });
    buildGuestKernel({ arch: 'pv' });
    // the experiment's guest compiled once, here (each command would compile it again)
    const image = join(mkdtempSync(join(tmpdir(), 'xl-bundle-hc-')), 'guest.img');
    writeFileSync(image, encodeImage(compile('examples/hypercall-experiment/guest.ts', { arch: 'pv' }).image));
    const hc = ['run', image, '--mode', 'pv', '--hypercalls', 'examples/hypercall-experiment/handler.ts', '--input', ''];
    for (const args of [['run', '--cmdline', 'true', '--stats', '--engine', 'interpreter'], hc]) {
      const bundled = xenolith(root, args);
      expect(bundled.status).toBe(0);
      expect(bundled).toEqual(xenolith(root, args, false));
      if (args === hc) expect(bundled.stdout).toContain('odd size: 22, unmapped: 14 (negated error codes)\n');
    }
  });

  it('is built once, used while its inputs hold, built again after an edit, says where a bug\'s stack points, and is left to tsx when a source does not build', async () => {
    // a copy of the host code, so its sources can be edited (node_modules shared: the bundle's
    // cache directory is named by the tree's path)
    const tree = mkdtempSync(join(tmpdir(), 'xl-bundle-'));
    for (const d of ['bin', 'cli', 'daemon', 'machine', 'hypervisor', 'hypercalls', 'toolchain', 'bench', 'tsconfig.json', 'package.json']) cpSync(join(root, d), join(tree, d), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
    try {
      await editAndRun(tree);
    } finally {
      const { cacheDir } = (await import(pathToFileURL(join(tree, 'bin/host-bundle.mjs')).href)) as { cacheDir: () => string };
      rmSync(cacheDir(), { recursive: true, force: true });
      rmSync(tree, { recursive: true, force: true });
    }
  });
});

/** The second test's steps in the copy at `tree`. */
async function editAndRun(tree: string): Promise<void> {
  const { cacheDir } = (await import(pathToFileURL(join(tree, 'bin/host-bundle.mjs')).href)) as { cacheDir: () => string };
  const build = (): { build: string; builds: string[] } => {
    const dir = cacheDir();
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { build: string };
    return { build: m.build, builds: readdirSync(dir).filter((d) => d.startsWith('b-')) };
  };

  const first = xenolith(tree, ['--help']);
  expect(first.status).toBe(0);
  expect(first.stdout).toContain('A paravirtualized hypervisor framework on the simulated XL32 machine');
  const a = build();
  expect(a.builds).toEqual([a.build]);
  expect(xenolith(tree, ['--help'])).toEqual(first);
  expect(build()).toEqual(a);
  // a bundle another esbuild made is made again
  const manifest = join(cacheDir(), 'manifest.json');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/"esbuild":"[^"]*"/, '"esbuild":"0.0.0"'));
  expect(xenolith(tree, ['--help'])).toEqual(first);
  const a2 = build();
  expect(a2.build).not.toBe(a.build);

  // the next build removes an earlier build once it is ten minutes old, not a younger one (another
  // command may be building it, or starting from it)
  const old = (Date.now() - 11 * 60 * 1000) / 1000;
  utimesSync(join(cacheDir(), a.build), old, old);
  utimesSync(join(cacheDir(), a2.build), old, old);
  mkdirSync(join(cacheDir(), 'b-young'));
  const program = join(tree, 'cli/program.ts');
  writeFileSync(program, readFileSync(program, 'utf8').replace('A paravirtualized hypervisor framework on the simulated XL32 machine', 'An edited description'));
  expect(xenolith(tree, ['--help']).stdout).toContain('An edited description');
  const b = build();
  expect(b.build).not.toBe(a.build);
  expect(b.builds.sort()).toEqual([b.build, 'b-young'].sort());

  // a bug (an error the CLI does not expect): its stack, and from the bundle a line on where it points
  const isa = join(tree, 'cli/commands/isa.ts');
  const isaSource = readFileSync(isa, 'utf8');
  writeFileSync(isa, isaSource.replace('const table = isaTableMarkdown();', "throw new Error('a bug'); const table = isaTableMarkdown();"));
  const bug = xenolith(tree, ['isa']);
  expect(bug.status).toBe(1);
  expect(bug.stderr).toMatch(/^Error: a bug\n {4}at /);
  expect(bug.stderr.trimEnd().split('\n').at(-1)).toBe("xenolith: the stack above is in the command's bundle; XENOLITH_BUNDLE=0 runs the sources, whose lines a stack then names");
  const bugFromSources = xenolith(tree, ['isa'], false);
  expect(bugFromSources.status).toBe(1);
  expect(bugFromSources.stderr).toMatch(/^Error: a bug\n {4}at .*cli\/commands\/isa\.ts:/);
  expect(bugFromSources.stderr).not.toContain("the command's bundle");
  const c = build();

  writeFileSync(isa, `${isaSource}\nexport const broken = ;\n`);
  // the bundle does not build: tsx runs the command, which never loads the broken verb
  const version = xenolith(tree, ['--version']);
  expect(version).toEqual({ status: 0, stdout: `${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version}\n`, stderr: '' });
  expect(build()).toEqual(c);
  // and the verb that loads it fails as it does from the sources
  const broken = xenolith(tree, ['isa']);
  expect(broken.status).not.toBe(0);
  expect(broken.stderr).toContain('isa.ts');
  expect(broken).toEqual(xenolith(tree, ['isa'], false));
}
