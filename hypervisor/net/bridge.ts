// A virtual switch in the hypervisor: it joins the network interfaces of domains (pv
// netfront/netback pairs, or emulated NICs) and optionally a host uplink (the virtual gateway and
// its forwards), as a learning Ethernet bridge: it learns each source address's port, sends a
// frame for a known address to that port only, and floods broadcasts and unknown addresses to
// every other port. Host code; never touches guest memory (the ports' back ends do).
//
// Time. Every port belongs to a machine (a Hypervisor, or a bare Machine), and each machine has
// its own simulated clock. The switch keeps one *bridge time* for all of them: a machine's bridge
// time is its clock plus an offset fixed when it joins (the first machine joins at offset 0; a
// later one at the least bridge time of the machines already there, so it starts neither ahead
// of nor behind the slowest). A frame is stamped with its sender's bridge time and reaches the
// receiver BRIDGE_LATENCY_CYCLES of bridge time later, converted to the receiver's clock, on its
// event queue. Domains of one hypervisor share one clock (offset 0 for all): a frame arrives
// exactly BRIDGE_LATENCY_CYCLES after it left, whatever runs when.
//
// Across machines that holds only if no receiver has already run past the arrival time when the
// frame is sent. The machines are run in lockstep for that (conservative synchronisation with
// the latency as lookahead): horizon(machine) is the bridge time a machine may run to, the least
// bridge time of the other live machines plus BRIDGE_LATENCY_CYCLES (less BRIDGE_SLACK_CYCLES, kept
// for an overshoot); any frame it can still receive was sent at or after that least time, so it
// arrives at or after the horizon. A machine run to its horizon never misses an arrival; runLockstep (below) and the daemon's host
// (daemon/host.ts) run them so. Then traffic between machines is as deterministic as traffic
// inside one: given the offsets, every arrival cycle is a function of the guests' inputs alone,
// not of how the host interleaved the machines. The limit: a machine stops at the first
// instruction or exit boundary at or past its horizon, so it may overshoot by the cost of the last
// one (a VM exit, a hypercall's work). A frame that finds its receiver past its arrival cycle
// (so overshot, or resumed after a pause) is handled at the receiver's next stop, in arrival order
// with the events still pending there - as one machine handles an event that falls inside a long
// instruction, at its end - and counted as `late`. Where the receiver's own events fell between
// the arrival and that stop, they ran first: then, and only then, the interleaving shows; a run
// with late = 0 is exactly deterministic.

import { deferred, registerDeferred } from '../../machine/deferred.ts';
import type { HostUplink, NicPlatform } from './uplink.ts';

/** Simulated cycles from a frame leaving one port to its delivery at another (a software switch's forwarding). */
export const BRIDGE_LATENCY_CYCLES = 1000;

/**
 * Of the latency, what the horizon keeps in hand for a machine's overshoot (it stops at the first
 * boundary past its horizon: the last instruction's or exit's cost beyond it): a machine is run
 * to the others' least bridge time + BRIDGE_LATENCY_CYCLES - BRIDGE_SLACK_CYCLES.
 */
export const BRIDGE_SLACK_CYCLES = 500;

/**
 * A machine's clock as the switch sees it: its cycle count and its event queue; and, optionally,
 * `idleUntil`: while every CPU of the machine is blocked in HLT with nothing pending, the cycle of
 * its next event (a timer, or a frame in flight to it: both are on its queue), before which it
 * cannot send unless a frame wakes it; otherwise its present cycle.
 */
export type BridgeClock = Pick<NicPlatform, 'now' | 'schedule'> & { idleUntil?: () => number };

/**
 * An empty event (deferred(null, BRIDGE_IDLE_EVENT)): what a host puts at the end of a bridged
 * machine's run so that an idle guest idles up to it. A deferred call, not a closure, so that a
 * bridged machine's event queue can be saved (daemon/host.ts save, migrate).
 */
export const BRIDGE_IDLE_EVENT = 'net.bridgeIdle';
registerDeferred(BRIDGE_IDLE_EVENT, () => {});

