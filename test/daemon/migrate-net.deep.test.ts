// A failed migration of a domain with a network leaves it running on the source, its forward
// still bound there and its port on the source's bridge, and nothing on the destination (no
// domain, no machine, no bridge): the destination dies at each phase (migrate.test.ts's phases, for an hvm
// domain on br0 with a host forward, idle in `udpecho 7`). After each, a host client's datagram
// is still echoed by the domain on the source, through the port it had before.
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HostError, type DomainInfo } from '../../daemon/host.ts';
import { loopback, TEST_LINK, type LoopbackFaults } from './migrate-harness.ts';
import { makeNetHost, migrateNetDomain, uninterrupted, type NetHost } from './net-save-harness.ts';
import { BridgeInbox, type VirtualSwitch } from '../../hypervisor/net/bridge.ts';
import { Ev } from '../../machine/ledger.ts';
import { deferred, deferredCallOf } from '../../machine/deferred.ts';
import { stationMac } from '../../daemon/host.ts';
import { buildEth, buildIcmp, buildIpv4, ipv4 } from '../../hypervisor/net/frames.ts';
import { GATEWAY_IP, GATEWAY_MAC } from '../../hypervisor/net/gateway.ts';
import { pvQuietPoint } from '../../hypervisor/save/pv-domain.ts';
import type { PvDomain } from '../../hypervisor/pv/state.ts';
import type { Hypervisor } from '../../hypervisor/core/hypervisor.ts';

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

describe("live migration of a pv domain on br0 whose shared machine carries the bridge's gateway, with the gateway's frame to it in flight", () => {
  // ping's second echo reply has just left the gateway (2,000 cycles of gateway latency, an event
  // of the switch's uplink on the shared machine's queue) and the domain is blocked, at a quiet
  // point: the stop-and-copy comes there (a link of no latency and near-infinite bandwidth: every
  // round and the downtime take a cycle or two), so the state takes the frame as a relay
  const d = { name: 'g', mode: 'pv' as const, cmdline: 'ping 10.0.2.2 2', net: 'user', bridge: 'br0', ip: '10.0.2.20' };
  const INSTANT = { bytesPerSecond: 1e18, latencyMs: 0 };
  const WALK_COST = 42 * 18;
  const gatewayFrame = (hv: Hypervisor): number | null => {
    const e = hv.events.pending().find((x) => deferredCallOf(x.fn)?.target?.constructor.name === 'UplinkInbox');
    return e === undefined ? null : e.atCycle - hv.cpu.cycles;
  };
  /** The source, run to the quiet point where the reply is in flight (host-net-save.deep.test.ts finds the same one). */
  const source = () => {
    const a = makeNetHost();
    a.define(d);
    a.host.start('g');
    a.until(() => (a.out.g ?? '').includes('timer: 1000 Hz\n'), 20_000);
    const cycles = () => a.host.live('g').hv!.cpu.cycles;
    a.until(() => cycles() > 2_980_000_000, 20_000_000);
    a.until(() => cycles() > 3_003_400_000, 20_000);
    a.until(() => gatewayFrame(a.host.live('g').hv!) !== null && pvQuietPoint(a.host.live('g').hv!, a.host.live('g').domain!.modeState as PvDomain) === null, 200);
    return a;
  };
  afterEach(() => vi.restoreAllMocks());
  /** The source's run, sliced the same way, never migrated, to its end (and its TLB-miss walk references) */
  let walks = 0;
  const sliced = (() => {
    let had: DomainInfo | null = null;
    return () => {
      if (had) return had;
      const a = source();
      a.until(() => a.host.dominfo('g').status !== 'running');
      had = a.host.dominfo('g');
      walks = a.host.live('g').hv!.cpu.evCount[Ev.TlbWalk]!;
      return had;
    };
  })();

  it('migrated there: the frame goes with the state, arrives on the destination (one relay), and the run ends with the console and instructions of the uninterrupted run; nothing of it is left on the source', async () => {
    const ref = uninterrupted(d);
    const a = source();
    const hv = a.host.live('g').hv!;
    expect(gatewayFrame(hv)).toBe(2000);
    expect(a.out.g).toContain('icmp_seq=1');
    expect(a.out.g).not.toContain('icmp_seq=2');
    const relay = vi.spyOn(BridgeInbox.prototype, 'relay');
    const b = makeNetHost();
    try {
      const { src, dst } = await loopback();
      const landing = b.host.incoming(dst);
      await a.host.migrate('g', src, { link: INSTANT });
      expect(await landing).toBe('g');
      // taken off the source's queue at the commit (else it would enter the source's switch for a port gone)
      expect(gatewayFrame(hv)).toBe(null);
      b.until(() => b.host.dominfo('g').status !== 'running');
      expect(relay).toHaveBeenCalledTimes(1);
      expect((a.out.g ?? '') + (b.out.g ?? '')).toBe(ref.out);
      const end = b.host.dominfo('g');
      expect([end.stopReason, end.instructions]).toEqual([ref.end.stopReason, ref.end.instructions]);
      // its run's cycles: the run never migrated's plus the same 42 walk references (the rounds and
      // the downtime took 10 cycles of the machine's, while the domain was blocked: its time, not its run's)
      expect(end.cycles).toBe(sliced().cycles + WALK_COST);
      for (const h of [a.host, b.host]) expect([h.bridgeCounters('br0').dropped, h.bridgeCounters('br0').late]).toEqual([0, 0]);
    } finally {
      a.host.shutdownAll();
      b.host.shutdownAll();
    }
  }, 300_000);

  it('the destination dies on the commit: the frame stays on the source and is delivered there exactly once; the run ends as the uninterrupted one', async () => {
    const ref = uninterrupted(d);
    const a = source();
    const hv = a.host.live('g').hv!;
    const relay = vi.spyOn(BridgeInbox.prototype, 'relay');
    const b = makeNetHost();
    try {
      const { src, dst } = await loopback({ dstDiesOn: (m) => m.type === 'commit' });
      const landing = b.host.incoming(dst).then(
        () => 'landed',
        (e: Error) => e.message,
      );
      const outcome = await a.host.migrate('g', src, { link: INSTANT }).then(
        () => 'ok',
        (e: unknown) => (e instanceof HostError ? `${e.status} ${e.message}` : String(e)),
      );
      expect(outcome).toMatch(/^409 migration of 'g' failed: the destination went away/);
      expect(await landing).not.toBe('landed');
      expect([b.host.list(), b.host.machineStats(), b.host.bridges()]).toEqual([[], [], []]);
      // the destination's relay went with its staged copy; the source's frame is still on its way
      expect(relay).toHaveBeenCalledTimes(0);
      expect(gatewayFrame(hv)).toBe(2000 - 10); // the rounds ran the machine for 10 cycles
      a.until(() => a.host.dominfo('g').status !== 'running');
      expect(a.out.g).toBe(ref.out);
      const end = a.host.dominfo('g');
      // what the migration cost the source: log-dirty's write protection flushed the TLB, and the
      // guest walked 42 more page-table references after it (18 cycles each), as bench migrate accounts
      expect([end.stopReason, end.cycles, end.instructions]).toEqual([ref.end.stopReason, sliced().cycles + WALK_COST, ref.end.instructions]);
      expect(a.host.live('g').hv!.cpu.evCount[Ev.TlbWalk]! - walks).toBe(42);
      expect([a.host.bridgeCounters('br0').dropped, a.host.bridgeCounters('br0').late]).toEqual([0, 0]);
    } finally {
      a.host.shutdownAll();
      b.host.shutdownAll();
    }
  }, 300_000);
});

