// Saving and restoring a daemon domain with a network (Host.save / Host.restore): its NIC, the
// frames on their way to it and from it through the switch (events that name its port's inbox, and
// its bridge's gateway's ways in and out when its machine carries the gateway), and the gateway's
// state. The peer is the gateway's own (UDP echo and discard: `netbench` against 10.0.2.2, no host
// socket, nothing host timing touches), so a domain saved in the middle of its traffic and
// restored on another host must end exactly as the one never saved (many more save points, every
// mode, pv and suspend/resume in host-net-save.deep.test.ts).
import { describe, expect, it } from 'vitest';
import { benchDomain, intoTraffic, saveAndRestore, uninterrupted } from './net-save-harness.ts';

describe('a daemon domain with a network is saved and restored', () => {
  it('native on bridge br0, carrying its gateway: saved with the gateway\'s echo in the switch on its way to the domain, restored on another host, it ends as the domain never saved', () => {
    const d = benchDomain('native', true);
    const ref = uninterrupted(d);
    expect([ref.end.status, ref.end.stopReason]).toEqual(['shut off', 'poweroff']);
    expect(ref.out).toMatch(/netbench: udp round trip \(64 bytes, 4 times\): \d+ us\nnetbench: udp send \(4 x 300 bytes\): \d+ us/);
    // 29 slices of 997 cycles in: the gateway's echo is on its way out of the switch to the domain
    // (26: on its way into the switch; 25: the domain's datagram on its way to the gateway - in the deep twin)
    for (const [n, names] of [[29, ['net:port']]] as const) {
      const r = saveAndRestore(d, intoTraffic(n))!;
      expect([r.saved.status, r.saved.stopReason]).toEqual(['shut off', 'saved']);
      expect(r.a.out.g).not.toContain('udp round trip'); // in the middle of its traffic
      expect(r.names).toEqual(names);
      expect([r.restored.name, r.restored.status]).toEqual(['g', 'running']);
      expect([r.end.stopReason, r.end.cycles, r.end.instructions]).toEqual([ref.end.stopReason, ref.end.cycles, ref.end.instructions]);
      expect(r.out).toBe(ref.out);
      // every frame arrived as in the uninterrupted run: none dropped, none late, on either host
      for (const h of [r.a.host, r.b.host]) expect([h.bridgeCounters('br0').dropped, h.bridgeCounters('br0').late]).toEqual([0, 0]);
    }
  });
});
