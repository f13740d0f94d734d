// Physical memory: little-endian host accessors, bounds (open bus), bulk copies, image loading,
// and the code-page and traced-table hooks that host writes and DMA trigger.

import { describe, expect, it } from 'vitest';
import { ImageArch } from '../../machine/image.ts';
import { Machine } from '../../machine/machine.ts';
import { MemoryRangeError, PhysicalMemory, spareBufferStats } from '../../machine/memory.ts';
import { runImageInMode } from '../../hypervisor/index.ts';
import { assemble } from '../../toolchain/asm/index.ts';

describe('PhysicalMemory', () => {
  it('rejects sizes that are not positive multiples of 4 KiB', () => {
    expect(() => new PhysicalMemory(1000)).toThrow(/multiple of 4 KiB/);
    expect(() => new PhysicalMemory(0)).toThrow(RangeError);
    expect(new PhysicalMemory(8192).frames).toBe(2);
  });

  it('a released memory has no buffer or views left, and the next memory of its size starts all zeros in its buffer', () => {
    const SIZE = 3 * 4096; // a size no other test uses: the spare buffer is this test's own
    const a = new PhysicalMemory(SIZE);
    a.i32.fill(-1);
    const buffer = a.buffer;
    a.release();
    expect([a.buffer.byteLength, a.i32.length, a.u8.length, a.i8.length, a.u16.length, a.i16.length]).toEqual([0, 0, 0, 0, 0, 0]);
    a.release(); // twice is harmless
    const b = new PhysicalMemory(SIZE);
    // the same buffer (not a transfer of it: see PhysicalMemory.release), zeroed
    expect(b.buffer).toBe(buffer);
    expect(b.size).toBe(SIZE);
    expect(b.i32.every((w) => w === 0)).toBe(true);
    b.write32(8, 0x1234);
    // the released memory cannot reach the new owner's memory, through its views or its accessors
    a.i32[2] = 7;
    a.u8[8] = 7;
    a.write32(8, 7);
    expect(b.read32(8)).toBe(0x1234);
    b.release();
    const m = new Machine({ memoryBytes: SIZE });
    expect(m.mem.i32.every((w) => w === 0)).toBe(true);
    m.release();
    expect(m.mem.buffer.byteLength).toBe(0);
  });

  it('a released machine refuses to run, bare or under the hypervisor (its memory is the next machine\'s)', () => {
    const m = new Machine({ memoryBytes: 4096 });
    m.release();
    expect(() => m.run({ maxCycles: 10 })).toThrow(/machine was released/);
    const loop = assemble('.arch bare\n.org 0x1000\n_start: jmp _start\n', 'loop.s').image;
    const r = runImageInMode('trap', loop, { maxCycles: 1000 });
    expect(r.reason).toBe('limit');
    r.hypervisor.machine.release();
    expect(() => r.hypervisor.run({ maxCycles: 1000 })).toThrow(/machine was released/);
  });

  it('machines of several sizes released in turn each find their own size\'s buffer again (compare alternates its modes so)', () => {
    // sizes no other test uses
    const sizes = [5 * 4096, 6 * 4096, 7 * 4096, 9 * 4096, 10 * 4096];
    const before = { ...spareBufferStats };
    for (let round = 0; round < 3; round++) {
      for (const size of sizes) new PhysicalMemory(size).release();
    }
    // the first round maps each size afresh; the next two reuse every one (with two spare buffers, as before, none)
    expect([spareBufferStats.fresh - before.fresh, spareBufferStats.reused - before.reused]).toEqual([5, 10]);
  });

  it('reads and writes little-endian values at any alignment', () => {
    const m = new PhysicalMemory(4096);
    expect(m.write32(1, 0x11223344)).toBe(true);
    expect([m.read8(1), m.read8(4), m.read16(2), m.read32(1)]).toEqual([0x44, 0x11, 0x2233, 0x11223344]);
    m.write16(8, 0xbeef);
    m.write32(12, -1);
    expect([m.read16(8), m.read32(12), m.i32[3]]).toEqual([0xbeef, 0xffffffff, -1]);
  });

  it('out-of-range reads are open bus and out-of-range writes are refused', () => {
    const m = new PhysicalMemory(4096);
    expect([m.read8(4096), m.read16(4095), m.read32(4093), m.read32(-4)]).toEqual([0xff, 0xffff, 0xffffffff, 0xffffffff]);
    expect([m.write8(4096, 1), m.write32(4094, 1), m.write16(-1, 1)]).toEqual([false, false, false]);
    expect(m.readBytes(4000, 200)).toBeNull();
    expect(m.writeBytes(4000, new Uint8Array(200))).toBe(false);
    expect(m.read8(4000)).toBe(0);
  });

  it('copies bytes in and out', () => {
    const m = new PhysicalMemory(4096);
    expect(m.writeBytes(100, new Uint8Array([1, 2, 3]))).toBe(true);
    const copy = m.readBytes(99, 5)!;
    expect(Array.from(copy)).toEqual([0, 1, 2, 3, 0]);
    copy[1] = 9;
    expect(m.read8(100)).toBe(1);
  });

  it('loadImage places segments at their physical addresses and zero-fills bss', () => {
    const m = new PhysicalMemory(16384);
    m.fill(0, 16384, 0xee);
    m.loadImage({ entry: 0, arch: ImageArch.Bare, symbols: [], notes: {}, segments: [{ vaddr: 0xc0001000, paddr: 0x1000, memBytes: 8, flags: 7, data: new Uint8Array([1, 2]) }] });
    expect(Array.from(m.readBytes(0xfff, 10)!)).toEqual([0xee, 1, 2, 0, 0, 0, 0, 0, 0, 0xee]);
  });

  it('loadImage checks every segment before writing any', () => {
    const m = new PhysicalMemory(8192);
    const seg = (paddr: number) => ({ vaddr: paddr, paddr, memBytes: 16, flags: 7, data: new Uint8Array([7]) });
    expect(() => m.loadImage({ entry: 0, arch: ImageArch.Bare, symbols: [], notes: {}, segments: [seg(0), seg(8190)] })).toThrow(MemoryRangeError);
    expect(m.read8(0)).toBe(0);
  });

  it('host writes to a frame that holds cached code call onCodeWrite once and clear the mark', () => {
    const m = new PhysicalMemory(16384);
    const hits: number[] = [];
    m.onCodeWrite = (f) => hits.push(f);
    m.codePage[1] = 1;
    m.codePage[3] = 1;
    m.write32(0x100, 5); // frame 0: not code
    m.writeBytes(0xffe, new Uint8Array(0x2004)); // frames 0..3
    m.write8(0x1000, 1); // already cleared
    expect(hits).toEqual([1, 3]);
    expect(Array.from(m.codePage)).toEqual([0, 0, 0, 0]);
  });

  it('host writes to a frame marked as a traced page table tell every tracer, once per frame touched, each time (the mark stays: the tracer drops it)', () => {
    const m = new PhysicalMemory(16384);
    const hits: [string, number][] = [];
    m.tableTracers.push({ hostWrite: (f) => hits.push(['a', f]) }, { hostWrite: (f) => hits.push(['b', f]) });
    m.tracedTables = new Uint8Array(m.frames);
    m.tracedTables[2] = 1;
    m.write32(0x100, 5); // frame 0: not a table
    m.writeBytes(0x1ffe, new Uint8Array(0x1004)); // frames 1..3: one report for frame 2
    m.fill(0x2800, 16); // frame 2 again
    m.write8(0x3000, 1);
    expect(hits).toEqual([['a', 2], ['b', 2], ['a', 2], ['b', 2]]);
  });

  it('the CPU marks the frames it fetches from; DMA into them calls the hook', () => {
    const m = new Machine({ memoryBytes: 1 << 20 });
    m.mem.write32(0x2000, 0); // #UD at 0x2000 -> triple fault, after a fetch
    m.cpu.pc = 0x2000;
    m.run();
    expect(m.mem.codePage[2]).toBe(1);
    const hits: number[] = [];
    m.mem.onCodeWrite = (f) => hits.push(f);
    expect(m.mem.writeBytes(0x2ff0, new Uint8Array(32))).toBe(true);
    expect(hits).toEqual([2]);
  });
});
