// The list of CLI verbs. Each module exports a `register(program)` that adds one subcommand.
import type { Command } from 'commander';
import { register as isa } from './isa.ts';

type Register = (program: Command) => void;
const modules: Register[] = [
  isa,
];

export function registerCommands(program: Command): void {
  for (const register of modules) register(program);
}
