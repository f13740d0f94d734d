// Shared by the tests of saving, restoring and migrating daemon domains with a network
// (host-net-save*.test.ts, migrate-net*.test.ts): a host that runs as fast as it can and keeps each
// domain's console, and one save-and-restore run against the uninterrupted one.
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DomainInfo } from '../../daemon/host.ts';
import { validateDefinition, type DomainDefinitionInput } from '../../daemon/definition.ts';
import { loadSaveFile } from '../../hypervisor/save/state.ts';
import { expect } from 'vitest';
import { loopback, TEST_LINK } from './migrate-harness.ts';
import { testHost } from './test-host.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

const dir = mkdtempSync(join(tmpdir(), 'xenolith-net-save-'));
let saves = 0;

export function makeNetHost() {
  const { host, out } = testHost();
  const define = (d: Partial<DomainDefinitionInput> & { name: string }) => host.define(validateDefinition({ mode: 'native', memory: 4, on_poweroff: 'preserve', ...d }));
  const until = (done: () => boolean, slice?: number, max = 4000) => {
    for (let k = 0; k < max; k++) {
      if (done()) return k;
      host.step(slice);
    }
    throw new Error(`not done after ${max} steps`);
  };
  return { host, out, define, until };
}

export type NetHost = ReturnType<typeof makeNetHost>;

/** netbench against the gateway's echo and discard ports (no host socket): 4 round trips, 4 sends of 300 bytes. */
export const BENCH = 'netbench 4 300';

/** The definition of the tests' domain 'g': netbench against the gateway, alone or on bridge br0 (then carrying its gateway). */
export function benchDomain(mode: 'native' | 'trap' | 'bt' | 'hvm' | 'pv', bridge: boolean): Partial<DomainDefinitionInput> & { name: string } {
  return { name: 'g', mode, cmdline: BENCH, net: 'user', ...(bridge ? { bridge: 'br0', ip: '10.0.2.20' } : {}) };
}

/** The uninterrupted run: its console and how it ended. */
export function uninterrupted(d: Partial<DomainDefinitionInput> & { name: string }): { out: string; end: DomainInfo } {
  const ref = makeNetHost();
  ref.define(d);
  ref.host.start('g');
  ref.until(() => ref.host.dominfo('g').status !== 'running');
  return { out: ref.out.g ?? '', end: ref.host.dominfo('g') };
}

/**
 * For 'g' running netbench on br0 (native): run to its first frame on the bridge, 133 slices of
 * 20,000 cycles on, then `n` slices of 997 cycles (n = 25: its datagram is on its way to the
 * gateway; 26: the gateway's echo on its way into the switch; 29: out of it to the domain).
 */
export const intoTraffic = (n: number) => (h: NetHost) => {
  h.until(() => h.host.bridgeCounters('br0').flooded > 0, 20_000);
  for (let k = 0; k < 133; k++) h.host.step(20_000);
  for (let k = 0; k < n; k++) h.host.step(997);
};

/**
 * Start 'g' on a host, run it to its boot banner ('timer: 1000 Hz') then `after` slices of 20,000
 * cycles, save it; restore the file on another host and run it to its end. Returns both hosts,
 * the restored run's end, and the externals the file names (the frames in flight through the switch).
 */
export function saveAndRestore(d: Partial<DomainDefinitionInput> & { name: string }, after: number | ((h: NetHost) => void)) {
  const a = makeNetHost();
  a.define(d);
  a.host.start('g');
  a.until(() => (a.out.g ?? '').includes('timer: 1000 Hz\n'), 20_000);
  if (typeof after === 'function') after(a);
  else for (let k = 0; k < after && a.host.dominfo('g').status === 'running'; k++) a.host.step(20_000);
  const running = a.host.dominfo('g').status === 'running';
  if (!running) return null;
  const file = join(dir, `${d.mode}-${saves++}.xls`);
  const saved = a.host.save('g', file);
  const names = loadSaveFile(readFileSync(file)).graph.records.flatMap((r) => (r[0] === 'X' ? [r[1]] : []));
  const b = makeNetHost();
  const restored = b.host.restore(file);
  b.until(() => b.host.dominfo('g').status !== 'running');
  return { a, b, saved, restored, names, end: b.host.dominfo('g'), out: (a.out.g ?? '') + (b.out.g ?? '') };
}

/** Migrate a `mode` domain on br0 with a forward, idle in udpecho 7, and reach it on the destination. */
export async function migrateNetDomain(mode: 'native' | 'pv'): Promise<void> {
  const a = makeNetHost();
  const b = makeNetHost();
  const e = { name: 'e', mode, cmdline: 'udpecho 7', bridge: 'br0', ip: '10.0.2.30', net: 'hostfwd=udp:127.0.0.1:0-:7' };
  a.define(e);
  a.host.start('e');
  a.until(() => (a.out.e ?? '').includes('listening on udp port 7'));
  b.define({ name: 'c', mode: 'native', bridge: 'br0', ip: '10.0.2.31' });
  b.host.start('c');
  b.until(() => (b.out.c ?? '').includes('$ '));

  const { src, dst } = await loopback();
  const landing = b.host.incoming(dst);
  const report = await a.host.migrate('e', src, { link: TEST_LINK });
  expect(await landing).toBe('e');
  if (mode === 'native') expect(report.stopReason).toBe('no-log-dirty'); // native: everything in the stop-and-copy
  expect([a.host.dominfo('e').status, a.host.dominfo('e').stopReason, a.host.dominfo('e').forwards]).toEqual(['shut off', 'migrated', undefined]);
  const moved = b.host.dominfo('e');
  expect(moved.status).toBe('running');
  expect(moved.forwards).toEqual([expect.stringMatching(/^udp 127\.0\.0\.1:\d+ -> 10\.0\.2\.30:7$/)]);

  // the destination's br0: c pings e there
  b.host.consoleInput('c', Buffer.from('ping 10.0.2.30 1\n'));
  b.until(() => /1 packets transmitted/.test(b.out.c ?? ''), undefined, 20_000);
  expect(b.out.c).toMatch(/64 bytes from 10\.0\.2\.30: icmp_seq=1 time=\d+ us\n/);
  expect(b.host.bridgeCounters('br0').dropped).toBe(0);

  // the forward, bound again on the destination: a host client's datagram is echoed
  const port = Number(/:(\d+) ->/.exec(b.host.dominfo('e').forwards![0]!)![1]);
  const client = createSocket('udp4');
  try {
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    let back: Buffer | null = null;
    client.on('message', (m) => (back = m));
    client.send(Buffer.from('moved'), port, '127.0.0.1');
    for (let k = 0; k < 4000 && back === null; k++) {
      b.host.step();
      await tick();
    }
    expect(String(back)).toBe('moved');
  } finally {
    client.close();
    a.host.shutdownAll();
    b.host.shutdownAll();
  }
}
