// host-net-save.test.ts at many save points and in every mode with a machine of its own: a
// domain running netbench against the gateway (alone, or on bridge br0 carrying the bridge's
// gateway) saved every few slices from its boot banner to its end, each restored on another host,
// ends exactly as the uninterrupted run (console, cycles, instructions).
import { describe, expect, it } from 'vitest';
import { benchDomain, intoTraffic, makeNetHost, saveAndRestore, uninterrupted, type NetHost } from './net-save-harness.ts';
import { deferred, deferredCallOf } from '../../machine/deferred.ts';
import { stationMac } from '../../daemon/host.ts';
import { buildEth, buildIcmp, buildIpv4, ipv4 } from '../../hypervisor/net/frames.ts';
import { GATEWAY_IP, GATEWAY_MAC } from '../../hypervisor/net/gateway.ts';
import type { VirtualSwitch } from '../../hypervisor/net/bridge.ts';
import { pvQuietPoint } from '../../hypervisor/save/pv-domain.ts';
import type { PvDomain } from '../../hypervisor/pv/state.ts';
import type { Hypervisor } from '../../hypervisor/core/hypervisor.ts';

describe('daemon domains with a network saved at many points', () => {
  for (const mode of ['native', 'trap', 'bt', 'hvm'] as const) {
    for (const bridge of [false, true]) {
      it(`${mode}${bridge ? ' on br0' : ''}: every save point from the banner to the end restores to the uninterrupted run`, () => {
        const d = benchDomain(mode, bridge);
        const ref = uninterrupted(d);
        let saved = 0;
        let inFlight = 0;
        // every 11th slice, and hvm's slices around the one where a frame from the gateway is in the switch (host-net-save.test.ts)
        const points = [...Array.from({ length: 37 }, (_, k) => k * 11), ...(mode === 'hvm' ? [133, 134, 135, 136, 137] : [])];
        for (const after of points) {
          const r = saveAndRestore(d, after);
          if (r === null) continue; // it had ended
          saved++;
          if (r.names.length > 0) inFlight++;
          expect([r.end.stopReason, r.end.cycles, r.end.instructions]).toEqual([ref.end.stopReason, ref.end.cycles, ref.end.instructions]);
          expect(r.out).toBe(ref.out);
        }
        expect(saved).toBeGreaterThan(3);
        if (bridge && mode === 'hvm') expect(inFlight).toBeGreaterThan(0);
      }, 600_000);
    }
  }
});

describe('daemon domains with a network suspended and resumed', () => {
  for (const [mode, bridge] of [['native', false], ['hvm', true]] as const) {
    it(`${mode}${bridge ? ' on br0' : ''}: paused in the middle of netbench for 50 steps, resumed, it ends as the uninterrupted run (its machine's time stood still)`, () => {
      const d = benchDomain(mode, bridge);
      const ref = uninterrupted(d);
      const a = makeNetHost();
      a.define(d);
      a.host.start('g');
      a.until(() => (a.out.g ?? '').includes('timer: 1000 Hz\n'), 20_000);
      for (let k = 0; k < 135; k++) a.host.step(20_000);
      expect(a.host.suspend('g').status).toBe('paused');
      for (let k = 0; k < 50; k++) a.host.step(20_000);
      expect(a.host.resume('g').status).toBe('running');
      a.until(() => a.host.dominfo('g').status !== 'running');
      const end = a.host.dominfo('g');
      expect([end.stopReason, end.cycles, end.instructions]).toEqual([ref.end.stopReason, ref.end.cycles, ref.end.instructions]);
      expect(a.out.g).toBe(ref.out);
    }, 120_000);
  }
});

describe('a pv domain with a network saved and restored (its network back end: the ring pages renamed, frames in flight to it)', () => {
  for (const bridge of [false, true]) {
    it(`pv${bridge ? ' on br0 (the shared machine carrying the gateway)' : ' with net user'}: ping of the gateway saved at quiet points between the two replies, restored on another host, ends as the uninterrupted run`, () => {
      const d = { name: 'g', mode: 'pv' as const, cmdline: 'ping 10.0.2.2 2', net: 'user', ...(bridge ? { bridge: 'br0', ip: '10.0.2.20' } : {}) };
      const ref = uninterrupted(d);
      expect(ref.out).toMatch(/64 bytes from 10\.0\.2\.2: icmp_seq=1 time=\d+ us\n64 bytes from 10\.0\.2\.2: icmp_seq=2 time=\d+ us\n2 packets transmitted, 2 received\n/);
      for (const after of [157, 182, 227]) {
        const r = saveAndRestore(d, after)!;
        expect(r.a.out.g).toContain('icmp_seq=1'); // between the replies (the save runs the machine on to a quiet point)
        expect(r.a.out.g).not.toContain('icmp_seq=2');
        expect([r.end.stopReason, r.end.cycles, r.end.instructions]).toEqual([ref.end.stopReason, ref.end.cycles, ref.end.instructions]);
        expect(r.out).toBe(ref.out);
      }
    }, 300_000);
  }
});

