// udpecho PORT [COUNT]: send every UDP datagram that arrives on PORT back to its sender, byte for
// byte; with COUNT, stop after that many and exit 0.
// User program (the TypeScript subset, compiled with --user).

import { cstr, load32, staticBuffer } from 'xl32';
import { SockType, SockAddr } from '../kernel/abi.ts';
import { argc, argv, atoi, puts, putd, fputs, close } from './lib/ulib.ts';
import { socket, bind, sendto, recvfrom, netFail } from './lib/net.ts';
import { Fd } from '../kernel/abi.ts';

const buf = staticBuffer(2048);
const from = staticBuffer(SockAddr.BYTES);

function fail(what: number, err: number): number {
  return netFail(cstr('udpecho'), what, err);
}

export function main(): number {
  if (argc() < 2) {
    fputs(Fd.STDERR, cstr('usage: udpecho PORT [COUNT]\n'));
    return 2;
  }
  const port = atoi(argv(1));
  const count = argc() > 2 ? atoi(argv(2)) : 0;
  const fd = socket(SockType.UDP);
  if (fd < 0) return fail(cstr('socket'), fd);
  const b = bind(fd, port);
  if (b < 0) return fail(cstr('bind'), b);
  puts(cstr('udpecho: listening on udp port '));
  putd(port);
  puts(cstr('\n'));
  let echoed = 0;
  while (count === 0 || echoed < count) {
    const n = recvfrom(fd, buf, 2048, from, 0);
    if (n < 0) return fail(cstr('recvfrom'), n);
    const r = sendto(fd, buf, n, load32(from + SockAddr.IP), load32(from + SockAddr.PORT));
    if (r < 0) return fail(cstr('sendto'), r);
    echoed = echoed + 1;
  }
  puts(cstr('udpecho: echoed '));
  putd(echoed);
  puts(cstr(' datagrams\n'));
  close(fd);
  return 0;
}
