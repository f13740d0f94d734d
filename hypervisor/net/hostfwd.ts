// The network specification of `run --net` and of a domain definition's `net` field: QEMU's
// user-mode syntax, a comma-separated list of `user` (the gateway alone) and
// `hostfwd=udp:127.0.0.1:HOSTPORT-[GUESTADDR]:GUESTPORT` items. Loopback and udp only; the
// guest address, when given, is any host of 10.0.2.0/24 but the gateway's (a domain on a bridge
// with others names its own; left out it is the guest's: 10.0.2.15, or the domain's `ip`).
// Host code, pure.

import { GATEWAY_IP, GUEST_IP, NETMASK, type HostForward } from './gateway.ts';
import { ipString, ipv4 } from './frames.ts';

const HOSTFWD = /^hostfwd=([a-z]*):([^:]*):([^-]*)-([^:]*):(.*)$/;
const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** A guest address of a forward: a host of 10.0.2.0/24, not the network, broadcast or gateway address. */
function guestAddress(text: string): number {
  const m = DOTTED.exec(text);
  const ip = m && m.slice(1).every((b) => Number(b) <= 255) ? ipv4(text) : null;
  const host = ip === null ? -1 : ip & ~NETMASK;
  if (ip === null || ((ip & NETMASK) >>> 0) !== ((GATEWAY_IP & NETMASK) >>> 0) || host === 0 || host === 255 || ip === GATEWAY_IP) {
    throw new Error(`the guest address "${text}" must be a guest's on 10.0.2.0/24 (not .0, .255 or the gateway ${ipString(GATEWAY_IP)})`);
  }
  return ip;
}

function port(text: string, what: string, min: number): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < min || Number(text) > 65535) {
    throw new Error(`${what} port "${text}" must be a number from ${min} to 65535`);
  }
  return Number(text);
}

/** One `hostfwd=udp:127.0.0.1:HOSTPORT-[GUESTADDR]:GUESTPORT` item; throws with the reason (no prefix). */
function hostfwd(item: string, defaultGuest: number): HostForward {
  const m = HOSTFWD.exec(item);
  if (!m) throw new Error(`"${item}" is not hostfwd=udp:127.0.0.1:HOSTPORT-[GUESTADDR]:GUESTPORT`);
  const [, proto, hostAddr, hostPort, guestAddr, guestPort] = m as unknown as [string, string, string, string, string, string];
  if (proto !== 'udp') throw new Error(`only udp is forwarded, not "${proto}"`);
  if (hostAddr !== '' && hostAddr !== '127.0.0.1') throw new Error(`a forward listens on the loopback address 127.0.0.1 only, not "${hostAddr}"`);
  const guestIp = guestAddr === '' ? defaultGuest : guestAddress(guestAddr);
  return { protocol: 'udp', hostAddress: '127.0.0.1', hostPort: port(hostPort, 'host', 0), guestIp, guestPort: port(guestPort, 'guest', 1) };
}

/**
 * The forward rules of network specifications (each a comma-separated list of `user` and hostfwd
 * items); host port 0 takes any free port; a forward that names no guest address goes to
 * `defaultGuest` (the guest's own address). Throws an Error whose message is one line, without
 * the option's or field's name (the caller adds it).
 */
export function parseNetSpecs(values: readonly string[], defaultGuest: number = GUEST_IP): HostForward[] {
  const rules: HostForward[] = [];
  for (const item of values.flatMap((v) => v.split(',')).map((v) => v.trim())) {
    if (item === 'user') continue;
    const r = hostfwd(item, defaultGuest);
    if (r.hostPort !== 0 && rules.some((o) => o.hostPort === r.hostPort)) throw new Error(`host port ${r.hostPort} is forwarded twice`);
    rules.push(r);
  }
  return rules;
}
