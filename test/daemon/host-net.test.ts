// A domain definition's `net` field: the host joins the domain's NIC to the virtual gateway and
// binds a loopback socket per hostfwd rule; a plain node:dgram client's datagram to that port
// reaches `udpecho 7` in the guest and comes back byte for byte, under native, trap, bt, hvm and
// pv (netfront/netback). And the field's validation: run --net's syntax, errors naming the file and the field.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Host, type StateEvent } from '../../daemon/host.ts';
import { loadDefinitionFile, validateDefinition } from '../../daemon/definition.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('a defined domain with net hostfwd', () => {
  for (const mode of ['native', 'trap', 'bt', 'hvm', 'pv'] as const) {
    it(`${mode}: echoes a datagram from a node:dgram client through its forward, then closes the socket`, async () => {
      const out: Record<string, string> = {};
      const events: StateEvent[] = [];
      const host = new Host(null, {
        pacing: 'fast',
        standardGuest: (arch) => buildGuestKernel({ arch }),
        onEvent: (e) => events.push(e),
        onConsole: (name, bytes) => (out[name] = (out[name] ?? '') + Buffer.from(bytes).toString('latin1')),
      });
      // host port 0: the system picks one, and dominfo tells which
      host.define(validateDefinition({ name: 'echo', mode, memory: 8, cmdline: 'udpecho 7 1', net: 'hostfwd=udp:127.0.0.1:0-:7' }));
      host.start('echo');
      const client = createSocket('udp4');
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
      let port = 0;
      try {
        for (let k = 0; k < 2000 && !(out.echo ?? '').includes('listening on udp port 7'); k++) {
          host.step();
          await tick();
        }
        expect(out.echo).toContain('listening on udp port 7');
        const forwards = host.dominfo('echo').forwards!;
        expect(forwards).toEqual([expect.stringMatching(/^udp 127\.0\.0\.1:\d+ -> 10\.0\.2\.15:7$/)]);
        port = Number(/:(\d+) ->/.exec(forwards[0]!)![1]);
        expect(port).toBeGreaterThan(0);
        const payload = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff));
        let back: Buffer | null = null;
        client.on('message', (m) => (back = m));
        client.send(payload, port, '127.0.0.1');
        // udpecho 7 1 answers once and powers off (the domain is then destroyed: on_poweroff)
        for (let k = 0; k < 4000 && (back === null || host.dominfo('echo').status === 'running'); k++) {
          host.step();
          await tick();
        }
        expect(back).toEqual(payload);
        expect(out.echo).toContain('udpecho: echoed 1 datagrams\n');
        expect(host.dominfo('echo')).toMatchObject({ status: 'shut off', stopReason: 'poweroff' });
        expect(host.dominfo('echo').forwards).toBeUndefined(); // released with the domain
        expect(events.filter((e) => /net hostfwd/.test(e.detail ?? ''))).toEqual([]);
      } finally {
        client.close();
        host.shutdownAll();
      }
      // the forward's socket is closed once the domain is released: the port can be bound again
      await new Promise((r) => setTimeout(r, 20));
      const again = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.bind(port, '127.0.0.1', () => resolve());
      });
      again.close();
    });
  }
});

