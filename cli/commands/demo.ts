// `xenolith demo` (what `npm start` runs): assemble the bare-metal demo, boot it on XL32 and show
// what happened. Later issues extend it to boot the sample guests under each mode.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { assemble } from '../../toolchain/asm/index.ts';
import { Machine } from '../../machine/machine.ts';

const DEMO = new URL('../../examples/bare-metal/demo.s', import.meta.url);

export function register(program: Command): void {
  program
    .command('demo')
    .description('boot the bare-metal demo on XL32 and show its console (what npm start runs)')
    .option('--profile <name>', 'CPU cost profile', 'p4-2003')
    .action((opts: { profile: string }) => {
      const { image } = assemble(readFileSync(DEMO, 'utf8'), 'examples/bare-metal/demo.s');
      process.stdout.write(`== xenolith: booting examples/bare-metal/demo.s on bare XL32 (profile ${opts.profile}) ==\n`);
      const machine = new Machine({ profile: opts.profile, onOutput: (b: number) => process.stdout.write(Buffer.of(b)) });
      machine.loadImage(image);
      const result = machine.run({ maxCycles: 100_000_000 });
      process.stdout.write(
        `== machine stopped: ${result.reason}${result.reason === 'poweroff' ? ` with status ${result.status}` : ''}; ` +
          `${machine.cpu.instructions} instructions, ${machine.cpu.cycles} simulated cycles ==\n` +
          `Next: npx xenolith asm examples/bare-metal/demo.s -o demo.img && npx xenolith run demo.img --mode native --stats\n`,
      );
    });
}
