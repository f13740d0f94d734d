// The virtual gateway of the host uplink, in the shape of QEMU's user-mode network: a guest
// is 10.0.2.15 on 10.0.2.0/24 (domains on a bridge each have their own address there), the
// gateway 10.0.2.2 answers ARP and ping, and each host-forward rule
// (`hostfwd=udp:127.0.0.1:HOSTPORT-[GUESTADDR]:GUESTPORT`) carries datagrams from a host socket to
// a port of the guest at the rule's address and that guest's replies back to the host client
// that sent them. One gateway serves every domain of a bridge: it knows each guest's station
// address from its own frames (ARP, IPv4 sources) or from addStation.
// Host code: pure frame logic; the sockets are in uplink.ts, the NIC is reached by callbacks.

import {
  ARP_REPLY,
  ARP_REQUEST,
  BROADCAST_MAC,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
  IPPROTO_UDP,
  UDP_MAX_PAYLOAD,
  buildArp,
  buildEth,
  buildIcmp,
  buildIpv4,
  buildUdp,
  ipv4,
  parseArp,
  parseEth,
  parseIcmp,
  parseIpv4,
  parseUdp,
} from './frames.ts';

export const GUEST_IP = ipv4('10.0.2.15');
export const GATEWAY_IP = ipv4('10.0.2.2');
export const NETMASK = ipv4('255.255.255.0');
/** QEMU's gateway address 52:55:0a:00:02:02 */
export const GATEWAY_MAC = new Uint8Array([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]);

/**
 * Services the gateway itself answers on its UDP ports: a peer simulated inside the host, so a
 * guest's network benchmark (netbench) never depends on real host traffic. They take precedence
 * over host forwards (host clients' ports, the guest-visible source ports, are ephemeral ones).
 */
export const GATEWAY_ECHO_PORT = 7;
export const GATEWAY_DISCARD_PORT = 9;

/** One forwarding rule: datagrams to hostAddress:hostPort on the host go to guestIp:guestPort. */
export interface HostForward {
  protocol: 'udp';
  hostAddress: '127.0.0.1';
  hostPort: number;
  /** the guest's address (10.0.2.15 unless the forward names another) */
  guestIp: number;
  guestPort: number;
}

/** What the gateway did, for --stats and tests. */
export interface GatewayCounters {
  /** frames the guest sent, and the ones among them the gateway could not parse */
  framesFromGuest: number;
  malformed: number;
  arpReplies: number;
  pingReplies: number;
  /** datagrams from host clients sent on to the guest, and too large ones dropped */
  udpToGuest: number;
  udpTooLarge: number;
  /** guest datagrams carried back to host clients, and ones for no known client */
  udpToHost: number;
  unroutable: number;
  /** datagrams the gateway's own echo and discard services took */
  echoed: number;
  discarded: number;
  /** well-formed frames the gateway has nothing to do with (other protocols, other addresses) */
  ignored: number;
}

export interface GatewayHooks {
  /** hand a frame to the guest's NIC (the caller decides when it enters: see docs/network.md) */
  toGuest(frame: Uint8Array): void;
  /** send a datagram from host-forward rule `rule` (an index) to a host client */
  toHost(rule: number, payload: Uint8Array, clientAddress: string, clientPort: number): void;
}

/** What a gateway keeps (VirtualGateway.state): its counters, clients, station addresses and IPv4 id - plain data, for a save file. */
export interface GatewayState {
  counters: GatewayCounters;
  clients: [number, number, string][];
  stations: [number, number[]][];
  pinned: number[];
  ipId: number;
}

export class VirtualGateway {
  readonly counters: GatewayCounters = { framesFromGuest: 0, malformed: 0, arpReplies: 0, pingReplies: 0, udpToGuest: 0, udpTooLarge: 0, udpToHost: 0, unroutable: 0, echoed: 0, discarded: 0, ignored: 0 };
  /** host clients by the source port the guest sees (the client's own port), with their rule */
  private readonly clients = new Map<number, { rule: number; address: string }>();
  /** guests' station addresses by IPv4 address: given (pinned), or learned from their frames */
  private readonly stations = new Map<number, Uint8Array>();
  private readonly pinned = new Set<number>();
  private ipId = 0;

  /**
   * rules: the forwards by index (a slot of null: a forward removed, its index kept for the
   * others); guestMac: the station address of 10.0.2.15 (a lone guest's NIC).
   */
  constructor(
    readonly rules: readonly (HostForward | null)[],
    guestMac: Uint8Array,
    private readonly hooks: GatewayHooks,
  ) {
    this.addStation(GUEST_IP, guestMac);
  }

  /**
   * The station address of the guest at `ip` (a domain joining a bridge with its own address):
   * pinned, so that another guest claiming the address in its frames cannot take its datagrams.
   */
  addStation(ip: number, mac: Uint8Array): void {
    this.stations.set(ip, mac.slice());
    this.pinned.add(ip);
  }