describe("live migration of a pv domain on br0 carrying the bridge's gateway, with its own frame on its way to the gateway", () => {
  // host-net-save.deep.test.ts's window, built the same way (an echo request from the domain put on
  // the switch's way to the gateway, 500 cycles from arriving, at a quiet point between ping's
  // replies), then migrated over a link that puts the stop-and-copy 10 cycles later
  const d = { name: 'g', mode: 'pv' as const, cmdline: 'ping 10.0.2.2 2', net: 'user', bridge: 'br0', ip: '10.0.2.20' };
  const ip = ipv4('10.0.2.20');
  const request = buildEth(GATEWAY_MAC, stationMac(ip), 0x0800, buildIpv4(ip, GATEWAY_IP, 1, buildIcmp(8, 0, Uint8Array.of(0x77, 0x77, 0, 1, 1, 2, 3, 4))));
  const toGateway = (hv: Hypervisor): number[] => hv.events.pending().flatMap((e) => (deferredCallOf(e.fn)?.args[0] === request ? [e.atCycle - hv.cpu.cycles] : []));
  const prefix = () => {
    const h = makeNetHost();
    h.define(d);
    h.host.start('g');
    h.until(() => (h.out.g ?? '').includes('timer: 1000 Hz\n'), 20_000);
    for (let k = 0; k < 157; k++) h.host.step(20_000);
    h.until(() => pvQuietPoint(h.host.live('g').hv!, h.host.live('g').domain!.modeState as PvDomain) === null, 200);
    const hv = h.host.live('g').hv!;
    const sw = (h.host as unknown as { switches: Map<string, VirtualSwitch> }).switches.get('br0')!;
    hv.events.schedule(hv.cpu.cycles + 500, deferred(sw.uplinkPortInbox!, 'arrive', request));
    return h;
  };

  it("migrated there: the frame goes with the state to the gateway made for it on the destination, whose answer it receives; console and instructions are the uninterrupted run's given the same frame", async () => {
    const ref = prefix();
    ref.until(() => ref.host.dominfo('g').status !== 'running');
    const refEnd = ref.host.dominfo('g');
    const a = prefix();
    const hv = a.host.live('g').hv!;
    expect(toGateway(hv)).toEqual([500]);
    const b = makeNetHost();
    try {
      const { src, dst } = await loopback();
      const landing = b.host.incoming(dst);
      await a.host.migrate('g', src, { link: { bytesPerSecond: 1e18, latencyMs: 0 } });
      expect(await landing).toBe('g');
      expect(toGateway(hv)).toEqual([]);
      b.until(() => b.host.dominfo('g').status !== 'running');
      expect((a.out.g ?? '') + (b.out.g ?? '')).toBe(ref.out.g);
      const end = b.host.dominfo('g');
      expect([end.stopReason, end.instructions]).toEqual([refEnd.stopReason, refEnd.instructions]);
      // its run's cycles: 828 more (46 x 18, the TLB-miss walk's cost per reference: the walks
      // after log-dirty's write protection flushed the TLB, as above; not counted separately here)
      expect(end.cycles - refEnd.cycles).toBe(828);
      for (const h of [a.host, b.host]) expect([h.bridgeCounters('br0').dropped, h.bridgeCounters('br0').late]).toEqual([0, 0]);
    } finally {
      a.host.shutdownAll();
      b.host.shutdownAll();
    }
  }, 300_000);
});
