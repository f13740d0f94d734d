// Two in-process hosts (daemon/host.ts) and the loopback TCP between them, for the live-migration
// tests: the destination's side answers on a real socket (daemon/migration/channel.ts), the
// source's side connects to it; no worker threads, no daemons. The guest is bench/migrate-guest.ts
// (no timer, no input), so an uninterrupted run is an exact reference.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { HostError } from '../../daemon/host.ts';
import { validateDefinition, type DomainDefinitionInput } from '../../daemon/definition.ts';
import { Channel, socketTransport, type Transport } from '../../daemon/migration/channel.ts';
import { FrameReader, type Message } from '../../daemon/migration/wire.ts';
import { migrateGuest, type MigrateGuestShape } from '../../bench/migrate-guest.ts';
import { migratePvGuest } from '../../bench/migrate-pv-guest.ts';
import { testHost } from './test-host.ts';

/** A small shape: two rounds on the test link, ~630k cycles in all. */
export const TEST_SHAPE: MigrateGuestShape = { pages: 24, passes: 1500, printEvery: 500 };
/** 40 GB/s, 0.01 ms: round 1 (1024 pages) is ~300k cycles. */
export const TEST_LINK = { bytesPerSecond: 40_000_000_000, latencyMs: 0.01 };

/**
 * A host whose kernel files are the migration guest: bench/migrate-guest.ts, or with `pv`
 * bench/migrate-pv-guest.ts (the same loop in ring 3; booted with no initrd) and domains of mode pv.
 */
export function makeHost(shape: MigrateGuestShape = TEST_SHAPE, pv = false) {
  const { host, out } = testHost(
    pv ? { loadKernel: () => migratePvGuest(shape), standardGuest: () => ({ kernel: migratePvGuest(shape), initrd: new Uint8Array(0) }) } : { loadKernel: () => migrateGuest(shape) },
  );
  const define = (d: Partial<DomainDefinitionInput> & { name: string }) => host.define(validateDefinition({ mode: pv ? 'pv' : 'trap', memory: 4, kernel: '/migrate-guest', on_poweroff: 'preserve', ...d }));
  const until = (done: () => boolean, max = 2000) => {
    for (let k = 0; k < max; k++) {
      if (done()) return k;
      host.step();
    }
    throw new Error(`not done after ${max} steps`);
  };
  return { host, out, define, until };
}

/**
 * A socket's transport that, when a whole message matching `trigger` arrives, destroys the socket
 * before anything of that message is handed on: the receiving side dies (or its connection drops)
 * at that point of the protocol.
 */
export function dyingTransport(sock: Socket, trigger: (msg: Message) => boolean): Transport {
  const t = socketTransport(sock);
  const reader = new FrameReader();
  let dead = false;
  return {
    ...t,
    onData: (cb) =>
      t.onData((bytes) => {
        if (dead) return;
        if (reader.push(bytes.slice()).some((f) => trigger(f.msg))) {
          dead = true;
          sock.destroy();
          return;
        }
        cb(bytes);
      }),
  };
}

export interface LoopbackFaults {
  /** the destination dies on receiving a message like this */
  dstDiesOn?: (msg: Message) => boolean;
  /** the source's connection drops on receiving a message like this */
  srcDropsOn?: (msg: Message) => boolean;
}

/** A loopback TCP connection: the source's end and the destination's end, as channels. */
export async function loopback(faults: LoopbackFaults = {}, timeoutMs?: number): Promise<{ src: Channel; dst: Channel; srcSocket: Socket; dstSocket: Socket; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const srcSocket = connect(port, '127.0.0.1');
  await new Promise<void>((r) => srcSocket.once('connect', () => r()));
  const dstSocket = await accepted;
  server.close();
  const srcT = faults.srcDropsOn ? dyingTransport(srcSocket, faults.srcDropsOn) : socketTransport(srcSocket);
  const dstT = faults.dstDiesOn ? dyingTransport(dstSocket, faults.dstDiesOn) : socketTransport(dstSocket);
  return { src: new Channel(srcT, 'the destination', timeoutMs), dst: new Channel(dstT, 'the source', timeoutMs), srcSocket, dstSocket, server };
}

/** The guest run once without migration: output and instructions at its end. */
export const reference = (() => {
  const refs = new Map<boolean, { output: string; instructions: number; cycles: number }>();
  return (pv = false) => {
    const had = refs.get(pv);
    if (had) return had;
    const h = makeHost(TEST_SHAPE, pv);
    h.define({ name: 'g' });
    h.host.start('g');
    h.until(() => h.host.dominfo('g').status !== 'running');
    const end = h.host.dominfo('g');
    const ref = { output: h.out.g ?? '', instructions: end.instructions, cycles: end.cycles };
    refs.set(pv, ref);
    return ref;
  };
})();

/** Start the migration after the guest ran this long on the source. */
export const START = 100_000;

/** Migrate 'g' (of `extra`'s definition fields) with `faults` on the link; `prepareDst` readies the destination first. */
export async function attempt(faults: LoopbackFaults, pv = false, prepareDst?: (b: ReturnType<typeof makeHost>) => void, extra: Partial<DomainDefinitionInput> = {}) {
  const a = makeHost(TEST_SHAPE, pv);
  const b = makeHost(TEST_SHAPE, pv);
  prepareDst?.(b);
  a.define({ name: 'g', ...extra });
  a.host.start('g');
  a.host.step(START);
  const { src, dst } = await loopback(faults);
  const landing = b.host.incoming(dst).then(
    (name) => ({ ok: true as const, name }),
    (e: Error) => ({ ok: false as const, error: e.message }),
  );
  const outcome = await a.host.migrate('g', src, { link: TEST_LINK }).then(
    (report) => ({ ok: true as const, report }),
    (e: unknown) => ({ ok: false as const, error: e instanceof HostError ? `${e.status} ${e.message}` : String(e) }),
  );
  return { a, b, outcome, landed: await landing };
}
