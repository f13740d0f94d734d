// The kernel's network stack: Ethernet, ARP, IPv4, ICMP echo and UDP over the architecture's
// network device (pvops NET_*), and the socket table the system calls in sys.ts work on.
// One interface with a static address (QEMU's user-mode network: 10.0.2.15/24, gateway
// 10.0.2.2). It comes up at the first socket() or netinfo(), so a kernel that never uses the
// network never touches the device. Frames arrive by interrupt (netIntr) and are handled there;
// received datagrams wait in their socket's queue for recvfrom. Malformed or unwanted frames are
// counted and dropped; so are datagrams for a full queue. Like the rest of the kernel, this
// code runs with interrupts off (only the idle loop enables them), so it needs no locks.
// Guest code (the TypeScript subset).

import { load8, store8, load32, store32, staticBuffer, ltu } from 'xl32';
import { PvOp, pvHas, netInit, netSend, netRecv, netAck, netStat, irqUnmask, IrqLine } from '../pvops.ts';
import { SockType, SockAddr, NetInfo, NetLimits, Err } from '../abi.ts';
import { kalloc, kfree } from '../kalloc.ts';
import { p2v, copyin, copyout } from '../vm.ts';
import { memcpy } from '../string.ts';
import { sleep, wakeup, sleepTicks, killed } from '../proc.ts';
import { uptime } from '../trap.ts';

export const enum NetAddr {
  IP = 0x0a00020f,
  GATEWAY = 0x0a000202,
  NETMASK = 0xffffff00,
  BROADCAST = 0xffffffff,
}

const enum Eth {
  DST = 0,
  SRC = 6,
  TYPE = 12,
  HEADER = 14,
  IPV4 = 0x0800,
  ARP = 0x0806,
  /** frame buffers: an MTU-sized frame (1514) rounded up */
  FRAME_BYTES = 1536,
}

/** IPv4 header offsets (from the start of the header) and the protocols handled. */
const enum Ip {
  VER_IHL = 0,
  TOTAL = 2,
  ID = 4,
  FRAG = 6,
  TTL = 8,
  PROTO = 9,
  CSUM = 10,
  SRC = 12,
  DST = 16,
  HEADER = 20,
  ICMP = 1,
  UDP = 17,
}

const enum Udp {
  SPORT = 0,
  DPORT = 2,
  LEN = 4,
  CSUM = 6,
  HEADER = 8,
}

const enum Icmp {
  TYPE = 0,
  CODE = 1,
  CSUM = 2,
  ID = 4,
  SEQ = 6,
  HEADER = 8,
  ECHO_REPLY = 0,
  ECHO_REQUEST = 8,
}

const enum Arp {
  OP = 6,
  SHA = 8,
  SPA = 14,
  THA = 18,
  TPA = 24,
  BYTES = 28,
  REQUEST = 1,
  REPLY = 2,
  /** cache entries: ip, mac (6 bytes), padding */
  ENTRIES = 8,
  ENTRY_BYTES = 12,
  /** requests sent before sendto gives up, and ticks waited after each */
  TRIES = 3,
  WAIT_TICKS = 100,
}

/** A socket slot; its receive queue is QUEUE entries of ENTRY_BYTES, two to a page. */
const enum Sock {
  COUNT = 8,
  TYPE = 0,
  PORT = 4,
  HEAD = 8,
  QCOUNT = 12,
  /** PAGES physical addresses of the queue's pages */
  PAGE0 = 16,
  PAGES = 4,
  /** a recvfrom with a timeout waits: 1, and the tick it gives up at */
  TIMED = 32,
  DEADLINE = 36,
  BYTES = 40,
  QUEUE = 8,
  ENTRY_BYTES = 2048,
  /** queue entry: sender address, sender port (ICMP: sequence), length, data */
  E_IP = 0,
  E_PORT = 4,
  E_LEN = 8,
  E_DATA = 12,
  FIRST_EPHEMERAL = 49152,
}

