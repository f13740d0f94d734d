// The guest network stack against the virtual gateway without host sockets: ping and ifconfig
// (ARP, ICMP echo, the counters), malformed and random frames thrown at a running guest (counted
// and dropped, never a crash, and the guest still answers), and `--net`'s validation.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../machine/machine.ts';
import { bootNative } from '../../hypervisor/boot/native.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { HostUplink } from '../../hypervisor/net/uplink.ts';
import { GATEWAY_IP, GATEWAY_MAC, GUEST_IP } from '../../hypervisor/net/gateway.ts';
import * as F from '../../hypervisor/net/frames.ts';
import { NIC_STAT_RX_MALFORMED } from '../../machine/devices/ports.ts';
import { xenolith } from '../cli/run-in-process.ts';

const GUEST_MAC = new Uint8Array([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);

describe('guest network stack', () => {
  for (const args of [[], ['--mode', 'pv', '--net-rx', 'flip']]) it(`pings the gateway (ARP first) and ifconfig counts the frames${args.length ? ` (${args.join(' ')})` : ''}`, async () => {
    const r = await xenolith('run', '--net', 'user', ...args, '--input', 'ping 10.0.2.2 1\nifconfig\nexit\n');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.indexOf('$ ping 10.0.2.2 1');
    expect(lines.slice(at + 1, at + 4)).toEqual([
      'PING 10.0.2.2: 56 data bytes',
      expect.stringMatching(/^64 bytes from 10\.0\.2\.2: icmp_seq=1 time=\d+ us$/),
      '1 packets transmitted, 1 received',
    ]);
    const ifc = lines.indexOf('$ ifconfig');
    expect(lines.slice(ifc + 1, ifc + 5)).toEqual([
      'eth0: inet 10.0.2.15 netmask 255.255.255.0 gateway 10.0.2.2',
      '      ether 52:54:00:12:34:56',
      // sent: the ARP request and the echo request; received: the ARP reply and the echo reply
      '      tx frames 2, rx frames 2, rx dropped 0, socket queue drops 0',
      '      device: rx no buffer 0, rx malformed 0',
    ]);
  });

  for (const mode of ['native', 'pv']) it(`netbench measures round trips to the gateway's echo port and sends to its discard port (${mode})`, async () => {
    const r = await xenolith('run', '--mode', mode, '--net', 'user', '--cmdline', 'netbench 5 1000', '--stats');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\nnetbench: udp round trip \(64 bytes, 5 times\): \d+ us\nnetbench: udp send \(5 x 1000 bytes\): \d+ us, \d+ KB\/s\n/);
    // one uncounted round trip first (it resolves the gateway by ARP), then 5, then 5 sends
    expect(r.stderr).toContain('net arpReplies: 1\n');
    expect(r.stderr).toContain('net echoed: 6\n');
    expect(r.stderr).toContain('net discarded: 5\n');
    // pv: the ARP request, 6 round trips and 5 sends went out through the back end; the ARP reply
    // and the 6 echoes came in by grant copy
    if (mode === 'pv') expect(r.stderr).toContain('  network rings: 12 frames sent (0 refused), 7 received (0 with no buffer, 0 refused);');
  });

  it('counts and drops malformed and random frames from the wire, then still echoes a datagram', async () => {
    const g = buildGuestKernel({ arch: 'native' });
    const sent: Uint8Array[] = [];
    const up = await HostUplink.open([], GUEST_MAC);
    let out = '';
    const m = new Machine({ onOutput: (b) => (out += String.fromCharCode(b)), onTransmit: (f) => sent.push(f) });
    up.attach({ nic: m.nic, now: () => m.deviceContext.now(), schedule: (at, fn) => m.deviceContext.schedule(at, fn) });
    bootNative(m, { kernel: g.kernel, initrd: g.initrd, cmdline: 'udpecho 7 1' });
    while (!out.includes('listening')) expect(m.run({ maxCycles: 1_000_000 }).reason).toBe('limit');
    // a runt and an oversized frame (the NIC drops them), then frames the kernel must reject:
    // another station's address, a bad IP checksum, a truncated UDP header, an unknown port
    m.nic.receive(new Uint8Array(5));
    m.nic.receive(new Uint8Array(1515));
    const udp = (dport: number, payload: Uint8Array) =>
      F.buildEth(GUEST_MAC, GATEWAY_MAC, F.ETHERTYPE_IPV4, F.buildIpv4(GATEWAY_IP, GUEST_IP, F.IPPROTO_UDP, F.buildUdp(GATEWAY_IP, GUEST_IP, 40000, dport, payload)));
    const other = udp(7, Uint8Array.of(1));
    other[0] = 0x02;
    const badSum = udp(7, Uint8Array.of(1));
    badSum[F.ETH_HEADER + 10]! ^= 0x55;
    const truncated = udp(7, Uint8Array.of(1)).subarray(0, F.ETH_HEADER + 24);
    for (const f of [other, badSum, truncated, udp(9, Uint8Array.of(1))]) m.nic.receive(f);
    // random bytes behind a valid Ethernet header for us (a fixed LCG: the same frames every run)
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
    for (let k = 0; k < 40; k++) {
      const f = new Uint8Array(14 + (rnd() % 200));
      for (let i = 14; i < f.length; i++) f[i] = rnd() & 0xff;
      f.set(GUEST_MAC, 0);
      f[12] = 0x08; // IPv4 (0x0800) and ARP (0x0806) in turn
      f[13] = k % 2 === 0 ? 0x00 : 0x06;
      f[14] = k % 4 === 0 ? 0x45 : f[14]!;
      m.nic.receive(f);
      m.run({ maxCycles: 20_000 });
    }
    expect(m.run({ maxCycles: 2_000_000 }).reason).toBe('limit');
    expect(sent.length).toBe(0); // nothing above deserved an answer
    m.nic.receive(udp(7, Uint8Array.of(9, 8, 7)));
    const r = m.run({ maxCycles: 50_000_000 });
    expect([r.reason, r.status]).toEqual(['poweroff', 0]);
    expect(m.nic.stats[NIC_STAT_RX_MALFORMED]).toBe(2);
    expect(sent.length).toBe(1);
    const ip = F.parseIpv4(F.parseEth(sent[0]!)!.payload)!;
    const u = F.parseUdp(ip)!;
    expect([ip.src, ip.dst, u.srcPort, u.dstPort, [...u.payload]]).toEqual([GUEST_IP, GATEWAY_IP, 7, 40000, [9, 8, 7]]);
    expect(out).toContain('udpecho: echoed 1 datagrams\n');
    await up.close();
  });
});

