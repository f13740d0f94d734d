// Tests for machine/devices/nic.ts: transmit of a DMA'd frame, receive into an armed buffer,
// truncation, the backlog and drops, ISR clear-on-read, the MAC register and reset.

import { describe, expect, it } from 'vitest';
import { NIC_DEFAULT_MAC, NIC_RX_BACKLOG_FRAMES, Nic } from '../../../machine/devices/nic.ts';
import {
  Irq,
  NIC_GO,
  NIC_ISR,
  NIC_ISR_DROP,
  NIC_ISR_RX,
  NIC_ISR_TX,
  NIC_MAC,
  NIC_MTU,
  NIC_RX_ADDR,
  NIC_RX_CAP,
  NIC_RX_CMD,
  NIC_RX_LEN,
  NIC_TX_ADDR,
  NIC_TX_CMD,
  NIC_TX_LEN,
} from '../../../machine/devices/ports.ts';
import { FakeContext } from './fake-context.ts';

function setup(): { ctx: FakeContext; nic: Nic; sent: Uint8Array[] } {
  const ctx = new FakeContext(0x10000);
  const sent: Uint8Array[] = [];
  return { ctx, nic: new Nic(ctx, (f) => sent.push(f)), sent };
}

function send(nic: Nic, addr: number, len: number): void {
  nic.write(NIC_TX_ADDR, 4, addr);
  nic.write(NIC_TX_LEN, 4, len);
  nic.write(NIC_TX_CMD, 4, NIC_GO);
}

function arm(nic: Nic, addr: number, cap: number): void {
  nic.write(NIC_RX_ADDR, 4, addr);
  nic.write(NIC_RX_CAP, 4, cap);
  nic.write(NIC_RX_CMD, 4, NIC_GO);
}

const frame = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff);

