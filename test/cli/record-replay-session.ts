// Helpers for the record/replay tests (record-replay.test.ts and its deep twin): the CLI in this
// process with a fake terminal, and one recorded interactive session replayed and compared.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { xenolithLive } from './run-in-process.ts';
import { parseInputLog } from '../../hypervisor/input-log.ts';
import { SMP_DEFAULT_QUANTUM_CYCLES } from '../../hypervisor/run.ts';

export const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Captured {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * `xenolith ARGS` in this process with stdout/stderr captured; with `terminal`, process.stdin is
 * a fake terminal (isTTY, raw mode) that `terminal` types into while the run goes on.
 */
export function xenolith(args: string[], terminal?: (keys: (text: string) => void, out: () => string, err: () => string) => Promise<void>): Promise<Captured> {
  return xenolithLive(args, async (io) => terminal?.(io.keys, io.out, io.err), { terminal: terminal !== undefined });
}

/** Wait until `cond` holds (the guest said something), at most 20 s. */
export async function until(cond: () => boolean): Promise<void> {
  for (let t = 0; t < 4000 && !cond(); t++) await wait(5);
  if (!cond()) throw new Error('timed out waiting for the guest');
}

/** --stats's lines (cycles, instructions, idle cycles and the mode's counters), without the session's notes. */
export function counts(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !l.startsWith('[xenolith:') && !l.startsWith('xenolith:'));
}


/**
 * Record an interactive session in `mode` in `dir` (keys typed at varying host times, and with a
 * NIC a datagram echoed through a hostfwd), replay it, and check the replay printed the same
 * console output and --stats (cycles, instructions, the mode's counters) and ended the same way.
 */
export async function recordAndReplay(mode: string, dir: string, smp = 1, extra: string[] = []): Promise<void> {
      const file = join(dir, `${mode}-${smp}${extra.join('')}.log`);
      const net = mode !== 'pv' && smp === 1;
      const client = createSocket('udp4');
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
      const echoed: Buffer[] = [];
      client.on('message', (m) => echoed.push(m));
      try {
        const rec = await xenolith(['run', '--mode', mode, '--record', file, '--stats', ...(net ? ['--net', 'hostfwd=udp:127.0.0.1:0-:7'] : []), ...(smp > 1 ? ['--smp', String(smp)] : []), ...extra], async (type, out, err) => {
          await until(() => out().includes('$ '));
          await wait(20);
          type('echo o');
          await wait(35);
          type('ne\r');
          await until(() => out().includes('one\n'));
          if (net) {
            type('udpecho 7 1\r');
            await until(() => out().includes('listening on udp port 7'));
            const port = Number(/udp 127\.0\.0\.1:(\d+) -> guest/.exec(err())![1]);
            client.send(Buffer.from('xenolith datagram'), port, '127.0.0.1');
            await until(() => out().includes('echoed 1 datagrams'));
          }
          await wait(15);
          type('echo two\r');
          await until(() => (out().match(/\$ /g) ?? []).length >= (net ? 4 : 3));
          type('exit 3\r');
        });
        expect(rec.status).toBe(3);
        if (net) expect(echoed.map((b) => b.toString())).toEqual(['xenolith datagram']);
        const log = parseInputLog(readFileSync(file, 'utf8'), file);
        expect(log.run.mode).toBe(mode);
        expect(log.run.smp).toBe(smp > 1 ? smp : undefined);
        expect(log.events.filter((e) => e.kind === 'datagram').length).toBe(net ? 1 : 0);
        expect(log.events.filter((e) => e.kind === 'keys').map((e) => (e.kind === 'keys' ? e.text : '')).join('')).toBe(`echo one\n${net ? 'udpecho 7 1\n' : ''}echo two\nexit 3\n`);
        expect(log.end.end).toBe('guest');
        if (smp === 1) expect(counts(rec.stderr)).toContain(`cycles: ${log.end.cycle}`);
        else {
          // several CPUs: the session's cycle is the clock of the CPU that ran last (replayDrive's
          // endSlack says why), which --stats' `cycles:` prints (the machine's clock). The bare
          // machine's --stats prints every CPU's clock too: the session's is one of them; a CPU that
          // could run is at most a slice (the quantum) ahead of it, since the lowest clock runs
          // next; one waiting for an interrupt may trail it by any amount, as its clock stands
          // until it wakes (machine/machine.ts runSmp)
          const stats = counts(rec.stderr).join('\n');
          expect(Number(/^cycles: (\d+)$/m.exec(stats)![1])).toBe(log.end.cycle);
          const clocks = [...stats.matchAll(/^cpu \d+: cycles (\d+),/gm)].map((m) => Number(m[1]));
          expect(clocks.length).toBe(mode === 'native' ? smp : 0);
          if (mode === 'native') {
            expect(clocks).toContain(log.end.cycle);
            for (const c of clocks) expect(c - log.end.cycle).toBeLessThanOrEqual(SMP_DEFAULT_QUANTUM_CYCLES);
            // and the instructions are all the CPUs'
            const insns = [...stats.matchAll(/^cpu \d+: cycles \d+, instructions (\d+),/gm)].reduce((a, m) => a + Number(m[1]), 0);
            expect(Number(/^instructions: (\d+)$/m.exec(stats)![1])).toBe(insns);
          }
        }
        expect(counts(rec.stderr).length).toBeGreaterThan(5);

        const rep = await xenolith(['run', '--replay', file, '--stats']);
        expect(rep.stderr).toContain(`[xenolith: replayed ${log.events.length} inputs from ${file}: ended at cycle ${log.end.cycle} as recorded, console output identical]`);
        expect(rep.status).toBe(3);
        expect(rep.stdout).toBe(rec.stdout);
        expect(counts(rep.stderr)).toEqual(counts(rec.stderr));
      } finally {
        client.close();
      }
}
