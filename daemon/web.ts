// The web console (virt-manager's place), served by the daemon on its loopback port under /ui/:
// a page bundled from web/client/ by esbuild the first time it is asked for (no build step),
// a login that exchanges the token (STATE_DIR/token) for a session cookie (HttpOnly,
// SameSite=Strict; a random id, never the token itself), and one WebSocket per page (`ws`) that
// checks the cookie and the Origin and carries the API's commands (validated by the same zod
// schemas as the HTTP API), state changes and console streams. Every page has a
// Content-Security-Policy that allows only the daemon's own scripts and connections.
// Host code (the daemon's main thread); reads STATE_DIR/compare.json for the comparison page.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { ROUTES, type Route } from './api.ts';
import { describeIssue } from './definition.ts';

/** The cookie that names a logged-in browser session. */
export const SESSION_COOKIE = 'xenolith_session';
/** Most sessions kept (the oldest goes first). */
const MAX_SESSIONS = 64;
/** Most bytes a WebSocket message may have. */
const MAX_WS_MESSAGE = 1 << 20;

/** The pages' policy: scripts, styles, connections and images from the daemon only; no framing. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data: blob:; font-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** The comparison report: a self-contained page with inline styles and no scripts, framed by the console. */
const REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT = join(ROOT, 'web', 'client');

export interface WebDeps {
  token: Buffer;
  stateDir: string;
  version: string;
  port: () => number;
  /** Host and Origin checks of the daemon (server.ts) */
  originAllowed: (origin: string) => boolean;
  /** a command for the host thread */
  call: (op: string, args: unknown) => Promise<unknown>;
  log: (line: string) => void;
  /** GET /daemon's answer (the server's, not the host thread's) */
  daemonInfo: () => unknown;
}

export interface WebConsole {
  /** Is this path the web console's? */
  handles(path: string): boolean;
  http(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** An HTTP upgrade on the loopback port (the Host header was checked) */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** A state change or console output, as the event streams get them */
  broadcast(name: string | null, event: string, data: unknown): void;
  close(): void;
}

/** The bundle: the page's script and its styles (xterm's included). */
interface Bundle {
  js: string;
  css: string;
}

let bundling: Promise<Bundle> | null = null;

/** Bundle web/client/app.ts with esbuild, once per process. */
export function webBundle(): Promise<Bundle> {
  bundling ??= (async () => {
    const esbuild = await import('esbuild');
    const r = await esbuild.build({
      entryPoints: [join(CLIENT, 'app.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      target: 'es2022',
      minify: true,
      outdir: join(ROOT, 'out', 'web'),
      logLevel: 'silent',
      legalComments: 'none',
    });
    const js = r.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
    const css = r.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
    return { js, css };
  })();
  bundling.catch(() => (bundling = null));
  return bundling;
}

/** The commands a page may send: every JSON route of the API but stopping the daemon. */
const WS_ROUTES = new Map<string, Route>(ROUTES.filter((r) => r.response !== 'sse' && r.op !== 'stop').map((r) => [r.op, r]));

const messageSchema = z
  .object({
    id: z.number().int().nonnegative(),
    op: z.string().max(40),
    name: z.string().max(63).optional(),
    body: z.unknown().optional(),
  })
  .strict();

interface Client {
  ws: WebSocket;
  /** domains whose console this page shows */
  consoles: Set<string>;
}

function cookieValue(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

export function createWebConsole(deps: WebDeps): WebConsole {
  const sessions = new Set<string>();
  const clients = new Set<Client>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE });

  const validSession = (req: IncomingMessage): boolean => {
    const id = cookieValue(req, SESSION_COOKIE);
    return id !== null && /^[0-9a-f]{64}$/.test(id) && sessions.has(id);
  };

  const headers = (type: string, policy = CONTENT_SECURITY_POLICY): Record<string, string> => ({
    'content-type': type,
    'cache-control': 'no-store',
    'content-security-policy': policy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': policy === CONTENT_SECURITY_POLICY ? 'DENY' : 'SAMEORIGIN',
  });

  const sendJson = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { ...headers('application/json'), ...extra });
    res.end(text);
  };

