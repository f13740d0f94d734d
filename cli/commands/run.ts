// `xenolith run IMAGE --mode native`: boot an image on the XL32 machine, print its console to
// stdout and exit with the guest's power-off status. Other modes arrive with the hypervisor.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { decodeImage, ImageError, type Image } from '../../machine/image.ts';
import { Machine } from '../../machine/machine.ts';
import { getProfile } from '../../machine/costs.ts';
import { CliError } from '../errors.ts';

export const MODES = ['native', 'trap', 'bt', 'hvm', 'pv'] as const;

/** Exit codes when the guest did not power off by itself. */
export const EXIT_CYCLE_LIMIT = 124;
export const EXIT_GUEST_DEAD = 125;

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

function parseCount(value: string, what: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new CliError(`${what} must be a positive whole number, not "${value}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('boot an XL32 image and show its console')
    .argument('<image>', 'image file (from xenolith asm or xenolith compile)')
    .option('--mode <mode>', `virtualization mode: ${MODES.join(', ')}`, 'native')
    .option('--input <text>', 'bytes fed to the console, as if typed (\\n for Enter)')
    .option('--max-cycles <n>', 'stop after this many simulated cycles', '10000000000')
    .option('--profile <name>', 'CPU cost profile', 'p4-2003')
    .option('--memory <MiB>', 'physical memory in MiB', '32')
    .option('--disk <file>', 'a file to back the block device')
    .option('--stats', 'print cycle, instruction and device statistics to stderr when the guest stops')
    .action((imagePath: string, opts: { mode: string; input?: string; maxCycles: string; profile: string; memory: string; disk?: string; stats?: boolean }) => {
      if (!(MODES as readonly string[]).includes(opts.mode)) throw new CliError(`unknown mode "${opts.mode}" (choose one of ${MODES.join(', ')})`);
      if (opts.mode !== 'native') throw new CliError(`mode "${opts.mode}" is not available yet: this build runs images on bare XL32 (--mode native) only`);
      try {
        getProfile(opts.profile);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const image = readImageFile(imagePath);
      const maxCycles = parseCount(opts.maxCycles, '--max-cycles');
      const memoryBytes = parseCount(opts.memory, '--memory') * 1024 * 1024;
      let disk: Uint8Array | undefined;
      if (opts.disk) {
        try {
          disk = new Uint8Array(readFileSync(opts.disk));
        } catch (e) {
          throw new CliError(`cannot read disk ${opts.disk}: ${(e as Error).message}`);
        }
      }
      const machine = new Machine({
        memoryBytes,
        profile: opts.profile,
        disk,
        input: opts.input?.replace(/\\n/g, '\n'),
        onOutput: (byte: number) => process.stdout.write(Buffer.of(byte)),
      });
      try {
        machine.loadImage(image);
      } catch (e) {
        throw new CliError(`${imagePath}: ${(e as Error).message}`);
      }
      const result = machine.run({ maxCycles });
      if (opts.stats) {
        process.stderr.write(
          `cycles: ${machine.cpu.cycles}\ninstructions: ${machine.cpu.instructions}\nprofile: ${opts.profile}\nstopped: ${result.reason}\n`,
        );
      }
      switch (result.reason) {
        case 'poweroff':
          process.exitCode = result.status & 0xff;
          return;
        case 'limit':
          process.stderr.write(`xenolith: the guest was still running after ${maxCycles} cycles\n`);
          process.exitCode = EXIT_CYCLE_LIMIT;
          return;
        default:
          process.stderr.write(`xenolith: the machine stopped: ${result.reason}${result.detail ? ` (${result.detail})` : ''}\n`);
          process.exitCode = EXIT_GUEST_DEAD;
      }
    });
}