/**
 * Where the frames in flight to one attachment of a port land: the switch schedules
 * `deferred(inbox, 'arrive', frame)` on the receiver's event queue, so a frame on its way is data
 * in that queue (a saved machine keeps it). A save names the inbox as an *external*
 * (hypervisor/save/graph.ts) and a restore gives the restoring port's own: the frames in flight go
 * on to the domain wherever it was restored. A frame for an attachment that is gone is dropped.
 */
export class BridgeInbox {
  /** false once the port is detached (its domain gone): frames still in flight are dropped */
  live = true;
  /** called with each frame delivered (a daemon domain's recording logs it) */
  tap: ((frame: Uint8Array) => void) | null = null;
  constructor(
    private readonly deliver: (frame: Uint8Array) => boolean,
    private readonly counters: SwitchCounters,
    /** the clock of the machine the attachment is on (relay schedules on it) */
    private readonly clock: Pick<BridgeClock, 'now' | 'schedule'> | null = null,
  ) {}

  arrive(frame: Uint8Array): void {
    if (!this.live) {
      this.counters.dropped++;
      return;
    }
    this.tap?.(frame);
    this.deliver(frame);
  }

  /**
   * A frame the bridge's gateway sent this attachment's domain from the same machine, taken with
   * the domain while it was still in the gateway's latency (daemon/host.ts: a pv domain saved or
   * migrated off the shared machine that carries its bridge's gateway): it enters the switch now
   * and arrives BRIDGE_LATENCY_CYCLES later, as a frame from an uplink on the receiver's own
   * machine does (the same clock: no offset between them).
   */
  relay(frame: Uint8Array): void {
    if (!this.live || this.clock === null) {
      this.counters.dropped++;
      return;
    }
    this.counters.forwarded++;
    this.clock.schedule(this.clock.now() + BRIDGE_LATENCY_CYCLES, deferred(this, 'arrive', frame));
  }
}

/**
 * The uplink's way into the switch: the gateway's frames are scheduled on its home machine's queue
 * as `deferred(inbox, 'receive', frame)` (hypervisor/net/uplink.ts) and enter the switch when they
 * come due. Named as an external by a save of the home machine, like BridgeInbox.
 */
export class UplinkInbox {
  constructor(private readonly enter: (frame: Uint8Array) => void) {}

  receive(frame: Uint8Array): boolean {
    this.enter(frame);
    return true;
  }
}

/** A machine on the switch: its clock, the offset from its clock to bridge time, its ports. */
interface Member {
  clock: BridgeClock;
  offset: number;
  /** attached ports of this machine (it leaves the switch when none is left) */
  ports: number;
  /** paused by its host: it runs no more, so it does not hold the others back */
  held: boolean;
}

/** One port of the switch: where frames for it go (null until its domain's network exists). */
interface Port {
  deliver: ((frame: Uint8Array) => boolean) | null;
  /** the inbox of its present attachment (null: not attached) */
  inbox: BridgeInbox | null;
  /** the machine the port's domain runs on (null until attached) */
  member: Member | null;
}

/** A domain's side of its port: give onTransmit to its configuration, attach its network once it exists. */
export interface SwitchPort {
  readonly onTransmit: (frame: Uint8Array) => void;
  /**
   * Attach the domain's network. `machine` names the machine it runs on (any object, the same
   * one for every domain of that machine: a Hypervisor or a bare Machine); default: the platform
   * itself, a machine of its own.
   */
  attach(nic: NicPlatform & Pick<BridgeClock, 'idleUntil'>, machine?: object): void;
  /** the domain is gone: frames for it are dropped from now on */
  detach(): void;
  /** the inbox of the present attachment (null before attach and after detach): a save's external */
  readonly inbox: BridgeInbox | null;
  /**
   * The domain's station address is here now (a restored or migrated domain, on a new port): the
   * switch learns it on this port at once, as a real switch learns it from the gratuitous ARP a
   * moved Xen guest sends - but without putting a frame on the wire (the other guests' ARP caches
   * map its IPv4 address to the same station address, which did not change).
   */
  announce(mac: Uint8Array): void;
}

