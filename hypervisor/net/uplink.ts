// The uplink to the host: one UDP socket per host-forward rule, bound on the loopback address
// only, joined to a guest NIC through the virtual gateway. Host code: the only place where guest
// traffic meets real sockets.

import { createSocket, type Socket } from 'node:dgram';
import type { DeviceContext } from '../../machine/types.ts';
import { deferred } from '../../machine/deferred.ts';
import { VirtualGateway, type HostForward } from './gateway.ts';
import { ipString } from './frames.ts';

/**
 * Simulated cycles between the moment the host side produces a frame for the guest and the
 * moment it reaches the NIC: the gateway's answer to a guest frame comes this long after the
 * transmit, and a host datagram this long after the slice boundary at which it was picked up.
 */
export const GATEWAY_LATENCY_CYCLES = 2000;

/** Where frames for a guest go in: the emulated NIC, or a pv domain's network back end. */
export interface NicPort {
  /** take a frame from the wire: false when it is dropped (and counted there) */
  receive(frame: Uint8Array): boolean;
}

/** What the uplink needs of a guest's platform: its NIC (or back end) and its event queue. */
export type NicPlatform = Pick<DeviceContext, 'now' | 'schedule'> & { nic: NicPort };

/*
 * How wall-clock traffic meets simulated time: socket messages arrive on Node's event loop, which
 * runs only between the run loop's slices (cli/session.ts `drive` with `paced`). A datagram read
 * there enters the guest GATEWAY_LATENCY_CYCLES after the simulated cycle the slice ended at.
 * Everything after that point is deterministic: given the cycles at which host datagrams entered,
 * a run repeats exactly. Which cycle a datagram meets depends on host timing, so tests of the host
 * path assert what arrives, never when.
 */
export class HostUplink {
  readonly gateway: VirtualGateway;
  private platform: NicPlatform | undefined;
  /** a socket per rule by index (null: the rule was removed, or is replayed without one) */
  private readonly sockets: (Socket | null)[] = [];
  /** the rules by index; a removed rule's slot is null (the others keep their indices) */
  readonly rules: (HostForward | null)[];
  /** frames for the guest produced before attach() (none in practice), dropped */
  droppedBeforeAttach = 0;
  /** datagrams handed to a socket whose send has not completed */
  private sending = 0;
  private onDrained: (() => void) | null = null;

  private constructor(rules: readonly HostForward[], guestMac: Uint8Array) {
    this.rules = [...rules];
    this.gateway = new VirtualGateway(this.rules, guestMac, {
      toGuest: (frame) => this.toGuest(frame),
      toHost: (rule, payload, address, port) => this.send(rule, payload, address, port),
    });
  }

