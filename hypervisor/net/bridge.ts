// A virtual switch in the hypervisor: it joins the network interfaces of domains on one host (pv
// netfront/netback pairs, or emulated NICs) and optionally a host uplink (the virtual gateway and
// its forwards), as a learning Ethernet bridge: it learns each source address's port, sends a
// frame for a known address to that port only, and floods broadcasts and unknown addresses to
// every other port. A frame reaches its destination BRIDGE_LATENCY_CYCLES after it was sent, on
// the destination's event queue; domains of one hypervisor share one clock, so traffic between
// them is deterministic (a bridge across hypervisors would meet each one's clock as it stands).
// Host code; never touches guest memory (the ports' back ends do).

import type { HostUplink, NicPlatform } from './uplink.ts';

/** Simulated cycles from a frame leaving one port to its delivery at another (a software switch's forwarding). */
export const BRIDGE_LATENCY_CYCLES = 1000;

/** One port of the switch: where frames for it go (null until its domain's network exists). */
interface Port {
  deliver: ((frame: Uint8Array) => void) | null;
}

/** A domain's side of its port: give onTransmit to its configuration, attach its network once it exists. */
export interface SwitchPort {
  readonly onTransmit: (frame: Uint8Array) => void;
  attach(nic: NicPlatform): void;
  /** the domain is gone: frames for it are dropped from now on */
  detach(): void;
}

const macKey = (f: Uint8Array, at: number): number => f[at]! * 2 ** 40 + f[at + 1]! * 2 ** 32 + (((f[at + 2]! << 24) | (f[at + 3]! << 16) | (f[at + 4]! << 8) | f[at + 5]!) >>> 0);

export class VirtualSwitch {
  private readonly ports: Port[] = [];
  /** station address -> the port it was last seen on */
  private readonly learned = new Map<number, number>();
  readonly counters = { forwarded: 0, flooded: 0, dropped: 0 };

  /** A new port for a domain. */
  port(): SwitchPort {
    const k = this.ports.length;
    const p: Port = { deliver: null };
    this.ports.push(p);
    return {
      onTransmit: (frame) => this.fromPort(k, frame),
      attach: (nic) => {
        p.deliver = (frame) => void nic.schedule(nic.now() + BRIDGE_LATENCY_CYCLES, () => void nic.nic.receive(frame));
      },
      detach: () => {
        p.deliver = null;
      },
    };
  }

  /** the host uplink joined to the switch, if any (one at most) */
  uplink: HostUplink | null = null;

  /** Join a host uplink (the virtual gateway, its forwards) as one more port; it must not be attached elsewhere. */
  addUplink(uplink: HostUplink, clock: Pick<NicPlatform, 'now' | 'schedule'>): void {
    if (this.uplink) throw new Error('the bridge already has an uplink to the host');
    this.uplink = uplink;
    const k = this.ports.length;
    this.uplinkPort = { deliver: (frame) => uplink.onTransmit(frame) };
    this.ports.push(this.uplinkPort);
    uplink.attach({ now: clock.now, schedule: clock.schedule, nic: { receive: (frame) => (this.fromPort(k, frame), true) } });
  }

  /** The uplink's domain is gone: the switch drops frames for the host until another joins. */
  removeUplink(uplink: HostUplink): void {
    if (this.uplink !== uplink || !this.uplinkPort) return;
    this.uplinkPort.deliver = null;
    this.uplinkPort = null;
    this.uplink = null;
  }

  private uplinkPort: Port | null = null;

  private fromPort(k: number, frame: Uint8Array): void {
    if (frame.length < 14) {
      this.counters.dropped++;
      return;
    }
    // a source address is a station's, never a group's: learn it
    if ((frame[6]! & 1) === 0) this.learned.set(macKey(frame, 6), k);
    const group = (frame[0]! & 1) !== 0;
    const to = group ? undefined : this.learned.get(macKey(frame, 0));
    if (to !== undefined) {
      if (to === k) {
        this.counters.dropped++;
        return;
      }
      this.counters.forwarded++;
      this.send(to, frame);
      return;
    }
    this.counters.flooded++;
    for (let j = 0; j < this.ports.length; j++) if (j !== k) this.send(j, frame);
  }

  private send(j: number, frame: Uint8Array): void {
    const d = this.ports[j]!.deliver;
    if (d) d(frame.slice());
    else this.counters.dropped++;
  }
}