/** The switch's counters: frames sent to one learned port, flooded, dropped, and delivered late. */
export interface SwitchCounters {
  forwarded: number;
  flooded: number;
  dropped: number;
  /** frames that found their receiver already past the arrival cycle (see the header) */
  late: number;
}

const macKey = (f: Uint8Array, at: number): number => f[at]! * 2 ** 40 + f[at + 1]! * 2 ** 32 + (((f[at + 2]! << 24) | (f[at + 3]! << 16) | (f[at + 4]! << 8) | f[at + 5]!) >>> 0);

export class VirtualSwitch {
  /**
   * idleSkip (default true): a machine blocked in HLT holds the others back only to its next
   * event, not to its present cycle (see earliestSend); false: the strict lockstep on present
   * cycles (the same arrivals, in more, shorter runs).
   */
  constructor(private readonly opts: { idleSkip?: boolean } = {}) {}

  private readonly ports: Port[] = [];
  /** the machines with attached ports, by the object that names them */
  private readonly members = new Map<object, Member>();
  /** station address -> the port it was last seen on */
  private readonly learned = new Map<number, number>();
  readonly counters: SwitchCounters = { forwarded: 0, flooded: 0, dropped: 0, late: 0 };

  /** A new port for a domain. */
  port(): SwitchPort {
    const k = this.ports.length;
    const p: Port = { deliver: null, inbox: null, member: null };
    this.ports.push(p);
    return {
      onTransmit: (frame) => this.fromPort(k, frame),
      attach: (nic, machine) => {
        if (p.member) throw new Error('the port is attached already');
        p.member = this.join(machine ?? nic, nic);
        p.deliver = (frame) => nic.nic.receive(frame);
        p.inbox = new BridgeInbox(p.deliver, this.counters, nic);
      },
      detach: () => {
        p.deliver = null;
        if (p.inbox) p.inbox.live = false;
        p.inbox = null;
        if (p.member) this.leave(p.member);
        p.member = null;
      },
      get inbox() {
        return p.inbox;
      },
      announce: (mac) => {
        if (mac.length === 6 && (mac[0]! & 1) === 0) this.learned.set(macKey(mac, 0), k);
      },
    };
  }

  /** How many ports were ever made on the switch (a domain's, and one per uplink joined; a detached port still counts). */
  get portsMade(): number {
    return this.ports.length;
  }

  /** The ports attached now (domains' and the uplink's): 0 when nothing is on the switch. */
  get attachedPorts(): number {
    let n = 0;
    for (const p of this.ports) if (p.member !== null) n++;
    return n;
  }

  /** The machines on the switch now. */
  get machines(): number {
    return this.members.size;
  }

  /** the host uplink joined to the switch, if any (one at most) */
  uplink: HostUplink | null = null;
  private uplinkPort: Port | null = null;
  /** the uplink's way in (its gateway's frames in flight on the home machine's queue name it): a save's external */
  uplinkInbox: UplinkInbox | null = null;

  /** the uplink port's inbox (frames from the domains to the gateway, on the home machine's queue): a save's external */
  get uplinkPortInbox(): BridgeInbox | null {
    return this.uplinkPort?.inbox ?? null;
  }

  /**
   * Join a host uplink (the virtual gateway, its forwards) as one more port, on the machine
   * `machine` (default: the clock itself) whose clock carries its frames; it must not be attached elsewhere.
   */
  addUplink(uplink: HostUplink, clock: BridgeClock, machine?: object): void {
    if (this.uplink) throw new Error('the bridge already has an uplink to the host');
    this.uplink = uplink;
    const k = this.ports.length;
    const member = this.join(machine ?? clock, clock);
    this.uplinkPort = { deliver: (frame) => (uplink.onTransmit(frame), true), inbox: null, member };
    this.uplinkPort.inbox = new BridgeInbox(this.uplinkPort.deliver!, this.counters);
    this.ports.push(this.uplinkPort);
    this.uplinkInbox = new UplinkInbox((frame) => this.fromPort(k, frame));
    uplink.attach({ now: clock.now, schedule: clock.schedule, nic: this.uplinkInbox });
  }

