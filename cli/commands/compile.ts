// `xenolith compile ENTRY.ts --arch native|pv [--user] [-o OUT.img] [--emit-asm FILE.s] [--base ADDR]`: compile a
// guest TypeScript program (docs/guest-subset.md) into an XL32 image. Reads the guest sources,
// writes only the named outputs; compile errors become CliError lines `file:line:col: message`.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { encodeImage } from '../../machine/image.ts';
import { CliError } from '../errors.ts';
import { hex } from '../../machine/hex.ts';

const ARCHES = ['native', 'pv'] as const;

/** ENTRY.ts -> ENTRY.img */
export function defaultImageName(entry: string): string {
  return entry.replace(/(\.[^./\\]*)?$/, '.img');
}

function write(path: string, data: Uint8Array | string): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

export function register(program: Command): void {
  program
    .command('compile')
    .description('compile a guest TypeScript program (docs/guest-subset.md) into an XL32 image')
    .argument('<entry>', 'the entry module (.ts) defining main()')
    .option('--arch <arch>', `kernel architecture: ${ARCHES.join(' or ')}`, 'native')
    .option('--user', 'build a ring-3 user program (linked at 0x00400000, exits with main\'s result)')
    .option('-o, --output <file>', 'image to write (default: the entry name with .img)')
    .option('--emit-asm <file>', 'also write the generated assembly')
    .option('--base <address>', 'link address of the text section (default 0x00100000, user programs 0x00400000)')
    .option('--no-type-check', 'skip reporting TypeScript type errors (subset errors are still reported)')
    .action(async (entry: string, opts: { arch: string; user?: boolean; output?: string; emitAsm?: string; base?: string; typeCheck: boolean }) => {
      if (!(ARCHES as readonly string[]).includes(opts.arch)) {
        throw new CliError(`unknown arch "${opts.arch}" (choose native or pv)`);
      }
      const base = opts.base === undefined ? undefined : Number(opts.base);
      if (base !== undefined && (!Number.isInteger(base) || base < 0 || base > 0xffff_f000 || base % 4096 !== 0)) {
        throw new CliError(`--base ${opts.base}: give a page-aligned address such as 0x00100000`);
      }
      // Loaded on use: the compiler pulls in the TypeScript compiler, which every other verb can do without.
      const { compile, CompileError } = await import('../../toolchain/compiler/index.ts');
      let result;
      try {
        result = compile(entry, { arch: opts.arch as 'native' | 'pv', user: opts.user ?? false, typeCheck: opts.typeCheck, ...(base !== undefined ? { base } : {}) });
      } catch (e) {
        if (e instanceof CompileError) throw new CliError(e.message, 1);
        throw e;
      }
      const output = opts.output ?? defaultImageName(entry);
      if (opts.emitAsm) write(opts.emitAsm, result.asm);
      write(output, encodeImage(result.image));
      const text = result.sections.find((s) => s.name === 'text')!;
      const memory = result.image.segments.reduce((n, s) => n + s.memBytes, 0);
      process.stdout.write(`${output}: ${opts.user ? 'user program' : `${opts.arch} kernel`}, ${text.bytes} bytes of code, ${memory} bytes loaded, entry ${hex(result.image.entry)}\n`);
    });
}