describe('a native domain on br0 saved with each kind of frame in flight on the switch', () => {
  it('its datagram on its way to the gateway (net:uplink-port), the echo on its way into the switch (net:uplink) and out of it (net:port): each restored ends as the uninterrupted run', () => {
    const d = benchDomain('native', true);
    const ref = uninterrupted(d);
    for (const [n, names] of [[25, ['net:uplink-port']], [26, ['net:uplink']], [29, ['net:port']]] as const) {
      const r = saveAndRestore(d, intoTraffic(n))!;
      expect(r.names).toEqual(names);
      expect([r.end.stopReason, r.end.cycles, r.end.instructions]).toEqual([ref.end.stopReason, ref.end.cycles, ref.end.instructions]);
      expect(r.out).toBe(ref.out);
    }
  }, 120_000);
});

describe("a pv domain on br0 whose shared machine carries the bridge's gateway", () => {
  it("saved with the gateway's echo reply still in the gateway's 2,000 cycles of latency (an event of the shared machine's, not the domain's): the frame goes with it, and the restored run on another host receives it and ends as the uninterrupted run", () => {
    const d = { name: 'g', mode: 'pv' as const, cmdline: 'ping 10.0.2.2 2', net: 'user', bridge: 'br0', ip: '10.0.2.20' };
    const ref = uninterrupted(d);
    expect(ref.out).toMatch(/icmp_seq=2 time=\d+ us\n2 packets transmitted, 2 received\n/);
    const gatewayFrame = (hv: Hypervisor): boolean => hv.events.pending().some((e) => deferredCallOf(e.fn)?.target?.constructor.name === 'UplinkInbox');
    let delay = -1;
    let source: Hypervisor | null = null;
    const r = saveAndRestore(d, (h) => {
      const cycles = () => h.host.live('g').hv!.cpu.cycles;
      // the second echo request leaves at about cycle 3,003,490,000 (from a run): close in on it
      // in coarse slices, then in slices of 200 cycles to a quiet point with the reply in flight
      h.until(() => cycles() > 2_980_000_000, 20_000_000);
      h.until(() => cycles() > 3_003_400_000, 20_000);
      h.until(() => gatewayFrame(h.host.live('g').hv!) && pvQuietPoint(h.host.live('g').hv!, h.host.live('g').domain!.modeState as PvDomain) === null, 200);
      const hv = h.host.live('g').hv!;
      source = hv;
      delay = hv.events.pending().find((e) => deferredCallOf(e.fn)?.target?.constructor.name === 'UplinkInbox')!.atCycle - hv.cpu.cycles;
    })!;
    expect(delay).toBe(2000); // the gateway answered at this slice's end
    expect(r.a.out.g).toContain('icmp_seq=1');
    expect(r.a.out.g).not.toContain('icmp_seq=2');
    expect(r.out).toBe(ref.out);
    expect([r.end.stopReason, r.end.cycles, r.end.instructions]).toEqual([ref.end.stopReason, ref.end.cycles, ref.end.instructions]);
    // the reply went as a relay to the domain's port, named by the external of its port's inbox
    expect(r.names.filter((n) => n.startsWith('net:'))).toEqual(['net:port']);
    // and not left behind on the source's machine (where it would be dropped at the switch)
    expect(gatewayFrame(source!)).toBe(false);
    for (const h of [r.a.host, r.b.host]) expect([h.bridgeCounters('br0').dropped, h.bridgeCounters('br0').late]).toEqual([0, 0]);
  }, 60_000);
});

