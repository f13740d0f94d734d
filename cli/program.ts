// The `xenolith` program as a function: build the commander definition (every verb registers
// itself, cli/commands/) and run it on an argument list, returning the exit status instead of
// exiting, so tests can run the CLI in-process. cli/main.ts is the process around it.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { CliError } from './errors.ts';
import { engineEnvironmentError } from '../machine/engine.ts';
import { modulesFor, registerCommands, type CommandModule } from './commands/index.ts';

/** The package version, from package.json (one definition). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The program with the verbs of `modules` registered (default: every verb). */
export async function buildProgram(modules?: readonly CommandModule[]): Promise<Command> {
  const program = new Command();
  program
    .name('xenolith')
    .description('A paravirtualized hypervisor framework on the simulated XL32 machine')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  await registerCommands(program, modules);
  return program;
}

function isCommanderError(err: unknown): err is { code: string; exitCode: number } {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' && err.code.startsWith('commander.');
}

/**
 * Run `xenolith ARGS...` and return its exit status: a CliError is printed as one line on
 * stderr; the status a verb set in process.exitCode (the guest's) is returned and cleared.
 * Any other error is a bug in xenolith itself and is rethrown.
 */
export async function runCli(args: readonly string[]): Promise<number> {
  const program = await buildProgram(modulesFor(args));
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    const envError = engineEnvironmentError();
    if (envError !== null) throw new CliError(envError);
    await program.parseAsync([...args], { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (isCommanderError(err)) return err.exitCode;
    if (err instanceof CliError) {
      process.stderr.write(`xenolith: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  } finally {
    process.exitCode = before;
  }
}
