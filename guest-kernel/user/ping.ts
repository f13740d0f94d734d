// ping ADDRESS [COUNT]: ICMP echo requests (56 bytes of data) once a second, each reply with its
// round-trip time in simulated microseconds, then a summary. Exit 0 when every request was
// answered.
// User program (the TypeScript subset, compiled with --user).

import { cstr, load32, store8, staticBuffer, divu } from 'xl32';
import { SockType, SockAddr, SysInfo, Err, Fd } from '../kernel/abi.ts';
import { argc, argv, atoi, puts, putd, fputs, cycles, sysinfo, sleep, close } from './lib/ulib.ts';
import { socket, sendto, recvfrom, parseIp, putIp } from './lib/net.ts';

const enum Ping {
  DATA = 56,
  TIMEOUT_TICKS = 1000,
  INTERVAL_TICKS = 1000,
}

const out = staticBuffer(Ping.DATA);
const buf = staticBuffer(2048);
const from = staticBuffer(SockAddr.BYTES);
const si = staticBuffer(SysInfo.BYTES);

export function main(): number {
  const ip = argc() > 1 ? parseIp(argv(1)) : 0;
  if (ip === 0) {
    fputs(Fd.STDERR, cstr('usage: ping A.B.C.D [COUNT]\n'));
    return 2;
  }
  const count = argc() > 2 ? atoi(argv(2)) : 4;
  sysinfo(si);
  const mhz = load32(si + SysInfo.CLOCK_MHZ);
  const fd = socket(SockType.ICMP);
  if (fd < 0) {
    fputs(Fd.STDERR, cstr('ping: no network\n'));
    return 1;
  }
  let k = 0;
  while (k < Ping.DATA) {
    store8(out + k, k);
    k = k + 1;
  }
  puts(cstr('PING '));
  putIp(ip);
  puts(cstr(': 56 data bytes\n'));
  let got = 0;
  let seq = 1;
  while (seq <= count) {
    const t0 = cycles();
    const s = sendto(fd, out, Ping.DATA, ip, seq);
    if (s < 0) {
      puts(cstr('ping: sendto: error '));
      putd(s);
      puts(cstr('\n'));
    } else {
      for (;;) {
        const n = recvfrom(fd, buf, 2048, from, Ping.TIMEOUT_TICKS);
        if (n === Err.EAGAIN) {
          puts(cstr('no reply for icmp_seq='));
          putd(seq);
          puts(cstr('\n'));
          break;
        }
        if (n < 0) break;
        if (load32(from + SockAddr.PORT) !== seq) continue; // a late reply to an earlier request
        const us = divu(cycles() - t0, mhz);
        putd(n + 8);
        puts(cstr(' bytes from '));
        putIp(load32(from + SockAddr.IP));
        puts(cstr(': icmp_seq='));
        putd(seq);
        puts(cstr(' time='));
        putd(us);
        puts(cstr(' us\n'));
        got = got + 1;
        break;
      }
    }
    if (seq < count) sleep(Ping.INTERVAL_TICKS);
    seq = seq + 1;
  }
  putd(count);
  puts(cstr(' packets transmitted, '));
  putd(got);
  puts(cstr(' received\n'));
  close(fd);
  return got === count ? 0 : 1;
}
