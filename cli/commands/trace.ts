// `xenolith trace NAME FILE`: a timeline of a running domain's machine from the daemon
// (POST /domains/NAME/trace), written in the Chrome Trace Event format - the daemon's side of
// `run --trace`. Host code (CLI).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { CliError } from '../errors.ts';
import { STATE_DIR_OPTION, clientFor, apiCall } from './domain-verbs.ts';
import type { ChromeTrace } from '../../hypervisor/core/trace.ts';
import { MAX_TRACE_RECORDS } from '../../hypervisor/core/trace.ts';

const count = (flag: string, max: number) =>
  z
    .string()
    .transform((s) => Number(s.replace(/_/g, '')))
    .pipe(z.number().refine((n) => Number.isSafeInteger(n) && n >= 1 && n <= max, { error: `${flag} must be a whole number from 1 to ${max}` }))
    .optional();

const traceOptionsSchema = z.object({ cycles: count('--cycles', 3_000_000_000), records: count('--records', MAX_TRACE_RECORDS) });

export function register(program: Command): void {
  program
    .command('trace')
    .description("trace a running domain's machine (every domain of a shared pv machine) for a stretch of simulated time: exits, traps, hypercalls, event-channel notifications, interrupts and scheduler switches, written to FILE in the Chrome Trace Event format (Perfetto, chrome://tracing)")
    .argument('<name>', 'the domain')
    .argument('<file>', 'where to write the trace (JSON)')
    .option('--cycles <n>', 'simulated cycles to trace (default 30000000: 10 ms at 3 GHz); a trace also ends after 2 s of wall time')
    .option('--records <n>', "the trace buffer's size in records; later records are dropped and counted (default 65536)")
    .option(...STATE_DIR_OPTION)
    .action(async (name: string, file: string, opts: { stateDir?: string; cycles?: string; records?: string }) => {
      const r = traceOptionsSchema.safeParse({ cycles: opts.cycles, records: opts.records });
      if (!r.success) throw new CliError(r.error.issues[0]!.message);
      const body: Record<string, number> = {};
      if (r.data.cycles !== undefined) body.cycles = r.data.cycles;
      if (r.data.records !== undefined) body.records = r.data.records;
      const { client } = await clientFor(opts.stateDir);
      const t = await apiCall(() => client.call<ChromeTrace>('POST', `/domains/${encodeURIComponent(name)}/trace`, body));
      try {
        writeFileSync(file, `${JSON.stringify(t)}\n`);
      } catch (e) {
        throw new CliError(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      }
      const o = t.otherData;
      process.stdout.write(`trace of ${o.machine}: ${o.records} records over ${o.toCycle - o.fromCycle} cycles${o.dropped > 0 ? `, ${o.dropped} dropped` : ''} written to ${file}\n`);
    });
}
