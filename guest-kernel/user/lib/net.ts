// The user side of the network: socket system-call wrappers and the printing and parsing of
// IPv4 and Ethernet addresses. Guest code (the TypeScript subset) for ring-3 programs.

import { syscall, load8, cstr } from 'xl32';
import { Sys } from '../../kernel/abi.ts';
import { putd, putc, fputs, fputd } from './ulib.ts';
import { Fd } from '../../kernel/abi.ts';

/** A SockType socket's descriptor, or a negative error (ENETDOWN without a network device). */
export function socket(type: number): number { return syscall(Sys.SOCKET, type); }
export function bind(fd: number, port: number): number { return syscall(Sys.BIND, fd, port); }
/** Send n bytes at buf to ip:port (an ICMP socket: an echo request with sequence port). */
export function sendto(fd: number, buf: number, n: number, ip: number, port: number): number { return syscall(Sys.SENDTO, fd, buf, n, ip, port); }
/** The next datagram into buf (at most n bytes), its sender as a SockAddr at addr unless 0; EAGAIN after timeoutTicks (0: no limit). */
export function recvfrom(fd: number, buf: number, n: number, addr: number, timeoutTicks: number): number { return syscall(Sys.RECVFROM, fd, buf, n, addr, timeoutTicks); }
/** The interface's addresses and counters as a NetInfo record at buf. */
export function netinfo(buf: number): number { return syscall(Sys.NETINFO, buf); }

/** Print an IPv4 address held as a number (a.b.c.d = a << 24 | ...). */
export function putIp(ip: number): void {
  putd(ip >>> 24);
  putc(46);
  putd((ip >>> 16) & 255);
  putc(46);
  putd((ip >>> 8) & 255);
  putc(46);
  putd(ip & 255);
}

function putHexByte(b: number): void {
  const hi = (b >>> 4) & 15;
  const lo = b & 15;
  putc(hi < 10 ? 48 + hi : 87 + hi);
  putc(lo < 10 ? 48 + lo : 87 + lo);
}

/** Print a station address given as its bytes 0..1 (hi) and 2..5 (lo). */
export function putMac(hi: number, lo: number): void {
  putHexByte(hi >>> 8);
  putc(58);
  putHexByte(hi);
  let k = 0;
  while (k < 4) {
    putc(58);
    putHexByte(lo >>> (24 - 8 * k));
    k = k + 1;
  }
}

/** The dotted address at string s as a number, or 0 when it is not four numbers 0..255. */
export function parseIp(s: number): number {
  let ip = 0;
  let part = 0;
  let k = 0;
  for (;;) {
    let n = 0;
    let digits = 0;
    let c = load8(s + k);
    while (c >= 48 && c <= 57 && digits < 4) {
      n = n * 10 + (c - 48);
      digits = digits + 1;
      k = k + 1;
      c = load8(s + k);
    }
    if (digits === 0 || n > 255) return 0;
    ip = (ip << 8) | n;
    part = part + 1;
    if (part === 4) return c === 0 ? ip : 0;
    if (c !== 46) return 0;
    k = k + 1;
  }
}

/** Report a failed network call on stderr as `PROG: WHAT: error ERR` and return 1 (the exit status). */
export function netFail(prog: number, what: number, err: number): number {
  fputs(Fd.STDERR, prog);
  fputs(Fd.STDERR, cstr(': '));
  fputs(Fd.STDERR, what);
  fputs(Fd.STDERR, cstr(': error '));
  fputd(Fd.STDERR, err);
  fputs(Fd.STDERR, cstr('\n'));
  return 1;
}
