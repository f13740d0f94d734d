// `xenolith record-pv FILE` / `record-pv --stop`: record the daemon's shared pv machine, whole
// (POST /pv-record, /pv-record/stop); `xenolith host-replay FILE`: replay such a recording on a host
// of this process and check it (daemon/pv-record.ts, daemon/pv-replay.ts; docs/replay.md "pv
// domains of the daemon").
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.ts';
import { apiCall, clientFor, STATE_DIR_OPTION } from './domain-verbs.ts';
import type { PvHostEnd } from '../../daemon/pv-record.ts';
import { engineOption } from '../options.ts';

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

export function register(program: Command): void {
  program
    .command('record-pv')
    .description("record the daemon's shared pv machine, whole, from its first cycle to FILE: every pv domain started on it, console input, management commands and the host's lifecycle actions, each at the machine's cycle; refused while a domain is on that machine. --stop ends it. `xenolith host-replay` repeats it (docs/replay.md)")
    .argument('[file]', "the recording's name: the daemon writes STATE_DIR/files/FILE (a plain name, no path)")
    .option('--profile <name>', "the machine's CPU cost profile (the pv domains' profile)", 'p4-2003')
    .addOption(engineOption("the machine's engine (the pv domains' engine)"))
    .option('--stop', 'end the recording being taken (the machine runs on unrecorded)')
    .option(...STATE_DIR_OPTION)
    .option('--json', 'print the answer as JSON')
    .action(async (file: string | undefined, opts: { profile: string; engine: string; stop?: boolean; stateDir?: string; json?: boolean }) => {
      if (opts.stop === true && file !== undefined) throw new CliError('record-pv --stop takes no FILE (it ends the recording being taken)');
      if (opts.stop !== true && file === undefined) throw new CliError('record-pv needs FILE (or --stop)');
      const { client, dir } = await clientFor(opts.stateDir);
      if (opts.stop === true) {
        const end = await apiCall(() => client.call<PvHostEnd>('POST', '/pv-record/stop'));
        if (opts.json) out(JSON.stringify(end, null, 2));
        else out(`recording ended at cycle ${end.cycle}: ${end.domains.map((d) => `'${d.name}' ${d.status}, ${d.outputBytes} console bytes`).join('; ') || 'no domain'}`);
        return;
      }
      const r = await apiCall(() => client.call<{ machine: string; file: string }>('POST', '/pv-record', { file, profile: opts.profile, engine: opts.engine }));
      if (opts.json) out(JSON.stringify(r, null, 2));
      else out(`recording the shared machine ${r.machine} to ${join(dir, 'files', r.file)}`);
    });

  program
    .command('host-replay')
    .description('replay a recording of the shared pv machine (by record-pv) on a host of this process, and check that every domain printed the same console output and the machine ended at the same cycle; --console NAME prints one domain\'s output')
    .argument('<file>', 'the recording (STATE_DIR/files/NAME, as record-pv wrote it)')
    .option('--console <name>', "print that domain's console output")
    .option('--json', 'print the end (the recorded one, checked) as JSON')
    .action(async (file: string, opts: { console?: string; json?: boolean }) => {
      const { readPvHostLog, PvHostLogError } = await import('../../daemon/pv-record.ts');
      const { replayPvHost } = await import('../../daemon/pv-replay.ts');
      const { standardGuest } = await import('../guest.ts');
      let res;
      try {
        const log = readPvHostLog(file);
        const { readImageFile } = await import('../image-files.ts');
        const { compileKernel } = await import('../guest.ts');
        // a domain's own kernel: an image file, or an entry module compiled as the daemon compiles it
        res = replayPvHost(log, file, { standardGuest: (arch) => standardGuest(arch), loadKernel: (path, arch) => (path.endsWith('.ts') ? compileKernel(path, arch) : readImageFile(path)) });
      } catch (e) {
        if (e instanceof PvHostLogError) throw new CliError(e.message, 2);
        throw e;
      }
      if (opts.console !== undefined) {
        if (!res.end.domains.some((d) => d.name === opts.console)) throw new CliError(`--console ${opts.console}: the recording has no domain of that name (it has ${res.end.domains.map((d) => d.name).join(', ') || 'none'})`);
        process.stdout.write(Buffer.from(res.consoles.get(opts.console) ?? '', 'latin1'));
      }
      if (opts.json) out(JSON.stringify(res.end, null, 2));
      const n = res.end.domains.length;
      process.stderr.write(`[xenolith: replayed ${file}: the machine ended at cycle ${res.end.cycle} as recorded; ${n} domain${n === 1 ? '' : 's'}, console output identical]\n`);
    });
}
