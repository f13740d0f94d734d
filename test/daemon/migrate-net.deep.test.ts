// A failed migration of a domain with a network leaves it running on the source, its forward
// still bound there and its port on the source's bridge, and nothing on the destination (no
// domain, no machine, no bridge): the destination dies at each phase (migrate.test.ts's phases, for an hvm
// domain on br0 with a host forward, idle in `udpecho 7`). After each, a host client's datagram
// is still echoed by the domain on the source, through the port it had before.
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { HostError } from '../../daemon/host.ts';
import { loopback, TEST_LINK, type LoopbackFaults } from './migrate-harness.ts';
import { makeNetHost, migrateNetDomain, type NetHost } from './net-save-harness.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

async function echo(h: NetHost, name: string, text: string): Promise<string | null> {
  const port = Number(/:(\d+) ->/.exec(h.host.dominfo(name).forwards![0]!)![1]);
  const client = createSocket('udp4');
  try {
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    let back: Buffer | null = null;
    client.on('message', (m) => (back = m));
    client.send(Buffer.from(text), port, '127.0.0.1');
    for (let k = 0; k < 4000 && back === null; k++) {
      h.host.step();
      await tick();
    }
    return back === null ? null : String(back);
  } finally {
    client.close();
  }
}

describe('a failed migration of a domain with a network', () => {
  const phases: [string, LoopbackFaults][] = [
    ['hello', { dstDiesOn: (m) => m.type === 'hello' }],
    ['round 1', { dstDiesOn: (m) => m.type === 'pages' && m.round === 1 }],
    ['round 2', { dstDiesOn: (m) => m.type === 'round-end' && m.round === 2 }],
    ['stop-and-copy', { dstDiesOn: (m) => m.type === 'state' }],
    ['commit', { dstDiesOn: (m) => m.type === 'commit' }],
  ];
  for (const mode of ['hvm', 'pv'] as const) for (const [phase, faults] of phases) {
    it(`${mode}: the destination dies at ${phase}: the domain runs on at the source, reachable through the same forward; nothing is left on the destination`, async () => {
      const a = makeNetHost();
      const b = makeNetHost();
      a.define({ name: 'e', mode, cmdline: 'udpecho 7', bridge: 'br0', ip: '10.0.2.30', net: 'hostfwd=udp:127.0.0.1:0-:7' });
      a.host.start('e');
      a.until(() => (a.out.e ?? '').includes('listening on udp port 7'));
      try {
        for (let k = 0; k < 100 && /unbound/.test(a.host.dominfo('e').forwards![0]!); k++) await tick();
        const before = a.host.dominfo('e').forwards;
        expect(before).toEqual([expect.stringMatching(/^udp 127\.0\.0\.1:\d+ -> 10\.0\.2\.30:7$/)]);
        const { src, dst } = await loopback(faults);
        const landing = b.host.incoming(dst).then(
          () => 'landed',
          (e: Error) => e.message,
        );
        const outcome = await a.host.migrate('e', src, { link: TEST_LINK }).then(
          () => 'ok',
          (e: unknown) => (e instanceof HostError ? `${e.status} ${e.message}` : String(e)),
        );
        expect(outcome).toMatch(/^409 migration of 'e' failed: the destination went away/);
        expect(await landing).not.toBe('landed');
        expect(b.host.list()).toEqual([]);
        // (a pv domain staged on the destination's shared pv machine takes away the machine made for it)
        expect(b.host.machineStats()).toEqual([]);
        // and the br0 it made for it (the staged domain's port, the gateway's)
        expect(b.host.bridges()).toEqual([]);
        expect(a.host.dominfo('e').status).toBe('running');
        expect(a.host.dominfo('e').forwards).toEqual(before);
        expect(await echo(a, 'e', `still here after ${phase}`)).toBe(`still here after ${phase}`);
      } finally {
        a.host.shutdownAll();
        b.host.shutdownAll();
      }
    }, 120_000);
  }
});

describe('live migration of a pv domain with a network', () => {
  it("pv on br0 with a host forward: goes alone from the shared machine with its network back end, is reached on the destination's br0 and through its forward there", () => migrateNetDomain('pv'), 120_000);
});
