// Live migration of a domain with a network between two hosts (loopback TCP): a native domain on
// bridge br0 with a host forward, idle in `udpecho 7`, moves to the other host, where it is on
// that host's br0 (the switch learns its station address on its new port at once) and its forward
// is bound again there: a domain already on the destination's br0 pings it, and a node:dgram
// client reaches it through the forward's new port.
import { describe, it } from 'vitest';
import { migrateNetDomain } from './net-save-harness.ts';

describe('live migration of a domain with a network', () => {
  it("native on br0 with a host forward: moves, is reached by a domain on the destination's br0 (ping) and by a host client through its forward bound there", () => migrateNetDomain('native'));
});
