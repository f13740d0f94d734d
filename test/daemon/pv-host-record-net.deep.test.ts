// Recording the shared pv machine with a domain that has a network of its own (net, no bridge):
// each host datagram to its forward is an input, logged with the machine's cycle at which it
// entered the gateway; `xenolith host-replay` (its forwards bound to no host socket) hands them to
// the gateway at those cycles and repeats every console and the machine's final counters exactly.
// (Kept out of npm test for its time: real host datagrams, a pv domain echoing them.)
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Host } from '../../daemon/host.ts';
import { validateDefinition } from '../../daemon/definition.ts';
import { readPvHostLog } from '../../daemon/pv-record.ts';
import { xenolith } from '../cli/run-in-process.ts';
import { eventNames, standardGuest } from './pv-host-record-session.ts';
import { DEFAULT_ENGINE } from './default-engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-pv-record-net-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('recording the shared pv machine with a networked domain', () => {
  it('a pv domain with a host forward echoing two host datagrams beside another pv domain typed to: the datagrams logged with their cycles; host-replay repeats the run exactly', async () => {
    const file = join(dir, 'net.log');
    const out = new Map<string, string>();
    const text = (n: string) => out.get(n) ?? '';
    const host = new Host(null, { hostMemoryMiB: 64, pacing: 'fast', standardGuest, onConsole: (n, b) => out.set(n, text(n) + Buffer.from(b).toString('latin1')) });
    const client = createSocket('udp4');
    try {
      host.recordPv(file, 'p4-2003', DEFAULT_ENGINE);
      host.define(validateDefinition({ name: 'n', mode: 'pv', memory: 8, cmdline: 'udpecho 7 2', net: 'hostfwd=udp:127.0.0.1:0-:7', ip: '10.0.2.33', on_poweroff: 'preserve' }));
      host.define(validateDefinition({ name: 'a', mode: 'pv', memory: 8 }));
      host.start('n');
      host.start('a');
      for (let k = 0; k < 4000 && !text('n').includes('listening on udp port 7'); k++) {
        host.step();
        await tick();
      }
      const port = Number(/:(\d+) ->/.exec(host.dominfo('n').forwards![0]!)![1]);
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
      const back: string[] = [];
      client.on('message', (m) => back.push(String(m)));
      for (const t of ['first datagram', 'second']) {
        client.send(Buffer.from(t), port, '127.0.0.1');
        for (let k = 0; k < 4000 && !back.includes(t); k++) {
          host.step();
          await tick();
        }
      }
      for (let k = 0; k < 4000 && host.dominfo('n').status === 'running'; k++) host.step();
      expect(back).toEqual(['first datagram', 'second']);
      expect(host.dominfo('n')).toMatchObject({ status: 'shut off', stopReason: 'poweroff' });
      host.consoleInput('a', Buffer.from('echo after\n'));
      for (let k = 0; k < 4000 && !text('a').includes('after\n$ '); k++) host.step();
      host.stopPvRecording();
      const log = readPvHostLog(file);
      expect(eventNames(log)).toEqual(['start:n', 'start:a', 'datagram:n', 'datagram:n', 'settle:n', 'keys:a:echo after\n']);
      const dgrams = log.events.flatMap((e) => (e.kind === 'datagram' ? [[e.rule, e.address, e.port, Buffer.from(e.base64, 'base64').toString()]] : []));
      expect(dgrams).toEqual([
        [0, '127.0.0.1', (client.address() as { port: number }).port, 'first datagram'],
        [0, '127.0.0.1', (client.address() as { port: number }).port, 'second'],
      ]);
      const rep = await xenolith('host-replay', file, '--console', 'n');
      expect(rep.stderr).toBe(`[xenolith: replayed ${file}: the machine ended at cycle ${log.end.cycle} as recorded; 2 domains, console output identical]\n`);
      expect(rep.stdout).toBe(text('n'));
      expect(rep.stdout).toContain('udpecho: echoed 2 datagrams\n');
    } finally {
      client.close();
      host.shutdownAll();
    }
  }, 120_000);

  it("two pv domains on br0, the bridge's gateway on the shared machine: a host datagram to one's forward and the other's netbench against it; the datagram logged, the frames between them not (the machine's own); host-replay repeats the run exactly", async () => {
    const file = join(dir, 'bridge.log');
    const out = new Map<string, string>();
    const text = (n: string) => out.get(n) ?? '';
    const host = new Host(null, { hostMemoryMiB: 64, pacing: 'fast', standardGuest, onConsole: (n, b) => out.set(n, text(n) + Buffer.from(b).toString('latin1')) });
    const client = createSocket('udp4');
    try {
      host.recordPv(file, 'p4-2003', DEFAULT_ENGINE);
      host.define(validateDefinition({ name: 'e', mode: 'pv', memory: 8, cmdline: 'udpecho 7 20', net: 'hostfwd=udp:127.0.0.1:0-:7', bridge: 'br0', ip: '10.0.2.30', on_poweroff: 'preserve' }));
      host.define(validateDefinition({ name: 'c', mode: 'pv', memory: 8, cmdline: 'netbench 2 64 10.0.2.30', bridge: 'br0', ip: '10.0.2.31', on_poweroff: 'preserve' }));
      host.start('e');
      for (let k = 0; k < 4000 && !text('e').includes('listening on udp port 7'); k++) {
        host.step();
        await tick();
      }
      const port = Number(/:(\d+) ->/.exec(host.dominfo('e').forwards![0]!)![1]);
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
      const back: string[] = [];
      client.on('message', (m) => back.push(String(m)));
      client.send(Buffer.from('from the host'), port, '127.0.0.1');
      for (let k = 0; k < 4000 && back.length === 0; k++) {
        host.step();
        await tick();
      }
      expect(back).toEqual(['from the host']);
      host.start('c');
      for (let k = 0; k < 20000 && host.dominfo('c').status === 'running'; k++) host.step();
      expect([host.dominfo('e').status, host.dominfo('c').stopReason]).toEqual(['running', 'poweroff']);
      expect(text('c')).toMatch(/netbench: udp round trip \(64 bytes, 2 times\): \d+ us\nnetbench: udp send \(2 x 64 bytes\): \d+ us/);
      host.stopPvRecording();
      const log = readPvHostLog(file);
      expect(eventNames(log)).toEqual(['start:e', 'datagram:e', 'start:c', 'settle:c']);
      const rep = await xenolith('host-replay', file, '--console', 'c');
      expect(rep.stderr).toBe(`[xenolith: replayed ${file}: the machine ended at cycle ${log.end.cycle} as recorded; 2 domains, console output identical]\n`);
      expect(rep.stdout).toBe(text('c'));
    } finally {
      client.close();
      host.shutdownAll();
    }
  }, 120_000);
});
