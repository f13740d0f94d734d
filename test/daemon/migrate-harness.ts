// Two in-process hosts (daemon/host.ts) and the loopback TCP between them, for the live-migration
// tests: the destination's side answers on a real socket (daemon/migration/channel.ts), the
// source's side connects to it; no worker threads, no daemons. The guest is bench/migrate-guest.ts
// (no timer, no input), so an uninterrupted run is an exact reference.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Host } from '../../daemon/host.ts';
import { validateDefinition, type DomainDefinitionInput } from '../../daemon/definition.ts';
import { Channel, socketTransport } from '../../daemon/migration/channel.ts';
import { migrateGuest, type MigrateGuestShape } from '../../bench/migrate-guest.ts';

/** A small shape: a few rounds on the test link, ~10M cycles in all. */
export const TEST_SHAPE: MigrateGuestShape = { pages: 24, passes: 6000, printEvery: 2000 };
/** 10 GB/s, 0.01 ms: round 1 (1024 pages) is ~1.3M cycles at 3 GHz. */
export const TEST_LINK = { bytesPerSecond: 10_000_000_000, latencyMs: 0.01 };

export function makeHost(shape: MigrateGuestShape = TEST_SHAPE) {
  const out: Record<string, string> = {};
  const host = new Host(null, {
    hostMemoryMiB: 64,
    pacing: 'fast',
    loadKernel: () => migrateGuest(shape),
    onConsole: (name, bytes) => (out[name] = (out[name] ?? '') + Buffer.from(bytes).toString('latin1')),
  });
  const define = (d: Partial<DomainDefinitionInput> & { name: string }) => host.define(validateDefinition({ mode: 'trap', memory: 4, kernel: '/migrate-guest', on_poweroff: 'preserve', ...d }));
  const until = (done: () => boolean, max = 2000) => {
    for (let k = 0; k < max; k++) {
      if (done()) return k;
      host.step();
    }
    throw new Error(`not done after ${max} steps`);
  };
  return { host, out, define, until };
}

/** A loopback TCP connection: the source's end and the destination's end, as channels. */
export async function loopback(timeoutMs?: number): Promise<{ src: Channel; dst: Channel; srcSocket: Socket; dstSocket: Socket; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const srcSocket = connect(port, '127.0.0.1');
  await new Promise<void>((r) => srcSocket.once('connect', () => r()));
  const dstSocket = await accepted;
  server.close();
  return { src: new Channel(socketTransport(srcSocket), 'the destination', timeoutMs), dst: new Channel(socketTransport(dstSocket), 'the source', timeoutMs), srcSocket, dstSocket, server };
}
