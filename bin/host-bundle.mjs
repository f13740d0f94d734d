// The host code as one JavaScript module per entry, so that a command does not start by loading
// about 200 TypeScript files one by one through tsx's loader (0.4-0.5 s of every `xenolith run`,
// docs/engine.md "The thirty-first round"). esbuild bundles each entry with the same transform tsx
// applies (tsconfig.json), packages left to Node; every file's `import.meta.url` is replaced by
// its own URL, so paths relative to a source file (the guest build cache, package.json, worker
// entries, the web client) resolve as they do from the source. The bundles live in
// node_modules/.cache/xenolith/host-ROOTHASH/ with a manifest naming every file they were built
// from, its modification time and size: a command whose inputs all still match takes the bundle,
// any other builds it again first (a developer's edit is in the next command). A build that
// fails (a syntax error in the middle of an edit), or a bundle that cannot be loaded, leaves the
// command to tsx, which reports the error as before; XENOLITH_BUNDLE=0 always does (stack traces
// then name the sources). Plain JavaScript: it runs before any TypeScript can be loaded.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The entries bundled: the command, the daemon's host thread, compare's worker threads. */
export const ENTRIES = ['cli/main.ts', 'daemon/worker.ts', 'bench/compare-worker.ts'];
/** Files that change a bundle without being one of its inputs: the transform's settings and this file. */
const SETTINGS = ['tsconfig.json', 'bin/host-bundle.mjs'];
const FORMAT = 2;
/** A build directory other than the manifest's is removed by the next build once this old. */
const STALE_MS = 10 * 60 * 1000;

/** Where this tree's bundles are kept (named by the tree's path: worktrees may share node_modules). */
export function cacheDir() {
  const key = createHash('sha256').update(ROOT).digest('hex').slice(0, 12);
  return join(ROOT, 'node_modules', '.cache', 'xenolith', `host-${key}`);
}

function stamp(file) {
  const st = statSync(join(ROOT, file));
  return [file, st.mtimeMs, st.size];
}

/** The installed esbuild's version (another one may bundle differently: the bundle is built again). */
function esbuildVersion() {
  try {
    return JSON.parse(readFileSync(createRequire(import.meta.url).resolve('esbuild/package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** The manifest's build directory if it was built by this esbuild and every input it lists is as it was, else null. */
function freshBuild(dir) {
  let m;
  try {
    m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return null;
  }
  if (m.format !== FORMAT || m.esbuild !== esbuildVersion() || typeof m.build !== 'string' || !Array.isArray(m.inputs)) return null;
  try {
    for (const [file, mtimeMs, size] of m.inputs) {
      const st = statSync(join(ROOT, file));
      if (st.mtimeMs !== mtimeMs || st.size !== size) return null;
    }
  } catch {
    return null; // an input is gone
  }
  return join(dir, m.build);
}

/**
 * esbuild plugin: reads the sources itself, each file's import.meta.url replaced by its own URL,
 * and keeps each one's modification time and size as they were before it was read (an edit
 * during the build leaves the manifest older than the file, so the next command builds again).
 */
function sourceUrls(stamps) {
  return {
    name: 'xenolith-source-urls',
    setup(b) {
      b.onLoad({ filter: /\.(ts|mjs|js)$/ }, (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const st = statSync(args.path);
        const text = readFileSync(args.path, 'utf8');
        const file = relative(ROOT, args.path).split(sep).join('/');
        stamps.set(file, [file, st.mtimeMs, st.size]);
        return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
      });
    },
  };
}

/** Build the bundles into a new directory of `dir` and point the manifest at it; the build's directory. */
async function build(dir) {
  const { build: esbuild, version } = await import('esbuild');
  const name = `b-${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const out = join(dir, name);
  // every input's stamp taken before it is read: an edit during the build makes the manifest
  // stale, never a stale bundle look fresh
  const stamps = new Map(SETTINGS.map((f) => [f, stamp(f)]));
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES,
    outdir: out,
    outbase: ROOT,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // the names of classes and functions as in the sources: a saved state names its objects' classes
    keepNames: true,
    tsconfig: join(ROOT, 'tsconfig.json'),
    metafile: true,
    logLevel: 'silent',
    plugins: [sourceUrls(stamps)],
  });
  const files = [...Object.keys(result.metafile.inputs).map((f) => f.split(sep).join('/')), ...SETTINGS];
  const inputs = files.map((f) => stamps.get(f) ?? stamp(f));
  const manifest = { format: FORMAT, esbuild: version, build: name, inputs };
  const tmp = join(dir, `manifest.${name}.json`);
  writeFileSync(tmp, JSON.stringify(manifest));
  renameSync(tmp, join(dir, 'manifest.json'));
  // earlier builds go once no command can be starting from them: a bundle is one file, read whole
  // when its command starts, and a build another command is making now is younger than this
  const old = Date.now() - STALE_MS;
  for (const e of readdirSync(dir)) {
    if (!e.startsWith('b-') || e === name) continue;
    try {
      if (statSync(join(dir, e)).mtimeMs < old) rmSync(join(dir, e), { recursive: true, force: true });
    } catch {
      // gone already
    }
  }
  return out;
}

/**
 * The file URL of `entry`'s bundle (one of ENTRIES, relative to the repository), built first if
 * any of its inputs changed; null where the command should load its TypeScript through tsx.
 */
export async function bundledEntry(entry) {
  if (process.env.XENOLITH_BUNDLE === '0' || !ENTRIES.includes(entry)) return null;
  const dir = cacheDir();
  let out = freshBuild(dir);
  if (out === null) {
    try {
      mkdirSync(dir, { recursive: true });
      out = await build(dir);
    } catch {
      return null;
    }
  }
  return pathToFileURL(join(out, entry.replace(/\.ts$/, '.mjs'))).href;
}

/**
 * Import `entry` from its bundle, else register tsx's ES module hooks (tsconfig.json applies) and
 * import the source. Returns the module.
 */
export async function importEntry(entry) {
  const url = await bundledEntry(entry);
  if (url !== null) {
    // a user's TypeScript module (run --hypercalls) is loaded through tsx, registered then
    globalThis[Symbol.for('xenolith.useTypeScriptSources')] = useTypeScriptSources;
    try {
      return await import(url);
    } catch (e) {
      if (!(e instanceof Error) || !('code' in e) || e.code !== 'ERR_MODULE_NOT_FOUND' || existsSync(fileURLToPath(url))) {
        // an error of the command itself, its stack in the bundle's lines
        if (e !== null && typeof e === 'object') e.fromBundle = true;
        throw e;
      }
      // the bundle the manifest names is not there (a concurrent build's cleanup): the next
      // command builds again; this one runs from the sources
      rmSync(join(cacheDir(), 'manifest.json'), { force: true });
    }
  }
  await useTypeScriptSources();
  return import(pathToFileURL(join(ROOT, entry)).href);
}

let registered = false;
/** Register tsx's ES module hooks in this thread (once), so TypeScript sources can be imported. */
export async function useTypeScriptSources() {
  if (registered) return;
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: join(ROOT, 'tsconfig.json') });
  registered = true;
}
