// Recording a daemon domain on a bridge: every frame that enters its NIC from the switch is logged
// with its cycle, and `run --replay` (its NIC with the same station address and address, what it
// sends going nowhere) hands them to the NIC at those cycles: the replayed run's console and end
// cycle are the recorded run's. (A domain with net and no bridge, its host datagrams logged: the
// deep twin.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateDefinition } from '../../daemon/definition.ts';
import { InputLogWriter, parseInputLog, sha256 } from '../../hypervisor/input-log.ts';
import { xenolith } from '../cli/run-in-process.ts';
import { testHost } from './test-host.ts';
import { DEFAULT_ENGINE } from './default-engine.ts';

describe('recording a daemon domain with a network', () => {
  it('native on br0, udpecho 7 2, another domain there running netbench against it: the frames from the bridge logged; run --replay repeats the run exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolith-host-record-br-'));
    const file = join(dir, 'br.log');
    const { host, out } = testHost();
    try {
      host.define(validateDefinition({ name: 'r', mode: 'native', memory: 4, cmdline: 'udpecho 7 2', bridge: 'br0', ip: '10.0.2.40', record: file }));
      host.define(validateDefinition({ name: 'p', mode: 'native', memory: 4, cmdline: 'netbench 2 64 10.0.2.40', bridge: 'br0', ip: '10.0.2.41' }));
      host.start('r');
      for (let k = 0; k < 2000 && !(out.r ?? '').includes('listening on udp port 7'); k++) host.step();
      host.start('p');
      for (let k = 0; k < 20000 && host.dominfo('r').status === 'running'; k++) host.step();
      expect(host.dominfo('r')).toMatchObject({ status: 'shut off', stopReason: 'poweroff' });
      expect(out.r).toContain('udpecho: echoed 2 datagrams\n');
      const log = parseInputLog(readFileSync(file, 'utf8'), file);
      expect(log.run).toEqual({ mode: 'native', profile: 'p4-2003', engine: DEFAULT_ENGINE, memoryMiB: 4, add: [], net: [], cmdline: 'udpecho 7 2', bridge: { mac: 0x52540012_3428, ip: '10.0.2.40' } });
      // p's ARP request (broadcast, 42 bytes), its two datagrams to port 7 and the first to port 9
      // (64 bytes each: 106 on the wire) before r, having echoed two, powered off
      const frames = log.events.map((e) => (e.kind === 'frame' ? Buffer.from(e.base64, 'base64') : null));
      expect(frames.map((f) => f?.length)).toEqual([42, 106, 106, 106]);
      expect(frames[0]!.subarray(0, 6).toString('hex')).toBe('ffffffffffff');
      expect(frames.slice(1).map((f) => f!.subarray(0, 6).toString('hex'))).toEqual(['525400123428', '525400123428', '525400123428']);
      expect(log.end.end).toBe('guest');
      const rep = await xenolith('run', '--replay', file, '--stats');
      expect(rep.stderr).toContain(`[xenolith: replayed ${log.events.length} inputs from ${file}: ended at cycle ${log.end.cycle} as recorded, console output identical]`);
      expect(rep.stdout).toBe(out.r);
    } finally {
      host.shutdownAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("trap with net at 10.0.2.40 and a forward to its port 7 (no bridge): the header carries the address; run --replay gives the guest that address (ifconfig says so) and parses the forwards with it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolith-host-record-ip-'));
    const file = join(dir, 'ip.log');
    const { host, out } = testHost();
    try {
      host.define(validateDefinition({ name: 'r', mode: 'trap', memory: 4, cmdline: 'ifconfig', net: 'hostfwd=udp:127.0.0.1:0-:7', ip: '10.0.2.40', record: file }));
      host.start('r');
      for (let k = 0; k < 4000 && host.dominfo('r').status === 'running'; k++) host.step();
      expect(host.dominfo('r')).toMatchObject({ status: 'shut off', stopReason: 'poweroff' });
      expect(out.r).toContain('eth0: inet 10.0.2.40 netmask 255.255.255.0 gateway 10.0.2.2\n');
      const log = parseInputLog(readFileSync(file, 'utf8'), file);
      expect(log.run).toEqual({ mode: 'trap', profile: 'p4-2003', engine: DEFAULT_ENGINE, memoryMiB: 4, add: [], net: ['hostfwd=udp:127.0.0.1:0-:7'], ip: '10.0.2.40', cmdline: 'ifconfig' });
      const rep = await xenolith('run', '--replay', file, '--stats');
      expect(rep.stderr).toContain(`[xenolith: replayed 0 inputs from ${file}: ended at cycle ${log.end.cycle} as recorded, console output identical]`);
      expect(rep.stdout).toBe(out.r);
    } finally {
      host.shutdownAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a recording's guest address that is not an IPv4 address is refused by run --replay, in one line", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenolith-host-record-ip-'));
    const file = join(dir, 'bad.log');
    try {
      const writer = new InputLogWriter(file, { mode: 'native', profile: 'p4-2003', engine: 'interpreter', memoryMiB: 4, add: [], net: ['user'], ip: '10.0.2.400' });
      writer.finish({ cycle: 1, end: 'guest', outputBytes: 0, outputSha256: sha256(new Uint8Array(0)) });
      const rep = await xenolith('run', '--replay', file);
      expect(rep.stderr).toBe(`xenolith: --replay ${file}: the recorded guest address "10.0.2.400" is not an IPv4 address\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
