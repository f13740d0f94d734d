// The standard guest `xenolith run` boots: the kernel and initrd built from guest-kernel/, plus
// any --add programs compiled into the initrd. Loaded on use: it needs the compiler (and so
// TypeScript). Host code for the CLI only.
import { basename } from 'node:path';
import { compile } from '../toolchain/compiler/index.ts';
import { CompileError } from '../toolchain/compiler/diagnostics.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import { packInitrd, unpackInitrd, InitrdError } from '../toolchain/initrd.ts';
import { decodeImage, encodeImage, type Image } from '../machine/image.ts';
import { CliError } from './errors.ts';

/** Compile a user program for the initrd; its name in the initrd is the file name without .ts. */
export function compileUserProgram(file: string): { name: string; image: Image } {
  const name = basename(file).replace(/\.ts$/, '');
  if (!/^[A-Za-z0-9_.-]{1,23}$/.test(name)) {
    throw new CliError(`${file}: program name "${name}" must be 1-23 letters, digits, '_', '.' or '-' to fit the initrd`);
  }
  try {
    return { name, image: compile(file, { arch: 'native', user: true }).image };
  } catch (e) {
    if (e instanceof CompileError) throw new CliError(e.message, 1);
    throw e;
  }
}

/** Compile a kernel (or bare guest) entry module for `arch`, as `xenolith compile` does. */
export function compileKernel(file: string, arch: 'native' | 'pv'): Image {
  try {
    return compile(file, { arch }).image;
  } catch (e) {
    if (e instanceof CompileError) throw new CliError(e.message, 1);
    throw e;
  }
}

export interface GuestSpec {
  kernel: Image;
  initrd: Uint8Array;
  /** programs in the initrd, in order */
  programs: string[];
  /** their images (symbols and line maps, for the console's backtraces) */
  images: Map<string, Image>;
}

function imagesOf(files: { name: string; data: Uint8Array }[]): Map<string, Image> {
  return new Map(files.map((f) => [f.name, decodeImage(f.data, f.name)]));
}

/** The standard guest for `arch`, with extra user programs compiled into its initrd. */
export function standardGuest(arch: 'native' | 'pv', addFiles: readonly string[] = []): GuestSpec {
  let build;
  try {
    build = buildGuestKernel({ arch });
  } catch (e) {
    if (e instanceof CompileError) throw new CliError(`the guest kernel does not compile:\n${e.message}`, 1);
    throw e;
  }
  if (addFiles.length === 0) return { kernel: build.kernel, initrd: build.initrd, programs: build.programs, images: build.userImages };
  const files = unpackInitrd(build.initrd);
  for (const f of addFiles) {
    const { name, image } = compileUserProgram(f);
    const data = encodeImage(image);
    const at = files.findIndex((x) => x.name === name);
    if (at >= 0) files[at] = { name, data };
    else files.push({ name, data });
  }
  let initrd: Uint8Array;
  try {
    initrd = packInitrd(files);
  } catch (e) {
    if (e instanceof InitrdError) throw new CliError(e.message);
    throw e;
  }
  return { kernel: build.kernel, initrd, programs: files.map((x) => x.name), images: imagesOf(files) };
}
