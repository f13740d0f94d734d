// netbench [COUNT] [SIZE] [ADDR]: ttcp-like measurements against the gateway's own services (a
// peer simulated inside the host: deterministic, never real host traffic), or against ADDR (a
// domain on the same bridge running `udpecho 7`). Round trip: COUNT datagrams of 64 bytes to the
// echo port, each waited for. Throughput: COUNT datagrams of SIZE bytes (default 1472, a full
// frame) to the discard port as fast as sendto goes. Times are
// simulated microseconds (cycles / the clock in MHz).
// User program (the TypeScript subset, compiled with --user).

import { cstr, load32, staticBuffer, divu, mulhu } from 'xl32';
import { SockType, SockAddr, SysInfo, Fd, NetLimits } from '../kernel/abi.ts';
import { argc, argv, atoi, puts, putd, fputs, cycles, sysinfo, close } from './lib/ulib.ts';
import { socket, sendto, recvfrom, netFail, parseIp } from './lib/net.ts';

const enum Bench {
  GATEWAY = 0x0a000202,
  ECHO_PORT = 7,
  DISCARD_PORT = 9,
  RTT_BYTES = 64,
}

const buf = staticBuffer(2048);
const from = staticBuffer(SockAddr.BYTES);
const si = staticBuffer(SysInfo.BYTES);

function fail(what: number, err: number): number {
  return netFail(cstr('netbench'), what, err);
}

export function main(): number {
  const count = argc() > 1 ? atoi(argv(1)) : 100;
  const size = argc() > 2 ? atoi(argv(2)) : NetLimits.UDP_MAX;
  const peer = argc() > 3 ? parseIp(argv(3)) : Bench.GATEWAY;
  if (count <= 0 || size <= 0 || size > NetLimits.UDP_MAX || peer === 0) {
    fputs(Fd.STDERR, cstr('usage: netbench [COUNT] [SIZE 1..1472] [A.B.C.D]\n'));
    return 2;
  }
  sysinfo(si);
  const mhz = load32(si + SysInfo.CLOCK_MHZ);
  const fd = socket(SockType.UDP);
  if (fd < 0) return fail(cstr('socket'), fd);
  // round trips (the first one also resolves the peer's address, so it is not counted)
  let k = -1;
  let t0 = 0;
  while (k < count) {
    if (k === 0) t0 = cycles();
    const s = sendto(fd, buf, Bench.RTT_BYTES, peer, Bench.ECHO_PORT);
    if (s < 0) return fail(cstr('sendto'), s);
    const r = recvfrom(fd, buf, 2048, from, 0);
    if (r < 0) return fail(cstr('recvfrom'), r);
    k = k + 1;
  }
  const rttCycles = cycles() - t0;
  puts(cstr('netbench: udp round trip ('));
  putd(Bench.RTT_BYTES);
  puts(cstr(' bytes, '));
  putd(count);
  puts(cstr(' times): '));
  putd(divu(divu(rttCycles, count), mhz));
  puts(cstr(' us\n'));
  // throughput
  t0 = cycles();
  k = 0;
  while (k < count) {
    const s = sendto(fd, buf, size, peer, Bench.DISCARD_PORT);
    if (s < 0) return fail(cstr('sendto'), s);
    k = k + 1;
  }
  const sendCycles = cycles() - t0;
  const us = divu(sendCycles, mhz);
  puts(cstr('netbench: udp send ('));
  putd(count);
  puts(cstr(' x '));
  putd(size);
  puts(cstr(' bytes): '));
  putd(us);
  puts(cstr(' us, '));
  // KB/s = bytes * 1e6 / us / 1000 = bytes * 1000 / us (bytes * 1000 fits 32 bits up to 4 MB)
  const bytes = count * size;
  putd(us === 0 || mulhu(bytes, 1000) !== 0 ? 0 : divu(bytes * 1000, us));
  puts(cstr(' KB/s\n'));
  close(fd);
  return 0;
}
