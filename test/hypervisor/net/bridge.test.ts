// A bridge between domains (issue 13): two pv domains of one hypervisor, each with its own station
// and IPv4 address, joined by a virtual switch. One pings the other and measures round trips to
// its udpecho; every frame crosses netfront -> netback -> switch -> netback -> netfront. The
// switch learns addresses: after the first ARP broadcast (flooded) every frame is forwarded to one port.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../../hypervisor/core/hypervisor.ts';
import { PvMode } from '../../../hypervisor/pv/mode.ts';
import { VirtualSwitch } from '../../../hypervisor/net/bridge.ts';
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
      expect(sw.counters).toEqual({ forwarded: 19, flooded: 1, dropped: 0 });
    });
  }
});
