// `xenolith daemon [stop|status]`: run the management daemon for a state directory in the
// foreground (one simulated physical machine, its domains, the API on loopback and a unix
// socket), end it, or show it. docs/management.md. CLI glue around daemon/server.ts.
import type { Command } from 'commander';
import { z } from 'zod';
import { CliError } from '../errors.ts';
import { parseOptions } from '../options.ts';
import { VERSION } from '../program.ts';
import { STATE_DIR_OPTION, clientFor, apiCall } from './domain-verbs.ts';

const daemonOptionsSchema = z.object({
  port: z
    .string()
    .optional()
    .transform((s) => (s === undefined ? 0 : Number(s)))
    .pipe(z.number().int({ error: '--port must be a port number from 0 to 65535' }).min(0, { error: '--port must be a port number from 0 to 65535' }).max(65535, { error: '--port must be a port number from 0 to 65535' })),
  hostMemory: z
    .string()
    .transform((s) => Number(s))
    .pipe(z.number().int({ error: '--host-memory must be a whole number of MiB from 16 to 2048' }).min(16, { error: '--host-memory must be a whole number of MiB from 16 to 2048' }).max(2048, { error: '--host-memory must be a whole number of MiB from 16 to 2048' })),
  pacing: z.enum(['wall', 'fast'], { error: '--pacing must be wall or fast' }),
});

export function register(program: Command): void {
  program
    .command('daemon')
    .description('run the management daemon for a state directory (domains, the API on 127.0.0.1 and a unix socket); `daemon stop` ends it, `daemon status` shows it')
    .argument('[action]', 'stop | status (default: run in the foreground)')
    .option(...STATE_DIR_OPTION)
    .option('--port <n>', 'TCP port on 127.0.0.1 (default: any free port; see STATE_DIR/daemon.json)')
    .option('--host-memory <MiB>', "the shared pv machine's memory", '1024')
    .option('--pacing <how>', 'wall: idle guests follow wall-clock time (the simulator is slower than the CPU it models, so only idle time can be stretched); fast: as fast as possible', 'wall')
    .option('--json', 'print JSON (status)')
    .action(async (action: string | undefined, opts: { stateDir?: string; port?: string; hostMemory: string; pacing: string; json?: boolean }) => {
      if (action === 'stop') {
        const { client, dir } = await clientFor(opts.stateDir, false).catch(() => {
          throw new CliError(`no daemon is running for ${opts.stateDir ?? 'the state directory'}`, 1);
        });
        await apiCall(() => client.call('POST', '/daemon/stop'));
        process.stdout.write(`xenolith daemon for ${dir} stopped\n`);
        return;
      }
      if (action === 'status') {
        const { client } = await clientFor(opts.stateDir, false).catch(() => {
          throw new CliError(`no daemon is running for ${opts.stateDir ?? 'the state directory'}`, 1);
        });
        const info = await apiCall(() => client.call<Record<string, unknown>>('GET', '/daemon'));
        process.stdout.write(
          opts.json ? `${JSON.stringify(info, null, 2)}\n` : `${Object.entries(info).map(([k, v]) => `${k}: ${String(v)}`).join('\n')}\nweb console: http://127.0.0.1:${String(info.port)}/ui/\n`,
        );
        return;
      }
      if (action !== undefined) throw new CliError(`unknown daemon action "${action}" (stop, status, or none to run the daemon)`);
      const o = parseOptions(daemonOptionsSchema, { port: opts.port, hostMemory: opts.hostMemory, pacing: opts.pacing });
      const { startDaemon, DaemonRunningError } = await import('../../daemon/server.ts');
      const { defaultStateDir } = await import('../../daemon/state-dir.ts');
      const dir = defaultStateDir(opts.stateDir);
      let d;
      try {
        d = await startDaemon({ stateDir: dir, port: o.port, hostMemoryMiB: o.hostMemory, pacing: o.pacing, version: VERSION, log: (l) => process.stderr.write(`xenolith daemon: ${l}\n`) });
      } catch (e) {
        if (e instanceof DaemonRunningError) throw new CliError(e.message, 1);
        if (e instanceof Error && 'code' in e) throw new CliError(`cannot serve ${dir}: ${e.message}`, 1);
        throw e;
      }
      process.stdout.write(`xenolith daemon: ${dir} on http://127.0.0.1:${d.port} and unix:${d.socketPath} (token in ${dir}/token)\n`);
      process.stdout.write(`xenolith daemon: web console at http://127.0.0.1:${d.port}/ui/\n`);
      const stop = () => void d.close();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await d.ended;
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    });
}