  /** Bind one loopback socket per rule; rejects with a one-line message if a port is taken. */
  static async open(rules: readonly HostForward[], guestMac: Uint8Array): Promise<HostUplink> {
    const up = new HostUplink(rules, guestMac);
    try {
      for (const [k, rule] of rules.entries()) {
        const s = createSocket('udp4');
        up.sockets.push(s);
        await new Promise<void>((resolve, reject) => {
          s.once('error', (e) => reject(new Error(`--net hostfwd: cannot bind udp ${rule.hostAddress}:${rule.hostPort}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
          s.bind(rule.hostPort, rule.hostAddress, () => resolve());
        });
        s.on('error', () => {}); // a send to a vanished client: nothing to do
        s.on('message', (msg, rinfo) => up.fromHost(k, new Uint8Array(msg), rinfo.address, rinfo.port));
      }
    } catch (e) {
      up.closeNow();
      throw e;
    }
    return up;
  }

  /**
   * Bind one loopback socket per rule without waiting (for a caller that cannot wait: the
   * daemon's host boots a domain synchronously). Datagrams are taken as soon as a socket is
   * bound; a socket that cannot bind (the port is taken) calls `onError` once with a one-line
   * message and forwards nothing.
   */
  static openNow(rules: readonly HostForward[], guestMac: Uint8Array, onError: (message: string) => void): HostUplink {
    const up = new HostUplink([], guestMac);
    up.addForwards(rules, onError);
    return up;
  }

  /**
   * More forwards through this gateway (a domain joining a bridge whose gateway exists), bound
   * as openNow binds them; returns their rule indices, for removeForwards.
   */
  addForwards(rules: readonly HostForward[], onError: (message: string) => void): number[] {
    const added: number[] = [];
    for (const rule of rules) {
      const k = this.rules.length;
      this.rules.push(rule);
      added.push(k);
      if (this.socketless) {
        this.sockets[k] = null;
        continue;
      }
      const s = createSocket('udp4');
      this.sockets[k] = s;
      let bound = false;
      s.on('error', (e) => {
        if (!bound) onError(`net hostfwd: cannot bind udp ${rule.hostAddress}:${rule.hostPort}: ${(e as NodeJS.ErrnoException).code ?? e.message}`);
      });
      s.on('message', (msg, rinfo) => this.fromHost(k, new Uint8Array(msg), rinfo.address, rinfo.port));
      s.bind(rule.hostPort, rule.hostAddress, () => {
        bound = true;
      });
    }
    return added;
  }

  /** Remove forwards (their domain is gone): their sockets close, datagrams for them go nowhere. */
  removeForwards(indices: readonly number[]): void {
    for (const k of indices) {
      const s = this.sockets[k];
      this.rules[k] = null;
      this.sockets[k] = null;
      try {
        s?.close();
      } catch {
        // already closed
      }
    }
  }

  /** Forwards still in place (not removed). */
  get forwardCount(): number {
    return this.rules.filter((r) => r !== null).length;
  }

  /**
   * The gateway alone, with no host socket: the guest reaches only the peer simulated inside the
   * host (ARP, ping, the echo and discard ports). Nothing here depends on host timing, so a run
   * with it is deterministic (what `compare`'s network rows measure against).
   */
  static simulatedPeer(guestMac: Uint8Array): HostUplink {
    return new HostUplink([], guestMac);
  }

  /**
   * The rules' gateway with no host socket: a replay (`run --replay`) hands it the recorded
   * datagrams through fromHost; what the guest sends back to the host goes nowhere.
   */
  static detached(rules: readonly HostForward[], guestMac: Uint8Array): HostUplink {
    const up = new HostUplink(rules, guestMac);
    up.socketless = true;
    return up;
  }

  /** detached: forwards added later (addForwards) bind no host socket either */
  private socketless = false;

  /** Called with each host datagram just before it enters the gateway (`run --record` logs it). */
  onHostDatagram: ((rule: number, payload: Uint8Array, address: string, port: number) => void) | null = null;

  /** A datagram from a host client to forward rule `rule` enters the gateway now (between slices). */
  fromHost(rule: number, payload: Uint8Array, address: string, port: number): void {
    this.onHostDatagram?.(rule, payload, address, port);
    this.gateway.fromHost(rule, payload, address, port);
  }

  /** The NIC's transmit callback (give it to the machine or domain before attach). */
  readonly onTransmit = (frame: Uint8Array): void => {
    if (!this.silent) this.gateway.fromGuest(frame);
  };

  /** frames from the guest go nowhere (frameSink) */
  private silent = false;

  /**
   * A NIC's end with no gateway and no socket (`run --replay` of a daemon domain on a bridge): what
   * the guest sends goes nowhere, and the recorded frames enter through deliverNow.
   */
  static frameSink(guestMac: Uint8Array): HostUplink {
    const up = new HostUplink([], guestMac);
    up.silent = true;
    return up;
  }

  /** Hand a frame to the guest's NIC now (a replayed frame from the bridge, at its logged cycle). */
  deliverNow(frame: Uint8Array): void {
    if (this.platform) this.platform.nic.receive(frame);
    else this.droppedBeforeAttach++;
  }

  /** Join the guest's NIC (once it exists). */
  attach(platform: NicPlatform): void {
    this.platform = platform;
  }

  /**
   * Each rule (of `indices`, default all in place) as `udp 127.0.0.1:HOSTPORT -> GUESTIP:GUESTPORT`,
   * with the port actually bound (`unbound` for a socket not bound yet, or that could not bind).
   */
  describeForwards(indices?: readonly number[]): string[] {
    const ks = indices ?? this.rules.flatMap((r, k) => (r ? [k] : []));
    return ks.flatMap((k) => {
      const rule = this.rules[k];
      if (!rule) return [];
      let port = 'unbound';
      try {
        port = String(this.sockets[k]!.address().port);
      } catch {
        // not bound (yet)
      }
      return [`udp ${rule.hostAddress}:${port} -> ${ipString(rule.guestIp)}:${rule.guestPort}`];
    });
  }

  /** The ports actually bound (a rule with host port 0 gets one from the system). */
  boundPorts(): number[] {
    return this.sockets.map((s) => s!.address().port);
  }

  /**
   * Close the sockets once the replies already sent have left (a guest that answers and powers
   * off at once must not lose its last answer), waiting at most a second.
   */
  async close(): Promise<void> {
    if (this.sending > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.closeNow();
  }

  private send(rule: number, payload: Uint8Array, address: string, port: number): void {
    const s = this.sockets[rule];
    if (!s) return;
    this.sending++;
    s.send(payload, port, address, () => {
      this.sending--;
      if (this.sending === 0 && this.onDrained) this.onDrained();
    });
  }

  private closeNow(): void {
    for (const s of this.sockets) {
      try {
        s?.close();
      } catch {
        // already closed
      }
    }
    this.sockets.length = 0;
  }

  private toGuest(frame: Uint8Array): void {
    const p = this.platform;
    if (!p) {
      this.droppedBeforeAttach++;
      return;
    }
    p.schedule(p.now() + GATEWAY_LATENCY_CYCLES, deferred(p.nic, 'receive', frame));
  }
}