  /** The uplink's domain is gone: the switch drops frames for the host until another joins. */
  removeUplink(uplink: HostUplink): void {
    if (this.uplink !== uplink || !this.uplinkPort) return;
    this.uplinkPort.deliver = null;
    if (this.uplinkPort.inbox) this.uplinkPort.inbox.live = false;
    this.uplinkPort.inbox = null;
    this.uplinkInbox = null;
    this.forget(this.ports.indexOf(this.uplinkPort));
    if (this.uplinkPort.member) this.leave(this.uplinkPort.member);
    this.uplinkPort.member = null;
    this.uplinkPort = null;
    this.uplink = null;
  }

  /** A port is gone: the addresses learned on it are unknown again (flooded until seen elsewhere). */
  private forget(k: number): void {
    for (const [mac, at] of this.learned) if (at === k) this.learned.delete(mac);
  }

  // ------------------------------------------------------------------ time

  private join(key: object, clock: BridgeClock): Member {
    let m = this.members.get(key);
    if (!m) {
      const least = this.leastTime(null);
      m = { clock, offset: least === Infinity ? 0 : least - clock.now(), ports: 0, held: false };
      this.members.set(key, m);
    }
    m.ports++;
    return m;
  }

  private leave(m: Member): void {
    if (--m.ports > 0) return;
    for (const [key, x] of this.members) if (x === m) this.members.delete(key);
  }

  /** The least bridge time of the live machines other than `but` (Infinity: none). */
  private leastTime(but: Member | null): number {
    let least = Infinity;
    for (const m of this.members.values()) if (m !== but && !m.held) least = Math.min(least, m.clock.now() + m.offset);
    return least;
  }

  /**
   * The least bridge time at which a live machine other than `but` could still send a frame.
   * Each machine's base is its bridge time, or, blocked in HLT (idleUntil), its next event's: it
   * cannot send before that unless a frame wakes it, and every frame was sent at or after the
   * least base of the others, so arrives no earlier than that plus the latency. So a blocked
   * machine k sends no earlier than min(base k, least base of the others + latency) - the others
   * including `but`, whose frames may wake k - nor before its present time; a running one from
   * its present time. Without idle skipping (or idleUntil) every base is the machine's present
   * time, and this is the least bridge time of the others, as strict lockstep has it.
   */
  private earliestSend(but: Member): number {
    const skip = this.opts.idleSkip !== false;
    let first = Infinity;
    let second = Infinity;
    let firstAt: Member | null = null;
    const bases: [Member, number, number][] = [];
    for (const m of this.members.values()) {
      if (m.held) continue;
      const now = m.clock.now() + m.offset;
      const base = skip && m.clock.idleUntil ? Math.max(now, m.clock.idleUntil() + m.offset) : now;
      bases.push([m, now, base]);
      if (base < first) {
        second = first;
        first = base;
        firstAt = m;
      } else if (base < second) second = base;
    }
    let least = Infinity;
    for (const [m, now, base] of bases) {
      if (m === but) continue;
      const others = m === firstAt ? second : first;
      // a running machine (base = now) sends from now on; a blocked one from its event, or from
      // the earliest arrival that could wake it; neither before its present time
      least = Math.min(least, base === now ? now : Math.max(now, Math.min(base, others + BRIDGE_LATENCY_CYCLES)));
    }
    return least;
  }

  /** Is this machine on the switch (some port of it attached)? */
  has(machine: object): boolean {
    return this.members.has(machine);
  }

  /** The machine's present bridge time (its clock plus its offset). */
  bridgeTime(machine: object): number {
    const m = this.members.get(machine);
    if (!m) throw new Error('the machine is not on this switch');
    return m.clock.now() + m.offset;
  }

  /**
   * The cycle of `machine`'s own clock up to which it may run without missing a frame: the least
   * bridge time of the other live machines plus the latency, less the slack kept for an overshoot
   * (Infinity when it is alone, or not on the switch).
   */
  horizon(machine: object): number {
    const m = this.members.get(machine);
    if (!m) return Infinity;
    const least = this.earliestSend(m);
    return least === Infinity ? Infinity : least + BRIDGE_LATENCY_CYCLES - BRIDGE_SLACK_CYCLES - m.offset;
  }