/** the station address (bytes 0..5), then the address the device's configuration gives (bytes 8..11, big-endian; 0: the default) */
const myMac = staticBuffer(12);
/** the interface's IPv4 address: NetAddr.IP unless the device says otherwise (a pv domain on a bridge) */
let myIp: number = NetAddr.IP;
const bcastMac = staticBuffer(8);
const addrOut = staticBuffer(SockAddr.BYTES);
const rxFrame = staticBuffer(Eth.FRAME_BYTES, 4);
const txFrame = staticBuffer(Eth.FRAME_BYTES, 4);
const arpTable = staticBuffer(Arp.ENTRIES * Arp.ENTRY_BYTES, 4);
const socks = staticBuffer(Sock.COUNT * Sock.BYTES, 4);
/** 0: not yet tried; 1: up; -1: no device */
let state = 0;
let arpNext = 0;
let ipId = 0;
let nextEphemeral: number = Sock.FIRST_EPHEMERAL;
let txFrames = 0;
let rxFrames = 0;
let rxDropped = 0;
let sockDropped = 0;
/** recvfrom calls waiting with a timeout (the timer tick looks at the sockets only while some do) */
let timedWaiters = 0;

// ---- bytes on the wire (big-endian) ----------------------------------------------------------

function get16(a: number): number {
  return (load8(a) << 8) | load8(a + 1);
}
function put16(a: number, v: number): void {
  store8(a, v >>> 8);
  store8(a + 1, v);
}
function get32(a: number): number {
  return (load8(a) << 24) | (load8(a + 1) << 16) | (load8(a + 2) << 8) | load8(a + 3);
}
function put32(a: number, v: number): void {
  store8(a, v >>> 24);
  store8(a + 1, v >>> 16);
  store8(a + 2, v >>> 8);
  store8(a + 3, v);
}

/** Sum of the 16-bit words of [a, a + n) added to `sum` (not folded; n up to a frame). */
function sumWords(a: number, n: number, sum: number): number {
  let k = 0;
  while (k + 1 < n) {
    sum = sum + ((load8(a + k) << 8) | load8(a + k + 1));
    k = k + 2;
  }
  if (k < n) sum = sum + (load8(a + k) << 8);
  return sum;
}

