// Tests for machine/devices/nic.ts: the transmit and receive descriptor rings in guest memory,
// DMA bounds checks (descriptors and buffers outside memory), malformed and oversized frames,
// a full receive ring, the interrupt cause and mask registers, the MAC and counter registers.

import { describe, expect, it } from 'vitest';
import { NIC_DEFAULT_MAC, Nic } from '../../../machine/devices/nic.ts';
import * as P from '../../../machine/devices/ports.ts';
import { Irq } from '../../../machine/devices/ports.ts';
import { FakeContext } from './fake-context.ts';

const TX_RING = 0x1000;
const RX_RING = 0x2000;
const TX_BUF = 0x4000;
const RX_BUF = 0x8000;
const RING = 4;

function setup(): { ctx: FakeContext; nic: Nic; sent: Uint8Array[]; dv: DataView } {
  const ctx = new FakeContext(0x10000);
  const sent: Uint8Array[] = [];
  const nic = new Nic(ctx, (f) => sent.push(f));
  nic.write(P.NIC_TX_BASE, 4, TX_RING);
  nic.write(P.NIC_TX_SIZE, 4, RING);
  nic.write(P.NIC_RX_BASE, 4, RX_RING);
  nic.write(P.NIC_RX_SIZE, 4, RING);
  nic.write(P.NIC_CTRL, 4, P.NIC_CTRL_ENABLE);
  nic.write(P.NIC_IMR, 4, P.NIC_ISR_TX | P.NIC_ISR_RX | P.NIC_ISR_DROP);
  return { ctx, nic, sent, dv: new DataView(ctx.memory.buffer) };
}

function desc(dv: DataView, ring: number, k: number, addr: number, len: number): void {
  const d = ring + k * P.NIC_DESC_BYTES;
  dv.setUint32(d + P.NIC_DESC_ADDR, addr, true);
  dv.setUint32(d + P.NIC_DESC_LEN, len, true);
  dv.setUint32(d + P.NIC_DESC_STATUS, 0, true);
  dv.setUint32(d + P.NIC_DESC_RXLEN, 0, true);
}

const status = (dv: DataView, ring: number, k: number) => dv.getUint32(ring + k * P.NIC_DESC_BYTES + P.NIC_DESC_STATUS, true);
const rxLen = (dv: DataView, k: number) => dv.getUint32(RX_RING + k * P.NIC_DESC_BYTES + P.NIC_DESC_RXLEN, true);
const stat = (nic: Nic, k: number) => {
  nic.write(P.NIC_STAT_SEL, 4, k);
  return nic.read(P.NIC_STAT, 4);
};
const frame = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe('NIC transmit ring', () => {
  it('sends every descriptor from head to the new tail, in order, and marks each done', () => {
    const { ctx, nic, sent, dv } = setup();
    ctx.memory.set(frame(60, 1), TX_BUF);
    ctx.memory.set(frame(1514, 2), TX_BUF + 0x800);
    desc(dv, TX_RING, 0, TX_BUF, 60);
    desc(dv, TX_RING, 1, TX_BUF + 0x800, 1514);
    nic.write(P.NIC_TX_TAIL, 4, 2);
    expect(sent.map((f) => f.length)).toEqual([60, 1514]);
    expect(sent[0]).toEqual(frame(60, 1));
    expect(sent[1]).toEqual(frame(1514, 2));
    expect([status(dv, TX_RING, 0), status(dv, TX_RING, 1)]).toEqual([P.NIC_DESC_DONE, P.NIC_DESC_DONE]);
    expect(nic.read(P.NIC_TX_HEAD, 4)).toBe(2);
    expect([stat(nic, P.NIC_STAT_TX_FRAMES), stat(nic, P.NIC_STAT_TX_BYTES), stat(nic, P.NIC_STAT_TX_ERRORS)]).toEqual([2, 1574, 0]);
    expect(ctx.raises(Irq.Nic)).toEqual([0]);
    expect(nic.read(P.NIC_ISR, 4)).toBe(P.NIC_ISR_TX);
    expect(nic.read(P.NIC_ISR, 4)).toBe(0);
  });

  it('wraps around the ring', () => {
    const { nic, sent, dv } = setup();
    for (let k = 0; k < RING; k++) desc(dv, TX_RING, k, TX_BUF, 14 + k);
    nic.write(P.NIC_TX_TAIL, 4, 3);
    nic.write(P.NIC_TX_TAIL, 4, 1); // descriptors 3 and 0
    expect(sent.map((f) => f.length)).toEqual([14, 15, 16, 17, 14]);
    expect(nic.read(P.NIC_TX_HEAD, 4)).toBe(1);
  });

  it('marks a runt, an oversized frame and a buffer outside memory as errors and sends nothing for them', () => {
    const { nic, sent, dv } = setup();
    desc(dv, TX_RING, 0, TX_BUF, 13);
    desc(dv, TX_RING, 1, TX_BUF, 1515);
    desc(dv, TX_RING, 2, 0xfff0, 60); // runs past the end of memory
    nic.write(P.NIC_TX_TAIL, 4, 3);
    expect(sent).toEqual([]);
    for (let k = 0; k < 3; k++) expect(status(dv, TX_RING, k)).toBe(P.NIC_DESC_DONE | P.NIC_DESC_ERROR);
    expect(stat(nic, P.NIC_STAT_TX_ERRORS)).toBe(3);
    expect(nic.read(P.NIC_ISR, 4)).toBe(P.NIC_ISR_DROP);
  });

  it('survives a ring outside memory: the frames count as errors, the guest memory is untouched', () => {
    const { ctx, nic, sent } = setup();
    nic.write(P.NIC_TX_BASE, 4, 0xfffffff0);
    nic.write(P.NIC_TX_SIZE, 4, RING);
    nic.write(P.NIC_TX_TAIL, 4, 2);
    expect(sent).toEqual([]);
    expect(stat(nic, P.NIC_STAT_TX_ERRORS)).toBe(2);
    expect(ctx.memory.every((b) => b === 0)).toBe(true);
  });

  it('sends nothing while disabled, and refuses a ring larger than NIC_RING_MAX', () => {
    const { nic, sent, dv } = setup();
    desc(dv, TX_RING, 0, TX_BUF, 60);
    nic.write(P.NIC_CTRL, 4, 0);
    nic.write(P.NIC_TX_TAIL, 4, 1);
    expect(sent).toEqual([]);
    nic.write(P.NIC_TX_SIZE, 4, P.NIC_RING_MAX + 1);
    expect(nic.read(P.NIC_TX_SIZE, 4)).toBe(0);
  });
});