describe('a bridge between defined domains', () => {
  it('an hvm domain (a machine of its own) and a pv domain (the shared pv machine) on bridge br0 ping and udpecho each other; a domain on another bridge is not reached', async () => {
    const out: Record<string, string> = {};
    const host = new Host(null, {
      pacing: 'fast',
      standardGuest: (arch) => buildGuestKernel({ arch }),
      onConsole: (name, bytes) => (out[name] = (out[name] ?? '') + Buffer.from(bytes).toString('latin1')),
    });
    try {
      host.define(validateDefinition({ name: 'b', mode: 'pv', memory: 8, cmdline: 'udpecho 7 4', bridge: 'br0', ip: '10.0.2.16' }));
      host.define(validateDefinition({ name: 'c', mode: 'pv', memory: 8, cmdline: 'udpecho 7 1', bridge: 'br1', ip: '10.0.2.17' }));
      host.define(validateDefinition({ name: 'a', mode: 'hvm', memory: 8, bridge: 'br0', console: { input: 'ping 10.0.2.16 1\nnetbench 3 100 10.0.2.16\nping 10.0.2.17 1\nifconfig\n' } }));
      for (const n of ['b', 'c', 'a']) host.start(n);
      for (let k = 0; k < 200000 && !(out.a ?? '').includes('device: rx'); k++) {
        host.step();
        if (k % 64 === 0) await tick();
      }
      expect(out.a).toMatch(/\$ ping 10\.0\.2\.16 1\nPING 10\.0\.2\.16: 56 data bytes\n64 bytes from 10\.0\.2\.16: icmp_seq=1 time=\d+ us\n1 packets transmitted, 1 received\n/);
      expect(out.a).toMatch(/\$ netbench 3 100 10\.0\.2\.16\nnetbench: udp round trip \(64 bytes, 3 times\): \d+ us\n/);
      expect(out.a).toContain('1 packets transmitted, 0 received\n');
      expect(out.a).toContain('eth0: inet 10.0.2.15 netmask 255.255.255.0 gateway 10.0.2.2\n      ether 52:54:00:12:34:0f\n');
      expect(out.b).toContain('udpecho: echoed 4 datagrams\n');
      expect(out.c).not.toContain('echoed');
      // flooded: the ARP request for .16, and three for .17 (not on br0: asked three times, never
      // answered); dropped: once b has powered off (4 echoes), netbench's 3 sends to its discard
      // port and those 3 requests find its port gone. (Determinism across step sizes, with the
      // late frames: bridge-machines.deep.test.ts.)
      expect(host.bridgeCounters('br0')).toMatchObject({ flooded: 4, dropped: 6 });
      expect(host.bridgeCounters('br0').forwarded).toBeGreaterThan(0);
    } finally {
      host.shutdownAll();
    }
  });

  it('two domains on br0, each with its own forward, share one gateway: a client reaches each by its port, and the gateway outlives the domain it ran on', async () => {
    const out: Record<string, string> = {};
    const events: StateEvent[] = [];
    const host = new Host(null, {
      pacing: 'fast',
      standardGuest: (arch) => buildGuestKernel({ arch }),
      onEvent: (e) => events.push(e),
      onConsole: (name, bytes) => (out[name] = (out[name] ?? '') + Buffer.from(bytes).toString('latin1')),
    });
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const got: Buffer[] = [];
    client.on('message', (m) => got.push(m));
    const run = async (until: () => boolean) => {
      for (let k = 0; k < 100000 && !until(); k++) {
        host.step();
        if (k % 16 === 0) await tick();
      }
    };
    try {
      // a (pv, the shared pv machine) starts first: the gateway runs on its clock until it goes
      host.define(validateDefinition({ name: 'a', mode: 'pv', memory: 8, cmdline: 'udpecho 7 1', bridge: 'br0', ip: '10.0.2.16', net: 'hostfwd=udp:127.0.0.1:0-:7' }));
      host.define(validateDefinition({ name: 'b', mode: 'native', memory: 8, cmdline: 'udpecho 9', bridge: 'br0', ip: '10.0.2.17', net: 'hostfwd=udp:127.0.0.1:0-10.0.2.17:9' }));
      host.start('a');
      host.start('b');
      await run(() => (out.a ?? '').includes('listening on udp port 7') && (out.b ?? '').includes('listening on udp port 9'));
      const fa = host.dominfo('a').forwards!;
      const fb = host.dominfo('b').forwards!;
      expect(fa).toEqual([expect.stringMatching(/^udp 127\.0\.0\.1:\d+ -> 10\.0\.2\.16:7$/)]);
      expect(fb).toEqual([expect.stringMatching(/^udp 127\.0\.0\.1:\d+ -> 10\.0\.2\.17:9$/)]);
      const portOf = (f: string[]) => Number(/:(\d+) ->/.exec(f[0]!)![1]);
      client.send(Buffer.from('to a'), portOf(fa), '127.0.0.1');
      await run(() => got.length >= 1 && host.dominfo('a').status !== 'running');
      expect(got.map(String)).toEqual(['to a']);
      expect(out.a).toContain('udpecho: echoed 1 datagrams\n');
      expect(host.dominfo('a').status).toBe('shut off');
      // a is gone (its forward with it); the gateway moved to b's machine and still carries b's forward
      client.send(Buffer.from('to b'), portOf(fb), '127.0.0.1');
      // (b echoes on and on: a frame for the gateway in the last bridge latency before the
      // machine carrying the gateway stops would be lost with that machine's events)
      await run(() => got.length >= 2);
      expect(got.map(String)).toEqual(['to a', 'to b']);
      expect(host.dominfo('b').status).toBe('running');
      expect(events.filter((e) => /net hostfwd/.test(e.detail ?? ''))).toEqual([]);
    } finally {
      client.close();
      host.shutdownAll();
    }
  });

  it('refuses a forward to another address for a domain alone on its network', () => {
    expect(() => validateDefinition({ name: 'h', mode: 'hvm', ip: '10.0.2.16', net: 'hostfwd=udp::5555-10.0.2.17:7' })).toThrow('a forward to 10.0.2.17 needs a bridge: the domain alone on its network is 10.0.2.16');
    expect(validateDefinition({ name: 'h', mode: 'hvm', ip: '10.0.2.16', net: 'hostfwd=udp::5555-10.0.2.16:7' }).net).toEqual(['hostfwd=udp::5555-10.0.2.16:7']);
    expect(validateDefinition({ name: 'h', mode: 'hvm', bridge: 'br0', ip: '10.0.2.16', net: 'hostfwd=udp::5555-10.0.2.17:7' }).bridge).toBe('br0');
    expect(() => validateDefinition({ name: 'h', mode: 'hvm', bridge: 'br0', net: 'hostfwd=udp::5555-10.0.2.2:7' })).toThrow('the guest address "10.0.2.2" must be a guest\'s on 10.0.2.0/24 (not .0, .255 or the gateway 10.0.2.2)');
    expect(() => validateDefinition({ name: 'h', mode: 'hvm', bridge: 'br0', net: 'hostfwd=udp::5555-10.0.3.9:7' })).toThrow('the guest address "10.0.3.9"');
  });

  it('refuses an address off the guest network, and a bad bridge name', () => {
    expect(validateDefinition({ name: 'h', mode: 'hvm', bridge: 'br0', ip: '10.0.2.16' })).toMatchObject({ bridge: 'br0', ip: '10.0.2.16' });
    expect(() => validateDefinition({ name: 'p', mode: 'pv', bridge: 'br0', ip: '192.168.1.2' })).toThrow('ip must be an address of the guest network 10.0.2.0/24');
    expect(() => validateDefinition({ name: 'p', mode: 'pv', bridge: 'br0', ip: '10.0.2.2' })).toThrow('ip must be from 10.0.2.3 to 10.0.2.254');
    expect(() => validateDefinition({ name: 'p', mode: 'pv', bridge: 'Br 0' })).toThrow('bridge must be a name of 1 to 16');
  });
});

