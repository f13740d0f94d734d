// Saving and restoring a daemon domain with a network (Host.save / Host.restore): its NIC, the
// frames on their way to it (NIC events; on a bridge the switch's deliveries, which name its
// port's inbox, and the bridge's gateway's frames when it carries the gateway), and the gateway's
// state. The peer is the gateway's own (UDP echo and discard: `netbench` against 10.0.2.2, no host
// socket, nothing host timing touches), so a domain saved in the middle of its traffic and
// restored on another host must end exactly as the one never saved (many more save points, and
// the other modes, in host-net-save.deep.test.ts).
import { describe, expect, it } from 'vitest';
import { benchDomain, saveAndRestore, uninterrupted } from './net-save-harness.ts';

describe('a daemon domain with a network is saved and restored', () => {
  it('hvm on bridge br0, carrying its gateway: saved with a frame from the gateway on its way through the switch, restored on another host, it ends as the domain never saved', () => {
    const d = benchDomain('hvm', true);
    const ref = uninterrupted(d);
    expect([ref.end.status, ref.end.stopReason]).toEqual(['shut off', 'poweroff']);
    expect(ref.out).toMatch(/netbench: udp round trip \(64 bytes, 4 times\): \d+ us\nnetbench: udp send \(4 x 300 bytes\): \d+ us/);
    // slice 135 after the banner: a frame from the gateway is in the switch (a delivery to the port's inbox in the queue)
    const r = saveAndRestore(d, 135)!;
    expect([r.saved.status, r.saved.stopReason]).toEqual(['shut off', 'saved']);
    expect(r.a.out.g).not.toContain('udp send'); // in the middle of its traffic
    expect(r.names).toEqual(['net:port']);
    expect([r.restored.name, r.restored.status]).toEqual(['g', 'running']);
    expect([r.end.stopReason, r.end.cycles, r.end.instructions]).toEqual([ref.end.stopReason, ref.end.cycles, ref.end.instructions]);
    expect(r.out).toBe(ref.out);
    // every frame arrived as in the uninterrupted run: none dropped, none late, on either host
    for (const h of [r.a.host, r.b.host]) expect([h.bridgeCounters('br0').dropped, h.bridgeCounters('br0').late]).toEqual([0, 0]);
  });
});
