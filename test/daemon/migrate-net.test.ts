// Live migration of a domain with a network between two hosts (loopback TCP): a native domain on
// bridge br0 with a host forward, idle in `udpecho 7`, moves to the other host, where it is on
// that host's br0 (the switch learns its station address on its new port at once) and its forward
// is bound again there: a domain already on the destination's br0 pings it, and a node:dgram
// client reaches it through the forward's new port.
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { loopback, TEST_LINK } from './migrate-harness.ts';
import { makeNetHost } from './net-save-harness.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('live migration of a domain with a network', () => {
  it('native on br0 with a host forward: moves, is reached by a domain on the destination\'s br0 (ping) and by a host client through its forward bound there', async () => {
    const a = makeNetHost();
    const b = makeNetHost();
    const e = { name: 'e', mode: 'native' as const, cmdline: 'udpecho 7', bridge: 'br0', ip: '10.0.2.30', net: 'hostfwd=udp:127.0.0.1:0-:7' };
    a.define(e);
    a.host.start('e');
    a.until(() => (a.out.e ?? '').includes('listening on udp port 7'));
    b.define({ name: 'c', mode: 'native', bridge: 'br0', ip: '10.0.2.31' });
    b.host.start('c');
    b.until(() => (b.out.c ?? '').includes('$ '));

    const { src, dst } = await loopback();
    const landing = b.host.incoming(dst);
    const report = await a.host.migrate('e', src, { link: TEST_LINK });
    expect(await landing).toBe('e');
    expect(report.stopReason).toBe('no-log-dirty'); // native: everything in the stop-and-copy
    expect([a.host.dominfo('e').status, a.host.dominfo('e').stopReason, a.host.dominfo('e').forwards]).toEqual(['shut off', 'migrated', undefined]);
    const moved = b.host.dominfo('e');
    expect(moved.status).toBe('running');
    expect(moved.forwards).toEqual([expect.stringMatching(/^udp 127\.0\.0\.1:\d+ -> 10\.0\.2\.30:7$/)]);

    // the destination's br0: c pings e there
    b.host.consoleInput('c', Buffer.from('ping 10.0.2.30 1\n'));
    b.until(() => /1 packets transmitted/.test(b.out.c ?? ''), undefined, 20_000);
    expect(b.out.c).toMatch(/64 bytes from 10\.0\.2\.30: icmp_seq=1 time=\d+ us\n/);
    expect(b.host.bridgeCounters('br0').dropped).toBe(0);

    // the forward, bound again on the destination: a host client's datagram is echoed
    const port = Number(/:(\d+) ->/.exec(b.host.dominfo('e').forwards![0]!)![1]);
    const client = createSocket('udp4');
    try {
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
      let back: Buffer | null = null;
      client.on('message', (m) => (back = m));
      client.send(Buffer.from('moved'), port, '127.0.0.1');
      for (let k = 0; k < 4000 && back === null; k++) {
        b.host.step();
        await tick();
      }
      expect(String(back)).toBe('moved');
    } finally {
      client.close();
      a.host.shutdownAll();
      b.host.shutdownAll();
    }
  });
});