describe('Nic', () => {
  it('occupies ports 0x300..0x308', () => {
    const { nic } = setup();
    expect([nic.portBase, nic.portCount]).toEqual([0x300, 9]);
  });

  it('reads the low 32 bits of the station address from NIC_MAC', () => {
    const { nic } = setup();
    expect(NIC_DEFAULT_MAC).toBe(0x525400123456);
    expect(nic.read(NIC_MAC, 4)).toBe(0x00123456);
    const other = new Nic(new FakeContext(), () => {}, 0x5254_dead_beef);
    expect(other.read(NIC_MAC, 4)).toBe(0xdeadbeef);
  });

  it('transmits the frame read by DMA, sets ISR TX and raises IRQ 11', () => {
    const { ctx, nic, sent } = setup();
    ctx.memory.set(frame(60, 3), 0x4000);
    ctx.cycle = 77;
    send(nic, 0x4000, 60);
    expect(sent).toEqual([frame(60, 3)]);
    expect(ctx.raises(Irq.Nic)).toEqual([77]);
    expect(nic.read(NIC_ISR, 4)).toBe(NIC_ISR_TX);
    expect(nic.txFrames).toBe(1);
    expect(nic.txBytes).toBe(60);
  });

  it('the transmitted frame is a copy: later memory writes do not change it', () => {
    const { ctx, nic, sent } = setup();
    ctx.memory.set(frame(20, 0), 0x100);
    send(nic, 0x100, 20);
    ctx.memory[0x100] = 0xee;
    expect(sent[0]![0]).toBe(0);
  });

  it('sends a frame of exactly NIC_MTU bytes, drops a longer, empty or out-of-memory one with ISR DROP', () => {
    const { ctx, nic, sent } = setup();
    send(nic, 0x1000, NIC_MTU);
    expect(sent.map((f) => f.length)).toEqual([1514]);
    expect(nic.read(NIC_ISR, 4)).toBe(NIC_ISR_TX);
    send(nic, 0x1000, NIC_MTU + 1);
    send(nic, 0x1000, 0);
    send(nic, 0xfff0, 64);
    send(nic, 0xffff_fff0, 64);
    expect(sent.length).toBe(1);
    expect(nic.txDropped).toBe(4);
    expect(nic.read(NIC_ISR, 4)).toBe(NIC_ISR_DROP);
    expect(ctx.raises(Irq.Nic).length).toBe(5);
  });

  it('receives into the armed buffer by DMA, sets RX_LEN and ISR RX, and raises IRQ 11', () => {
    const { ctx, nic } = setup();
    arm(nic, 0x2000, 2048);
    expect(nic.read(NIC_RX_LEN, 4)).toBe(0);
    ctx.cycle = 500;
    nic.receive(frame(100, 9));
    expect(ctx.memory.subarray(0x2000, 0x2000 + 100)).toEqual(frame(100, 9));
    expect(ctx.memory[0x2000 + 100]).toBe(0);
    expect(nic.read(NIC_RX_LEN, 4)).toBe(100);
    expect(ctx.raises(Irq.Nic)).toEqual([500]);
    expect(nic.read(NIC_ISR, 4)).toBe(NIC_ISR_RX);
    expect(nic.rxFrames).toBe(1);
  });

  it('truncates a frame to the buffer capacity and reports the bytes copied', () => {
    const { ctx, nic } = setup();
    arm(nic, 0x2000, 40);
    nic.receive(frame(64, 1));
    expect(ctx.memory.subarray(0x2000, 0x2000 + 40)).toEqual(frame(40, 1));
    expect(ctx.memory[0x2000 + 40]).toBe(0);
    expect(nic.read(NIC_RX_LEN, 4)).toBe(40);
    expect(nic.rxTruncated).toBe(1);
  });

  it('an armed buffer takes one frame; later frames wait in order until it is re-armed', () => {
    const { ctx, nic } = setup();
    arm(nic, 0x2000, 2048);
    nic.receive(frame(10, 1));
    nic.receive(frame(20, 2));
    nic.receive(frame(30, 3));
    expect(nic.rxBacklog).toBe(2);
    expect(nic.read(NIC_RX_LEN, 4)).toBe(10);
    nic.read(NIC_ISR, 4);
    arm(nic, 0x3000, 2048); // delivers the oldest waiting frame at once
    expect(nic.read(NIC_RX_LEN, 4)).toBe(20);
    expect(ctx.memory.subarray(0x3000, 0x3000 + 20)).toEqual(frame(20, 2));
    expect(nic.read(NIC_ISR, 4)).toBe(NIC_ISR_RX);
    arm(nic, 0x3000, 2048);
    expect(nic.read(NIC_RX_LEN, 4)).toBe(30);
    arm(nic, 0x3000, 2048);
    expect(nic.read(NIC_RX_LEN, 4)).toBe(0); // armed, nothing yet
    expect(nic.rxBacklog).toBe(0);
  });

  it('a queued frame is a copy of what the host passed', () => {
    const { ctx, nic } = setup();
    const f = frame(8, 0);
    nic.receive(f);
    f.fill(0xff);
    arm(nic, 0x100, 64);
    expect(ctx.memory.subarray(0x100, 0x108)).toEqual(frame(8, 0));
  });

  it(`queues ${NIC_RX_BACKLOG_FRAMES} frames with no buffer armed and drops the rest with ISR DROP`, () => {
    const { ctx, nic } = setup();
    for (let i = 0; i < NIC_RX_BACKLOG_FRAMES; i++) nic.receive(frame(16, i));
    expect(ctx.irqLog).toEqual([]);
    nic.receive(frame(16, 99));
    expect(nic.rxDropped).toBe(1);
    expect(ctx.raises(Irq.Nic).length).toBe(1);
    expect(nic.read(NIC_ISR, 4)).toBe(NIC_ISR_DROP);
    const firsts: number[] = [];
    for (let i = 0; i < NIC_RX_BACKLOG_FRAMES + 1; i++) {
      arm(nic, 0x100, 64);
      firsts.push(nic.read(NIC_RX_LEN, 4) === 16 ? ctx.memory[0x100]! : -1);
    }
    expect(firsts).toEqual([...Array.from({ length: 16 }, (_, i) => i), -1]);
  });

  it('a receive buffer outside memory loses the frame with ISR DROP', () => {
    const { ctx, nic } = setup();
    arm(nic, 0xffff_0000, 2048);
    nic.receive(frame(64, 0));
    expect(nic.read(NIC_ISR, 4)).toBe(NIC_ISR_DROP);
    expect(nic.read(NIC_RX_LEN, 4)).toBe(0);
    expect(nic.rxDropped).toBe(1);
    nic.receive(frame(64, 0)); // the bad buffer was used up: this one waits
    expect(nic.rxBacklog).toBe(1);
    expect(ctx.raises(Irq.Nic).length).toBe(1);
  });

  it('ISR accumulates bits until read; reading clears it and lowers the line once', () => {
    const { ctx, nic } = setup();
    send(nic, 0x100, 64);
    arm(nic, 0x1000, 2048);
    nic.receive(frame(64, 0));
    expect(nic.read(NIC_ISR, 4)).toBe(NIC_ISR_TX | NIC_ISR_RX);
    expect(nic.read(NIC_ISR, 4)).toBe(0);
    expect(ctx.lowers(Irq.Nic).length).toBe(1);
  });

  it('ignores command values other than NIC_GO and reads 0 from write-only registers', () => {
    const { nic, sent } = setup();
    nic.write(NIC_TX_LEN, 4, 64);
    nic.write(NIC_TX_CMD, 4, 2);
    nic.write(NIC_RX_CMD, 4, 0);
    nic.receive(frame(10, 0));
    expect(sent).toEqual([]);
    expect(nic.rxBacklog).toBe(1);
    expect([NIC_TX_ADDR, NIC_TX_LEN, NIC_TX_CMD, NIC_RX_ADDR, NIC_RX_CAP, NIC_RX_CMD].map((p) => nic.read(p, 4))).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
  });

  it('reset disarms the buffer, empties the backlog and clears ISR', () => {
    const { nic } = setup();
    nic.receive(frame(10, 0));
    send(nic, 0, 10);
    arm(nic, 0x100, 64);
    nic.reset();
    expect(nic.read(NIC_ISR, 4)).toBe(0);
    expect(nic.read(NIC_RX_LEN, 4)).toBe(0);
    nic.receive(frame(10, 0));
    expect(nic.rxBacklog).toBe(1);
  });
});
