// The live-migration protocol's messages and their framing on the byte stream between two
// daemons (docs/migration.md "The protocol"). A frame is a fixed 16-byte header - magic `XLMG`,
// the protocol version, the JSON part's length and the binary part's length - then a JSON object
// (the message, checked with zod against its type's schema) and raw bytes (pages, the state).
// Every check a reader makes ends in one MigrationError line; nothing of a bad frame is used.
// Pure: no sockets (daemon/migration/channel.ts carries the frames).

import { z } from 'zod';

/** The first four bytes of every frame: "XLMG". */
export const FRAME_MAGIC = 0x474d4c58; // little-endian "XLMG"
/** The protocol this build speaks; a frame of another version is refused. */
export const PROTOCOL_VERSION = 1;
export const FRAME_HEADER_BYTES = 16;
/** The JSON part of a frame is at most this long (a page list of a 1 GiB domain fits). */
export const MAX_JSON_BYTES = 4 << 20;
/** The binary part of a frame is at most this long (a batch of pages, or the stop-and-copy state). */
export const MAX_BINARY_BYTES = 1 << 30;
/** Pages per `pages` message: a round is sent in batches of this many. */
export const PAGES_PER_BATCH = 256;

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const int = z.number().int().min(0);
const linkSchema = z.object({ bytesPerSecond: z.number().positive().finite(), latencyMs: z.number().min(0).finite() }).strict();
const roundSchema = z.object({ round: int.min(1), pagesSent: int, pagesDirtied: int, cycles: int }).strict();

/** Every message, by `type`. The binary part each carries is named in its comment. */
export const messageSchema = z.discriminatedUnion('type', [
  /** source -> destination: what comes; no binary part */
  z
    .object({
      type: z.literal('hello'),
      name: z.string().min(1).max(63),
      definition: z.record(z.string(), z.unknown()),
      mode: z.enum(['native', 'pv', 'trap', 'bt', 'hvm']),
      /** the domain's pseudo-physical frames (pages) */
      pages: int.min(1),
      link: linkSchema,
      clockMHz: z.number().positive(),
    })
    .strict(),
  /** destination -> source: ready to take the domain */
  z.object({ type: z.literal('welcome') }).strict(),
  /** source -> destination: pages of a round; binary: pfns.length x 4096 bytes, in the list's order */
  z.object({ type: z.literal('pages'), round: int.min(1), pfns: z.array(int).max(PAGES_PER_BATCH) }).strict(),
  /** source -> destination: a pre-copy round is complete */
  z.object({ type: z.literal('round-end'), round: int.min(1), pagesSent: int }).strict(),
  /** destination -> source: the round's pages are held */
  z.object({ type: z.literal('round-ok'), round: int.min(1), pagesHeld: int }).strict(),
  /**
   * source -> destination: stop-and-copy. The domain is paused; binary: the last dirty pages
   * (pfns.length x 4096) then the save file of the rest of the state (stateBytes).
   */
  z
    .object({
      type: z.literal('state'),
      pfns: z.array(int),
      stateBytes: int.min(1),
      downtimeCycles: int,
      rounds: z.array(roundSchema),
    })
    .strict(),
  /** destination -> source: the domain is built, paused; it runs on commit */
  z.object({ type: z.literal('state-ok'), pagesHeld: int }).strict(),
  /** source -> destination: the source will give its copy up; run yours */
  z.object({ type: z.literal('commit') }).strict(),
  /** destination -> source: committed (the domain runs here once `done` comes) */
  z.object({ type: z.literal('committed') }).strict(),
  /** source -> destination: the source's copy is gone */
  z.object({ type: z.literal('done') }).strict(),
  /** either way: the migration is off, and why (one line) */
  z.object({ type: z.literal('error'), message: z.string().max(2000) }).strict(),
]);

export type Message = z.infer<typeof messageSchema>;
export type MessageType = Message['type'];
export type LinkSpec = z.infer<typeof linkSchema>;