  /**
   * The host paused the machine (held) or resumed it: a held machine does not hold the others
   * back; on resuming it joins again at the least bridge time of the others (frames sent to it
   * meanwhile were already due, and arrive late).
   */
  hold(machine: object, held: boolean): void {
    const m = this.members.get(machine);
    if (!m || m.held === held) return;
    m.held = held;
    if (!held) {
      const least = this.leastTime(m);
      if (least !== Infinity) m.offset = least - m.clock.now();
    }
  }

  /**
   * The machine's clock jumped (a restore laid a saved clock over it, or a migration's destination
   * built it): it joins again at the least bridge time of the others, as a machine resuming from
   * a hold does (alone on the switch: its offset stays).
   */
  rejoin(machine: object): void {
    const m = this.members.get(machine);
    if (!m) return;
    const least = this.leastTime(m);
    if (least !== Infinity) m.offset = least - m.clock.now();
  }

  // ------------------------------------------------------------------ frames

  private fromPort(k: number, frame: Uint8Array): void {
    const from = this.ports[k]!.member;
    if (frame.length < 14 || !from) {
      this.counters.dropped++;
      return;
    }
    const stamp = from.clock.now() + from.offset;
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
      this.send(to, frame, stamp);
      return;
    }
    this.counters.flooded++;
    for (let j = 0; j < this.ports.length; j++) if (j !== k) this.send(j, frame, stamp);
  }

  private send(j: number, frame: Uint8Array, stamp: number): void {
    const p = this.ports[j]!;
    const inbox = p.inbox;
    const m = p.member;
    if (!inbox || !m) {
      this.counters.dropped++;
      return;
    }
    const copy = frame.slice();
    // a receiver already past the arrival (it overshot its horizon) takes the frame at its next
    // stop, in arrival order with the events still pending there
    const at = stamp + BRIDGE_LATENCY_CYCLES - m.offset;
    if (at < m.clock.now()) this.counters.late++;
    // the port may be detached before it comes due (its domain gone): the inbox drops it then
    m.clock.schedule(at, deferred(inbox, 'arrive', copy));
  }
}

/** A machine for runLockstep: the object naming it on the switch, its clock, and a way to run it. */
export interface LockstepMachine {
  /** the object its ports were attached with */
  key: object;
  clock: BridgeClock;
  /** run up to `cycles` more cycles; false when it has finished (every domain stopped) */
  run(cycles: number): boolean;
}

/**
 * Run machines joined by a switch until every one has finished or `maxCycles` of bridge time
 * have gone by (from the least bridge time at the start), each to its horizon in turn: the
 * machine with the least bridge time first (the lowest index on a tie). A finished machine's
 * ports are left attached (frames for it are dropped by its stopped domains' back ends); it no
 * longer holds the others back. Before each run the machine gets an empty event at its horizon,
 * so an idle guest idles up to it instead of stopping for want of events. The same machines and
 * inputs give the same run, cycle for cycle. Returns the machines that had not finished.
 */
export function runLockstep(sw: VirtualSwitch, machines: readonly LockstepMachine[], maxCycles: number): LockstepMachine[] {
  const live = new Set(machines);
  const start = Math.min(...machines.map((m) => sw.bridgeTime(m.key)));
  const end = start + maxCycles;
  while (live.size > 0) {
    let next: LockstepMachine | null = null;
    let least = Infinity;
    for (const m of machines) {
      if (!live.has(m)) continue;
      const t = sw.bridgeTime(m.key);
      if (t < least) {
        least = t;
        next = m;
      }
    }
    if (next === null || least >= end) break;
    const now = next.clock.now();
    const limit = Math.min(sw.horizon(next.key), now + (end - least));
    const cycles = Math.max(1, limit - now);
    next.clock.schedule(now + cycles, deferred(null, BRIDGE_IDLE_EVENT));
    if (!next.run(cycles)) {
      live.delete(next);
      sw.hold(next.key, true);
    }
  }
  return [...live];
}
