// Build the standard xenolith guest: the kernel (guest-kernel/arch/<arch>/entry.ts) and an initrd
// holding every user program (each guest-kernel/user/*.ts; libraries live in user/lib/).
// Compiling takes seconds, so results are cached in memory and on disk, keyed by a hash of
// every source that can change the output (guest sources, compiler, assembler, ISA).
// Host code: reads sources, writes only its cache directory.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, mkdirSync, writeFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from './compiler/index.ts';
import { packInitrd } from './initrd.ts';
import { decodeImage, encodeImage, type Image } from '../machine/image.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const GUEST_KERNEL_DIR = join(ROOT, 'guest-kernel');
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'xenolith');
/** Everything whose change can change the built images. */
const INPUTS = ['guest-kernel', 'hypercalls', 'toolchain/compiler', 'toolchain/asm', 'toolchain/lib', 'machine/isa.ts', 'machine/image.ts', 'machine/devices/ports.ts'];

export interface GuestKernelBuild {
  arch: 'native' | 'pv';
  kernel: Image;
  initrd: Uint8Array;
  /** the programs in the initrd, in archive order */
  programs: string[];
  /** the user program images by name (for symbolizing user addresses) */
  userImages: Map<string, Image>;
  /** whether this came from the cache */
  cached: boolean;
}

function listFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((n) => listFiles(join(path, n)));
}

function sourceHash(arch: string): string {
  const h = createHash('sha256');
  h.update(`arch=${arch}\n`);
  for (const input of INPUTS) {
    const p = join(ROOT, input);
    if (!existsSync(p)) continue;
    for (const f of listFiles(p)) {
      if (!f.endsWith('.ts')) continue;
      h.update(relative(ROOT, f).split(sep).join('/'));
      h.update('\0');
      h.update(readFileSync(f));
      h.update('\0');
    }
  }
  return h.digest('hex').slice(0, 24);
}

/** The user programs: guest-kernel/user/*.ts, by name (file name without .ts). */
export function userProgramSources(): { name: string; file: string }[] {
  const dir = join(GUEST_KERNEL_DIR, 'user');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.ts'))
    .sort()
    .map((n) => ({ name: n.slice(0, -3), file: join(dir, n) }));
}

const memo = new Map<string, GuestKernelBuild>();

interface CacheFile {
  programs: string[];
}

/**
 * The kernel image and initrd for `arch`, compiled from guest-kernel/ (or taken from the cache).
 * Throws the compiler's CompileError when a source does not compile.
 */
export function buildGuestKernel(opts: { arch?: 'native' | 'pv'; useCache?: boolean } = {}): GuestKernelBuild {
  const arch = opts.arch ?? 'native';
  const useCache = opts.useCache ?? true;
  const key = sourceHash(arch);
  const hit = memo.get(key);
  if (useCache && hit) return hit;
  const dir = join(CACHE_DIR, `guest-${arch}-${key}`);
  if (useCache && existsSync(join(dir, 'index.json'))) {
    try {
      const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as CacheFile;
      const userImages = new Map<string, Image>();
      for (const name of index.programs) userImages.set(name, decodeImage(readFileSync(join(dir, `${name}.img`))));
      const build: GuestKernelBuild = {
        arch,
        kernel: decodeImage(readFileSync(join(dir, 'kernel.img'))),
        initrd: new Uint8Array(readFileSync(join(dir, 'initrd.bin'))),
        programs: index.programs,
        userImages,
        cached: true,
      };
      memo.set(key, build);
      return build;
    } catch {
      // a damaged cache entry: rebuild it
    }
  }

  const kernel = compile(join(GUEST_KERNEL_DIR, 'arch', arch, 'entry.ts'), { arch }).image;
  const userImages = new Map<string, Image>();
  for (const p of userProgramSources()) userImages.set(p.name, compile(p.file, { arch, user: true }).image);
  const programs = [...userImages.keys()];
  const encoded = new Map([...userImages].map(([n, img]) => [n, encodeImage(img)]));
  const initrd = packInitrd(programs.map((name) => ({ name, data: encoded.get(name)! })));
  const build: GuestKernelBuild = { arch, kernel, initrd, programs, userImages, cached: false };
  memo.set(key, build);
  if (useCache) {
    // written aside and renamed into place, so parallel test workers never see half an entry
    const tmp = `${dir}.tmp-${process.pid}`;
    try {
      mkdirSync(tmp, { recursive: true });
      writeFileSync(join(tmp, 'kernel.img'), encodeImage(kernel));
      writeFileSync(join(tmp, 'initrd.bin'), initrd);
      for (const [n, b] of encoded) writeFileSync(join(tmp, `${n}.img`), b);
      writeFileSync(join(tmp, 'index.json'), JSON.stringify({ programs } satisfies CacheFile));
      renameSync(tmp, dir);
    } catch {
      // another worker got there first, or the tree is read-only: the cache is an optimization
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return build;
}
