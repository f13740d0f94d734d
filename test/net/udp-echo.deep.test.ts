// Issue 13's acceptance check in full: 1,000 datagrams of varied sizes up to the MTU, sent by a
// plain node:dgram client to `run --net hostfwd=udp:127.0.0.1:PORT-:7` with `udpecho 7`, each
// back byte for byte, under native and hvm (and trap and bt, whose NIC is the same emulated one),
// and pv through netfront/netback with either receive path (grant copy, page flipping).
import { describe, expect, it } from 'vitest';
import { udpEcho } from './udp-echo.ts';

const N = 1000;

describe('udpecho over --net hostfwd, 1,000 datagrams', () => {
  for (const mode of ['native', 'hvm', 'trap', 'bt']) {
    it(`${mode}: all ${N} come back byte for byte`, async () => {
      const r = await udpEcho(mode, N);
      expect(r.echoed.length).toBe(N);
      expect(r.echoed.every((ok) => ok)).toBe(true);
      expect(r.stdout).toContain(`udpecho: echoed ${N} datagrams\n`);
      expect(r.status).toBe(0);
    }, 120_000);
  }
  for (const rx of ['copy', 'flip']) {
    it(`pv --net-rx ${rx}: all ${N} come back byte for byte`, async () => {
      const r = await udpEcho('pv', N, ['--net-rx', rx]);
      expect(r.echoed.length).toBe(N);
      expect(r.echoed.every((ok) => ok)).toBe(true);
      expect(r.stdout).toContain(`udpecho: echoed ${N} datagrams\n`);
      expect(r.status).toBe(0);
    }, 120_000);
  }
});
