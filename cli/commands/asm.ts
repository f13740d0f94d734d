// `xenolith asm FILE.s [-o FILE.img] [--arch NAME]`: assemble XL32 assembly (docs/asm.md) into an
// image. Reads and writes only the named files; errors become one CliError line per problem.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ARCH_NAMES, encodeImage, type ArchName } from '../../machine/image.ts';
import { assemble, AsmError } from '../../toolchain/asm/index.ts';
import { CliError } from '../errors.ts';
import { readInputFile } from '../image-files.ts';
import { hex } from '../../machine/hex.ts';

/** FILE.s -> FILE.img (any extension replaced; none: .img appended). */
export function defaultOutput(source: string): string {
  return source.replace(/(\.[^./\\]*)?$/, '.img');
}

export function readSource(path: string): string {
  return Buffer.from(readInputFile(path)).toString('utf8');
}

export function register(program: Command): void {
  program
    .command('asm')
    .description('assemble XL32 assembly (docs/asm.md) into a bootable image')
    .argument('<file>', 'assembly source (.s)')
    .option('-o, --output <file>', 'image to write (default: the source name with .img)')
    .option('--arch <name>', `image arch: ${ARCH_NAMES.join(', ')} (a .arch line in the source must agree)`)
    .action((file: string, opts: { output?: string; arch?: string }) => {
      if (opts.arch !== undefined && !(ARCH_NAMES as readonly string[]).includes(opts.arch)) {
        throw new CliError(`unknown arch "${opts.arch}" (choose one of ${ARCH_NAMES.join(', ')})`);
      }
      const source = readSource(file);
      const output = opts.output ?? defaultOutput(file);
      let bytes: Uint8Array;
      let summary: string;
      try {
        const { image } = assemble(source, file, opts.arch ? { arch: opts.arch as ArchName } : {});
        bytes = encodeImage(image);
        const loaded = image.segments.reduce((n, s) => n + s.memBytes, 0);
        const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
        summary = `${output}: ${plural(image.segments.length, 'segment')}, ${plural(loaded, 'byte')}, ${plural(image.symbols.length, 'symbol')}, entry ${hex(image.entry)}\n`;
      } catch (e) {
        if (e instanceof AsmError) throw new CliError(e.message, 1);
        throw e;
      }
      try {
        writeFileSync(output, bytes);
      } catch (e) {
        throw new CliError(`cannot write ${output}: ${(e as Error).message}`);
      }
      process.stdout.write(summary);
    });
}
