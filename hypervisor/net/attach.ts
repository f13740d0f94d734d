// Where a domain's network interface meets the host side (an uplink or a bridge): its emulated
// NIC (native is the machine's own; trap, bt and hvm go through the device model), or a pv
// domain's network back end, with the event queue that frames for the guest are scheduled on.

import type { Domain } from '../core/domain.ts';
import { PvDomain } from '../pv/state.ts';
import type { NicPlatform } from './uplink.ts';

/** The domain's network attachment, or null when it has none (a pv domain built without a network). */
export function domainNicPlatform(domain: Domain): NicPlatform | null {
  const dev = domain.devices;
  if (dev) return { nic: dev.nic, now: () => dev.now(), schedule: (at, fn) => dev.schedule(at, fn) };
  const pv = domain.modeState;
  if (pv instanceof PvDomain && pv.net) {
    const host = pv.host;
    return {
      nic: pv.net,
      now: () => host.cpu.cycles,
      schedule: (at, fn) => {
        const h = host.platform.events.schedule(at, fn);
        host.cpu.shortenDeadline(at);
        return h;
      },
    };
  }
  return null;
}
