// `xenolith daemon`'s main thread: it starts the host thread (daemon/worker.ts), and serves the
// API (daemon/api.ts) over HTTP on loopback and on a unix socket in the state directory. Every
// request must carry the token (STATE_DIR/token, 0600) as `Authorization: Bearer TOKEN`; the Host
// header must name the loopback address (a DNS-rebinding page's Host names its own domain) and an
// Origin header, if any, must be the daemon's own; every body is validated by the route's zod
// schema. A request, however malformed, gets a one-line JSON error; a host thread that dies is
// started again (its domains are lost; the definitions are reloaded from the state directory).
// Host code; touches the state directory and its sockets.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync, chmodSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { describeIssue } from './definition.ts';
import { matchRoute, openApiDocument, type Route } from './api.ts';
import { StateDir, writeFileAtomic } from './state-dir.ts';
import { socketAlive } from './socket.ts';
import type { HostReply, HostRequest, WorkerData } from './protocol.ts';
import { createWebConsole, webBundle } from './web.ts';
import { acceptMigrationUpgrade, isMigrationUpgrade } from './migration/endpoint.ts';
import type { Transport } from './migration/channel.ts';
import type { MigrateRelay } from './protocol.ts';

export interface DaemonOptions {
  stateDir: string;
  /** TCP port on 127.0.0.1 (0: any free port) */
  port?: number;
  hostMemoryMiB?: number;
  pacing?: 'wall' | 'fast';
  version: string;
  /** diagnostics (the host thread's own failures) */
  log?: (line: string) => void;
}

export interface RunningDaemon {
  port: number;
  socketPath: string;
  /** resolves when the daemon has ended (daemon stop, or close()) */
  ended: Promise<void>;
  close(): Promise<void>;
}

/** Another daemon answers on the state directory's socket. */
export class DaemonRunningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DaemonRunningError';
  }
}