describe('run --net', () => {
  const refused: [string, string][] = [
    ['hostfwd=tcp:127.0.0.1:5555-:7', '--net: only udp is forwarded, not "tcp"'],
    ['hostfwd=udp:0.0.0.0:5555-:7', '--net: a forward listens on the loopback address 127.0.0.1 only, not "0.0.0.0"'],
    ['hostfwd=udp:127.0.0.1:70000-:7', '--net: host port "70000" must be a number from 0 to 65535'],
    ['hostfwd=udp:127.0.0.1:5555-:0', '--net: guest port "0" must be a number from 1 to 65535'],
    ['hostfwd=udp:127.0.0.1:5555-10.0.2.16:7', '--net: the guest\'s address is 10.0.2.15, not "10.0.2.16" (forwards to other addresses are for domains on a bridge)'],
    ['hostfwd=udp:127.0.0.1:5555-10.0.2.255:7', '--net: the guest address "10.0.2.255" must be a guest\'s on 10.0.2.0/24 (not .0, .255 or the gateway 10.0.2.2)'],
    ['bridge', '--net: "bridge" is not hostfwd=udp:127.0.0.1:HOSTPORT-[GUESTADDR]:GUESTPORT'],
    ['hostfwd=udp:127.0.0.1:5555-:7,hostfwd=udp::5555-:8', '--net: host port 5555 is forwarded twice'],
  ];
  for (const [spec, message] of refused) {
    it(`refuses ${spec} with one line`, async () => {
      const r = await xenolith('run', '--net', spec, '--input', 'exit');
      expect(r.status).not.toBe(0);
      expect(r.stderr).toBe(`xenolith: ${message}\n`);
    });
  }

  it('--net-rx needs --mode pv and --net, and is copy or flip', async () => {
    expect((await xenolith('run', '--net', 'user', '--net-rx', 'flip', '--input', 'exit')).stderr).toBe(
      "xenolith: --net-rx chooses how pv's network back end delivers frames; it needs --mode pv and --net (not --mode native)\n",
    );
    expect((await xenolith('run', '--mode', 'pv', '--net-rx', 'flip', '--input', 'exit')).stderr).toBe(
      "xenolith: --net-rx chooses how pv's network back end delivers frames; it needs --mode pv and --net (not --mode pv without --net)\n",
    );
    expect((await xenolith('run', '--mode', 'pv', '--net', 'user', '--net-rx', 'swap', '--input', 'exit')).stderr).toBe('xenolith: --net-rx must be copy or flip (not swap)\n');
  });
});