describe('a forward whose port is taken', () => {
  it('does not stop the domain: the reason is a console line and an event', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    const port = taken.address().port;
    const out: Record<string, string> = {};
    const events: StateEvent[] = [];
    const host = new Host(null, {
      pacing: 'fast',
      standardGuest: (arch) => buildGuestKernel({ arch }),
      onEvent: (e) => events.push(e),
      onConsole: (name, bytes) => (out[name] = (out[name] ?? '') + Buffer.from(bytes).toString('latin1')),
    });
    try {
      host.define(validateDefinition({ name: 'busy', mode: 'native', memory: 8, cmdline: 'udpecho 7', net: `hostfwd=udp:127.0.0.1:${port}-:7` }));
      host.start('busy');
      for (let k = 0; k < 2000 && !(out.busy ?? '').includes('EADDRINUSE'); k++) {
        host.step();
        await tick();
      }
      const message = `net hostfwd: cannot bind udp 127.0.0.1:${port}: EADDRINUSE`;
      expect(out.busy).toContain(`\n[xenolith: ${message}]\n`);
      expect(events.filter((e) => e.detail === message)).toEqual([{ name: 'busy', status: 'running', stopReason: null, detail: message }]);
      expect(host.dominfo('busy').status).toBe('running');
    } finally {
      host.shutdownAll();
      taken.close();
    }
  });
});

describe('net in a definition', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenolith-defnet-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const errorOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  it('takes run --net\'s syntax, a string or a list of strings', () => {
    expect(validateDefinition({ name: 'a', mode: 'hvm', net: 'user,hostfwd=udp:127.0.0.1:5555-:7' }).net).toEqual(['user,hostfwd=udp:127.0.0.1:5555-:7']);
    expect(validateDefinition({ name: 'a', mode: 'trap', net: ['hostfwd=udp::5555-:7', 'hostfwd=udp:127.0.0.1:5556-10.0.2.15:8'] }).net).toEqual(['hostfwd=udp::5555-:7', 'hostfwd=udp:127.0.0.1:5556-10.0.2.15:8']);
    expect(validateDefinition({ name: 'a', mode: 'native' }).net).toBeUndefined();
    expect(validateDefinition({ name: 'a', mode: 'pv', net: 'hostfwd=udp:127.0.0.1:5555-:7' }).net).toEqual(['hostfwd=udp:127.0.0.1:5555-:7']);
  });

  it('refuses another host address or protocol, and a port forwarded twice, naming the file and the field', () => {
    expect(errorOf(() => loadDefinitionFile(file('a.yaml', 'name: a\nmode: hvm\nnet: hostfwd=udp:0.0.0.0:5555-:7\n')))).toBe(
      `${dir}/a.yaml:3:6: field 'net': a forward listens on the loopback address 127.0.0.1 only, not "0.0.0.0"`,
    );
    expect(errorOf(() => loadDefinitionFile(file('t.json', '{ "name": "t", "mode": "trap", "net": "hostfwd=tcp:127.0.0.1:5555-:7" }')))).toBe(
      `${dir}/t.json: field 'net': only udp is forwarded, not "tcp"`,
    );
    expect(errorOf(() => loadDefinitionFile(file('d.json', '{ "name": "d", "mode": "bt", "net": ["hostfwd=udp::5555-:7", "hostfwd=udp::5555-:8"] }')))).toBe(
      `${dir}/d.json: field 'net': host port 5555 is forwarded twice`,
    );
    expect(errorOf(() => loadDefinitionFile(file('n.json', '{ "name": "n", "mode": "bt", "net": 7 }')))).toBe(
      `${dir}/n.json: field 'net': net must be a string such as "hostfwd=udp:127.0.0.1:5555-:7" (or a list of them)`,
    );
  });
});
