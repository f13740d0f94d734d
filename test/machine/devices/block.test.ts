// Tests for machine/devices/block.ts: DMA read/write round trips, service timing in exact cycles,
// completion order, queue depth and refusal, error results, counters and reset.

import { describe, expect, it } from 'vitest';
import {
  BLK_DEFAULT_PER_SECTOR_CYCLES,
  BLK_DEFAULT_REQUEST_CYCLES,
  BlockDevice,
} from '../../../machine/devices/block.ts';
import {
  BLK_ADDR,
  BLK_CAPACITY,
  BLK_CMD_READ,
  BLK_CMD_WRITE,
  BLK_COMMAND,
  BLK_COMPLETE,
  BLK_COUNT,
  BLK_ERROR,
  BLK_OK,
  BLK_QUEUE_DEPTH,
  BLK_SECTOR,
  BLK_STATUS,
  Irq,
  SECTOR_BYTES,
} from '../../../machine/devices/ports.ts';
import { FakeContext } from './fake-context.ts';

const SECTORS = 64;

function setup(timing?: { requestCycles?: number; perSectorCycles?: number }): {
  ctx: FakeContext;
  blk: BlockDevice;
  backing: Uint8Array;
} {
  const ctx = new FakeContext(0x10000);
  const backing = new Uint8Array(SECTORS * SECTOR_BYTES);
  for (let i = 0; i < backing.length; i++) backing[i] = (i * 31 + (i >> 9)) & 0xff;
  return { ctx, blk: new BlockDevice(ctx, backing, timing), backing };
}

function submit(blk: BlockDevice, cmd: number, sector: number, count: number, addr: number, tag: number): void {
  blk.write(BLK_SECTOR, 4, sector);
  blk.write(BLK_COUNT, 4, count);
  blk.write(BLK_ADDR, 4, addr);
  blk.write(BLK_COMMAND, 4, cmd | (tag << 8));
}

const done = (tag: number, result = BLK_OK): number => tag | (result << 8);

function popAll(blk: BlockDevice): number[] {
  const out: number[] = [];
  for (let c = blk.read(BLK_COMPLETE, 4); c !== 0xffffffff; c = blk.read(BLK_COMPLETE, 4)) out.push(c);
  return out;
}

