// The `xenolith` command: a front end over every layer (toolchain, machine, hypervisor).
// Each verb lives in its own module under cli/commands/ (kvmtool's builtin-* shape) and
// registers itself in cli/program.ts. This is the only place allowed to import from all layers.
import { runCli } from './program.ts';

process.exitCode = await runCli(process.argv.slice(2));
