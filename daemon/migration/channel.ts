// A migration's message channel over a byte transport: a TCP socket (the source's side, and the
// destination's in-process), or the daemon's relay between its HTTP thread, which holds the
// destination's socket, and its host thread (daemon/server.ts, daemon/worker.ts). Frames are
// daemon/migration/wire.ts's. A closed or silent peer, or a peer's `error` message, ends every
// wait with one MigrationError line. Host code.

import type { Duplex } from 'node:stream';
import { FrameReader, MigrationError, encodeFrame, type Frame, type Message, type MessageType } from './wire.ts';

/** Bytes both ways, and the end of the stream. */
export interface Transport {
  write(bytes: Uint8Array): void;
  /** close (the peer sees the stream end) */
  end(): void;
  onData(cb: (bytes: Uint8Array) => void): void;
  /** the stream ended or failed (`why`: one line) */
  onClose(cb: (why: string) => void): void;
}

/** A socket as a Transport. */
export function socketTransport(sock: Duplex): Transport {
  return {
    write: (b) => {
      if (!sock.destroyed) sock.write(b);
    },
    end: () => {
      sock.end();
    },
    onData: (cb) => sock.on('data', (b: Buffer) => cb(new Uint8Array(b.buffer, b.byteOffset, b.byteLength))),
    onClose: (cb) => {
      let why = 'the connection closed';
      sock.on('error', (e: NodeJS.ErrnoException) => (why = `the connection failed (${e.code ?? e.message})`));
      sock.on('close', () => cb(why));
    },
  };
}

/**
 * Default wall time to wait for the peer's next message. A closed or reset connection is seen at
 * once; this is for a peer that hangs. The destination waits longer (DEST_TIMEOUT_MS): between two
 * rounds the source runs the guest for the round's simulated time, which a slow host takes a while
 * to compute.
 */
export const PEER_TIMEOUT_MS = 60_000;
export const DEST_TIMEOUT_MS = 600_000;

export class Channel {
  private readonly reader = new FrameReader();
  private readonly frames: Frame[] = [];
  private waiter: { resolve: (f: Frame) => void; reject: (e: MigrationError) => void; timer: ReturnType<typeof setTimeout> } | null = null;
  /** why the channel ended (a closed stream, a bad frame, the peer's error), or null while open */
  private failure: MigrationError | null = null;
  closed = false;

  constructor(
    private readonly t: Transport,
    /** the peer, as messages name it: 'the destination' or 'the source' */
    readonly peer: string,
    private readonly timeoutMs = PEER_TIMEOUT_MS,
  ) {
    t.onData((bytes) => {
      if (this.failure) return;
      let got: Frame[];
      try {
        got = this.reader.push(bytes);
      } catch (e) {
        this.fail(new MigrationError(`${peer} sent ${(e as Error).message}`));
        this.t.end();
        return;
      }
      for (const f of got) {
        if (f.msg.type === 'error') {
          this.fail(new MigrationError(`${peer}: ${f.msg.message}`));
          return;
        }
        this.frames.push(f);
      }
      this.deliver();
    });
    t.onClose((why) => {
      this.closed = true;
      this.fail(new MigrationError(`${peer} went away: ${why}`));
    });
  }

  private fail(e: MigrationError): void {
    this.failure ??= e;
    this.deliver();
  }

  private deliver(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.frames.length > 0) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.resolve(this.frames.shift()!);
    } else if (this.failure) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.reject(this.failure);
    }
  }

  send(msg: Message, bin?: Uint8Array): void {
    if (this.failure && this.closed) throw this.failure;
    this.t.write(encodeFrame(msg, bin));
  }

  /** The next message (one waiter at a time). */
  next(): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new MigrationError(`${this.peer} did not answer within ${this.timeoutMs / 1000} s`));
      }, this.timeoutMs);
      this.waiter = { resolve, reject, timer };
      this.deliver();
    });
  }

  /** The next message, which must be of type `type`. */
  async expect<T extends MessageType>(type: T): Promise<{ msg: Extract<Message, { type: T }>; bin: Uint8Array }> {
    const f = await this.next();
    if (f.msg.type !== type) throw new MigrationError(`${this.peer} sent ${f.msg.type} where ${type} was due`);
    return f as { msg: Extract<Message, { type: T }>; bin: Uint8Array };
  }

  /** Tell the peer why we stop (best effort), and close. */
  abort(message: string): void {
    try {
      if (!this.closed) this.t.write(encodeFrame({ type: 'error', message: message.slice(0, 2000) }));
    } catch {
      // the stream is gone already
    }
    this.close();
  }

  close(): void {
    if (!this.closed) this.t.end();
    this.closed = true;
    this.failure ??= new MigrationError('the migration channel is closed');
  }
}