describe('BlockDevice', () => {
  it('occupies ports 0x1f0..0x1f6 and reports its capacity in sectors', () => {
    const { blk } = setup();
    expect([blk.portBase, blk.portCount]).toEqual([0x1f0, 7]);
    expect(blk.read(BLK_CAPACITY, 4)).toBe(SECTORS);
    expect(blk.read(BLK_STATUS, 4)).toBe(0);
    expect(blk.read(BLK_COMPLETE, 4)).toBe(0xffffffff);
  });

  it('uses 20,000 cycles per request plus 2,000 per sector by default', () => {
    expect([BLK_DEFAULT_REQUEST_CYCLES, BLK_DEFAULT_PER_SECTOR_CYCLES]).toEqual([20_000, 2_000]);
  });

  it('ignores a partial last sector of the backing', () => {
    const blk = new BlockDevice(new FakeContext(), new Uint8Array(3 * SECTOR_BYTES + 100));
    expect(blk.read(BLK_CAPACITY, 4)).toBe(3);
  });

  it('reads sectors into memory by DMA at completion time, then raises IRQ 14', () => {
    const { ctx, blk, backing } = setup();
    ctx.cycle = 100;
    submit(blk, BLK_CMD_READ, 2, 3, 0x1000, 7);
    expect(blk.read(BLK_STATUS, 4)).toBe(1 << 8); // one in flight
    ctx.advanceTo(26_099); // 100 + 20,000 + 3 * 2,000 = 26,100
    expect(ctx.memory.subarray(0x1000, 0x1000 + 3 * SECTOR_BYTES).every((b) => b === 0)).toBe(true);
    expect(ctx.raises(Irq.Block)).toEqual([]);
    ctx.advanceTo(26_100);
    expect(ctx.raises(Irq.Block)).toEqual([26_100]);
    expect(ctx.memory.subarray(0x1000, 0x1000 + 3 * SECTOR_BYTES)).toEqual(
      backing.subarray(2 * SECTOR_BYTES, 5 * SECTOR_BYTES),
    );
    expect(ctx.memory[0x1000 + 3 * SECTOR_BYTES]).toBe(0); // not one byte more
    expect(blk.read(BLK_STATUS, 4)).toBe(1 << 16); // one completion waiting
    expect(blk.read(BLK_COMPLETE, 4)).toBe(done(7));
    expect(ctx.lowers(Irq.Block)).toEqual([26_100]); // last completion popped
    expect(blk.read(BLK_COMPLETE, 4)).toBe(0xffffffff);
    expect(blk.read(BLK_STATUS, 4)).toBe(0);
  });

  it('writes memory to the disk as it is at completion time, and reads it back', () => {
    const { ctx, blk, backing } = setup();
    ctx.memory.fill(0xaa, 0x2000, 0x2000 + 2 * SECTOR_BYTES);
    submit(blk, BLK_CMD_WRITE, 10, 2, 0x2000, 1);
    ctx.advanceTo(10_000);
    ctx.memory[0x2000] = 0x55; // changed while the request is in flight: DMA sees it
    ctx.advanceTo(24_000);
    expect(popAll(blk)).toEqual([done(1)]);
    expect(backing[10 * SECTOR_BYTES]).toBe(0x55);
    expect(backing.subarray(10 * SECTOR_BYTES + 1, 12 * SECTOR_BYTES).every((b) => b === 0xaa)).toBe(true);
    expect(backing[12 * SECTOR_BYTES]).toBe((12 * SECTOR_BYTES * 31 + 12) & 0xff); // untouched
    submit(blk, BLK_CMD_READ, 10, 2, 0x8000, 2);
    ctx.advanceTo(100_000);
    expect(popAll(blk)).toEqual([done(2)]);
    expect(ctx.memory.subarray(0x8000, 0x8000 + 2 * SECTOR_BYTES)).toEqual(
      ctx.memory.subarray(0x2000, 0x2000 + 2 * SECTOR_BYTES),
    );
  });

  it('serves queued requests one after another in submission order, with exact completion cycles', () => {
    const { ctx, blk } = setup();
    submit(blk, BLK_CMD_READ, 0, 1, 0x1000, 1); // 0 -> 22,000
    submit(blk, BLK_CMD_WRITE, 8, 4, 0x3000, 2); // 22,000 -> 50,000
    submit(blk, BLK_CMD_READ, 20, 2, 0x6000, 3); // 50,000 -> 74,000
    expect(blk.read(BLK_STATUS, 4)).toBe(3 << 8);
    ctx.advanceTo(60_000);
    expect(ctx.raises(Irq.Block)).toEqual([22_000, 50_000]);
    expect(blk.read(BLK_STATUS, 4)).toBe((1 << 8) | (2 << 16));
    ctx.advanceTo(74_000);
    expect(ctx.raises(Irq.Block)).toEqual([22_000, 50_000, 74_000]);
    expect(popAll(blk)).toEqual([done(1), done(2), done(3)]);
    // idle device: the next request starts at its submission
    ctx.cycle = 200_000;
    submit(blk, BLK_CMD_READ, 0, 1, 0x1000, 4);
    ctx.advanceTo(300_000);
    expect(ctx.raises(Irq.Block)).toEqual([22_000, 50_000, 74_000, 222_000]);
  });

  it('a request submitted while busy starts when the previous one finishes', () => {
    const { ctx, blk } = setup();
    submit(blk, BLK_CMD_READ, 0, 5, 0x1000, 1); // 0 -> 30,000
    ctx.advanceTo(12_345);
    submit(blk, BLK_CMD_READ, 0, 1, 0x4000, 2); // 30,000 -> 52,000
    ctx.advanceTo(100_000);
    expect(ctx.raises(Irq.Block)).toEqual([30_000, 52_000]);
  });

  it('honours custom timing', () => {
    const { ctx, blk } = setup({ requestCycles: 8_000_000, perSectorCycles: 10_000 });
    expect([blk.requestCycles, blk.perSectorCycles]).toEqual([8_000_000, 10_000]);
    submit(blk, BLK_CMD_READ, 0, 8, 0x1000, 9);
    ctx.advanceTo(10_000_000);
    expect(ctx.raises(Irq.Block)).toEqual([8_080_000]);
  });

  it('rejects invalid timing as a host configuration error', () => {
    const ctx = new FakeContext();
    expect(() => new BlockDevice(ctx, new Uint8Array(512), { requestCycles: -1 })).toThrow(RangeError);
    expect(() => new BlockDevice(ctx, new Uint8Array(512), { perSectorCycles: 0.5 })).toThrow(RangeError);
  });

  it(`holds at most ${BLK_QUEUE_DEPTH} requests and refuses the next with status bit 1`, () => {
    const { ctx, blk } = setup();
    for (let i = 0; i < BLK_QUEUE_DEPTH; i++) submit(blk, BLK_CMD_READ, i, 1, 0x1000, i);
    expect(blk.read(BLK_STATUS, 4)).toBe(1 | (8 << 8));
    submit(blk, BLK_CMD_READ, 0, 1, 0x1000, 99);
    expect(blk.read(BLK_STATUS, 4)).toBe(1 | 2 | (8 << 8));
    expect(blk.refused).toBe(1);
    ctx.advanceTo(1_000_000);
    // completed but not popped: the slots stay taken
    expect(blk.read(BLK_STATUS, 4)).toBe(1 | 2 | (8 << 16));
    submit(blk, BLK_CMD_READ, 0, 1, 0x1000, 98);
    expect(blk.refused).toBe(2);
    expect(blk.read(BLK_COMPLETE, 4)).toBe(done(0));
    submit(blk, BLK_CMD_READ, 0, 1, 0x1000, 8); // a slot is free again; bit 1 clears
    expect(blk.read(BLK_STATUS, 4)).toBe(1 | (1 << 8) | (7 << 16));
    ctx.advanceTo(2_000_000);
    expect(popAll(blk)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((t) => done(t)));
    expect(ctx.raises(Irq.Block).length).toBe(9);
  });

  it('refuses unknown commands without queueing them', () => {
    const { ctx, blk } = setup();
    submit(blk, 0, 0, 1, 0x1000, 1);
    expect(blk.read(BLK_STATUS, 4)).toBe(2);
    submit(blk, 3, 0, 1, 0x1000, 1);
    submit(blk, 0xff, 0, 1, 0x1000, 1);
    expect(blk.refused).toBe(3);
    ctx.advanceTo(1_000_000);
    expect(ctx.irqLog).toEqual([]);
    submit(blk, BLK_CMD_WRITE, 0, 1, 0x1000, 1);
    expect(blk.read(BLK_STATUS, 4)).toBe(1 << 8);
  });

  it('completes out-of-range requests with BLK_ERROR after the request overhead alone', () => {
    const { ctx, blk, backing } = setup();
    const before = backing.slice();
    submit(blk, BLK_CMD_READ, SECTORS - 1, 2, 0x1000, 1); // runs past the end: 0 -> 20,000
    submit(blk, BLK_CMD_WRITE, 0xffffffff, 1, 0x1000, 2); // 20,000 -> 40,000
    submit(blk, BLK_CMD_READ, 0, 0, 0x1000, 3); // zero sectors: 40,000 -> 60,000
    submit(blk, BLK_CMD_READ, SECTORS - 1, 1, 0x1000, 4); // the last sector is fine: -> 82,000
    ctx.advanceTo(1_000_000);
    expect(ctx.raises(Irq.Block)).toEqual([20_000, 40_000, 60_000, 82_000]);
    expect(popAll(blk)).toEqual([done(1, BLK_ERROR), done(2, BLK_ERROR), done(3, BLK_ERROR), done(4)]);
    expect(backing).toEqual(before);
    expect(blk.errors).toBe(3);
  });

  it('completes requests with a buffer outside memory with BLK_ERROR, leaving the disk untouched', () => {
    const { ctx, blk, backing } = setup();
    const before = backing.slice();
    submit(blk, BLK_CMD_READ, 0, 2, 0xffff_ff00, 1);
    submit(blk, BLK_CMD_WRITE, 0, 2, 0x10000 - SECTOR_BYTES, 2); // straddles the end of memory
    submit(blk, BLK_CMD_WRITE, 0, 1, 0x10000 - SECTOR_BYTES, 3); // exactly fits
    ctx.advanceTo(1_000_000);
    expect(popAll(blk)).toEqual([done(1, BLK_ERROR), done(2, BLK_ERROR), done(3)]);
    expect(backing.subarray(SECTOR_BYTES)).toEqual(before.subarray(SECTOR_BYTES));
  });

  it('counts requests and sectors', () => {
    const { ctx, blk } = setup();
    submit(blk, BLK_CMD_READ, 0, 3, 0x1000, 1);
    submit(blk, BLK_CMD_READ, 5, 1, 0x1000, 2);
    submit(blk, BLK_CMD_WRITE, 9, 4, 0x1000, 3);
    submit(blk, BLK_CMD_WRITE, 99, 4, 0x1000, 4);
    ctx.advanceTo(1_000_000);
    expect({ r: blk.reads, w: blk.writes, sr: blk.sectorsRead, sw: blk.sectorsWritten, s: blk.sectors, e: blk.errors }).toEqual({
      r: 2,
      w: 1,
      sr: 4,
      sw: 4,
      s: 8,
      e: 1,
    });
  });

  it('reset drops requests in flight and waiting completions', () => {
    const { ctx, blk } = setup();
    submit(blk, BLK_CMD_READ, 0, 1, 0x1000, 1);
    ctx.advanceTo(22_000);
    submit(blk, BLK_CMD_READ, 0, 1, 0x1000, 2);
    blk.reset();
    expect(blk.read(BLK_STATUS, 4)).toBe(0);
    expect(ctx.events.size).toBe(0);
    ctx.advanceTo(1_000_000);
    expect(blk.read(BLK_COMPLETE, 4)).toBe(0xffffffff);
    submit(blk, BLK_CMD_READ, 0, 1, 0x1000, 3);
    ctx.advanceTo(2_000_000);
    expect(ctx.raises(Irq.Block)).toEqual([22_000, 1_022_000]);
  });

  it('reads 0 from its write-only registers', () => {
    const { blk } = setup();
    blk.write(BLK_SECTOR, 4, 5);
    expect([BLK_SECTOR, BLK_COUNT, BLK_ADDR, BLK_COMMAND].map((p) => blk.read(p, 4))).toEqual([0, 0, 0, 0]);
  });
});
