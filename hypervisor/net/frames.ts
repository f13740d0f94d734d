// Ethernet, ARP, IPv4, ICMP and UDP as the host side of the network sees them: parse a frame the
// guest sent (every length and field checked; a bad frame gives null, never an exception) and
// build the frames the virtual gateway answers with. Host code; pure functions over bytes.

export const ETH_HEADER = 14;
export const IP_HEADER = 20;
export const UDP_HEADER = 8;
export const ICMP_HEADER = 8;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const IPPROTO_ICMP = 1;
export const IPPROTO_UDP = 17;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
/** UDP payload that fits one 1514-byte frame */
export const UDP_MAX_PAYLOAD = 1514 - ETH_HEADER - IP_HEADER - UDP_HEADER;

export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** 'a.b.c.d' as a 32-bit number (no validation: constants and checked input only). */
export function ipv4(dotted: string): number {
  return dotted.split('.').reduce((a, p) => a * 256 + Number(p), 0) >>> 0;
}

export function ipString(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

/** The Internet checksum (RFC 1071) of bytes[start, start + len), with `initial` folded in. */
export function inetChecksum(bytes: Uint8Array, start: number, len: number, initial = 0): number {
  let sum = initial;
  let k = 0;
  for (; k + 1 < len; k += 2) sum += (bytes[start + k]! << 8) | bytes[start + k + 1]!;
  if (k < len) sum += bytes[start + k]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export interface EthFrame {
  dst: Uint8Array;
  src: Uint8Array;
  type: number;
  payload: Uint8Array;
}

export function parseEth(f: Uint8Array): EthFrame | null {
  if (f.length < ETH_HEADER) return null;
  return { dst: f.subarray(0, 6), src: f.subarray(6, 12), type: (f[12]! << 8) | f[13]!, payload: f.subarray(ETH_HEADER) };
}

export function buildEth(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HEADER + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = type >>> 8;
  f[13] = type & 0xff;
  f.set(payload, ETH_HEADER);
  return f;
}

export interface ArpPacket {
  op: number;
  senderMac: Uint8Array;
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

/** ARP for IPv4 over Ethernet only (htype 1, ptype 0x0800, hlen 6, plen 4). */
export function parseArp(p: Uint8Array): ArpPacket | null {
  if (p.length < 28) return null;
  const v = new DataView(p.buffer, p.byteOffset, p.length);
  if (v.getUint16(0) !== 1 || v.getUint16(2) !== ETHERTYPE_IPV4 || p[4] !== 6 || p[5] !== 4) return null;
  return { op: v.getUint16(6), senderMac: p.subarray(8, 14), senderIp: v.getUint32(14), targetMac: p.subarray(18, 24), targetIp: v.getUint32(24) };
}

export function buildArp(a: ArpPacket): Uint8Array {
  const p = new Uint8Array(28);
  const v = new DataView(p.buffer);
  v.setUint16(0, 1);
  v.setUint16(2, ETHERTYPE_IPV4);
  p[4] = 6;
  p[5] = 4;
  v.setUint16(6, a.op);
  p.set(a.senderMac, 8);
  v.setUint32(14, a.senderIp);
  p.set(a.targetMac, 18);
  v.setUint32(24, a.targetIp);
  return p;
}

export interface Ipv4Packet {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  payload: Uint8Array;
}

/**
 * An IPv4 packet: version 4, a header of 20..60 bytes with a correct checksum, a total length
 * inside the frame, not a fragment (the guest stack never fragments; neither does the gateway).
 */
export function parseIpv4(p: Uint8Array): Ipv4Packet | null {
  if (p.length < IP_HEADER || p[0]! >>> 4 !== 4) return null;
  const ihl = (p[0]! & 15) * 4;
  const v = new DataView(p.buffer, p.byteOffset, p.length);
  const total = v.getUint16(2);
  if (ihl < IP_HEADER || total < ihl || total > p.length) return null;
  if (inetChecksum(p, 0, ihl) !== 0) return null;
  if ((v.getUint16(6) & 0x3fff) !== 0) return null; // MF set or a fragment offset
  return { src: v.getUint32(12), dst: v.getUint32(16), protocol: p[9]!, ttl: p[8]!, payload: p.subarray(ihl, total) };
}

export function buildIpv4(src: number, dst: number, protocol: number, payload: Uint8Array, id = 0): Uint8Array {
  const p = new Uint8Array(IP_HEADER + payload.length);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(2, p.length);
  v.setUint16(4, id & 0xffff);
  v.setUint16(6, 0x4000); // don't fragment
  p[8] = 64;
  p[9] = protocol;
  v.setUint32(12, src);
  v.setUint32(16, dst);
  v.setUint16(10, inetChecksum(p, 0, IP_HEADER));
  p.set(payload, IP_HEADER);
  return p;
}

/** The UDP/TCP pseudo-header's sum (not folded), for the checksum. */
function pseudoSum(src: number, dst: number, protocol: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + len;
}

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

/** A UDP datagram whose length fits the packet and whose checksum (when not 0) is right. */
export function parseUdp(ip: Ipv4Packet): UdpDatagram | null {
  const p = ip.payload;
  if (p.length < UDP_HEADER) return null;
  const v = new DataView(p.buffer, p.byteOffset, p.length);
  const len = v.getUint16(4);
  if (len < UDP_HEADER || len > p.length) return null;
  if (v.getUint16(6) !== 0 && inetChecksum(p, 0, len, pseudoSum(ip.src, ip.dst, IPPROTO_UDP, len)) !== 0) return null;
  return { srcPort: v.getUint16(0), dstPort: v.getUint16(2), payload: p.subarray(UDP_HEADER, len) };
}

export function buildUdp(src: number, dst: number, srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(UDP_HEADER + payload.length);
  const v = new DataView(p.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint16(4, p.length);
  p.set(payload, UDP_HEADER);
  const c = inetChecksum(p, 0, p.length, pseudoSum(src, dst, IPPROTO_UDP, p.length));
  v.setUint16(6, c === 0 ? 0xffff : c);
  return p;
}

/** An ICMP message with a right checksum: its type, code and the rest (identifier, sequence, data). */
export function parseIcmp(ip: Ipv4Packet): { type: number; code: number; body: Uint8Array } | null {
  const p = ip.payload;
  if (p.length < ICMP_HEADER || inetChecksum(p, 0, p.length) !== 0) return null;
  return { type: p[0]!, code: p[1]!, body: p.subarray(4) };
}

export function buildIcmp(type: number, code: number, body: Uint8Array): Uint8Array {
  const p = new Uint8Array(4 + body.length);
  p[0] = type;
  p[1] = code;
  p.set(body, 4);
  const c = inetChecksum(p, 0, p.length);
  p[2] = c >>> 8;
  p[3] = c & 0xff;
  return p;
}
