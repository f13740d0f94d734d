// Where a migration's connection is made: the destination daemon's own HTTP port, upgraded to the
// migration stream (`GET /migrate` with `Upgrade: xenolith-migration/1` and the destination's
// token as `Authorization: Bearer TOKEN`, checked as every API request is). Nothing assumes one
// machine: the source names the destination by URL. A refused upgrade is an HTTP answer with a
// one-line JSON error; the source reports it as one line. Host code (node:http, sockets).

import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { socketTransport, type Transport } from './channel.ts';
import { MigrationError } from './wire.ts';

export const MIGRATE_PATH = '/migrate';
export const UPGRADE_PROTOCOL = 'xenolith-migration/1';

/** A socket as a Transport, with bytes that came with the upgrade (`head`) delivered first. */
function upgradedTransport(sock: Duplex, head: Uint8Array): Transport {
  const t = socketTransport(sock);
  return {
    ...t,
    onData: (cb) => {
      if (head.length > 0) queueMicrotask(() => cb(head));
      t.onData(cb);
    },
  };
}

function refuse(sock: Duplex, status: number, text: string, message: string): null {
  const body = JSON.stringify({ error: message });
  sock.on('error', () => sock.destroy());
  sock.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  return null;
}

/** Is this upgrade request a migration's (the server routes it here)? */
export function isMigrationUpgrade(req: IncomingMessage): boolean {
  return new URL(req.url ?? '/', 'http://localhost').pathname === MIGRATE_PATH;
}

/**
 * The destination's side of the upgrade: check the token and the protocol, answer 101 and give
 * the stream as a Transport - or answer the refusal (401, 400) and return null.
 */
export function acceptMigrationUpgrade(req: IncomingMessage, sock: Duplex, head: Uint8Array, token: Uint8Array): Transport | null {
  const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  const given = m ? Buffer.from(m[1]!) : null;
  if (given === null || given.length !== token.length || !timingSafeEqual(given, token)) {
    return refuse(sock, 401, 'Unauthorized', "a migration needs the destination's token: Authorization: Bearer (the contents of its STATE_DIR/token)");
  }
  if (req.method !== 'GET' || (req.headers.upgrade ?? '').toLowerCase() !== UPGRADE_PROTOCOL) {
    return refuse(sock, 400, 'Bad Request', `a migration is GET ${MIGRATE_PATH} with Upgrade: ${UPGRADE_PROTOCOL}`);
  }
  sock.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${UPGRADE_PROTOCOL}\r\nconnection: Upgrade\r\n\r\n`);
  return upgradedTransport(sock, head);
}

/** Check a destination URL: http://HOST:PORT (the daemon's API port). */
export function parseDestination(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MigrationError(`"${url}" is not a URL (the destination daemon's, e.g. http://127.0.0.1:PORT)`);
  }
  if (u.protocol !== 'http:') throw new MigrationError(`"${url}": the destination daemon's URL is http://HOST:PORT`);
  return u;
}

/** The source's side: connect to the destination daemon at `url` with its token; the migration stream. */
export function openMigration(url: string, token: string): Promise<Transport> {
  let u: URL;
  try {
    u = parseDestination(url);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const req = request({
      host: u.hostname,
      port: u.port === '' ? 80 : Number(u.port),
      path: MIGRATE_PATH,
      method: 'GET',
      headers: { connection: 'Upgrade', upgrade: UPGRADE_PROTOCOL, authorization: `Bearer ${token}`, host: u.host },
    });
    req.on('upgrade', (_res, sock, head) => resolve(upgradedTransport(sock, new Uint8Array(head))));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let msg = `status ${res.statusCode}`;
        try {
          msg = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: string }).error ?? msg;
        } catch {
          // keep the status
        }
        reject(new MigrationError(`the destination ${u.host} refused the migration (${res.statusCode}): ${msg}`));
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => reject(new MigrationError(`cannot reach the destination ${u.host} (${e.code ?? e.message})`)));
    req.end();
  });
}
