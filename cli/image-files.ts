// Reading image files for the CLI, and what kind of image one is. Light: no compiler here, so
// verbs that only run images start fast and keep the engine's hot loop free of unrelated code.
import { readFileSync } from 'node:fs';
import { decodeImage, ImageError, ImageArch, type Image } from '../machine/image.ts';
import { CliError } from './errors.ts';

/** End of input on the console (Ctrl-D): the guest shell exits on it, and init powers off. */
export const CONSOLE_EOF = '\x04';

export function readImageFile(path: string): Image {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return decodeImage(bytes, path);
  } catch (e) {
    if (e instanceof ImageError) throw new CliError(e.message);
    throw e;
  }
}

/** Is this image a kernel that takes an initrd (rather than a bare-metal program)? */
export function isKernelImage(image: Image): boolean {
  return image.arch === ImageArch.Native || image.arch === ImageArch.Pv;
}