/** The Internet checksum of a sum (RFC 1071): fold the carries, complement. */
function fold(sum: number): number {
  while (ltu(0xffff, sum)) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The UDP pseudo-header's sum. */
function pseudo(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

function macEq(a: number, b: number): boolean {
  let k = 0;
  while (k < 6) {
    if (load8(a + k) !== load8(b + k)) return false;
    k = k + 1;
  }
  return true;
}

function isBroadcastMac(a: number): boolean {
  let k = 0;
  while (k < 6) {
    if (load8(a + k) !== 0xff) return false;
    k = k + 1;
  }
  return true;
}

// ---- the interface -------------------------------------------------------------------------

/** Bring the interface up on first use: true when there is a device. */
export function netUp(): boolean {
  if (state === 0) {
    state = -1;
    store32(myMac + 8, 0);
    if (pvHas(PvOp.NET_INIT) && netInit(myMac) === 0) {
      state = 1;
      if (get32(myMac + 8) !== 0) myIp = get32(myMac + 8);
      let k = 0;
      while (k < 6) {
        store8(bcastMac + k, 0xff);
        k = k + 1;
      }
      irqUnmask(IrqLine.NET);
    }
  }
  return state === 1;
}

/** Fill a NetInfo record at kernel address out. */
export function netInfo(out: number): void {
  const up = netUp();
  store32(out + NetInfo.UP, up ? 1 : 0);
  store32(out + NetInfo.IP, myIp);
  store32(out + NetInfo.NETMASK, NetAddr.NETMASK);
  store32(out + NetInfo.GATEWAY, NetAddr.GATEWAY);
  store32(out + NetInfo.MAC_HI, (load8(myMac) << 8) | load8(myMac + 1));
  store32(out + NetInfo.MAC_LO, get32(myMac + 2));
  store32(out + NetInfo.TX_FRAMES, txFrames);
  store32(out + NetInfo.RX_FRAMES, rxFrames);
  store32(out + NetInfo.RX_DROPPED, rxDropped);
  store32(out + NetInfo.SOCK_DROPPED, sockDropped);
  store32(out + NetInfo.DEV_RX_NO_BUFFER, up ? netStat(5) : 0);
  store32(out + NetInfo.DEV_RX_MALFORMED, up ? netStat(6) : 0);
}

/** The device's interrupt: take every waiting frame. */
export function netIntr(): void {
  if (state !== 1) return;
  netAck();
  for (;;) {
    const n = netRecv(rxFrame, Eth.FRAME_BYTES);
    if (n === -1) return;
    if (n < 0) {
      rxDropped = rxDropped + 1;
      continue;
    }
    rxFrames = rxFrames + 1;
    if (!ethInput(n)) rxDropped = rxDropped + 1;
  }
}

/** Send txFrame's first n bytes, with the Ethernet header's source and type filled in. */
function ethSend(dstMac: number, type: number, n: number): boolean {
  memcpy(txFrame + Eth.DST, dstMac, 6);
  memcpy(txFrame + Eth.SRC, myMac, 6);
  put16(txFrame + Eth.TYPE, type);
  if (netSend(txFrame, n) < 0) return false;
  txFrames = txFrames + 1;
  return true;
}

function ethInput(n: number): boolean {
  if (n < Eth.HEADER) return false;
  const dst = rxFrame + Eth.DST;
  if (!macEq(dst, myMac) && !isBroadcastMac(dst)) return false;
  const type = get16(rxFrame + Eth.TYPE);
  if (type === Eth.ARP) return arpInput(rxFrame + Eth.HEADER, n - Eth.HEADER);
  if (type === Eth.IPV4) return ipInput(rxFrame + Eth.HEADER, n - Eth.HEADER);
  return false;
}

// ---- ARP -------------------------------------------------------------------------------------

/** The cache entry for ip, or 0. */
function arpFind(ip: number): number {
  let k = 0;
  while (k < Arp.ENTRIES) {
    const e = arpTable + k * Arp.ENTRY_BYTES;
    if (load32(e) === ip && ip !== 0) return e;
    k = k + 1;
  }
  return 0;
}

function arpLearn(ip: number, mac: number): void {
  let e = arpFind(ip);
  if (e === 0) {
    e = arpTable + arpNext * Arp.ENTRY_BYTES;
    arpNext = (arpNext + 1) % Arp.ENTRIES;
    store32(e, ip);
  }
  memcpy(e + 4, mac, 6);
  wakeup(arpTable);
}

function arpInput(p: number, n: number): boolean {
  if (n < Arp.BYTES || get16(p) !== 1 || get16(p + 2) !== Eth.IPV4 || load8(p + 4) !== 6 || load8(p + 5) !== 4) return false;
  const op = get16(p + Arp.OP);
  const spa = get32(p + Arp.SPA);
  const tpa = get32(p + Arp.TPA);
  if (tpa !== myIp) return arpFind(spa) !== 0;
  arpLearn(spa, p + Arp.SHA);
  if (op !== Arp.REQUEST) return op === Arp.REPLY;
  const q = txFrame + Eth.HEADER;
  put16(q, 1);
  put16(q + 2, Eth.IPV4);
  store8(q + 4, 6);
  store8(q + 5, 4);
  put16(q + Arp.OP, Arp.REPLY);
  memcpy(q + Arp.SHA, myMac, 6);
  put32(q + Arp.SPA, myIp);
  memcpy(q + Arp.THA, p + Arp.SHA, 6);
  put32(q + Arp.TPA, spa);
  ethSend(q + Arp.THA, Eth.ARP, Eth.HEADER + Arp.BYTES);
  return true;
}

function arpRequest(ip: number): void {
  const q = txFrame + Eth.HEADER;
  put16(q, 1);
  put16(q + 2, Eth.IPV4);
  store8(q + 4, 6);
  store8(q + 5, 4);
  put16(q + Arp.OP, Arp.REQUEST);
  memcpy(q + Arp.SHA, myMac, 6);
  put32(q + Arp.SPA, myIp);
  let k = 0;
  while (k < 6) {
    store8(q + Arp.THA + k, 0);
    k = k + 1;
  }
  put32(q + Arp.TPA, ip);
  ethSend(bcastMac, Eth.ARP, Eth.HEADER + Arp.BYTES);
}

/** The next hop for dst: itself on our subnet, else the gateway. */
function nextHop(dst: number): number {
  return (dst & NetAddr.NETMASK) === (myIp & NetAddr.NETMASK) ? dst : NetAddr.GATEWAY;
}

/**
 * Make sure the next hop to dst has a cache entry, asking by ARP and sleeping a few ticks for
 * the answer when it has none (process context only). 0, EHOSTUNREACH or EINTR.
 */
function arpResolve(dst: number): number {
  const hop = nextHop(dst);
  if (dst === NetAddr.BROADCAST || arpFind(hop) !== 0) return 0;
  let tries = 0;
  while (tries < Arp.TRIES) {
    arpRequest(hop);
    const until = uptime() + Arp.WAIT_TICKS;
    while (uptime() - until < 0) {
      if (arpFind(hop) !== 0) return 0;
      if (sleepTicks(uptime() + 1) < 0) return Err.EINTR;
    }
    tries = tries + 1;
  }
  return arpFind(hop) !== 0 ? 0 : Err.EHOSTUNREACH;
}

// ---- IPv4 ------------------------------------------------------------------------------------

/**
 * Send the IPv4 packet whose payload (n bytes) is already at txFrame's IP payload, to dst. The
 * next hop must be in the ARP cache (arpResolve, or learnt from the packet being answered).
 */
function ipSend(dst: number, proto: number, n: number): boolean {
  let mac = bcastMac;
  if (dst !== NetAddr.BROADCAST) {
    const e = arpFind(nextHop(dst));
    if (e === 0) return false;
    mac = e + 4;
  }
  const h = txFrame + Eth.HEADER;
  const total = Ip.HEADER + n;
  store8(h + Ip.VER_IHL, 0x45);
  store8(h + 1, 0);
  put16(h + Ip.TOTAL, total);
  ipId = (ipId + 1) & 0xffff;
  put16(h + Ip.ID, ipId);
  put16(h + Ip.FRAG, 0x4000);
  store8(h + Ip.TTL, 64);
  store8(h + Ip.PROTO, proto);
  put16(h + Ip.CSUM, 0);
  put32(h + Ip.SRC, myIp);
  put32(h + Ip.DST, dst);
  put16(h + Ip.CSUM, fold(sumWords(h, Ip.HEADER, 0)));
  return ethSend(mac, Eth.IPV4, Eth.HEADER + total);
}

function ipInput(h: number, n: number): boolean {
  if (n < Ip.HEADER || load8(h + Ip.VER_IHL) >>> 4 !== 4) return false;
  const ihl = (load8(h + Ip.VER_IHL) & 15) * 4;
  const total = get16(h + Ip.TOTAL);
  if (ihl < Ip.HEADER || total < ihl || total > n) return false;
  if (fold(sumWords(h, ihl, 0)) !== 0) return false;
  if ((get16(h + Ip.FRAG) & 0x3fff) !== 0) return false;
  const dst = get32(h + Ip.DST);
  if (dst !== myIp && dst !== NetAddr.BROADCAST) return false;
  const src = get32(h + Ip.SRC);
  // Trust the sender's link address for its IP (lwIP's ETHARP_TRUST_IP_MAC): an answer then
  // never needs an ARP round trip, which the interrupt handler could not wait for.
  if ((src & NetAddr.NETMASK) === (myIp & NetAddr.NETMASK) && src !== myIp) arpLearn(src, rxFrame + Eth.SRC);
  const proto = load8(h + Ip.PROTO);
  if (proto === Ip.ICMP) return icmpInput(src, h + ihl, total - ihl);
  if (proto === Ip.UDP) return udpInput(src, dst, h + ihl, total - ihl);
  return false;
}

// ---- ICMP ------------------------------------------------------------------------------------

function icmpInput(src: number, p: number, n: number): boolean {
  if (n < Icmp.HEADER || fold(sumWords(p, n, 0)) !== 0) return false;
  const type = load8(p + Icmp.TYPE);
  if (type === Icmp.ECHO_REQUEST && load8(p + Icmp.CODE) === 0) {
    const q = txFrame + Eth.HEADER + Ip.HEADER;
    memcpy(q, p, n);
    store8(q + Icmp.TYPE, Icmp.ECHO_REPLY);
    put16(q + Icmp.CSUM, 0);
    put16(q + Icmp.CSUM, fold(sumWords(q, n, 0)));
    ipSend(src, Ip.ICMP, n);
    return true;
  }
  if (type !== Icmp.ECHO_REPLY) return false;
  const s = sockFind(SockType.ICMP, get16(p + Icmp.ID));
  if (s === 0) return false;
  sockQueue(s, src, get16(p + Icmp.SEQ), p + Icmp.HEADER, n - Icmp.HEADER);
  return true;
}

// ---- UDP -------------------------------------------------------------------------------------

function udpInput(src: number, dst: number, p: number, n: number): boolean {
  if (n < Udp.HEADER) return false;
  const len = get16(p + Udp.LEN);
  if (len < Udp.HEADER || len > n) return false;
  if (get16(p + Udp.CSUM) !== 0 && fold(sumWords(p, len, pseudo(src, dst, Ip.UDP, len))) !== 0) return false;
  const s = sockFind(SockType.UDP, get16(p + Udp.DPORT));
  if (s === 0) return false;
  sockQueue(s, src, get16(p + Udp.SPORT), p + Udp.HEADER, len - Udp.HEADER);
  return true;
}

// ---- sockets ---------------------------------------------------------------------------------

function sockSlot(k: number): number {
  return socks + k * Sock.BYTES;
}

/** The open socket of `type` bound to port, or 0. */
function sockFind(type: number, port: number): number {
  let k = 0;
  while (k < Sock.COUNT) {
    const s = sockSlot(k);
    if (load32(s + Sock.TYPE) === type && load32(s + Sock.PORT) === port) return s;
    k = k + 1;
  }
  return 0;
}

function entry(s: number, e: number): number {
  return p2v(load32(s + Sock.PAGE0 + (e >>> 1) * 4)) + (e & 1) * Sock.ENTRY_BYTES;
}

/** Queue a received datagram on s, or drop it (counted) when the queue is full. */
function sockQueue(s: number, src: number, port: number, data: number, n: number): void {
  const count = load32(s + Sock.QCOUNT);
  if (count === Sock.QUEUE) {
    sockDropped = sockDropped + 1;
    return;
  }
  const e = entry(s, (load32(s + Sock.HEAD) + count) % Sock.QUEUE);
  store32(e + Sock.E_IP, src);
  store32(e + Sock.E_PORT, port);
  store32(e + Sock.E_LEN, n);
  memcpy(e + Sock.E_DATA, data, n);
  store32(s + Sock.QCOUNT, count + 1);
  wakeup(s);
}

/** A new socket of `type` (its queue allocated): the slot, or ENFILE / ENOMEM. */
export function sockAlloc(type: number): number {
  let k = 0;
  while (k < Sock.COUNT && load32(sockSlot(k) + Sock.TYPE) !== 0) k = k + 1;
  if (k === Sock.COUNT) return Err.ENFILE;
  const s = sockSlot(k);
  let pg = 0;
  while (pg < Sock.PAGES) {
    const pa = kalloc();
    if (pa === 0) {
      while (pg > 0) {
        pg = pg - 1;
        kfree(load32(s + Sock.PAGE0 + pg * 4));
      }
      return Err.ENOMEM;
    }
    store32(s + Sock.PAGE0 + pg * 4, pa);
    pg = pg + 1;
  }
  store32(s + Sock.HEAD, 0);
  store32(s + Sock.QCOUNT, 0);
  // an ICMP socket's identifier is fixed by its slot; a UDP socket is unbound (port 0)
  store32(s + Sock.PORT, type === SockType.ICMP ? 0x4000 + k : 0);
  store32(s + Sock.TYPE, type);
  return s;
}

export function sockClose(s: number): void {
  let pg = 0;
  while (pg < Sock.PAGES) {
    kfree(load32(s + Sock.PAGE0 + pg * 4));
    pg = pg + 1;
  }
  store32(s + Sock.TYPE, 0);
  store32(s + Sock.PORT, 0);
  wakeup(s);
}

/** Bind a UDP socket to a port: 0, EINVAL (not UDP, bad port, already bound) or EADDRINUSE. */
export function sockBind(s: number, port: number): number {
  if (load32(s + Sock.TYPE) !== SockType.UDP || port <= 0 || port > 0xffff || load32(s + Sock.PORT) !== 0) return Err.EINVAL;
  if (sockFind(SockType.UDP, port) !== 0) return Err.EADDRINUSE;
  store32(s + Sock.PORT, port);
  return 0;
}

function ephemeral(): number {
  for (;;) {
    const port = nextEphemeral;
    nextEphemeral = nextEphemeral === 0xffff ? Sock.FIRST_EPHEMERAL : nextEphemeral + 1;
    if (sockFind(SockType.UDP, port) === 0) return port;
  }
}

/**
 * Send n bytes at user address buf from socket s to ip:port (ICMP: an echo request with
 * sequence `port`). Bytes sent, or an error.
 */
export function sockSend(s: number, buf: number, n: number, ip: number, port: number): number {
  const type = load32(s + Sock.TYPE);
  if (n < 0 || n > NetLimits.UDP_MAX) return Err.EMSGSIZE;
  if (type === SockType.UDP && (port <= 0 || port > 0xffff)) return Err.EINVAL;
  const r = arpResolve(ip);
  if (r < 0) return r;
  if (load32(s + Sock.TYPE) !== type) return Err.EBADF; // closed while we slept
  const q = txFrame + Eth.HEADER + Ip.HEADER;
  if (type === SockType.UDP) {
    if (load32(s + Sock.PORT) === 0) store32(s + Sock.PORT, ephemeral());
    if (copyin(q + Udp.HEADER, buf, n) < 0) return Err.EFAULT;
    const len = Udp.HEADER + n;
    put16(q + Udp.SPORT, load32(s + Sock.PORT));
    put16(q + Udp.DPORT, port);
    put16(q + Udp.LEN, len);
    put16(q + Udp.CSUM, 0);
    let c = fold(sumWords(q, len, pseudo(myIp, ip, Ip.UDP, len)));
    if (c === 0) c = 0xffff;
    put16(q + Udp.CSUM, c);
    return ipSend(ip, Ip.UDP, len) ? n : Err.EAGAIN;
  }
  if (copyin(q + Icmp.HEADER, buf, n) < 0) return Err.EFAULT;
  const len = Icmp.HEADER + n;
  store8(q + Icmp.TYPE, Icmp.ECHO_REQUEST);
  store8(q + Icmp.CODE, 0);
  put16(q + Icmp.CSUM, 0);
  put16(q + Icmp.ID, load32(s + Sock.PORT));
  put16(q + Icmp.SEQ, port);
  put16(q + Icmp.CSUM, fold(sumWords(q, len, 0)));
  return ipSend(ip, Ip.ICMP, len) ? n : Err.EAGAIN;
}

/**
 * Wait for a datagram on s (at most timeoutTicks; 0 for ever), then copy its first n bytes to
 * user address buf and its sender (a SockAddr) to user address addr unless 0. The datagram is
 * used up even when n is shorter. The count copied, EAGAIN after the timeout, EINTR if killed,
 * EFAULT for a bad buffer.
 */
export function sockRecv(s: number, buf: number, n: number, addr: number, timeoutTicks: number): number {
  const until = uptime() + timeoutTicks;
  while (load32(s + Sock.QCOUNT) === 0) {
    if (load32(s + Sock.TYPE) === 0) return Err.EBADF;
    if (killed()) return Err.EINTR;
    if (timeoutTicks > 0) {
      if (uptime() - until >= 0) return Err.EAGAIN;
      // sleep on the socket: a datagram wakes us at once, netTick when the deadline comes
      store32(s + Sock.TIMED, 1);
      store32(s + Sock.DEADLINE, until);
      timedWaiters = timedWaiters + 1;
      sleep(s);
      timedWaiters = timedWaiters - 1;
      store32(s + Sock.TIMED, 0);
    } else {
      sleep(s);
    }
  }
  const head = load32(s + Sock.HEAD);
  const e = entry(s, head);
  const len = load32(e + Sock.E_LEN);
  const m = len < n ? len : n;
  let r = copyout(buf, e + Sock.E_DATA, m);
  if (r >= 0 && addr !== 0) {
    store32(addrOut + SockAddr.IP, load32(e + Sock.E_IP));
    store32(addrOut + SockAddr.PORT, load32(e + Sock.E_PORT));
    r = copyout(addr, addrOut, SockAddr.BYTES);
  }
  store32(s + Sock.HEAD, (head + 1) % Sock.QUEUE);
  store32(s + Sock.QCOUNT, load32(s + Sock.QCOUNT) - 1);
  return r < 0 ? Err.EFAULT : m;
}

/** From the timer interrupt: wake the recvfrom calls whose timeout has come. */
export function netTick(ticks: number): void {
  if (timedWaiters === 0) return;
  let k = 0;
  while (k < Sock.COUNT) {
    const s = sockSlot(k);
    if (load32(s + Sock.TIMED) !== 0 && ticks - load32(s + Sock.DEADLINE) >= 0) wakeup(s);
    k = k + 1;
  }
}

/** The socket's type (SockType), 0 when closed. */
export function sockType(s: number): number {
  return load32(s + Sock.TYPE);
}
