// Issue 13's acceptance check, cheap version: a host node:dgram client gets every datagram (sizes
// 1..1472, the UDP payload of a full frame) back byte for byte from the guest's udpecho, in each
// mode with an emulated NIC. The 1,000-datagram run is udp-echo.deep.test.ts.
import { describe, expect, it } from 'vitest';
import { udpEcho } from './udp-echo.ts';

const N = 12;

describe('udpecho over --net hostfwd (host datagrams echoed by the guest)', () => {
  for (const mode of ['native', 'hvm', 'trap', 'bt']) {
    it(`${mode}: ${N} datagrams of 1..1472 bytes come back byte for byte, then the guest powers off`, async () => {
      const r = await udpEcho(mode, N);
      expect(r.echoed).toEqual(Array(N).fill(true));
      expect(r.stdout).toContain('udpecho: listening on udp port 7\n');
      expect(r.stdout).toContain(`udpecho: echoed ${N} datagrams\n`);
      expect(r.status).toBe(0);
    });
  }
  // pv: netfront/netback; each received datagram arrives by grant copy or by a page flip, as chosen
  for (const rx of ['copy', 'flip'] as const) {
    it(`pv --net-rx ${rx}: ${N} datagrams come back byte for byte; --stats counts ${N} frames each way, all received by ${rx}`, async () => {
      const r = await udpEcho('pv', N, ['--net-rx', rx, '--stats']);
      expect(r.echoed).toEqual(Array(N).fill(true));
      expect(r.stdout).toContain(`udpecho: echoed ${N} datagrams\n`);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(`  network rings: ${N} frames sent (0 refused), ${N} received (0 with no buffer, 0 refused);`);
      const line = /grant copy: (\d+) lines of 64 bytes, \d+ cycles \((\d+) frames received by copy\); grant transfer: (\d+) page flips/.exec(r.stderr)!;
      expect([Number(line[2]), Number(line[3])]).toEqual(rx === 'copy' ? [N, 0] : [0, N]);
    });
  }
});
