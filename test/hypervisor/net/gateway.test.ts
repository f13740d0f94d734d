// Tests for hypervisor/net/gateway.ts (with frames.ts): ARP and ping answered for the gateway
// address, host datagrams carried to the guest port and the guest's replies back to the client
// that sent them, and malformed, unroutable and foreign frames counted, never thrown.

import { describe, expect, it } from 'vitest';
import { GATEWAY_IP, GATEWAY_MAC, GUEST_IP, VirtualGateway } from '../../../hypervisor/net/gateway.ts';
import * as F from '../../../hypervisor/net/frames.ts';

const GUEST_MAC = new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56]);

function setup() {
  const toGuest: Uint8Array[] = [];
  const toHost: { rule: number; payload: number[]; address: string; port: number }[] = [];
  const gw = new VirtualGateway([{ protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 5555, guestIp: GUEST_IP, guestPort: 7 }], GUEST_MAC, {
    toGuest: (f) => toGuest.push(f),
    toHost: (rule, payload, address, port) => toHost.push({ rule, payload: [...payload], address, port }),
  });
  return { gw, toGuest, toHost };
}

const ipFrame = (proto: number, payload: Uint8Array, dst = GATEWAY_IP) => F.buildEth(GATEWAY_MAC, GUEST_MAC, F.ETHERTYPE_IPV4, F.buildIpv4(GUEST_IP, dst, proto, payload));

describe('virtual gateway', () => {
  it('answers an ARP request for its address with its MAC, and ignores one for another address', () => {
    const { gw, toGuest } = setup();
    const req = (ip: number) => F.buildEth(F.BROADCAST_MAC, GUEST_MAC, F.ETHERTYPE_ARP, F.buildArp({ op: F.ARP_REQUEST, senderMac: GUEST_MAC, senderIp: GUEST_IP, targetMac: new Uint8Array(6), targetIp: ip }));
    gw.fromGuest(req(GATEWAY_IP));
    gw.fromGuest(req(F.ipv4('10.0.2.3')));
    expect(toGuest.length).toBe(1);
    const eth = F.parseEth(toGuest[0]!)!;
    expect([...eth.dst]).toEqual([...GUEST_MAC]);
    const a = F.parseArp(eth.payload)!;
    expect([a.op, a.senderIp, a.targetIp, [...a.senderMac]]).toEqual([F.ARP_REPLY, GATEWAY_IP, GUEST_IP, [...GATEWAY_MAC]]);
    expect([gw.counters.arpReplies, gw.counters.ignored]).toEqual([1, 1]);
  });

  it('answers a ping with the same identifier, sequence and data', () => {
    const { gw, toGuest } = setup();
    const body = Uint8Array.from([0x12, 0x34, 0, 7, 1, 2, 3, 4, 5]);
    gw.fromGuest(ipFrame(F.IPPROTO_ICMP, F.buildIcmp(F.ICMP_ECHO_REQUEST, 0, body)));
    const ip = F.parseIpv4(F.parseEth(toGuest[0]!)!.payload)!;
    expect([ip.src, ip.dst, ip.protocol]).toEqual([GATEWAY_IP, GUEST_IP, F.IPPROTO_ICMP]);
    const m = F.parseIcmp(ip)!;
    expect([m.type, m.code, [...m.body]]).toEqual([F.ICMP_ECHO_REPLY, 0, [...body]]);
  });

  it('carries a host datagram to the guest port and the reply back to that client', () => {
    const { gw, toGuest, toHost } = setup();
    gw.fromHost(0, Uint8Array.from([1, 2, 3]), '127.0.0.1', 40001);
    const ip = F.parseIpv4(F.parseEth(toGuest[0]!)!.payload)!;
    const u = F.parseUdp(ip)!;
    expect([ip.src, ip.dst, u.srcPort, u.dstPort, [...u.payload]]).toEqual([GATEWAY_IP, GUEST_IP, 40001, 7, [1, 2, 3]]);
    gw.fromGuest(ipFrame(F.IPPROTO_UDP, F.buildUdp(GUEST_IP, GATEWAY_IP, 7, 40001, Uint8Array.from([3, 2, 1]))));
    expect(toHost).toEqual([{ rule: 0, payload: [3, 2, 1], address: '127.0.0.1', port: 40001 }]);
    // a reply from another guest port, or to a client never seen, goes nowhere
    gw.fromGuest(ipFrame(F.IPPROTO_UDP, F.buildUdp(GUEST_IP, GATEWAY_IP, 8, 40001, Uint8Array.from([9]))));
    gw.fromGuest(ipFrame(F.IPPROTO_UDP, F.buildUdp(GUEST_IP, GATEWAY_IP, 7, 40002, Uint8Array.from([9]))));
    expect(toHost.length).toBe(1);
    expect([gw.counters.udpToGuest, gw.counters.udpToHost, gw.counters.unroutable]).toEqual([1, 1, 2]);
  });

  it('drops a host datagram that does not fit one frame', () => {
    const { gw, toGuest } = setup();
    gw.fromHost(0, new Uint8Array(F.UDP_MAX_PAYLOAD + 1), '127.0.0.1', 40001);
    gw.fromHost(0, new Uint8Array(F.UDP_MAX_PAYLOAD), '127.0.0.1', 40001);
    expect(toGuest.map((f) => f.length)).toEqual([1514]);
    expect(gw.counters.udpTooLarge).toBe(1);
  });

  it('counts malformed frames (short, bad IP checksum, truncated UDP, bad ICMP checksum) and never throws', () => {
    const { gw, toGuest } = setup();
    gw.fromGuest(new Uint8Array(5));
    const good = ipFrame(F.IPPROTO_UDP, F.buildUdp(GUEST_IP, GATEWAY_IP, 7, 40001, Uint8Array.from([1])));
    const badSum = good.slice();
    badSum[F.ETH_HEADER + 10]! ^= 0xff;
    gw.fromGuest(badSum);
    gw.fromGuest(good.subarray(0, F.ETH_HEADER + 22));
    const icmp = ipFrame(F.IPPROTO_ICMP, F.buildIcmp(F.ICMP_ECHO_REQUEST, 0, new Uint8Array(8)));
    icmp[icmp.length - 1]! ^= 1;
    gw.fromGuest(icmp);
    gw.fromGuest(F.buildEth(GATEWAY_MAC, GUEST_MAC, F.ETHERTYPE_ARP, new Uint8Array(10)));
    expect(gw.counters.malformed).toBe(5);
    expect(toGuest).toEqual([]);
  });

  it('computes the Internet checksum of RFC 1071 example words', () => {
    // RFC 1071 section 3: 0001 f203 f4f5 f6f7 sums to ddf2, so the checksum is 220d
    expect(F.inetChecksum(Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0, 8)).toBe(0x220d);
  });
});