describe("a pv domain on br0 carrying the bridge's gateway, saved with its own frame on its way to the gateway", () => {
  // The window no test guest reaches (ping's and netbench's kernel is still sending when its frame
  // arrives at the gateway, so it is never at a quiet point then), built directly: at a quiet point
  // between ping's two replies, an echo request from the domain (its station address and ip) to
  // the gateway is put on the switch's way to the gateway - an event of the uplink port's inbox on
  // the shared machine's queue, 500 cycles from arriving, as the switch schedules a frame the
  // domain sent 500 cycles before. The gateway answers it; the guest's stack takes the reply (no
  // socket waits for it) and drops it. The uninterrupted run gets the same frame at the same cycle.
  // Beside it, a frame of another station's (an address no domain has) on the same way: not the
  // domain's, it is not taken (the gateway's port is shared by every domain on the bridge).
  it('the frame goes with the domain to the gateway made for it on the restoring host, whose answer it receives: the restored run ends as the uninterrupted one', () => {
    const d = { name: 'g', mode: 'pv' as const, cmdline: 'ping 10.0.2.2 2', net: 'user', bridge: 'br0', ip: '10.0.2.20' };
    const ip = ipv4('10.0.2.20');
    const request = buildEth(GATEWAY_MAC, stationMac(ip), 0x0800, buildIpv4(ip, GATEWAY_IP, 1, buildIcmp(8, 0, Uint8Array.of(0x77, 0x77, 0, 1, 1, 2, 3, 4))));
    const toGateway = (hv: Hypervisor): number[] => hv.events.pending().flatMap((e) => (deferredCallOf(e.fn)?.name === 'arrive' && deferredCallOf(e.fn)?.args[0] === request ? [e.atCycle - hv.cpu.cycles] : []));
    // another station's frame to the gateway at the same cycle (the save run only): not the domain's, it stays
    const other = buildEth(GATEWAY_MAC, stationMac(ip + 1), 0x0800, buildIpv4(ip + 1, GATEWAY_IP, 1, buildIcmp(8, 0, Uint8Array.of(0x66, 0x66, 0, 1))));
    const prefix = (h: NetHost, withOther = false) => {
      for (let k = 0; k < 157; k++) h.host.step(20_000);
      h.until(() => pvQuietPoint(h.host.live('g').hv!, h.host.live('g').domain!.modeState as PvDomain) === null, 200);
      const hv = h.host.live('g').hv!;
      const sw = (h.host as unknown as { switches: Map<string, VirtualSwitch> }).switches.get('br0')!;
      hv.events.schedule(hv.cpu.cycles + 500, deferred(sw.uplinkPortInbox!, 'arrive', request));
      if (withOther) hv.events.schedule(hv.cpu.cycles + 500, deferred(sw.uplinkPortInbox!, 'arrive', other));
      expect(toGateway(hv)).toEqual([500]);
    };
    // the uninterrupted run, with the same prefix and the same frame
    const ref = makeNetHost();
    ref.define(d);
    ref.host.start('g');
    ref.until(() => (ref.out.g ?? '').includes('timer: 1000 Hz\n'), 20_000);
    prefix(ref);
    ref.until(() => ref.host.dominfo('g').status !== 'running');
    const refEnd = ref.host.dominfo('g');
    expect(ref.out.g).toMatch(/icmp_seq=2 time=\d+ us\n2 packets transmitted, 2 received\n/);
    expect(ref.host.bridgeCounters('br0').dropped).toBe(0);

    let source: Hypervisor | null = null;
    const r = saveAndRestore(d, (h) => {
      prefix(h, true);
      source = h.host.live('g').hv!;
    })!;
    expect(r.a.out.g).toContain('icmp_seq=1');
    expect(r.a.out.g).not.toContain('icmp_seq=2');
    // named by the external of the gateway's port there, and taken off the source's queue
    expect(r.names.filter((n) => n.startsWith('net:'))).toEqual(['net:uplink-port']);
    expect(toGateway(source!)).toEqual([]);
    // the other station's stays on the source's queue (that machine runs no more: no domain is left on it)
    expect(source!.events.pending().filter((e) => deferredCallOf(e.fn)?.args[0] === other).length).toBe(1);
    expect(r.out).toBe(ref.out.g);
    expect([r.end.stopReason, r.end.cycles, r.end.instructions]).toEqual([refEnd.stopReason, refEnd.cycles, refEnd.instructions]);
    for (const h of [r.a.host, r.b.host]) expect([h.bridgeCounters('br0').dropped, h.bridgeCounters('br0').late]).toEqual([0, 0]);
  }, 120_000);
});
