// The list of CLI verbs. Each module exports a `register(program)` that adds its subcommands. A
// command line naming one verb loads that verb's module alone (VERB_MODULES), so `xenolith list`
// does not load the machine, the hypervisor and the benchmarks it never runs; the program's help,
// `help`, a global option other than --version, and a verb not in the table (commander's error
// and its suggestion need them all) load every module, in this order (the help lists the verbs so).
import type { Command } from 'commander';

type Register = (program: Command) => void;
type Loader = () => Promise<{ register: Register }>;

const MODULES = {
  run: () => import('./run.ts'),
  compile: () => import('./compile.ts'),
  asm: () => import('./asm.ts'),
  disasm: () => import('./disasm.ts'),
  isa: () => import('./isa.ts'),
  classify: () => import('./classify.ts'),
  bench: () => import('./bench.ts'),
  compare: () => import('./compare.ts'),
  demo: () => import('./demo.ts'),
  init: () => import('./init.ts'),
  daemon: () => import('./daemon.ts'),
  domainVerbs: () => import('./domain-verbs.ts'),
  trace: () => import('./trace.ts'),
  pvRecord: () => import('./pv-record.ts'),
  help: () => import('./help.ts'),
} satisfies Record<string, Loader>;

export type CommandModule = keyof typeof MODULES;
/** Every module, in the order the program's help lists their verbs. */
export const COMMAND_MODULES = Object.keys(MODULES) as CommandModule[];

/** The module that registers each verb (test/cli/verbs.test.ts keeps it equal to the registrations). */
export const VERB_MODULES: Readonly<Record<string, CommandModule>> = {
  run: 'run',
  compile: 'compile',
  asm: 'asm',
  disasm: 'disasm',
  isa: 'isa',
  classify: 'classify',
  bench: 'bench',
  compare: 'compare',
  demo: 'demo',
  init: 'init',
  daemon: 'daemon',
  define: 'domainVerbs',
  undefine: 'domainVerbs',
  list: 'domainVerbs',
  start: 'domainVerbs',
  shutdown: 'domainVerbs',
  reboot: 'domainVerbs',
  destroy: 'domainVerbs',
  suspend: 'domainVerbs',
  resume: 'domainVerbs',
  save: 'domainVerbs',
  restore: 'domainVerbs',
  migrate: 'domainVerbs',
  dominfo: 'domainVerbs',
  domstats: 'domainVerbs',
  setmem: 'domainVerbs',
  schedinfo: 'domainVerbs',
  monitor: 'domainVerbs',
  console: 'domainVerbs',
  trace: 'trace',
  'record-pv': 'pvRecord',
  'host-replay': 'pvRecord',
};

/** The modules a command line needs: its verb's, none for --version alone, else all of them. */
export function modulesFor(args: readonly string[]): CommandModule[] {
  const first = args[0];
  if (first === '-V' || first === '--version') return [];
  const own = first === undefined ? undefined : Object.hasOwn(VERB_MODULES, first) ? VERB_MODULES[first] : undefined;
  return own === undefined ? COMMAND_MODULES : [own];
}

/** Register the verbs of `modules` (default: every one) on `program`, in the help's order. */
export async function registerCommands(program: Command, modules: readonly CommandModule[] = COMMAND_MODULES): Promise<void> {
  const loaded = await Promise.all(COMMAND_MODULES.filter((m) => modules.includes(m)).map((m) => MODULES[m]()));
  for (const { register } of loaded) register(program);
}