const MAX_BODY_BYTES = 1 << 20;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface SseClient {
  res: ServerResponse;
  /** a console stream's domain, or null for the event stream */
  name: string | null;
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const state = new StateDir(opts.stateDir);
  state.ensure();
  if (await socketAlive(state.socketPath)) {
    throw new DaemonRunningError(`a daemon already serves ${opts.stateDir} (its socket ${state.socketPath} answers); xenolith daemon stop ends it`);
  }
  rmSync(state.socketPath, { force: true });
  const token = Buffer.from(state.token());
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const pacing = opts.pacing ?? 'wall';

  // ------------------------------------------------------------------ the host thread
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: HttpError) => void }>();
  let nextId = 1;
  let worker!: Worker;
  let ending = false;
  const clients = new Set<SseClient>();
  // incoming migrations' connections: held here, their bytes relayed to the host thread
  const relays = new Map<number, Transport>();
  let nextRelay = 1;

  const broadcast = (name: string | null, event: string, data: unknown) => {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) if (c.name === null || c.name === name) c.res.write(text);
    web.broadcast(name, event, data);
  };

  const spawn = (): Promise<void> =>
    new Promise((ready, failed) => {
      const data: WorkerData = { stateDir: opts.stateDir, hostMemoryMiB: opts.hostMemoryMiB ?? 1024, pacing };
      const w = new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: data });
      worker = w;
      w.on('message', (m: HostReply) => {
        switch (m.type) {
          case 'ready':
            ready();
            break;
          case 'reply': {
            const p = pending.get(m.id);
            if (!p) break;
            pending.delete(m.id);
            if (m.ok) p.resolve(m.value);
            else p.reject(new HttpError(m.status, m.error));
            break;
          }
          case 'event':
            broadcast(m.event.name, 'state', m.event);
            break;
          case 'console':
            broadcast(m.name, 'output', { data: m.data });
            break;
          case 'log':
            log(m.message);
            break;
          case 'migrate': {
            const t = relays.get(m.session);
            if (!t) break;
            if (m.kind === 'data') t.write(m.data);
            else {
              relays.delete(m.session);
              t.end();
            }
            break;
          }
        }
      });
      w.on('error', (e) => log(`host thread error: ${e.stack ?? e.message}`));
      w.on('exit', (code) => {
        for (const p of pending.values()) p.reject(new HttpError(500, `the host thread ended (exit ${code}) before answering`));
        pending.clear();
        // an incoming migration dies with the host thread that held its staged domain
        for (const t of relays.values()) t.end();
        relays.clear();
        if (ending || worker !== w) return;
        log(`host thread ended (exit ${code}); starting it again (running domains are lost, definitions are kept)`);
        broadcast(null, 'host', { restarted: true });
        spawn().catch((e: Error) => log(`cannot restart the host thread: ${e.message}`));
      });
      w.once('error', failed);
    });

  const call = (op: string, args: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, args } satisfies HostRequest);
    });

  // the host thread starts meanwhile; requests wait in its queue until it is up
  const hostReady = spawn();

  // ------------------------------------------------------------------ HTTP
  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost']);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  // the web console (daemon/web.ts): its pages, login and WebSocket on the loopback port
  const daemonInfo = () => ({ pid: process.pid, version: opts.version, stateDir: opts.stateDir, port, socket: state.socketPath, pacing, uptimeMs: Date.now() - started });
  const web = createWebConsole({ token, stateDir: opts.stateDir, version: opts.version, port: () => port, originAllowed: (o) => allowedOrigins().has(o), call, log, daemonInfo });
  // bundled now, so the first page is quick (a failure is reported when a page asks for it)
  webBundle().catch(() => {});

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const readBody = (req: IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          reject(new HttpError(400, `the body is larger than ${MAX_BODY_BYTES} bytes`));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') return reject(new HttpError(400, 'this request needs a JSON body'));
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(new HttpError(400, `the body is not valid JSON (${(e as Error).message.replace(/, "[\s\S]*$/, '')})`));
        }
      });
      req.on('error', reject);
    });

  const authorized = (req: IncomingMessage): boolean => {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/.exec(h);
    if (!m) return false;
    const given = Buffer.from(m[1]!);
    return given.length === token.length && timingSafeEqual(given, token);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, viaSocket: boolean): Promise<void> => {
    const host = req.headers.host;
    if (!viaSocket || host !== undefined) {
      if (host === undefined || !allowedHosts().has(host)) throw new HttpError(403, `Host "${host ?? ''}" is not this daemon's loopback address (127.0.0.1:${port})`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) throw new HttpError(403, `Origin "${origin}" may not use this daemon`);
    if (!viaSocket && web.handles(new URL(req.url ?? '/', 'http://localhost').pathname)) return web.http(req, res);
    if (!authorized(req)) throw new HttpError(401, 'a token is needed: Authorization: Bearer (the contents of STATE_DIR/token)');
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/openapi.json' && req.method === 'GET') return send(res, 200, openApiDocument(opts.version));
    const match = matchRoute(req.method ?? 'GET', url.pathname);
    if (match === null) throw new HttpError(404, `no route ${req.method} ${url.pathname} (GET /openapi.json lists them)`);
    if ('allowed' in match) throw new HttpError(405, `${url.pathname} takes ${match.allowed.map((m) => m.toUpperCase()).join(', ')}, not ${req.method}`);
    const { route, name } = match;
    const args: Record<string, unknown> = {};
    if (name !== undefined) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) throw new HttpError(400, `"${name}" is not a domain name`);
      args.name = name;
    }
    if (route.body) {
      const body = await readBody(req);
      const r = (route.body as z.ZodType).safeParse(body);
      if (!r.success) throw new HttpError(400, describeIssue(r.error));
      if (route.op === 'define') args.definition = body;
      else Object.assign(args, r.data as object);
    }
    await serve(route, args, req, res);
  };

  const serve = async (route: Route, args: Record<string, unknown>, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    switch (route.op) {
      case 'daemon':
        return send(res, 200, daemonInfo());
      case 'stop':
        send(res, 200, { ok: true });
        setImmediate(() => void close());
        return;
      case 'events':
      case 'console': {
        let log: { data: string; status: string } | null = null;
        if (route.op === 'console') log = (await call('consoleLog', args)) as { data: string; status: string };
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(': xenolith\n\n');
        const client: SseClient = { res, name: route.op === 'console' ? (args.name as string) : null };
        if (log) {
          if (log.data.length > 0) res.write(`event: output\ndata: ${JSON.stringify({ data: log.data })}\n\n`);
          res.write(`event: state\ndata: ${JSON.stringify({ name: args.name, status: log.status, stopReason: null, detail: null })}\n\n`);
        }
        clients.add(client);
        // the subscriber knows from here on it misses nothing
        if (!log) res.write('event: ready\ndata: {}\n\n');
        const beat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
        req.on('close', () => {
          clearInterval(beat);
          clients.delete(client);
        });
        return;
      }
      default:
        return send(res, 200, await call(route.op, args));
    }
  };

  const handler = (viaSocket: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res, viaSocket).catch((e: unknown) => {
      if (e instanceof HttpError) send(res, e.status, { error: e.message });
      else send(res, 500, { error: `internal error: ${e instanceof Error ? e.message : String(e)}` });
    });
  };

  const tcp: Server = createServer(handler(false));
  const unix: Server = createServer(handler(true));
  for (const s of [tcp, unix]) s.on('clientError', (_e, sock) => sock.destroy());
  tcp.on('upgrade', (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const host = req.headers.host;
    if (host === undefined || !allowedHosts().has(host)) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\nHost "${host ?? ''}" is not this daemon's loopback address\n`);
      return;
    }
    if (isMigrationUpgrade(req)) {
      // an incoming live migration (daemon/migration/): the token is checked as for the API
      const t = acceptMigrationUpgrade(req, socket, new Uint8Array(head), token);
      if (t === null) return;
      const session = nextRelay++;
      relays.set(session, t);
      const relay = (args: MigrateRelay) => worker.postMessage({ id: 0, op: 'migrateIn', args } satisfies HostRequest);
      relay({ session, kind: 'open' });
      t.onData((data) => relay({ session, kind: 'data', data }));
      t.onClose((why) => {
        relays.delete(session);
        relay({ session, kind: 'close', why });
      });
      return;
    }
    web.upgrade(req, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (tcp.address() as { port: number }).port;
  await new Promise<void>((resolve, reject) => {
    unix.once('error', reject);
    const old = process.umask(0o177);
    unix.listen(state.socketPath, () => resolve());
    process.umask(old);
  });
  chmodSync(state.socketPath, 0o600);
  await hostReady;
  writeFileAtomic(state.infoFile, `${JSON.stringify({ pid: process.pid, port, socket: state.socketPath, version: opts.version })}\n`);

  let endedResolve!: () => void;
  const ended = new Promise<void>((r) => (endedResolve = r));
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await Promise.race([call('shutdownAll', {}), new Promise((r) => setTimeout(r, 2000))]);
      } catch {
        // the host thread is gone already
      }
      ending = true;
      web.close();
      for (const t of relays.values()) t.end();
      relays.clear();
      for (const c of clients) c.res.end();
      clients.clear();
      await worker.terminate();
      const closed = Promise.all([new Promise((r) => tcp.close(r)), new Promise((r) => unix.close(r))]);
      tcp.closeAllConnections();
      unix.closeAllConnections();
      await closed;
      rmSync(state.socketPath, { force: true });
      rmSync(state.infoFile, { force: true });
      endedResolve();
    })();
    return closing;
  };

  return { port, socketPath: state.socketPath, ended, close };
}