  const readJson = (req: IncomingMessage): Promise<unknown> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 4096) chunks.push(c);
      });
      req.on('end', () => {
        try {
          resolve(size > 4096 ? null : JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          resolve(null);
        }
      });
      req.on('error', () => resolve(null));
    });

  const comparePage = (): string => {
    const file = join(deps.stateDir, 'compare.json');
    if (!existsSync(file)) {
      return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>no comparison yet</title><style>body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222}code{background:#eee;padding:1px 4px}</style></head><body><h1>No comparison report yet</h1><p>The comparison runs every mode through the guest's test suite and benchmarks (a few minutes). Write its report where the daemon looks for it:</p><p><code>npx xenolith compare --json &gt; ${escapeHtml(file)}</code></p><p>and reload this page.</p></body></html>`;
    }
    return loadReportHtml(file);
  };

  let reportModule: typeof import('../bench/compare-render.ts') | null = null;
  const loadReportHtml = (file: string): string => {
    try {
      const report = JSON.parse(readFileSync(file, 'utf8'));
      if (!reportModule) throw new Error('not loaded');
      return reportModule.renderHtml(report);
    } catch (e) {
      return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bad report</title></head><body><p>${escapeHtml(file)}: not a comparison report (${escapeHtml((e as Error).message)})</p></body></html>`;
    }
  };

  const http = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/' || path === '/ui') {
      res.writeHead(302, { location: '/ui/', 'cache-control': 'no-store' });
      res.end();
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'max-age=86400' });
      res.end();
      return;
    }
    if (method === 'GET' && path === '/ui/') {
      res.writeHead(200, headers('text/html; charset=utf-8'));
      res.end(readFileSync(join(CLIENT, 'index.html'), 'utf8').replace('{{version}}', escapeHtml(deps.version)));
      return;
    }
    if (method === 'GET' && (path === '/ui/app.js' || path === '/ui/app.css')) {
      let b: Bundle;
      try {
        b = await webBundle();
      } catch (e) {
        deps.log(`web console: the bundle does not build: ${(e as Error).message}`);
        return sendJson(res, 500, { error: `the web console's bundle does not build: ${(e as Error).message.split('\n')[0]}` });
      }
      const js = path.endsWith('.js');
      res.writeHead(200, headers(js ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8'));
      res.end(js ? b.js : b.css);
      return;
    }
    if (method === 'GET' && path === '/ui/session') return sendJson(res, 200, { loggedIn: validSession(req), version: deps.version });
    if (method === 'POST' && path === '/ui/login') {
      // a login form posted from another site would carry its own Origin
      const origin = req.headers.origin;
      if (origin === undefined || !deps.originAllowed(origin)) return sendJson(res, 403, { error: 'log in from the daemon\'s own page' });
      const body = await readJson(req);
      const given = typeof (body as { token?: unknown } | null)?.token === 'string' ? Buffer.from((body as { token: string }).token.trim()) : Buffer.alloc(0);
      if (given.length !== deps.token.length || !timingSafeEqual(given, deps.token)) return sendJson(res, 401, { error: 'wrong token (it is the contents of STATE_DIR/token)' });
      const id = randomBytes(32).toString('hex');
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.values().next().value!);
      sessions.add(id);
      return sendJson(res, 200, { ok: true }, { 'set-cookie': `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/ui` });
    }
    if (method === 'POST' && path === '/ui/logout') {
      const id = cookieValue(req, SESSION_COOKIE);
      if (id) sessions.delete(id);
      return sendJson(res, 200, { ok: true }, { 'set-cookie': `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0` });
    }
    if (method === 'GET' && path === '/ui/compare.html') {
      if (!validSession(req)) return sendJson(res, 401, { error: 'log in first' });
      reportModule ??= await import('../bench/compare-render.ts');
      res.writeHead(200, headers('text/html; charset=utf-8', REPORT_POLICY));
      res.end(comparePage());
      return;
    }
    return sendJson(res, 404, { error: `no page ${path}` });
  };

  const send = (c: Client, msg: unknown) => {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(msg));
  };

  const command = async (c: Client, raw: string): Promise<void> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return send(c, { id: null, ok: false, status: 400, error: 'a message must be JSON' });
    }
    const m = messageSchema.safeParse(parsed);
    if (!m.success) return send(c, { id: null, ok: false, status: 400, error: describeIssue(m.error) });
    const { id, op, name, body } = m.data;
    const fail = (status: number, error: string) => send(c, { id, ok: false, status, error });
    if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) return fail(400, `"${name}" is not a domain name`);
    if (op === 'attach' || op === 'detach') {
      if (name === undefined) return fail(400, `${op} needs a domain name`);
      if (op === 'detach') {
        c.consoles.delete(name);
        return send(c, { id, ok: true, value: { ok: true } });
      }
      try {
        const log = (await deps.call('consoleLog', { name })) as { data: string; status: string };
        c.consoles.add(name);
        return send(c, { id, ok: true, value: log });
      } catch (e) {
        const err = e as { status?: number; message: string };
        return fail(err.status ?? 500, err.message);
      }
    }
    const route = WS_ROUTES.get(op);
    if (!route) return fail(400, `unknown command '${op}'`);
    if (route.op === 'daemon') return send(c, { id, ok: true, value: deps.daemonInfo() });
    const args: Record<string, unknown> = {};
    if (route.path.includes('{name}')) {
      if (name === undefined) return fail(400, `${op} needs a domain name`);
      args.name = name;
    }
    if (route.body) {
      const r = (route.body as z.ZodType).safeParse(body ?? {});
      if (!r.success) return fail(400, describeIssue(r.error));
      if (route.op === 'define') args.definition = body;
      else Object.assign(args, r.data as object);
    }
    try {
      send(c, { id, ok: true, value: await deps.call(route.op, args) });
    } catch (e) {
      const err = e as { status?: number; message: string };
      fail(err.status ?? 500, err.message);
    }
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const refuse = (status: number, why: string) => {
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Forbidden'}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${why}\n`);
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ui/ws') return refuse(404, 'no WebSocket here (the web console\'s is /ui/ws)');
    const origin = req.headers.origin;
    if (origin === undefined || !deps.originAllowed(origin)) return refuse(403, `Origin "${origin ?? ''}" may not use this daemon`);
    if (!validSession(req)) return refuse(401, 'log in first (POST /ui/login with the token)');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c: Client = { ws, consoles: new Set() };
      clients.add(c);
      ws.on('message', (data, isBinary) => {
        if (isBinary) return send(c, { id: null, ok: false, status: 400, error: 'messages are JSON text' });
        void command(c, data.toString());
      });
      ws.on('close', () => clients.delete(c));
      ws.on('error', () => clients.delete(c));
      send(c, { event: 'hello', version: deps.version });
    });
  };

  const broadcast = (name: string | null, event: string, data: unknown): void => {
    if (clients.size === 0) return;
    const text = JSON.stringify(event === 'output' ? { event, name, data: (data as { data: string }).data } : { event, data });
    for (const c of clients) {
      if (event === 'output' && (name === null || !c.consoles.has(name))) continue;
      if (c.ws.readyState === c.ws.OPEN) c.ws.send(text);
    }
  };

  return {
    handles: (path) => path === '/' || path === '/ui' || path === '/favicon.ico' || path.startsWith('/ui/'),
    http,
    upgrade,
    broadcast,
    close() {
      for (const c of clients) c.ws.terminate();
      clients.clear();
      wss.close();
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
