// Whether a daemon answers on a unix socket: the client's question before it starts one, and the
// daemon's before it takes the socket over. Apart from daemon/server.ts, so a client command does
// not load the server (its API, web console and host) to ask it.
import { connect } from 'node:net';

/** Does something answer on the unix socket? */
export function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
