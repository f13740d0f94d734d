// virsh's verbs as clients of the daemon's API: define FILE, undefine, list [--all], start,
// shutdown, reboot, destroy, suspend, resume, save, restore, migrate (xl migrate), console NAME,
// dominfo, domstats, setmem, schedinfo,
// and `monitor NAME COMMAND` (QEMU's HMP names). Each takes --state-dir and --json; the first
// verb starts a daemon for the state directory if none runs. docs/management.md.
import { join } from 'node:path';
import { attachTerminalKeys } from '../terminal.ts';
import type { Command } from 'commander';
import { z } from 'zod';
import { textTable } from '../../bench/text-table.ts';
import { CliError } from '../errors.ts';
import { parseOptions } from '../options.ts';
import type { DaemonClient } from '../../daemon/client.ts';
import type { DomainInfo } from '../../daemon/host.ts';
import type { MigrationReport } from '../../daemon/migration/source.ts';

export const STATE_DIR_OPTION = ['--state-dir <dir>', 'the daemon\'s state directory (default: $XENOLITH_STATE_DIR, else $XDG_STATE_HOME/xenolith)'] as const;

interface Common {
  stateDir?: string;
  json?: boolean;
}

/** A client for the state directory's daemon (started if none runs, unless autostart is false). */
export async function clientFor(stateDir: string | undefined, autostart = true): Promise<{ client: DaemonClient; dir: string }> {
  const { connectDaemon } = await import('../../daemon/client.ts');
  const { defaultStateDir } = await import('../../daemon/state-dir.ts');
  const dir = defaultStateDir(stateDir);
  return { client: await apiCall(() => connectDaemon(dir, { autostart })), dir };
}

/** Run an API call; its refusal becomes one CliError line (exit 1). */
export async function apiCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof Error && e.name === 'ApiError') throw new CliError(e.message, 1);
    throw e;
  }
}

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

