// `xenolith disasm FILE.img [--no-symbols] [--no-addresses]`: print an image as an assembly
// listing (toolchain/asm). Reads only the named file; a bad image is one CliError line.
import type { Command } from 'commander';
import { disassemble } from '../../toolchain/asm/index.ts';
import { readImageFile } from '../image-files.ts';

export function register(program: Command): void {
  program
    .command('disasm')
    .description('disassemble an XL32 image, with symbol names')
    .argument('<image>', 'image file (from xenolith asm or the compiler)')
    .option('--no-symbols', 'do not label symbols or name branch targets')
    .option('--no-addresses', 'print plain assembly source (re-assembles to the same bytes)')
    .action((file: string, opts: { symbols: boolean; addresses: boolean }) => {
      const image = readImageFile(file);
      process.stdout.write(disassemble(image, { withSymbols: opts.symbols, addresses: opts.addresses }));
    });
}
