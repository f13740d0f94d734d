// Reading input files for the CLI (one clear line for a missing file, a directory, no permission),
// image files, and what kind of image one is. Light: no compiler here, so verbs that only run
// images start fast and keep the engine's hot loop free of unrelated code.
import { readFileSync } from 'node:fs';
import { decodeImage, ImageError, ImageArch, type Image } from '../machine/image.ts';
import { CliError } from './errors.ts';

/** End of input on the console (Ctrl-D): the guest shell exits on it, and init powers off. */
export const CONSOLE_EOF = '\x04';

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
};

/** The bytes of an input file, or a CliError that says why it cannot be read. */
export function readInputFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new CliError(`cannot read ${path}: ${READ_ERRORS[code] ?? (e as Error).message}`);
  }
}

export function readImageFile(path: string): Image {
  const bytes = readInputFile(path);
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