function json(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

const path = (name: string, rest = '') => `/domains/${encodeURIComponent(name)}${rest}`;

function dominfoText(d: DomainInfo): string {
  const rows: [string, string][] = [
    ['Name', d.name],
    ['Id', d.id === null ? '-' : String(d.id)],
    ['State', d.status],
    ['Mode', d.mode],
    ['Profile', d.profile],
    ['Memory', `${d.memoryMiB} MiB`],
    ['vCPUs', String(d.vcpus)],
    ['Weight', String(d.weight)],
    ['Machine', d.machine ?? '-'],
    ['Cycles', String(d.cycles)],
    ['Instructions', String(d.instructions)],
    ['Restarts', String(d.restarts)],
  ];
  if (d.forwards && d.forwards.length > 0) rows.push(['Forwards', d.forwards.join(', ')]);
  if (d.stopReason) rows.push(['Stopped', `${d.stopReason}${d.stopStatus !== null ? ` (status ${d.stopStatus})` : ''}${d.stopDetail ? `: ${d.stopDetail}` : ''}`]);
  return rows.map(([k, v]) => `${`${k}:`.padEnd(14)}${v}`).join('\n');
}

function stateLine(d: DomainInfo): string {
  return `domain '${d.name}' ${d.status}${d.stopReason && d.status !== 'running' ? ` (${d.stopReason}${d.stopDetail ? `: ${d.stopDetail}` : ''})` : ''}`;
}

const memorySchema = z
  .string()
  .transform((s) => Number(s))
  .pipe(z.number({ error: 'MiB must be a number' }).positive({ error: 'MiB must be a positive number' }).max(1024, { error: 'MiB must be at most 1024' }).refine((m) => Number.isInteger(m * 256), { error: 'MiB must be a whole number of 4 KiB pages' }));
const weightSchema = z
  .string()
  .transform((s) => Number(s))
  .pipe(z.number().int({ error: '--weight must be a whole number from 1 to 10000' }).min(1, { error: '--weight must be a whole number from 1 to 10000' }).max(10000, { error: '--weight must be a whole number from 1 to 10000' }));

/** A verb on one domain that answers with its DomainInfo (start, destroy, ...). */
function lifecycleVerb(program: Command, verb: string, description: string, done: (d: DomainInfo) => string): void {
  program
    .command(verb)
    .description(description)
    .argument('<name>', 'the domain')
    .option(...STATE_DIR_OPTION)
    .option('--json', 'print the domain\'s info as JSON')
    .action(async (name: string, opts: Common) => {
      const { client } = await clientFor(opts.stateDir);
      const d = await apiCall(() => client.call<DomainInfo>('POST', path(name, `/${verb}`)));
      if (opts.json) json(d);
      else out(done(d));
    });
}

export function register(program: Command): void {
  program
    .command('define')
    .description('define a domain from a definition file (JSON, or YAML for .yaml/.yml; docs/management.md), or update its definition (used at its next start)')
    .argument('<file>', 'the definition file')
    .option(...STATE_DIR_OPTION)
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: Common) => {
      const { loadDefinitionFile, DefinitionError } = await import('../../daemon/definition.ts');
      let def;
      try {
        def = loadDefinitionFile(file);
      } catch (e) {
        if (e instanceof DefinitionError) throw new CliError(e.message);
        throw e;
      }
      const { client } = await clientFor(opts.stateDir);
      const r = await apiCall(() => client.call<{ created: boolean; domain: DomainInfo }>('POST', '/domains', def));
      if (opts.json) json(r);
      else out(`domain '${def.name}' ${r.created ? 'defined' : 'redefined (the new definition applies at its next start)'} from ${file}`);
    });

  program
    .command('undefine')
    .description('forget a domain that is not running (its definition file in the state directory goes)')
    .argument('<name>', 'the domain')
    .option(...STATE_DIR_OPTION)
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: Common) => {
      const { client } = await clientFor(opts.stateDir);
      const r = await apiCall(() => client.call('DELETE', path(name)));
      if (opts.json) json(r);
      else out(`domain '${name}' undefined`);
    });

  program
    .command('list')
    .description('list running and paused domains (--all: every defined domain)')
    .option('--all', 'every defined domain, also the shut off ones')
    .option(...STATE_DIR_OPTION)
    .option('--json', 'print a JSON array of the domains\' info')
    .action(async (opts: Common & { all?: boolean }) => {
      const { client } = await clientFor(opts.stateDir);
      const { domains } = await apiCall(() => client.call<{ domains: DomainInfo[] }>('GET', '/domains'));
      const shown = opts.all ? domains : domains.filter((d) => d.status === 'running' || d.status === 'paused');
      if (opts.json) return json(shown);
      out(textTable(['Id', 'Name', 'State', 'Mode', 'Memory'], shown.map((d) => [d.id === null ? '-' : String(d.id), d.name, d.status, d.mode, `${d.memoryMiB} MiB`]), ['left', 'left', 'left', 'left', 'right']));
    });

  lifecycleVerb(program, 'start', 'start a defined domain', (d) => `domain '${d.name}' started`);
  lifecycleVerb(program, 'shutdown', "ask a domain to power off (pv: a shutdown request the guest kernel handles; other modes: end of input on its console, so the standard guest's shell exits and init powers off)", (d) => `domain '${d.name}' is being shut down`);
  lifecycleVerb(program, 'reboot', 'reboot a domain (pv: a reboot request the guest kernel handles; other modes: destroyed and started again); on_reboot: restart or destroy', stateLine);
  lifecycleVerb(program, 'destroy', 'stop a domain at once and give its memory back (a preserved one too)', (d) => `domain '${d.name}' destroyed`);
  lifecycleVerb(program, 'suspend', 'pause a running domain', (d) => `domain '${d.name}' suspended`);
  lifecycleVerb(program, 'resume', 'continue a paused domain', (d) => `domain '${d.name}' resumed`);

  program
    .command('save')
    .description("save a running or paused domain, whole, to FILE and take it down (xl save); native, trap, bt and hvm domains, and pv domains at a quiet point (each vCPU in user mode or blocked), of several vCPUs too (docs/migration.md)")
    .argument('<name>', 'the domain')
    .argument('<file>', "the save file's name: the daemon writes STATE_DIR/files/FILE (a plain name, no path)")
    .option(...STATE_DIR_OPTION)
    .option('--json', "print the domain's info as JSON")
    .action(async (name: string, file: string, opts: Common) => {
      const { client, dir } = await clientFor(opts.stateDir);
      const d = await apiCall(() => client.call<DomainInfo>('POST', path(name, '/save'), { file }));
      if (opts.json) json(d);
      else out(`domain '${d.name}' saved to ${join(dir, 'files', file)}`);
    });

  program
    .command('restore')
    .description('restore a domain from a file written by save (xl restore): defined again from the definition in the file, started from its saved state')
    .argument('<file>', "the save file's name in STATE_DIR/files (as save named it)")
    .option(...STATE_DIR_OPTION)
    .option('--json', "print the domain's info as JSON")
    .action(async (file: string, opts: Common) => {
      const { client } = await clientFor(opts.stateDir);
      const d = await apiCall(() => client.call<DomainInfo>('POST', '/restore', { file }));
      if (opts.json) json(d);
      else out(`domain '${d.name}' restored (${d.status})`);
    });

  program
    .command('migrate')
    .description("live-migrate a running or paused domain to another daemon (xl migrate): pre-copy rounds over log-dirty on a modelled link, stop-and-copy, the domain resumes there with its console and disks and is destroyed here; on any failure it runs on here (docs/migration.md)")
    .argument('<name>', 'the domain')
    .requiredOption('--to <url>', "the destination daemon's URL, http://HOST:PORT (the port in its STATE_DIR/daemon.json)")
    .option('--token <token>', "the destination daemon's token, the contents of its STATE_DIR/token (default: $XENOLITH_MIGRATE_TOKEN)")
    .option('--link-mbps <n>', "the modelled link's bandwidth, megabits per second of simulated time", '1000')
    .option('--latency-ms <ms>', "the modelled link's one-way latency, ms of simulated time", '0.1')
    .option(...STATE_DIR_OPTION)
    .option('--json', 'print the migration report as JSON')
    .action(async (name: string, opts: Common & { to: string; token?: string; linkMbps: string; latencyMs: string }) => {
      const token = opts.token ?? process.env.XENOLITH_MIGRATE_TOKEN;
      if (token === undefined || token === '') throw new CliError("migrate needs the destination daemon's token: --token T (the contents of its STATE_DIR/token) or $XENOLITH_MIGRATE_TOKEN");
      const linkMbps = Number(opts.linkMbps);
      if (!(Number.isFinite(linkMbps) && linkMbps > 0)) throw new CliError(`--link-mbps must be a positive number, not "${opts.linkMbps}"`);
      const latencyMs = Number(opts.latencyMs);
      if (!(Number.isFinite(latencyMs) && latencyMs >= 0)) throw new CliError(`--latency-ms must be a number >= 0, not "${opts.latencyMs}"`);
      const { client } = await clientFor(opts.stateDir);
      const { migrationReportText } = await import('../../bench/migrate.ts');
      const r = await apiCall(() => client.call<MigrationReport>('POST', path(name, '/migrate'), { to: opts.to, token, linkMbps, latencyMs }));
      if (opts.json) json(r);
      else out(`domain '${r.name}' migrated to ${opts.to}\n${migrationReportText(r)}`);
    });

  program
    .command('dominfo')
    .description("a domain's state, mode, memory, machine and counters")
    .argument('<name>', 'the domain')
    .option(...STATE_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: Common) => {
      const { client } = await clientFor(opts.stateDir);
      const d = await apiCall(() => client.call<DomainInfo>('GET', path(name)));
      if (opts.json) json(d);
      else out(dominfoText(d));
    });

  program
    .command('domstats')
    .description("a domain's statistics: cycles, instructions, exits, traps, hypercalls, shadow faults, console bytes")
    .argument('<name>', 'the domain')
    .option(...STATE_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: Common) => {
      const { client } = await clientFor(opts.stateDir);
      const s = await apiCall(() => client.call<{ info: DomainInfo; stats: Record<string, unknown> }>('GET', path(name, '/stats')));
      if (opts.json) return json(s);
      const lines = [`Domain: '${name}' (${s.info.status}, ${s.info.mode})`];
      for (const [k, v] of Object.entries(s.stats)) lines.push(`  ${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
      out(lines.join('\n'));
    });

  program
    .command('setmem')
    .description("set a domain's memory in MiB: a running pv domain balloons to it at once (up to its memory at start; its definition keeps that); otherwise the definition's memory, for the next start")
    .argument('<name>', 'the domain')
    .argument('<MiB>', 'memory in MiB')
    .option(...STATE_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(async (name: string, mib: string, opts: Common) => {
      const memory = parseOptions(z.object({ m: memorySchema }), { m: mib }).m;
      const { client } = await clientFor(opts.stateDir);
      const d = await apiCall(() => client.call<DomainInfo>('PUT', path(name, '/memory'), { memory }));
      if (opts.json) json(d);
      else if (d.mode === 'pv' && (d.status === 'running' || d.status === 'paused')) out(`domain '${name}': balloon target ${memory} MiB (its definition keeps ${d.memoryMiB} MiB)`);
      else out(`domain '${name}': memory ${d.memoryMiB} MiB${d.status === 'running' || d.status === 'paused' ? ' from its next start' : ''}`);
    });

  program
    .command('schedinfo')
    .description("show a domain's scheduler and weight, or set the weight (--weight: at once on the shared pv machine, and in its definition)")
    .argument('<name>', 'the domain')
    .option('--weight <n>', 'the new weight (1-10000)')
    .option(...STATE_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: Common & { weight?: string }) => {
      const { client } = await clientFor(opts.stateDir);
      const s =
        opts.weight === undefined
          ? await apiCall(() => client.call<{ scheduler: string; weight: number; cycles: number }>('GET', path(name, '/schedinfo')))
          : await apiCall(() => client.call<{ scheduler: string; weight: number; cycles: number }>('PUT', path(name, '/schedinfo'), { weight: parseOptions(z.object({ w: weightSchema }), { w: opts.weight }).w }));
      if (opts.json) json(s);
      else out(`Scheduler:    ${s.scheduler}\nweight:       ${s.weight}\ncycles:       ${s.cycles}`);
    });

  program
    .command('monitor')
    .description("run a monitor command on a domain (QEMU HMP names): 'info mode', 'info registers', 'info cpus', 'info mem', 'info tlb', 'info shadow', 'info events', 'x/10i kmain', 'x/8x 0x1000', stop, cont, step, 'break ADDR', 'delete N', help")
    .argument('<name>', 'the domain')
    .argument('<command...>', 'the command (quote it, or give its words)')
    .option(...STATE_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(async (name: string, words: string[], opts: Common) => {
      const { client } = await clientFor(opts.stateDir);
      const r = await apiCall(() => client.call<{ output: string }>('POST', path(name, '/monitor'), { command: words.join(' ') }));
      if (opts.json) json(r);
      else out(r.output);
    });

  program
    .command('console')
    .description("attach to a domain's console: its kept output, then live output; keys go to the guest (Ctrl-] detaches; piped input is typed, and its end detaches). Several clients may attach; a detached domain keeps running")
    .argument('<name>', 'the domain')
    .option('--input <text>', 'type this (\\n is Enter) after attaching')
    .option('--until <text>', 'detach once the output since attaching (not the kept log) contains this text (\\n is a newline)')
    .option(...STATE_DIR_OPTION)
    .action(async (name: string, opts: Common & { input?: string; until?: string }) => {
      const { client } = await clientFor(opts.stateDir);
      await attachConsole(client, name, opts);
    });
}

async function attachConsole(client: DaemonClient, name: string, opts: { input?: string; until?: string }): Promise<void> {
  const tty = process.stdin.isTTY === true;
  let seen = '';
  let live = false;
  const until = opts.until?.replace(/\\n/g, '\n');
  let detachInput = () => {};
  /** piped input ended: detach once the kept output is shown */
  let inputEnded = false;
  const typeBytes = (data: string) => apiCall(() => client.call('POST', path(name, '/console'), { data })).catch((e: Error) => process.stderr.write(`xenolith: ${e.message}\n`));
  const { done, stop } = client.stream(path(name, '/console'), (event, data) => {
    if (event === 'output') {
      const text = Buffer.from((data as { data: string }).data, 'base64');
      process.stdout.write(text);
      if (until !== undefined && live) {
        seen += text.toString('latin1');
        if (seen.includes(until)) return false;
      }
    } else if (event === 'state') {
      const s = data as { status: string; stopReason: string | null };
      if (!live) {
        live = true;
        if (s.status !== 'running' && s.status !== 'paused') {
          process.stderr.write(`\n[xenolith: domain '${name}' is ${s.status}]\n`);
          return false;
        }
        if (tty) process.stderr.write(`[xenolith: attached to '${name}'; Ctrl-] detaches]\n`);
        if (opts.input !== undefined) void typeBytes(opts.input.replace(/\\n/g, '\n'));
        if (inputEnded) return false;
        return;
      }
      if (s.status !== 'running' && s.status !== 'paused') {
        process.stderr.write(`\n[xenolith: domain '${name}' ${s.status}${s.stopReason ? ` (${s.stopReason})` : ''}]\n`);
        return false;
      }
    }
  });
  if (tty) {
    detachInput = attachTerminalKeys((text) => void typeBytes(text), () => stop());
  } else if (opts.input === undefined && opts.until === undefined) {
    // piped input is typed as it comes; its end detaches (the domain keeps running)
    const onData = (chunk: Buffer) => void typeBytes(chunk.toString('latin1'));
    const onEnd = () => {
      inputEnded = true;
      if (live) stop();
    };
    process.stdin.on('data', onData);
    process.stdin.on('end', onEnd);
    detachInput = () => {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
    };
  }
  try {
    await apiCall(() => done);
  } finally {
    detachInput();
  }
}
