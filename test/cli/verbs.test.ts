// cli/commands/index.ts loads a command line's verb module alone: its table of which module
// registers which verb must be what the modules register, or a verb would go missing from the
// command that names it (and the rest of the CLI would load for nothing).
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, VERB_MODULES, modulesFor, registerCommands, type CommandModule } from '../../cli/commands/index.ts';
import { buildProgram } from '../../cli/program.ts';

describe('the verbs and their modules', () => {
  it('every verb a module registers is in the table, under that module; `help` alone is not (it shows every verb)', async () => {
    const registered: Record<string, CommandModule> = {};
    for (const m of COMMAND_MODULES) {
      const program = new Command();
      await registerCommands(program, [m]);
      for (const c of program.commands) if (c.name() !== 'help') registered[c.name()] = m;
    }
    expect(VERB_MODULES).toEqual(registered);
    expect(Object.values(registered)).not.toContain('help');
  });

  it("a command line loads its verb's module, none for --version, every one otherwise", () => {
    expect(modulesFor(['run', '--mode', 'pv'])).toEqual(['run']);
    expect(modulesFor(['list', '--all'])).toEqual(['domainVerbs']);
    expect(modulesFor(['host-replay', 'f'])).toEqual(['pvRecord']);
    expect(modulesFor(['--version'])).toEqual([]);
    expect(modulesFor(['-V'])).toEqual([]);
    for (const args of [[], ['--help'], ['-h'], ['help', 'run'], ['lst'], ['constructor'], ['--bogus']]) expect(modulesFor(args)).toEqual(COMMAND_MODULES);
  });

  it('the whole program has every verb of the table and help, in the modules\' order', async () => {
    const names = (await buildProgram()).commands.map((c) => c.name());
    expect(names.slice(0, 11)).toEqual(['run', 'compile', 'asm', 'disasm', 'isa', 'classify', 'bench', 'compare', 'demo', 'init', 'daemon']);
    expect(names.at(-1)).toBe('help');
    expect(new Set(names)).toEqual(new Set([...Object.keys(VERB_MODULES), 'help']));
  });
});
