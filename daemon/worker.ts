// The host thread of `xenolith daemon`: the whole simulated machine - every domain, the shared
// pv machine's grants, event channels and page types - lives here, in one worker thread, so it
// runs deterministically while the main thread answers the API. Messages from the main thread
// are commands; they are handled between slices (Host.step), in arrival order. Posts replies,
// state events and console output back. Host code; touches the state directory (definitions).

import { parentPort, workerData } from 'node:worker_threads';
import type { GuestKernelBuild } from '../toolchain/guest-kernel.ts';
import { readFileSync } from 'node:fs';
import type { Engine } from '../machine/translator.ts';
import { isAbsolute } from 'node:path';
import { decodeImage, type Image } from '../machine/image.ts';
import { Host, HostError } from './host.ts';
import { monitorCommand } from './monitor.ts';
import { StateDir, stateFileProblem } from './state-dir.ts';
import { validateDefinition } from './definition.ts';
import type { HostRequest, HostReply, MigrateRelay, WorkerData } from './protocol.ts';
import { Channel, DEST_TIMEOUT_MS, type Transport } from './migration/channel.ts';
import { DEFAULT_LINK } from './migration/source.ts';

const port = parentPort!;
const data = workerData as WorkerData;

// The toolchain (and with it the TypeScript compiler) loads on the first command that needs a
// kernel, so the daemon answers at once; the built guest comes from the toolchain's cache.
let toolchain: {
  buildGuestKernel: typeof import('../toolchain/guest-kernel.ts').buildGuestKernel;
  compile: typeof import('../toolchain/compiler/index.ts').compile;
} | null = null;

async function loadToolchain(): Promise<void> {
  if (toolchain) return;
  const [gk, c] = await Promise.all([import('../toolchain/guest-kernel.ts'), import('../toolchain/compiler/index.ts')]);
  toolchain = { buildGuestKernel: gk.buildGuestKernel, compile: c.compile };
}

const guests = new Map<string, GuestKernelBuild>();
function guest(arch: 'native' | 'pv'): GuestKernelBuild {
  let g = guests.get(arch);
  if (!g) {
    g = toolchain!.buildGuestKernel({ arch });
    guests.set(arch, g);
  }
  return g;
}

/** A definition's kernel: an image file, or an entry module compiled for the mode's arch (errors are one line). */
function loadKernel(path: string, arch: 'native' | 'pv'): Image {
  if (path.endsWith('.ts')) return toolchain!.compile(path, { arch }).image;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return decodeImage(bytes, path);
}

/** Commands that may build or read a kernel, or symbolize with the user programs. */
const NEEDS_TOOLCHAIN = new Set(['start', 'reboot', 'monitor']);

const state = new StateDir(data.stateDir);
const host = new Host(state, {
  hostMemoryMiB: data.hostMemoryMiB,
  pacing: data.pacing,
  standardGuest: (arch) => guest(arch),
  loadKernel,
  onEvent: (event) => port.postMessage({ type: 'event', event } satisfies HostReply),
  onConsole: (name, bytes) => port.postMessage({ type: 'console', name, data: Buffer.from(bytes).toString('base64') } satisfies HostReply),
});

function dispatch(req: HostRequest): unknown {
  const a = req.args as Record<string, unknown>;
  const name = a.name as string;
  switch (req.op) {
    case 'list':
      return { domains: host.list() };
    case 'bridges':
      return { bridges: host.bridges() };
    case 'dominfo':
      return host.dominfo(name);
    case 'definition':
      return host.definition(name);
    case 'define': {
      const def = validateDefinition(a.definition);
      // the daemon has no notion of the client's working directory
      for (const [field, path] of [['kernel', def.kernel], ...def.disks.map((d, k) => [`disks.${k}.file`, d.file])] as [string, string | undefined][]) {
        if (path !== undefined && !isAbsolute(path)) throw new HostError(400, `field '${field}': the API takes absolute paths (got "${path}")`);
      }
      // what the daemon writes goes to its state directory's files/ alone: a plain name
      const recordProblem = def.record === undefined ? null : stateFileProblem(def.record);
      if (recordProblem !== null) throw new HostError(400, `field 'record': ${recordProblem}`);
      const r = host.define(def);
      return { created: r.created, domain: r.info };
    }
    case 'undefine':
      host.undefine(name);
      return { ok: true };
    case 'start':
      return host.start(name);
    case 'shutdown':
      return host.shutdown(name);
    case 'reboot':
      return host.reboot(name);
    case 'destroy':
      return host.destroy(name);
    case 'suspend':
      return host.suspend(name);
    case 'resume':
      return host.resume(name);
    // (the API's schema took a plain name: STATE_DIR/files/NAME)
    case 'save':
      return host.save(name, state.file(a.file as string));
    case 'restore':
      return host.restore(state.file(a.file as string));
    case 'migrate': {
      // answered when the migration has ended (handle() waits for the promise; later commands do not)
      const mbps = a.linkMbps as number | undefined;
      const latencyMs = a.latencyMs as number | undefined;
      const link = { bytesPerSecond: mbps !== undefined ? (mbps * 1_000_000) / 8 : DEFAULT_LINK.bytesPerSecond, latencyMs: latencyMs ?? DEFAULT_LINK.latencyMs };
      return host.migrateTo(name, a.to as string, a.token as string, { link });
    }
    case 'pvRecord':
      return { machine: host.recordPv(state.file(a.file as string), a.profile as string, a.engine as Engine).machine, file: a.file as string };
    case 'pvRecordStop':
      return host.stopPvRecording();
    case 'domstats':
      return host.domstats(name);
    case 'setmem':
      return host.setmem(name, a.memory as number);
    case 'schedinfo':
      return host.schedinfo(name);
    case 'setWeight':
      host.setWeight(name, a.weight as number);
      return host.schedinfo(name);
    case 'monitor':
      return { output: monitorCommand(host, name, a.command as string, guest(host.definition(name).mode === 'pv' ? 'pv' : 'native').userImages) };
    case 'consoleLog':
      return { data: Buffer.from(host.consoleLog(name)).toString('base64'), status: host.dominfo(name).status };
    case 'consoleInput':
      host.consoleInput(name, Buffer.from(a.data as string, 'latin1'));
      return { ok: true };
    case 'trace':
      // answered when the trace is done (handle() waits for the promise; later commands do not)
      return host.trace(name, a.cycles as number | undefined, a.records as number | undefined);
    case 'shutdownAll':
      host.shutdownAll();
      return { ok: true };
    default:
      throw new HostError(400, `unknown operation '${req.op}'`);
  }
}