describe('NIC receive ring', () => {
  it('fills posted buffers in order with the frame, its length and done', () => {
    const { ctx, nic, dv } = setup();
    desc(dv, RX_RING, 0, RX_BUF, 2048);
    desc(dv, RX_RING, 1, RX_BUF + 0x800, 2048);
    nic.write(P.NIC_RX_TAIL, 4, 2);
    expect(nic.receive(frame(100, 3))).toBe(true);
    expect(nic.receive(frame(1514, 4))).toBe(true);
    expect(ctx.memory.slice(RX_BUF, RX_BUF + 100)).toEqual(frame(100, 3));
    expect(ctx.memory.slice(RX_BUF + 0x800, RX_BUF + 0x800 + 1514)).toEqual(frame(1514, 4));
    expect([rxLen(dv, 0), rxLen(dv, 1)]).toEqual([100, 1514]);
    expect([status(dv, RX_RING, 0), status(dv, RX_RING, 1)]).toEqual([P.NIC_DESC_DONE, P.NIC_DESC_DONE]);
    expect(nic.read(P.NIC_RX_HEAD, 4)).toBe(2);
    expect([stat(nic, P.NIC_STAT_RX_FRAMES), stat(nic, P.NIC_STAT_RX_BYTES)]).toEqual([2, 1614]);
    expect(nic.read(P.NIC_ISR, 4)).toBe(P.NIC_ISR_RX);
  });

  it('drops and counts frames when the ring is full (head = tail), and takes them again once buffers are posted', () => {
    const { nic, dv } = setup();
    desc(dv, RX_RING, 0, RX_BUF, 2048);
    nic.write(P.NIC_RX_TAIL, 4, 1);
    expect(nic.receive(frame(60, 0))).toBe(true);
    expect(nic.receive(frame(60, 0))).toBe(false);
    expect(nic.receive(frame(60, 0))).toBe(false);
    expect(stat(nic, P.NIC_STAT_RX_NO_BUFFER)).toBe(2);
    expect(nic.read(P.NIC_ISR, 4)).toBe(P.NIC_ISR_RX | P.NIC_ISR_DROP);
    desc(dv, RX_RING, 1, RX_BUF, 2048);
    nic.write(P.NIC_RX_TAIL, 4, 2);
    expect(nic.receive(frame(61, 0))).toBe(true);
    expect(rxLen(dv, 1)).toBe(61);
  });

  it('counts malformed frames (shorter than a header, longer than the MTU) without touching a descriptor', () => {
    const { ctx, nic, dv } = setup();
    desc(dv, RX_RING, 0, RX_BUF, 4096);
    nic.write(P.NIC_RX_TAIL, 4, 1);
    expect(nic.receive(frame(13, 0))).toBe(false);
    expect(nic.receive(frame(1515, 0))).toBe(false);
    expect(nic.receive(new Uint8Array(0))).toBe(false);
    expect(stat(nic, P.NIC_STAT_RX_MALFORMED)).toBe(3);
    expect(nic.read(P.NIC_RX_HEAD, 4)).toBe(0);
    expect(ctx.memory[RX_BUF]).toBe(0);
  });

  it('gives a buffer too small or outside memory an error status and drops the frame', () => {
    const { ctx, nic, dv } = setup();
    desc(dv, RX_RING, 0, RX_BUF, 59);
    desc(dv, RX_RING, 1, 0xffc0, 2048); // capacity fine, but the frame would run past memory
    nic.write(P.NIC_RX_TAIL, 4, 2);
    expect(nic.receive(frame(60, 0))).toBe(false);
    expect(nic.receive(frame(0x41, 0))).toBe(false);
    expect([status(dv, RX_RING, 0), status(dv, RX_RING, 1)]).toEqual([P.NIC_DESC_DONE | P.NIC_DESC_ERROR, P.NIC_DESC_DONE | P.NIC_DESC_ERROR]);
    expect(stat(nic, P.NIC_STAT_RX_ERRORS)).toBe(2);
    expect(ctx.memory[RX_BUF]).toBe(0);
    expect(ctx.memory[0xffc0]).toBe(0);
  });

  it('drops everything while disabled', () => {
    const { nic, dv } = setup();
    desc(dv, RX_RING, 0, RX_BUF, 2048);
    nic.write(P.NIC_RX_TAIL, 4, 1);
    nic.write(P.NIC_CTRL, 4, 0); // also resets the indices
    expect(nic.receive(frame(60, 0))).toBe(false);
    expect(stat(nic, P.NIC_STAT_RX_NO_BUFFER)).toBe(1);
  });
});

