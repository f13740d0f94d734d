// The `xenolith` command: a front end over every layer (toolchain, machine, hypervisor).
// Each verb lives in its own module under cli/commands/ (kvmtool's builtin-* shape) and
// registers itself here. This is the only place allowed to import from all layers.
import { Command } from 'commander';
import { CliError } from './errors.ts';
import { registerCommands } from './commands/index.ts';

const program = new Command();
program
  .name('xenolith')
  .description('A paravirtualized hypervisor framework on the simulated XL32 machine')
  .showHelpAfterError()
  .exitOverride();
registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string' && (err as { code: string }).code.startsWith('commander.')) {
    const code = (err as { exitCode?: number }).exitCode ?? 1;
    process.exit(code);
  }
  if (err instanceof CliError) {
    process.stderr.write(`xenolith: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  // Any other error is a bug in xenolith itself; show it plainly.
  throw err;
}