// ---------------------------------------------------------------- the loop: slices, then messages

let timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | null = null;
let immediate = false;

function schedule(waitMs: number): void {
  if (timer !== null) {
    if (immediate) clearImmediate(timer as ReturnType<typeof setImmediate>);
    else clearTimeout(timer as ReturnType<typeof setTimeout>);
    timer = null;
  }
  if (waitMs === Infinity) return;
  immediate = waitMs <= 0;
  timer = immediate ? setImmediate(loop) : setTimeout(loop, Math.min(waitMs, 1000));
}

function loop(): void {
  timer = null;
  let wait: number;
  try {
    wait = host.step();
  } catch (e) {
    // a bug in the host itself: report it and go on (the domains' own faults never get here)
    port.postMessage({ type: 'log', message: `host step failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` } satisfies HostReply);
    wait = 100;
  }
  schedule(wait);
}

function failure(req: HostRequest, e: unknown): HostReply {
  const status = e instanceof HostError ? e.status : e instanceof Error && e.name === 'DefinitionError' ? 400 : 500;
  return { type: 'reply', id: req.id, ok: false, status, error: e instanceof Error ? e.message : String(e) };
}

function handle(req: HostRequest): void {
  let reply: HostReply | null;
  try {
    const value = dispatch(req);
    if (value instanceof Promise) {
      // a command answered later (a trace): the reply goes when it settles
      value.then(
        (v: unknown) => port.postMessage({ type: 'reply', id: req.id, ok: true, value: v } satisfies HostReply),
        (e: unknown) => port.postMessage(failure(req, e)),
      );
      reply = null;
    } else reply = { type: 'reply', id: req.id, ok: true, value };
  } catch (e) {
    reply = failure(req, e);
  }
  if (reply) port.postMessage(reply);
  // a command may have made something runnable (start, resume, console input)
  schedule(0);
}

// ---------------------------------------------------------------- incoming migrations

/** The incoming migrations' connections, relayed by the main thread (it holds the sockets). */
const relays = new Map<number, { deliver: (b: Uint8Array) => void; closed: (why: string) => void }>();

/** An incoming migration's relayed connection as a Transport; bytes before the channel listens wait. */
function relayTransport(session: number): Transport {
  const early: Uint8Array[] = [];
  let onData: ((b: Uint8Array) => void) | null = null;
  let onClose: ((why: string) => void) | null = null;
  let closedWhy: string | null = null;
  relays.set(session, {
    deliver: (b) => (onData ? onData(b) : early.push(b)),
    closed: (why) => {
      relays.delete(session);
      closedWhy = why;
      onClose?.(why);
    },
  });
  return {
    write: (bytes) => port.postMessage({ type: 'migrate', session, kind: 'data', data: bytes } satisfies HostReply),
    end: () => {
      relays.delete(session);
      port.postMessage({ type: 'migrate', session, kind: 'end' } satisfies HostReply);
    },
    onData: (cb) => {
      onData = cb;
      for (const b of early.splice(0)) cb(b);
    },
    onClose: (cb) => {
      onClose = cb;
      if (closedWhy !== null) cb(closedWhy);
    },
  };
}

function relayIn(m: MigrateRelay): void {
  if (m.kind === 'open') {
    const transport = relayTransport(m.session);
    // the domain may boot the standard guest: the toolchain first (its bytes wait meanwhile)
    queue = queue.then(loadToolchain).then(
      () => {
        host.incoming(new Channel(transport, 'the source', DEST_TIMEOUT_MS)).then(
          () => schedule(0),
          (e: Error) => port.postMessage({ type: 'log', message: `incoming migration failed: ${e.message}` } satisfies HostReply),
        );
        schedule(0);
      },
      (e: Error) => {
        transport.end();
        port.postMessage({ type: 'log', message: `incoming migration: the toolchain does not load: ${e.message}` } satisfies HostReply);
      },
    );
  } else if (m.kind === 'data') relays.get(m.session)?.deliver(m.data);
  else relays.get(m.session)?.closed(m.why);
}

// Commands apply in arrival order: one waiting for the toolchain to load holds the later ones.
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: HostRequest) => {
  if (req.op === 'migrateIn') {
    relayIn(req.args as MigrateRelay);
    return;
  }
  const known = typeof (req.args as { name?: unknown }).name === 'string' && host.list().some((d) => d.name === (req.args as { name: string }).name);
  if (toolchain === null && NEEDS_TOOLCHAIN.has(req.op) && known) {
    queue = queue.then(loadToolchain).then(
      () => handle(req),
      (e: Error) => port.postMessage({ type: 'reply', id: req.id, ok: false, status: 500, error: `the toolchain does not load: ${e.message}` } satisfies HostReply),
    );
  } else queue = queue.then(() => handle(req));
});

port.postMessage({ type: 'ready' } satisfies HostReply);
schedule(0);
