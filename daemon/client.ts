// The API client the CLI verbs use: requests over the state directory's unix socket with the
// token from STATE_DIR/token. Like libvirt's session mode, the first verb starts a daemon for the
// state directory when none answers (detached, its output in STATE_DIR/daemon.log).
// Host code; reads the state directory, may spawn `xenolith daemon`.

import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StateDir } from './state-dir.ts';
import { socketAlive } from './socket.ts';

/** An API answer that is not 200: the status and the daemon's one-line message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** How long a verb waits for an auto-started daemon to answer. */
const START_TIMEOUT_MS = 30_000;

export class DaemonClient {
  constructor(
    readonly state: StateDir,
    private readonly token: string,
  ) {}

  /** One request; the parsed JSON body of a 200 answer, else an ApiError. */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, host: 'localhost' };
      if (data !== undefined) headers['content-type'] = 'application/json';
      const req = request({ socketPath: this.state.socketPath, path, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            return reject(new ApiError(res.statusCode ?? 500, `the daemon answered ${res.statusCode} with no JSON`));
          }
          if (res.statusCode === 200) resolve(parsed as T);
          else reject(new ApiError(res.statusCode ?? 500, (parsed as { error?: string }).error ?? `status ${res.statusCode}`));
        });
      });
      req.on('error', (e) => reject(new ApiError(503, `the daemon does not answer on ${this.state.socketPath} (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
      if (data !== undefined) req.write(data);
      req.end();
    });
  }

  /**
   * Follow an event stream: `onEvent(event, data)` for each event until the stream ends or
   * `onEvent` returns false. Resolves when it ends; the returned `stop` ends it early.
   */
  stream(path: string, onEvent: (event: string, data: unknown) => boolean | void): { done: Promise<void>; stop: () => void } {
    let stop = () => {};
    const done = new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: this.state.socketPath, path, method: 'GET', headers: { authorization: `Bearer ${this.token}`, host: 'localhost' } }, (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let msg = `status ${res.statusCode}`;
            try {
              msg = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error: string }).error;
            } catch {
              // keep the status
            }
            reject(new ApiError(res.statusCode ?? 500, msg));
          });
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let at: number;
          while ((at = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, at);
            buf = buf.slice(at + 2);
            let event = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (data === '') continue;
            if (onEvent(event, JSON.parse(data)) === false) {
              req.destroy();
              resolve();
              return;
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      });
      req.on('error', (e) => reject(new ApiError(503, `the daemon does not answer (${e.message})`)));
      req.end();
      stop = () => {
        req.destroy();
        resolve();
      };
    });
    return { done, stop: () => stop() };
  }
}

/** The path of bin/xenolith.mjs (what an auto-started daemon runs). */
const BIN = fileURLToPath(new URL('../bin/xenolith.mjs', import.meta.url));

/** Start `xenolith daemon --state-dir DIR` detached; resolves once its socket answers. */
export async function startDaemonProcess(state: StateDir, extraArgs: string[] = []): Promise<void> {
  state.ensure();
  const out = openSync(state.logFile, 'a', 0o600);
  const child = spawn(process.execPath, [BIN, 'daemon', '--state-dir', state.dir, ...extraArgs], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await socketAlive(state.socketPath)) return;
    if (exited !== null && !(await socketAlive(state.socketPath))) {
      throw new ApiError(503, `the daemon for ${state.dir} did not start (exit ${exited}; see ${state.logFile})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new ApiError(503, `the daemon for ${state.dir} did not answer within ${START_TIMEOUT_MS / 1000} s (see ${state.logFile})`);
}

/** A client for the daemon of `dir`, starting one if none answers (unless autostart is false). */
export async function connectDaemon(dir: string, opts: { autostart?: boolean } = {}): Promise<DaemonClient> {
  const state = new StateDir(dir);
  if (!(await socketAlive(state.socketPath))) {
    if (opts.autostart === false) throw new ApiError(503, `no daemon is running for ${dir}`);
    await startDaemonProcess(state);
  }
  const token = state.readToken();
  if (!token) throw new ApiError(401, `no token in ${state.tokenFile}`);
  return new DaemonClient(state, token);
}
