// Issue 9 item 6: PV console input costs linear work in its size. Input waits in a byte queue
// (hypervisor/pv/byte-queue.ts) that every byte enters once and leaves by moving a head, never by
// shifting what is behind it, whether it waits for console_io(READ) or for room in the console
// ring. The counters pinned here are the bytes copied into the hypervisor's queues and the bytes
// put into the ring: both equal the input's size, however it is read.
import { describe, expect, it } from 'vitest';
import { ConsoleCmd, Hc } from '../../hypercalls/numbers.ts';
import { ConsoleRing } from '../../hypercalls/structs.ts';
import { ByteQueue } from '../../hypervisor/pv/byte-queue.ts';
import { ConsBack } from '../../hypervisor/pv/consback.ts';
import { feedConsole } from '../../hypervisor/pv/hypercalls.ts';
import { hc, pvDomain, pvHypervisor, scratch, spinGuest } from './pv-helpers.ts';

const MiB = 1024 * 1024;

/** n bytes of a pattern no two neighbouring 4 KiB pieces share. */
function input(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let k = 0; k < n; k++) b[k] = (k * 7 + (k >>> 12)) & 0xff;
  return b;
}

describe('pv console input', () => {
  it('console_io(READ) drains 1 MiB in 4 KiB reads with each byte copied into the queue once, in order', () => {
    const { hv, mode } = pvHypervisor();
    const dom = pvDomain(hv, mode, 'reader', spinGuest());
    const d = mode.pv(dom);
    const data = input(MiB);
    feedConsole(d, data);
    const buf = scratch(mode, dom);
    const got = new Uint8Array(MiB);
    let at = 0;
    for (;;) {
      const n = hc(hv, mode, dom, Hc.CONSOLE_IO, ConsoleCmd.READ, 4096, buf);
      if (n === 0) break;
      expect(n).toBe(4096);
      got.set(dom.memory.readBytes(buf, n)!, at);
      at += n;
    }
    expect(at).toBe(MiB);
    expect(Buffer.compare(got, data)).toBe(0);
    expect(d.consoleIn.length).toBe(0);
    expect(d.consoleIn.bytesCopied).toBe(MiB);
  });

  it('through the console ring: 1 MiB moves 1 KiB per notification, each byte copied once into the queue and once into the ring', () => {
    const { hv, mode } = pvHypervisor();
    const dom = pvDomain(hv, mode, 'ring', spinGuest());
    const d = mode.pv(dom);
    const back = d.console;
    expect(back).toBeInstanceOf(ConsBack);
    const cons = back as ConsBack;
    cons.notify(); // the guest connects its ring
    const data = input(MiB);
    feedConsole(d, data);
    const page = cons.frame * 4096;
    const mem = hv.mem;
    const got = new Uint8Array(MiB);
    let consumed = 0;
    let notifies = 0;
    while (consumed < MiB) {
      const prod = mem.read32(page + ConsoleRing.IN_PROD) | 0;
      // the ring is full each time: the back end tops it up to IN_BYTES
      expect((prod - consumed) >>> 0).toBe(ConsoleRing.IN_BYTES);
      for (let k = consumed; k !== prod; k = (k + 1) | 0) got[k] = mem.u8[page + ConsoleRing.IN + (k & (ConsoleRing.IN_BYTES - 1))]!;
      consumed = prod;
      mem.write32(page + ConsoleRing.IN_CONS, consumed);
      cons.notify();
      notifies++;
    }
    expect(Buffer.compare(got, data)).toBe(0);
    expect(notifies).toBe(MiB / ConsoleRing.IN_BYTES);
    expect(d.stats.consoleBytesIn).toBe(MiB);
    expect(cons.pending.bytesCopied).toBe(MiB);
    expect(cons.pending.length).toBe(0);
  });

  it('input typed before the guest connects moves to the ring queue in one copy', () => {
    const { hv, mode } = pvHypervisor();
    const dom = pvDomain(hv, mode, 'late', spinGuest());
    const d = mode.pv(dom);
    feedConsole(d, input(10_000));
    const cons = d.console as ConsBack;
    cons.notify();
    expect(d.consoleIn.length).toBe(0);
    expect(d.stats.consoleBytesIn).toBe(ConsoleRing.IN_BYTES);
    expect([cons.pending.length, cons.pending.bytesCopied]).toEqual([10_000 - ConsoleRing.IN_BYTES, 10_000]);
  });
});

describe('pv console ring: the guest is not trusted', () => {
  function connected() {
    const { hv, mode } = pvHypervisor();
    const dom = pvDomain(hv, mode, 'ring', spinGuest());
    const d = mode.pv(dom);
    const cons = d.console as ConsBack;
    cons.notify(); // the guest connects its ring
    return { hv, dom, d, cons, page: cons.frame * 4096 };
  }

  it('a producer index claiming more output than the ring holds crashes the domain; nothing is copied', () => {
    const t = connected();
    t.hv.mem.write32(t.page + ConsoleRing.OUT_PROD, ConsoleRing.OUT_BYTES + 1);
    t.cons.notify();
    expect([t.dom.stopReason, t.dom.stopDetail]).toEqual(['crashed', 'consback: the guest published more console output than the ring holds']);
    expect(t.d.stats.consoleBytesOut).toBe(0);
  });

  it('a consumer index past what was produced crashes the domain; no input goes into the ring', () => {
    const t = connected();
    t.hv.mem.write32(t.page + ConsoleRing.IN_CONS, 5);
    feedConsole(t.d, input(16));
    expect([t.dom.stopReason, t.dom.stopDetail]).toEqual(['crashed', 'consback: the guest consumed console input that was never there']);
    expect(t.d.stats.consoleBytesIn).toBe(0);
  });
});

describe('ByteQueue', () => {
  it('is first-in first-out across growth and sliding', () => {
    const q = new ByteQueue();
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 200; round++) {
      const chunk = new Uint8Array(37 + (round % 50));
      for (let k = 0; k < chunk.length; k++) chunk[k] = next++ & 0xff;
      q.push(chunk);
      const n = Math.min(q.length, 50);
      out.push(...q.peek(n));
      q.drop(n);
    }
    out.push(...q.peek(q.length));
    expect(out).toEqual(Array.from({ length: next }, (_, k) => k & 0xff));
  });

  it('copies each byte at most three times in a growing stream (pushed, then at most once per doubling and once per slide on average)', () => {
    // 3 KiB in, 1 KiB out, 2,000 times: the queue grows to 4 MiB and slides as its head moves
    const q = new ByteQueue();
    const chunk = new Uint8Array(3072);
    let pushed = 0;
    for (let k = 0; k < 2000; k++) {
      q.push(chunk);
      pushed += chunk.length;
      q.drop(1024);
    }
    expect(q.length).toBe(2000 * 2048);
    expect(q.bytesCopied).toBeGreaterThanOrEqual(pushed);
    expect(q.bytesCopied).toBeLessThanOrEqual(3 * pushed);
  });

  it('refuses to peek or drop more than it holds', () => {
    const q = new ByteQueue();
    q.push(new Uint8Array(3));
    expect(() => q.peek(4)).toThrow('ByteQueue.peek: 4 of 3 bytes');
    expect(() => q.drop(4)).toThrow('ByteQueue.drop: 4 of 3 bytes');
  });
});