  /**
   * The gateway's state as plain data (a saved run keeps it: the IPv4 id and the station
   * addresses are in the frames the guest gets, the clients are where its replies go).
   */
  state(): GatewayState {
    return {
      counters: { ...this.counters },
      clients: [...this.clients].map(([port, c]) => [port, c.rule, c.address]),
      stations: [...this.stations].map(([ip, mac]) => [ip, [...mac]]),
      pinned: [...this.pinned],
      ipId: this.ipId,
    };
  }

  /** Take over a saved gateway's state (a restored run's: its rules are the saved run's, in the same order). */
  loadState(s: GatewayState): void {
    Object.assign(this.counters, s.counters);
    this.clients.clear();
    for (const [port, rule, address] of s.clients) this.clients.set(port, { rule, address });
    this.stations.clear();
    for (const [ip, mac] of s.stations) this.stations.set(ip, Uint8Array.from(mac));
    this.pinned.clear();
    for (const ip of s.pinned) this.pinned.add(ip);
    this.ipId = s.ipId;
  }

  /** A guest's station address from its frame (an ARP sender, an IPv4 source), unless the address is pinned. */
  private learn(ip: number, mac: Uint8Array): void {
    if (this.pinned.has(ip) || ip === GATEWAY_IP || (mac[0]! & 1) !== 0 || ((ip & NETMASK) >>> 0) !== ((GATEWAY_IP & NETMASK) >>> 0)) return;
    this.stations.set(ip, mac.slice());
  }

  /** A frame the guest's NIC sent. Never throws: a bad frame is counted and dropped. */
  fromGuest(frame: Uint8Array): void {
    const c = this.counters;
    c.framesFromGuest++;
    const eth = parseEth(frame);
    if (!eth) return void c.malformed++;
    if (eth.type === ETHERTYPE_ARP) return this.arp(eth.payload);
    if (eth.type !== ETHERTYPE_IPV4) return void c.ignored++;
    const ip = parseIpv4(eth.payload);
    if (!ip) return void c.malformed++;
    if (ip.dst !== GATEWAY_IP) return void c.ignored++;
    this.learn(ip.src, eth.src);
    if (ip.protocol === IPPROTO_ICMP) {
      const m = parseIcmp(ip);
      if (!m) return void c.malformed++;
      if (m.type !== ICMP_ECHO_REQUEST || m.code !== 0) return void c.ignored++;
      c.pingReplies++;
      this.sendIp(ip.src, IPPROTO_ICMP, buildIcmp(ICMP_ECHO_REPLY, 0, m.body));
      return;
    }
    if (ip.protocol !== IPPROTO_UDP) return void c.ignored++;
    const u = parseUdp(ip);
    if (!u) return void c.malformed++;
    if (u.dstPort === GATEWAY_ECHO_PORT) {
      c.echoed++;
      this.sendIp(ip.src, IPPROTO_UDP, buildUdp(GATEWAY_IP, ip.src, GATEWAY_ECHO_PORT, u.srcPort, u.payload));
      return;
    }
    if (u.dstPort === GATEWAY_DISCARD_PORT) return void c.discarded++;
    const client = this.clients.get(u.dstPort);
    const rule = client ? this.rules[client.rule] : null;
    if (!client || !rule || rule.guestPort !== u.srcPort || rule.guestIp !== ip.src) return void c.unroutable++;
    c.udpToHost++;
    this.hooks.toHost(client.rule, u.payload.slice(), client.address, u.dstPort);
  }

  /** A datagram arrived on host-forward rule `rule`'s socket from clientAddress:clientPort. */
  fromHost(rule: number, payload: Uint8Array, clientAddress: string, clientPort: number): void {
    const c = this.counters;
    const r = this.rules[rule];
    if (!r) return;
    if (payload.length > UDP_MAX_PAYLOAD) return void c.udpTooLarge++;
    this.clients.set(clientPort, { rule, address: clientAddress });
    c.udpToGuest++;
    this.sendIp(r.guestIp, IPPROTO_UDP, buildUdp(GATEWAY_IP, r.guestIp, clientPort, r.guestPort, payload));
  }

  private arp(p: Uint8Array): void {
    const a = parseArp(p);
    if (!a) return void this.counters.malformed++;
    if (a.op !== ARP_REQUEST || a.targetIp !== GATEWAY_IP) return void this.counters.ignored++;
    this.learn(a.senderIp, a.senderMac);
    this.counters.arpReplies++;
    const reply = buildArp({ op: ARP_REPLY, senderMac: GATEWAY_MAC, senderIp: GATEWAY_IP, targetMac: a.senderMac, targetIp: a.senderIp });
    this.hooks.toGuest(buildEth(a.senderMac, GATEWAY_MAC, ETHERTYPE_ARP, reply));
  }

  private sendIp(dst: number, protocol: number, payload: Uint8Array): void {
    const dstMac = this.stations.get(dst) ?? BROADCAST_MAC;
    this.ipId = (this.ipId + 1) & 0xffff;
    this.hooks.toGuest(buildEth(dstMac, GATEWAY_MAC, ETHERTYPE_IPV4, buildIpv4(GATEWAY_IP, dst, protocol, payload, this.ipId)));
  }
}
