// The network specification of `run --net` and of a domain definition's `net` field: QEMU's
// user-mode syntax, a comma-separated list of `user` (the gateway alone) and
// `hostfwd=udp:127.0.0.1:HOSTPORT-:GUESTPORT` items. Loopback and udp only. Host code, pure.

import type { HostForward } from './gateway.ts';

const HOSTFWD = /^hostfwd=([a-z]*):([^:]*):([^-]*)-([^:]*):(.*)$/;
const GUEST_ADDRESS = '10.0.2.15';

function port(text: string, what: string, min: number): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < min || Number(text) > 65535) {
    throw new Error(`${what} port "${text}" must be a number from ${min} to 65535`);
  }
  return Number(text);
}

/** One `hostfwd=udp:127.0.0.1:HOSTPORT-:GUESTPORT` item; throws with the reason (no prefix). */
function hostfwd(item: string): HostForward {
  const m = HOSTFWD.exec(item);
  if (!m) throw new Error(`"${item}" is not hostfwd=udp:127.0.0.1:HOSTPORT-:GUESTPORT`);
  const [, proto, hostAddr, hostPort, guestAddr, guestPort] = m as unknown as [string, string, string, string, string, string];
  if (proto !== 'udp') throw new Error(`only udp is forwarded, not "${proto}"`);
  if (hostAddr !== '' && hostAddr !== '127.0.0.1') throw new Error(`a forward listens on the loopback address 127.0.0.1 only, not "${hostAddr}"`);
  if (guestAddr !== '' && guestAddr !== GUEST_ADDRESS) throw new Error(`the guest's address is ${GUEST_ADDRESS}, not "${guestAddr}"`);
  return { protocol: 'udp', hostAddress: '127.0.0.1', hostPort: port(hostPort, 'host', 0), guestPort: port(guestPort, 'guest', 1) };
}

/**
 * The forward rules of network specifications (each a comma-separated list of `user` and hostfwd
 * items); host port 0 takes any free port. Throws an Error whose message is one line, without
 * the option's or field's name (the caller adds it).
 */
export function parseNetSpecs(values: readonly string[]): HostForward[] {
  const rules: HostForward[] = [];
  for (const item of values.flatMap((v) => v.split(',')).map((v) => v.trim())) {
    if (item === 'user') continue;
    const r = hostfwd(item);
    if (r.hostPort !== 0 && rules.some((o) => o.hostPort === r.hostPort)) throw new Error(`host port ${r.hostPort} is forwarded twice`);
    rules.push(r);
  }
  return rules;
}
