// `xenolith isa [--markdown]`: print the XL32 instruction table (the one in docs/isa.md).
import type { Command } from 'commander';
import { isaTableMarkdown, TABLE_BEGIN, TABLE_END } from '../../machine/isa-doc.ts';

export function register(program: Command): void {
  program
    .command('isa')
    .description('print the XL32 instruction table (opcode, syntax, class, behaviour at each CPL)')
    .option('--markdown', 'wrap in the markers docs/isa.md uses')
    .action((opts: { markdown?: boolean }) => {
      const table = isaTableMarkdown();
      process.stdout.write(opts.markdown ? `${TABLE_BEGIN}\n${table}\n${TABLE_END}\n` : `${table}\n`);
    });
}
