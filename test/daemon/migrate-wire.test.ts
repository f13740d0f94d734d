// The migration protocol's framing and checks (daemon/migration/wire.ts) and its endpoint
// (daemon/migration/endpoint.ts): every frame checked - magic, version, limits, JSON, the message
// against its zod schema, the binary part's length - each refusal one line; frames split across
// reads come out whole; the upgrade needs the destination's token.
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { FrameReader, encodeFrame, MigrationError, FRAME_HEADER_BYTES, type Message } from '../../daemon/migration/wire.ts';
import { acceptMigrationUpgrade, openMigration } from '../../daemon/migration/endpoint.ts';
import { Channel } from '../../daemon/migration/channel.ts';

function refusal(bytes: Uint8Array): string {
  try {
    new FrameReader().push(bytes);
  } catch (e) {
    if (e instanceof MigrationError) return e.message;
    throw e;
  }
  return 'accepted';
}

function withJson(json: string, bin = 0): Uint8Array {
  const j = new TextEncoder().encode(json);
  const out = new Uint8Array(FRAME_HEADER_BYTES + j.length + bin);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x474d4c58, true);
  dv.setUint16(4, 1, true);
  dv.setUint32(8, j.length, true);
  dv.setUint32(12, bin, true);
  out.set(j, FRAME_HEADER_BYTES);
  return out;
}

describe('migration frames', () => {
  it('a frame split at every byte comes out whole, once, with its binary part', () => {
    const pages = new Uint8Array(2 * 4096).map((_, k) => k & 0xff);
    const frames = [encodeFrame({ type: 'pages', round: 1, pfns: [7, 9] }, pages), encodeFrame({ type: 'round-end', round: 1, pagesSent: 2 })];
    const all = new Uint8Array(frames[0]!.length + frames[1]!.length);
    all.set(frames[0]!, 0);
    all.set(frames[1]!, frames[0]!.length);
    for (const cut of [1, 15, 16, 17, 100, 4096, all.length - 1]) {
      const r = new FrameReader();
      const got = [...r.push(all.slice(0, cut)), ...r.push(all.slice(cut))];
      expect(got.map((f) => f.msg)).toEqual([
        { type: 'pages', round: 1, pfns: [7, 9] },
        { type: 'round-end', round: 1, pagesSent: 2 },
      ]);
      expect(Buffer.compare(got[0]!.bin, pages)).toBe(0);
      expect(got[1]!.bin.length).toBe(0);
    }
  });

  it('refuses a bad frame in one line: magic, version, JSON, schema, binary length', () => {
    const good = encodeFrame({ type: 'welcome' });
    const badMagic = good.slice();
    badMagic[0] = 0x59;
    expect(refusal(badMagic)).toBe('not a xenolith migration stream (bad frame magic)');
    const v2 = good.slice();
    v2[4] = 2;
    expect(refusal(v2)).toBe('migration protocol version 2; this build speaks version 1');
    expect(refusal(withJson('{"type":'))).toMatch(/^a frame's message is not JSON \(/);
    expect(refusal(withJson('{"type":"launch"}'))).toMatch(/^a bad launch message: type: /);
    expect(refusal(withJson('{"type":"round-ok","round":0,"pagesHeld":1}'))).toBe('a bad round-ok message: round: Too small: expected number to be >=1');
    expect(refusal(withJson('{"type":"welcome","extra":1}'))).toMatch(/^a bad welcome message: Unrecognized key/);
    expect(refusal(withJson('{"type":"pages","round":1,"pfns":[3]}', 100))).toBe('a pages message carries 100 bytes; it should carry 4096');
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(12, 0xffffffff, true);
    expect(refusal(huge)).toBe('a frame of 4294967295 binary bytes is past the limit (1073741824)');
  });
});

describe('the migration endpoint', () => {
  it("needs the destination's token: a wrong one is refused with one line, the right one opens the stream", async () => {
    const token = Buffer.from('s3cret-token');
    const seen: Message[] = [];
    const server = createServer((_q, res) => res.writeHead(404).end());
    server.on('upgrade', (req, sock, head) => {
      const t = acceptMigrationUpgrade(req, sock, new Uint8Array(head), token);
      if (!t) return;
      const ch = new Channel(t, 'the source');
      void ch.next().then((f) => {
        seen.push(f.msg);
        ch.send({ type: 'welcome' });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      await expect(openMigration(url, 'wrong')).rejects.toThrow(/^the destination 127\.0\.0\.1:\d+ refused the migration \(401\): a migration needs the destination's token: Authorization: Bearer \(the contents of its STATE_DIR\/token\)$/);
      const ch = new Channel(await openMigration(url, 's3cret-token'), 'the destination');
      const hello: Message = { type: 'hello', name: 'g', definition: {}, mode: 'trap', pages: 1, link: { bytesPerSecond: 1, latencyMs: 0 }, clockMHz: 3000 };
      ch.send(hello);
      expect((await ch.expect('welcome')).msg).toEqual({ type: 'welcome' });
      expect(seen).toEqual([hello]);
      ch.close();
      await expect(openMigration('ftp://x', 't')).rejects.toThrow('"ftp://x": the destination daemon\'s URL is http://HOST:PORT');
    } finally {
      server.close();
    }
  });
});
