// A bridge between domains (issue 13): two pv domains of one hypervisor, each with its own station
// and IPv4 address, joined by a virtual switch. One pings the other and measures round trips to
// its udpecho; every frame crosses netfront -> netback -> switch -> netback -> netfront. The
// switch learns addresses: after the first ARP broadcast (flooded) every frame is forwarded to one port.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../../hypervisor/core/hypervisor.ts';
import { PvMode } from '../../../hypervisor/pv/mode.ts';
import { VirtualSwitch, runLockstep, BRIDGE_LATENCY_CYCLES as L, BRIDGE_SLACK_CYCLES as SLACK } from '../../../hypervisor/net/bridge.ts';
import { domainNicPlatform } from '../../../hypervisor/net/attach.ts';
import { buildGuestKernel } from '../../../toolchain/guest-kernel.ts';

const MiB = 1024 * 1024;
const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

function bridged(rx: 'copy' | 'flip') {
  const g = buildGuestKernel({ arch: 'pv' });
  const hv = new Hypervisor({ memoryBytes: 40 * MiB });
  const mode = new PvMode();
  const sw = new VirtualSwitch();
  const out = { a: '', b: '' };
  const domain = (name: 'a' | 'b', last: number, boot: { cmdline?: string; input?: string }) => {
    const port = sw.port();
    const d = hv.createDomain(
      mode,
      {
        name, memoryBytes: 8 * MiB, devices: false, netRx: rx, onTransmit: port.onTransmit, mac: new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, last]), ip: ip(10, 0, 2, last),
        onOutput: (c) => (out[name] += String.fromCharCode(c)), ...(boot.input !== undefined ? { input: boot.input } : {}),
      },
      { kernel: g.kernel, initrd: g.initrd, ...(boot.cmdline !== undefined ? { cmdline: boot.cmdline } : {}) },
    );
    port.attach(domainNicPlatform(d)!);
    return d;
  };
  // b answers 1 + 4 round trips, then powers off; a pings b, then measures against it
  const b = domain('b', 16, { cmdline: 'udpecho 7 5' });
  const a = domain('a', 15, { input: 'ping 10.0.2.16 2\nnetbench 4 200 10.0.2.16\nifconfig\nexit\n' });
  hv.run({ maxCycles: 20_000_000_000 });
  return { a, b, out, sw, mode };
}

describe('a virtual switch between two pv domains on one host', () => {
  for (const rx of ['copy', 'flip'] as const) {
    it(`they ping and udpecho each other through it (--net-rx ${rx})`, () => {
      const { a, b, out, sw, mode } = bridged(rx);
      expect(a.stopReason).toBe('poweroff');
      expect(b.stopReason).toBe('poweroff');
      expect(out.a).toMatch(/\$ ping 10\.0\.2\.16 2\nPING 10\.0\.2\.16: 56 data bytes\n64 bytes from 10\.0\.2\.16: icmp_seq=1 time=\d+ us\n64 bytes from 10\.0\.2\.16: icmp_seq=2 time=\d+ us\n2 packets transmitted, 2 received\n/);
      expect(out.a).toMatch(/\$ netbench 4 200 10\.0\.2\.16\nnetbench: udp round trip \(64 bytes, 4 times\): \d+ us\nnetbench: udp send \(4 x 200 bytes\): \d+ us, \d+ KB\/s\n/);
      expect(out.a).toContain('eth0: inet 10.0.2.15 netmask 255.255.255.0 gateway 10.0.2.2\n      ether 52:54:00:12:34:0f\n');
      expect(out.b).toContain('udpecho: listening on udp port 7\nudpecho: echoed 5 datagrams\n');
      // a: ARP request, 2 pings, 5 round trips, 4 sends; b: ARP reply, 2 ping replies, 5 echoes
      const na = mode.pv(a).net!.counts;
      const nb = mode.pv(b).net!.counts;
      expect(na.txFrames).toBe(12);
      expect(nb.txFrames).toBe(8);
      expect(na.rxCopies + na.rxFlips).toBe(8);
      expect(rx === 'copy' ? na.rxFlips : na.rxCopies).toBe(0);
      // the ARP request was flooded; everything else went to one learned port
      expect(sw.counters).toEqual({ forwarded: 19, flooded: 1, dropped: 0, late: 0 });
    });
  }
});

