// `xenolith disasm FILE.img [--no-symbols] [--no-addresses]`: print an image as an assembly
// listing (toolchain/asm). Reads only the named file; a bad image is one CliError line.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { decodeImage, ImageError, type Image } from '../../machine/image.ts';
import { disassemble } from '../../toolchain/asm/index.ts';
import { CliError } from '../errors.ts';

function readImage(path: string): Image {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`);
  }
  try {
    return decodeImage(bytes, path);
  } catch (e) {
    if (e instanceof ImageError) throw new CliError(e.message);
    throw e;
  }
}

export function register(program: Command): void {
  program
    .command('disasm')
    .description('disassemble an XL32 image, with symbol names')
    .argument('<image>', 'image file (from xenolith asm or the compiler)')
    .option('--no-symbols', 'do not label symbols or name branch targets')
    .option('--no-addresses', 'print plain assembly source (re-assembles to the same bytes)')
    .action((file: string, opts: { symbols: boolean; addresses: boolean }) => {
      const image = readImage(file);
      process.stdout.write(disassemble(image, { withSymbols: opts.symbols, addresses: opts.addresses }));
    });
}