describe('NIC registers', () => {
  it('raises the line only for causes the mask lets through; reading ISR clears and lowers', () => {
    const { ctx, nic, dv } = setup();
    nic.write(P.NIC_IMR, 4, P.NIC_ISR_RX);
    ctx.irqLog.length = 0;
    nic.receive(frame(60, 0)); // no buffer: DROP only, masked
    expect(ctx.raises(Irq.Nic)).toEqual([]);
    desc(dv, RX_RING, 0, RX_BUF, 2048);
    nic.write(P.NIC_RX_TAIL, 4, 1);
    ctx.cycle = 5;
    nic.receive(frame(60, 0));
    expect(ctx.raises(Irq.Nic)).toEqual([5]);
    ctx.cycle = 9;
    expect(nic.read(P.NIC_ISR, 4)).toBe(P.NIC_ISR_RX | P.NIC_ISR_DROP);
    expect(ctx.lowers(Irq.Nic)).toContain(9);
  });

  it('reports the station address in wire order and reads back its configuration', () => {
    const { nic } = setup();
    expect(NIC_DEFAULT_MAC).toBe(0x525400123456);
    expect(nic.read(P.NIC_MAC_HI, 4)).toBe(0x5254);
    expect(nic.read(P.NIC_MAC_LO, 4)).toBe(0x00123456);
    expect([...nic.macBytes()]).toEqual([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    expect([nic.read(P.NIC_TX_BASE, 4), nic.read(P.NIC_RX_BASE, 4), nic.read(P.NIC_TX_SIZE, 4), nic.read(P.NIC_CTRL, 4)]).toEqual([TX_RING, RX_RING, RING, 1]);
    expect(nic.read(P.NIC_STAT_SEL, 4)).toBe(0);
    nic.write(P.NIC_STAT_SEL, 4, P.NIC_STAT_COUNT);
    expect(nic.read(P.NIC_STAT, 4)).toBe(0);
  });

  it('reset returns the registers to power-on state and keeps the counters', () => {
    const { nic, dv } = setup();
    desc(dv, TX_RING, 0, TX_BUF, 60);
    nic.write(P.NIC_TX_TAIL, 4, 1);
    nic.reset();
    expect([nic.read(P.NIC_CTRL, 4), nic.read(P.NIC_TX_BASE, 4), nic.read(P.NIC_TX_HEAD, 4), nic.read(P.NIC_IMR, 4)]).toEqual([0, 0, 0, 0]);
    expect(stat(nic, P.NIC_STAT_TX_FRAMES)).toBe(1);
  });
});