/** A machine with a clock and an event queue only: `run` advances the clock, firing events in time order. */
function fakeMachine(start = 0) {
  const events: { at: number; fn: () => void }[] = [];
  const m = {
    cycles: start,
    got: [] as { at: number; byte: number }[],
    clock: { now: () => m.cycles, schedule: (at: number, fn: () => void) => (events.push({ at, fn }), events.length) },
    nic: { receive: (f: Uint8Array) => (m.got.push({ at: m.cycles, byte: f[14]! }), true) },
    /** run to `until`, firing due events (at their own time, or now if already past) */
    runTo(until: number) {
      for (;;) {
        events.sort((x, y) => x.at - y.at);
        const e = events[0];
        if (!e || e.at > until) break;
        events.shift();
        m.cycles = Math.max(m.cycles, e.at);
        e.fn();
      }
      m.cycles = Math.max(m.cycles, until);
    },
  };
  return m;
}
const frame = (dst: number, src: number, byte: number) => new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, dst, 0x52, 0x54, 0, 0x12, 0x34, src, 8, 0, byte]);

describe('a switch between machines with clocks of their own', () => {
  it('bridge time: the first machine joins at offset 0, a later one at the least bridge time there; a frame arrives the latency later, in the receiver\'s clock', () => {
    const sw = new VirtualSwitch();
    const a = fakeMachine(5_000);
    const b = fakeMachine(200);
    const pa = sw.port();
    const pb = sw.port();
    pa.attach({ ...a.clock, nic: a.nic }, a);
    pb.attach({ ...b.clock, nic: b.nic }, b);
    expect([sw.bridgeTime(a), sw.bridgeTime(b)]).toEqual([5_000, 5_000]);
    // each may run to the other's bridge time + the latency less the slack, in its own clock
    expect([sw.horizon(a), sw.horizon(b)]).toEqual([5_000 + L - SLACK, 200 + L - SLACK]);
    a.runTo(5_300);
    pa.onTransmit(frame(0x10, 0x0f, 1)); // sent at bridge time 5,300: flooded (b unknown yet)
    b.runTo(200 + 300 + L);
    expect(b.got).toEqual([{ at: 200 + 300 + L, byte: 1 }]);
    pb.onTransmit(frame(0x0f, 0x10, 2)); // b at bridge time 6,300: learned, forwarded to a
    a.runTo(9_000);
    expect(a.got).toEqual([{ at: 6_300 + L, byte: 2 }]);
    expect(sw.counters).toEqual({ forwarded: 1, flooded: 1, dropped: 0, late: 0 });
  });

  it('a receiver already past the arrival takes the frame at its next stop, counted late; a held machine does not hold the others back, and joins again at their time', () => {
    const sw = new VirtualSwitch();
    const a = fakeMachine();
    const b = fakeMachine();
    const pa = sw.port();
    sw.port().attach({ ...b.clock, nic: b.nic }, b);
    pa.attach({ ...a.clock, nic: a.nic }, a);
    b.runTo(3_000); // past its horizon (a's 0 + L - slack)
    pa.onTransmit(frame(0x10, 0x0f, 7));
    expect(sw.counters.late).toBe(1);
    b.runTo(3_000);
    expect(b.got).toEqual([{ at: 3_000, byte: 7 }]);
    sw.hold(b, true);
    expect(sw.horizon(a)).toBe(Infinity);
    a.runTo(50_000);
    sw.hold(b, false);
    expect(sw.bridgeTime(b)).toBe(50_000);
    expect(sw.horizon(b)).toBe(3_000 + L - SLACK);
  });

  it('idle skipping: a machine blocked in HLT holds the others back to min(its next event, the others\' least base + latency), three machines; idleSkip false holds them to present times', () => {
    for (const skip of [true, false]) {
      const sw = new VirtualSwitch({ idleSkip: skip });
      const ms = [fakeMachine(), fakeMachine(), fakeMachine()];
      const idle = [0, 0, 0];
      ms.forEach((m, k) => sw.port().attach({ ...m.clock, nic: m.nic, idleUntil: () => (idle[k] ? idle[k]! : m.clock.now()) }, m));
      const [a, b, c] = ms as [ReturnType<typeof fakeMachine>, ReturnType<typeof fakeMachine>, ReturnType<typeof fakeMachine>];
      a.runTo(1_000);
      b.runTo(1_000);
      c.runTo(1_000);
      // b and c blocked until 90,000 and 40,000; a running at 1,000
      idle[1] = 90_000;
      idle[2] = 40_000;
      // for a: b may send at min(90,000, 1,000 + L), c at min(40,000, 1,000 + L)
      expect(sw.horizon(a)).toBe(skip ? 1_000 + 2 * L - SLACK : 1_000 + L - SLACK);
      expect(sw.horizon(b)).toBe(1_000 + L - SLACK);
      // a blocked too (until 20,000): every base is an event; c is woken first by a's send at 20,000
      idle[0] = 20_000;
      expect([sw.horizon(a), sw.horizon(b), sw.horizon(c)]).toEqual(
        skip ? [20_000 + 2 * L - SLACK, 20_000 + L - SLACK, 20_000 + L - SLACK] : [1_000 + L - SLACK, 1_000 + L - SLACK, 1_000 + L - SLACK],
      );
      // a frame in flight to b is an event on its queue: its base is no later than the arrival
      idle[1] = 3_000;
      expect(sw.horizon(c)).toBe(skip ? 3_000 + L - SLACK : 1_000 + L - SLACK);
    }
  });

  it('runLockstep runs the machine with the least bridge time to its horizon, so no frame is late', () => {
    const sw = new VirtualSwitch();
    const a = fakeMachine();
    const b = fakeMachine();
    const pa = sw.port();
    const pb = sw.port();
    pa.attach({ ...a.clock, nic: a.nic }, a);
    pb.attach({ ...b.clock, nic: b.nic }, b);
    const runs: string[] = [];
    // a sends a frame every 700 cycles and b answers each one at once, until 10 have gone each way
    let sent = 0;
    const lockstep = (name: string, m: ReturnType<typeof fakeMachine>, port: typeof pa) => ({
      key: m,
      clock: m.clock,
      run: (cycles: number) => {
        runs.push(`${name}@${m.cycles}+${cycles}`);
        const end = m.cycles + cycles;
        while (name === 'a' && sent < 10 && 700 * (sent + 1) <= end) {
          m.runTo(700 * ++sent);
          port.onTransmit(frame(0x10, 0x0f, sent));
        }
        const before = m.got.length;
        m.runTo(end);
        if (name === 'b') for (const g of m.got.slice(before)) port.onTransmit(frame(0x0f, 0x10, g.byte));
        return m.cycles < 20_000;
      },
    });
    runLockstep(sw, [lockstep('a', a, pa), lockstep('b', b, pb)], 1_000_000);
    expect(sw.counters.late).toBe(0);
    expect(b.got.map((g) => g.at)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((k) => 700 * k + L));
    expect(runs.slice(0, 4)).toEqual(['a@0+500', 'b@0+1000', 'a@500+1000', 'b@1000+1000']);
  });
});

describe("a frame relayed to a port (a gateway's frame that moved with a saved pv domain)", () => {
  it('enters the switch when the relay comes due and arrives the bridge latency later on the port\'s own clock, counted forwarded; on a detached port it is dropped', () => {
    const sw = new VirtualSwitch();
    const events: [number, () => void][] = [];
    let now = 5000;
    const got: [number, number][] = [];
    const platform = { now: () => now, schedule: (at: number, fn: () => void) => (events.push([at, fn]), events.length), nic: { receive: (f: Uint8Array) => (got.push([now, f.length]), true) } };
    const port = sw.port();
    port.attach(platform as never);
    port.inbox!.relay(new Uint8Array(60));
    expect(events.map(([at]) => at)).toEqual([5000 + L]);
    now = 5000 + L;
    events[0]![1]();
    expect(got).toEqual([[5000 + L, 60]]);
    expect(sw.counters).toEqual({ forwarded: 1, flooded: 0, dropped: 0, late: 0 });
    const inbox = port.inbox!;
    port.detach();
    inbox.relay(new Uint8Array(60));
    expect(events.length).toBe(1);
    expect(sw.counters).toEqual({ forwarded: 1, flooded: 0, dropped: 1, late: 0 });
  });
});