/** A message and its binary part. */
export interface Frame {
  msg: Message;
  bin: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** The bytes of one frame. */
export function encodeFrame(msg: Message, bin: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = enc.encode(JSON.stringify(msg));
  if (json.length > MAX_JSON_BYTES) throw new MigrationError(`a ${msg.type} message of ${json.length} bytes of JSON is past the limit (${MAX_JSON_BYTES})`);
  if (bin.length > MAX_BINARY_BYTES) throw new MigrationError(`a ${msg.type} message of ${bin.length} bytes is past the limit (${MAX_BINARY_BYTES})`);
  const out = new Uint8Array(FRAME_HEADER_BYTES + json.length + bin.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, FRAME_MAGIC, true);
  dv.setUint16(4, PROTOCOL_VERSION, true);
  dv.setUint16(6, 0, true);
  dv.setUint32(8, json.length, true);
  dv.setUint32(12, bin.length, true);
  out.set(json, FRAME_HEADER_BYTES);
  out.set(bin, FRAME_HEADER_BYTES + json.length);
  return out;
}

/** The issue of a zod failure as one line. */
function issueLine(e: z.ZodError): string {
  const i = e.issues[0]!;
  return `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`;
}

/** Check a message's JSON and, by its type, its binary part's length. */
export function checkMessage(value: unknown, binBytes: number): Message {
  const r = messageSchema.safeParse(value);
  if (!r.success) {
    const type = typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' ? (value as { type: string }).type : '?';
    throw new MigrationError(`a bad ${type} message: ${issueLine(r.error)}`);
  }
  const msg = r.data;
  const want = msg.type === 'pages' ? msg.pfns.length * 4096 : msg.type === 'state' ? msg.pfns.length * 4096 + msg.stateBytes : 0;
  if (binBytes !== want) throw new MigrationError(`a ${msg.type} message carries ${binBytes} bytes; it should carry ${want}`);
  return msg;
}

/**
 * Reads frames from a byte stream that arrives in pieces: push() the bytes as they come, and
 * take the whole frames it returns. A bad frame throws one MigrationError line.
 */
export class FrameReader {
  private parts: Uint8Array[] = [];
  private have = 0;

  push(bytes: Uint8Array): Frame[] {
    if (bytes.length > 0) {
      this.parts.push(bytes);
      this.have += bytes.length;
    }
    const out: Frame[] = [];
    for (;;) {
      if (this.have < FRAME_HEADER_BYTES) return out;
      const head = this.peek(FRAME_HEADER_BYTES);
      const dv = new DataView(head.buffer, head.byteOffset, FRAME_HEADER_BYTES);
      if (dv.getUint32(0, true) !== FRAME_MAGIC) throw new MigrationError('not a xenolith migration stream (bad frame magic)');
      const version = dv.getUint16(4, true);
      if (version !== PROTOCOL_VERSION) throw new MigrationError(`migration protocol version ${version}; this build speaks version ${PROTOCOL_VERSION}`);
      const jsonLen = dv.getUint32(8, true);
      const binLen = dv.getUint32(12, true);
      if (jsonLen > MAX_JSON_BYTES) throw new MigrationError(`a frame of ${jsonLen} bytes of JSON is past the limit (${MAX_JSON_BYTES})`);
      if (binLen > MAX_BINARY_BYTES) throw new MigrationError(`a frame of ${binLen} binary bytes is past the limit (${MAX_BINARY_BYTES})`);
      const total = FRAME_HEADER_BYTES + jsonLen + binLen;
      if (this.have < total) return out;
      const whole = this.take(total);
      let value: unknown;
      try {
        value = JSON.parse(dec.decode(whole.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + jsonLen)));
      } catch (e) {
        throw new MigrationError(`a frame's message is not JSON (${(e as Error).message})`);
      }
      const bin = whole.subarray(FRAME_HEADER_BYTES + jsonLen);
      out.push({ msg: checkMessage(value, bin.length), bin });
    }
  }

  /** The first n buffered bytes (joined if need be), left buffered. */
  private peek(n: number): Uint8Array {
    if (this.parts[0]!.length >= n) return this.parts[0]!;
    const joined = this.join();
    return joined.subarray(0, n);
  }

  /** Take the first n buffered bytes. */
  private take(n: number): Uint8Array {
    let first = this.parts[0]!;
    if (first.length < n) first = this.join();
    const out = first.subarray(0, n);
    if (first.length === n) this.parts.shift();
    else this.parts[0] = first.subarray(n);
    this.have -= n;
    return out;
  }

  private join(): Uint8Array {
    const all = new Uint8Array(this.have);
    let at = 0;
    for (const p of this.parts) {
      all.set(p, at);
      at += p.length;
    }
    this.parts = [all];
    return all;
  }
}
