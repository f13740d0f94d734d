// The list of CLI verbs. Each module exports a `register(program)` that adds one subcommand.
import type { Command } from 'commander';
import { register as demo } from './demo.ts';
import { register as bench } from './bench.ts';
import { register as run } from './run.ts';
import { register as isa } from './isa.ts';
import { register as classify } from './classify.ts';
import { register as asm } from './asm.ts';
import { register as disasm } from './disasm.ts';
import { register as compile } from './compile.ts';
import { register as compare } from './compare.ts';
import { register as help } from './help.ts';
import { register as init } from './init.ts';
import { register as daemon } from './daemon.ts';
import { register as domainVerbs } from './domain-verbs.ts';
import { register as trace } from './trace.ts';
import { register as pvRecord } from './pv-record.ts';

type Register = (program: Command) => void;
const modules: Register[] = [
  run,
  compile,
  asm,
  disasm,
  isa,
  classify,
  bench,
  compare,
  demo,
  init,
  daemon,
  domainVerbs,
  trace,
  pvRecord,
  help,
];

export function registerCommands(program: Command): void {
  for (const register of modules) register(program);
}
