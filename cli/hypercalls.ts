// `run --mode pv --hypercalls HANDLER.ts`: load a hypercall handler module (the shape of
// docs/hypercalls.md's "Adding a hypercall") into a fresh copy of the standard hypercall table.
// The module's exported functions whose names begin with `register` are each called with the
// table (examples/hypercall-experiment/handler.ts exports registerChecksum). Host code.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync, statSync } from 'node:fs';
import { standardHypercalls, type HypercallTable } from '../hypervisor/index.ts';
import { CliError } from './errors.ts';

export async function loadHypercallTable(handlerFile: string): Promise<HypercallTable> {
  const path = resolve(handlerFile);
  if (!existsSync(path)) throw new CliError(`cannot read ${handlerFile}: no such file`);
  if (statSync(path).isDirectory()) throw new CliError(`cannot read ${handlerFile}: it is a directory`);
  let mod: Record<string, unknown>;
  try {
    // run from its bundle (bin/host-bundle.mjs), the command loads TypeScript through tsx from here on
    const useTypeScript = (globalThis as Record<symbol, unknown>)[Symbol.for('xenolith.useTypeScriptSources')];
    if (typeof useTypeScript === 'function') await (useTypeScript as () => Promise<void>)();
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`${handlerFile}: cannot load the handler module: ${(e as Error).message.split('\n')[0]}`);
  }
  const registers = Object.entries(mod).filter(([name, f]) => name.startsWith('register') && typeof f === 'function') as [string, (t: HypercallTable) => void][];
  if (registers.length === 0) throw new CliError(`${handlerFile}: exports no register...(table) function (see docs/hypercalls.md, "Adding a hypercall")`);
  const table = standardHypercalls();
  for (const [name, register] of registers) {
    try {
      register(table);
    } catch (e) {
      throw new CliError(`${handlerFile}: ${name}: ${(e as Error).message}`);
    }
  }
  return table;
}
