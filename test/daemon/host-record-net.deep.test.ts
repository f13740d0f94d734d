// Recording a daemon domain with net and no bridge: every host datagram that enters its gateway is
// logged with the cycle it entered at, and `run --replay` (which builds the same forwards' gateway
// with no socket) feeds them in at those cycles: the replayed run's console and end cycle are the
// recorded run's. (Kept out of npm test for its time; the bridged case is host-record-net.test.ts.)
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Host } from '../../daemon/host.ts';
import { validateDefinition } from '../../daemon/definition.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { parseInputLog } from '../../hypervisor/input-log.ts';
import { xenolith } from '../cli/run-in-process.ts';
import { DEFAULT_ENGINE } from './default-engine.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('recording a daemon domain with a network', () => {
  it('native with a host forward, udpecho 7 2: two datagrams logged with their cycles; run --replay repeats the run exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolith-host-record-net-'));
    const file = join(dir, 'net.log');
    let out = '';
    const host = new Host(null, {
      hostMemoryMiB: 64,
      pacing: 'fast',
      standardGuest: (arch) => buildGuestKernel({ arch }),
      onConsole: (_name, bytes) => (out += Buffer.from(bytes).toString('latin1')),
    });
    const client = createSocket('udp4');
    try {
      host.define(validateDefinition({ name: 'r', mode: 'native', memory: 4, cmdline: 'udpecho 7 2', net: 'hostfwd=udp:127.0.0.1:0-:7', record: file }));
      host.start('r');
      for (let k = 0; k < 2000 && !out.includes('listening on udp port 7'); k++) {
        host.step();
        await tick();
      }
      const port = Number(/:(\d+) ->/.exec(host.dominfo('r').forwards![0]!)![1]);
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
      const back: string[] = [];
      client.on('message', (m) => back.push(String(m)));
      for (const text of ['first datagram', 'second']) {
        client.send(Buffer.from(text), port, '127.0.0.1');
        for (let k = 0; k < 4000 && !back.includes(text); k++) {
          host.step();
          await tick();
        }
      }
      for (let k = 0; k < 4000 && host.dominfo('r').status === 'running'; k++) host.step();
      expect(back).toEqual(['first datagram', 'second']);
      expect(host.dominfo('r')).toMatchObject({ status: 'shut off', stopReason: 'poweroff' });
      const log = parseInputLog(readFileSync(file, 'utf8'), file);
      expect(log.run).toEqual({ mode: 'native', profile: 'p4-2003', engine: DEFAULT_ENGINE, memoryMiB: 4, add: [], net: ['hostfwd=udp:127.0.0.1:0-:7'], cmdline: 'udpecho 7 2' });
      expect(log.events.map((e) => (e.kind === 'datagram' ? [e.rule, e.address, e.port, Buffer.from(e.base64, 'base64').toString()] : e.kind))).toEqual([
        [0, '127.0.0.1', (client.address() as { port: number }).port, 'first datagram'],
        [0, '127.0.0.1', (client.address() as { port: number }).port, 'second'],
      ]);
      expect(log.end.end).toBe('guest');
      const rep = await xenolith('run', '--replay', file, '--stats');
      expect(rep.stderr).toContain(`[xenolith: replayed 2 inputs from ${file}: ended at cycle ${log.end.cycle} as recorded, console output identical]`);
      expect(rep.stdout).toBe(out);
    } finally {
      client.close();
      host.shutdownAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