describe('the gateway\'s own services', () => {
  it('echoes UDP port 7 back to the sender and swallows port 9', () => {
    const { gw, toGuest, toHost } = setup();
    gw.fromGuest(ipFrame(F.IPPROTO_UDP, F.buildUdp(GUEST_IP, GATEWAY_IP, 50000, 7, Uint8Array.from([5, 6]))));
    gw.fromGuest(ipFrame(F.IPPROTO_UDP, F.buildUdp(GUEST_IP, GATEWAY_IP, 50000, 9, Uint8Array.from([5, 6]))));
    expect(toGuest.length).toBe(1);
    const ip = F.parseIpv4(F.parseEth(toGuest[0]!)!.payload)!;
    const u = F.parseUdp(ip)!;
    expect([ip.src, ip.dst, u.srcPort, u.dstPort, [...u.payload]]).toEqual([GATEWAY_IP, GUEST_IP, 7, 50000, [5, 6]]);
    expect(toHost).toEqual([]);
    expect([gw.counters.echoed, gw.counters.discarded]).toEqual([1, 1]);
  });
});

describe('one gateway for the domains of a bridge', () => {
  const IP_B = F.ipv4('10.0.2.16');
  const IP_C = F.ipv4('10.0.2.17');
  const MAC_B = new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x10]);
  const MAC_C = new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x11]);
  const rule = (hostPort: number, guestIp: number, guestPort: number) => ({ protocol: 'udp' as const, hostAddress: '127.0.0.1' as const, hostPort, guestIp, guestPort });
  const from = (mac: Uint8Array, src: number, sport: number, dport: number, payload: number[]) =>
    F.buildEth(GATEWAY_MAC, mac, F.ETHERTYPE_IPV4, F.buildIpv4(src, GATEWAY_IP, F.IPPROTO_UDP, F.buildUdp(src, GATEWAY_IP, sport, dport, Uint8Array.from(payload))));
  const seen = (f: Uint8Array) => {
    const eth = F.parseEth(f)!;
    const ip = F.parseIpv4(eth.payload)!;
    const u = F.parseUdp(ip)!;
    return [[...eth.dst], ip.dst, u.srcPort, u.dstPort, [...u.payload]];
  };

  it('sends each forward to its guest address and station, carries back only that guest\'s replies, and keeps a given station from a guest claiming its address', () => {
    const toGuest: Uint8Array[] = [];
    const toHost: [number, number[], string, number][] = [];
    const rules: (ReturnType<typeof rule> | null)[] = [rule(5555, IP_B, 7), rule(5556, IP_C, 9), null];
    const gw = new VirtualGateway(rules, GUEST_MAC, { toGuest: (f) => toGuest.push(f), toHost: (k, p, a, port) => toHost.push([k, [...p], a, port]) });
    gw.addStation(IP_B, MAC_B);
    // c's station address is not given: unknown, its datagram goes to the broadcast address
    gw.fromHost(0, Uint8Array.from([1]), '127.0.0.1', 40001);
    gw.fromHost(1, Uint8Array.from([2]), '127.0.0.1', 40002);
    gw.fromHost(2, Uint8Array.from([3]), '127.0.0.1', 40003); // a removed forward: nothing
    expect(toGuest.map(seen)).toEqual([
      [[...MAC_B], IP_B, 40001, 7, [1]],
      [[...F.BROADCAST_MAC], IP_C, 40002, 9, [2]],
    ]);
    // c's reply teaches the gateway its station; b's port-7 reply to c's client is not c's
    gw.fromGuest(from(MAC_C, IP_C, 9, 40002, [2]));
    gw.fromGuest(from(MAC_B, IP_B, 7, 40002, [9]));
    gw.fromGuest(from(MAC_B, IP_B, 7, 40001, [1]));
    expect(toHost).toEqual([[1, [2], '127.0.0.1', 40002], [0, [1], '127.0.0.1', 40001]]);
    expect([gw.counters.udpToGuest, gw.counters.udpToHost, gw.counters.unroutable]).toEqual([2, 2, 1]);
    // c claims b's address: b's station stays (given), c's learned one is used for c
    gw.fromGuest(from(MAC_C, IP_B, 7, 40001, [4]));
    gw.fromHost(0, Uint8Array.from([5]), '127.0.0.1', 40001);
    gw.fromHost(1, Uint8Array.from([6]), '127.0.0.1', 40002);
    expect(toGuest.slice(2).map(seen)).toEqual([
      [[...MAC_B], IP_B, 40001, 7, [5]],
      [[...MAC_C], IP_C, 40002, 9, [6]],
    ]);
  });

  it("state() and loadState(): a gateway given another's state goes on as it would have - the same next frame (its IPv4 id, the learnt station address) and the reply to the same client (run --save-at with --net keeps it)", () => {
    const a = setup();
    const learnt = new Uint8Array([0x52, 0x54, 0, 0xaa, 0xbb, 0xcc]);
    const other = F.ipv4('10.0.2.9');
    // a host client, two pings (the IPv4 id moves), a station address learnt from another guest's frame
    a.gw.fromHost(0, Uint8Array.from([1]), '127.0.0.1', 40001);
    a.gw.fromGuest(ipFrame(F.IPPROTO_ICMP, F.buildIcmp(F.ICMP_ECHO_REQUEST, 0, Uint8Array.from([0, 1, 0, 1]))));
    a.gw.fromGuest(F.buildEth(GATEWAY_MAC, learnt, F.ETHERTYPE_IPV4, F.buildIpv4(other, GATEWAY_IP, F.IPPROTO_ICMP, F.buildIcmp(F.ICMP_ECHO_REQUEST, 0, Uint8Array.from([0, 2, 0, 2])))));
    const saved = JSON.parse(JSON.stringify(a.gw.state())) as ReturnType<VirtualGateway['state']>;
    const b = setup();
    b.gw.loadState(saved);
    expect(b.gw.state()).toEqual(a.gw.state());
    for (const g of [a, b]) {
      g.toGuest.length = 0;
      g.gw.fromGuest(F.buildEth(GATEWAY_MAC, learnt, F.ETHERTYPE_IPV4, F.buildIpv4(other, GATEWAY_IP, F.IPPROTO_ICMP, F.buildIcmp(F.ICMP_ECHO_REQUEST, 0, Uint8Array.from([0, 3, 0, 3])))));
      g.gw.fromGuest(ipFrame(F.IPPROTO_UDP, F.buildUdp(GUEST_IP, GATEWAY_IP, 7, 40001, Uint8Array.from([5]))));
    }
    expect(b.toGuest).toEqual(a.toGuest);
    // the IPv4 header's identification (bytes 4-5 after the 14-byte Ethernet header): the fourth frame the gateway made (the datagram, two pings before)
    expect((b.toGuest[0]![18]! << 8) | b.toGuest[0]![19]!).toBe(4);
    expect([...F.parseEth(b.toGuest[0]!)!.dst]).toEqual([...learnt]);
    expect(b.toHost).toEqual([{ rule: 0, payload: [5], address: '127.0.0.1', port: 40001 }]);
    expect(b.gw.counters).toEqual(a.gw.counters);
  });
});
