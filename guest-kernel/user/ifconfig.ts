// ifconfig: the network interface's addresses and counters.
// User program (the TypeScript subset, compiled with --user).

import { cstr, load32, staticBuffer } from 'xl32';
import { NetInfo } from '../kernel/abi.ts';
import { puts, putd } from './lib/ulib.ts';
import { netinfo, putIp, putMac } from './lib/net.ts';

const info = staticBuffer(NetInfo.BYTES);

function counter(name: number, off: number): void {
  puts(name);
  putd(load32(info + off));
}

export function main(): number {
  if (netinfo(info) < 0 || load32(info + NetInfo.UP) === 0) {
    puts(cstr('eth0: no network device\n'));
    return 1;
  }
  puts(cstr('eth0: inet '));
  putIp(load32(info + NetInfo.IP));
  puts(cstr(' netmask '));
  putIp(load32(info + NetInfo.NETMASK));
  puts(cstr(' gateway '));
  putIp(load32(info + NetInfo.GATEWAY));
  puts(cstr('\n      ether '));
  putMac(load32(info + NetInfo.MAC_HI), load32(info + NetInfo.MAC_LO));
  counter(cstr('\n      tx frames '), NetInfo.TX_FRAMES);
  counter(cstr(', rx frames '), NetInfo.RX_FRAMES);
  counter(cstr(', rx dropped '), NetInfo.RX_DROPPED);
  counter(cstr(', socket queue drops '), NetInfo.SOCK_DROPPED);
  counter(cstr('\n      device: rx no buffer '), NetInfo.DEV_RX_NO_BUFFER);
  counter(cstr(', rx malformed '), NetInfo.DEV_RX_MALFORMED);
  puts(cstr('\n'));
  return 0;
}
