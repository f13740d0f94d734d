// XL32 physical memory: one ArrayBuffer with typed-array views, plus bounds-checked accessors for
// host code (image loaders, DMA, the hypervisor). The CPU indexes the views directly on its fast
// path. Imports only the image format; knows nothing of the CPU or devices.

import type { Image } from './image.ts';
import { PAGE_SHIFT, PAGE_SIZE } from './isa.ts';

/**
 * A segment that does not fit in installed memory; the message names the segment and the range.
 * A RangeError: bad input (an image for a bigger machine), reported to the user, not a bug.
 */
export class MemoryRangeError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryRangeError';
  }
}

/**
 * The most memory one guest kernel addresses (its direct map covers 1 GiB): the ceiling of a
 * machine that runs one guest, and of one domain.
 */
export const MAX_MEMORY_BYTES = 0x4000_0000;

/**
 * The most memory an XL32 machine can have: 2 GiB, a host that runs many domains. Frame numbers
 * stay below 2^19, so every physical address (frame << 12 | offset) is a non-negative int32 and
 * the engines' signed arithmetic on addresses never sees the sign bit.
 */
export const MAX_MACHINE_BYTES = 0x8000_0000;

/*
 * Why released memory is kept: a new ArrayBuffer is mapped lazily by the host OS, so the guest's
 * first store to each 4 KiB page takes a host page fault. A booting kernel touches every frame
 * it will hand out (the native kernel's free list links all of them), and on a virtual machine
 * such as this project's own (a microVM that gives freed pages back to its host) each fault costs
 * tens of microseconds: most of a boot's wall time (`xenolith bench boot`). A machine whose
 * owner is done with it can release its memory (PhysicalMemory.release); the next machine of the
 * same size takes that buffer, already mapped, and zeroes it (a memset, about a millisecond for
 * 32 MiB). Release empties the old memory's views, and a released machine refuses to run, so
 * the old machine does not reach the buffer again.
 * At most SPARE_BUFFERS are kept, of SPARE_BYTES together, the latest released (a run that
 * alternates machines of several sizes, as `compare` does with its modes, finds each size's last
 * buffer); what a guest sees is the same either way (all zeros).
 */
const SPARE_BUFFERS = 6;
const SPARE_BYTES = 320 * 1024 * 1024;
const spareBuffers: ArrayBuffer[] = [];

/** Host counters of the spare buffers: memories given a released buffer, and given a new one. */
export const spareBufferStats = { reused: 0, fresh: 0 };

/** A zeroed buffer of `bytes`: a released one if there is one of that size, else a new one. */
function takeBuffer(bytes: number): ArrayBuffer {
  const k = spareBuffers.findIndex((b) => b.byteLength === bytes);
  if (k < 0) {
    spareBufferStats.fresh++;
    return new ArrayBuffer(bytes);
  }
  spareBufferStats.reused++;
  const b = spareBuffers.splice(k, 1)[0]!;
  new Int32Array(b).fill(0);
  return b;
}

/** A traced shadow as PhysicalMemory sees it: told of host writes into the frames it marks in `tracedTables`. */
export interface TableTracer {
  hostWrite(frame: number): void;
}

/**
 * Physical memory. Addresses at or beyond `size` are open bus: host reads of single values return
 * all ones (as the CPU sees them), bulk reads return null, writes are refused (return false).
 *
 * Code tracking: `codePage[frame]` is set by whoever caches decoded or translated code from that
 * 4 KiB frame (the CPU marks the frames it fetches from). Every host write (write8/16/32,
 * writeBytes, fill, loadImage, DMA through the platform) that touches a marked frame clears the
 * mark and calls `onCodeWrite(frame)`, so a translation cache can drop what it built from it.
 * Guest stores do not go through here: the CPU keeps its own per-frame mark of frames that hold
 * translated code (`tbFrame`, machine/cpu.ts) and checks it on every store it makes, the walk's
 * accessed/dirty writes included.
 */
export class PhysicalMemory {
  /** installed bytes, a multiple of 4 KiB */
  readonly size: number;
  /** number of 4 KiB frames */
  readonly frames: number;
  /** the memory and its views (empty once released: release) */
  buffer: ArrayBuffer;
  u8: Uint8Array;
  i8: Int8Array;
  u16: Uint16Array;
  i16: Int16Array;
  i32: Int32Array;
  /** per frame: 1 if some engine caches code decoded from it */
  readonly codePage: Uint8Array;
  /** called with the frame number when a host write hits a frame marked in codePage */
  onCodeWrite: ((frame: number) => void) | null = null;
  /**
   * Log-dirty (hypervisor/core/log-dirty.ts): per frame, 1 once written since the hypervisor last
   * cleaned it; null until some domain turns log-dirty on. Host writes (a hypervisor's, a
   * device's DMA) mark it here; the CPU's stores mark it through its write-protection fault.
   */
  dirtyLog: Uint8Array | null = null;
  /**
   * Traced page tables (hypervisor/trap/traced-shadow.ts): per frame, how many traced shadows
   * write-protect it as a guest page table they derived entries from; null until a traced shadow
   * exists. A host write (a device's DMA, the hypervisor's own) that touches a marked frame is
   * reported to every tracer in `tableTracers` (`hostWrite(frame)`), as the CPU's stores to it are
   * by their write-protection fault: one byte checked per frame a host write touches.
   */
  tracedTables: Uint8Array | null = null;
  /** the traced shadows that mark frames in tracedTables */
  readonly tableTracers: TableTracer[] = [];

  constructor(sizeBytes: number) {
    if (!Number.isInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % PAGE_SIZE !== 0 || sizeBytes > MAX_MACHINE_BYTES) {
      throw new RangeError(`PhysicalMemory: size must be a positive multiple of 4 KiB up to 2 GiB (got ${sizeBytes})`);
    }
    this.size = sizeBytes;
    this.frames = sizeBytes >>> PAGE_SHIFT;
    this.buffer = takeBuffer(sizeBytes);
    this.u8 = new Uint8Array(this.buffer);
    this.i8 = new Int8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.i16 = new Int16Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.codePage = new Uint8Array(this.frames);
  }

  /**
   * The owner is done with this memory: its buffer goes to the next PhysicalMemory of the same
   * size (see SPARE_BUFFERS). This object's buffer and views are empty from now on, so a host
   * access through it (a device, the hypervisor's own writes) reaches nothing; this object must
   * not be used again. Views others took of it (the CPU's compiled code, a walker) still reach
   * the buffer, which is why a released machine refuses to run (Machine.release).
   *
   * The buffer itself is not detached (a transfer, `structuredClone(buffer, { transfer })`, as
   * this did until the twenty-sixth round of issue 15): V8 counts a transferred buffer's bytes
   * again as newly allocated external memory while the old buffer object, long-lived, waits for
   * a full collection, and that forced two young-generation collections ("external memory
   * pressure" under `node --trace-gc`) at the start of every later run of the process, a few
   * milliseconds each (docs/engine.md, "The twenty-sixth round").
   */
  release(): void {
    if (this.buffer.byteLength === 0) return; // released already
    const buffer = this.buffer;
    this.buffer = new ArrayBuffer(0);
    this.u8 = new Uint8Array(0);
    this.i8 = new Int8Array(0);
    this.u16 = new Uint16Array(0);
    this.i16 = new Int16Array(0);
    this.i32 = new Int32Array(0);
    if (buffer.byteLength > SPARE_BYTES) return;
    spareBuffers.push(buffer);
    let bytes = spareBuffers.reduce((n, b) => n + b.byteLength, 0);
    while (spareBuffers.length > SPARE_BUFFERS || bytes > SPARE_BYTES) bytes -= spareBuffers.shift()!.byteLength;
  }

  /** Is [pa, pa + len) inside installed memory? */
  contains(pa: number, len = 1): boolean {
    return Number.isInteger(pa) && Number.isInteger(len) && pa >= 0 && len >= 0 && pa + len <= this.size;
  }

  /** Byte at pa (0..255), or 0xff beyond memory. */
  read8(pa: number): number {
    return this.contains(pa, 1) ? this.u8[pa]! : 0xff;
  }

  /** Little-endian halfword at pa (any alignment), or 0xffff if any byte lies beyond memory. */
  read16(pa: number): number {
    if (!this.contains(pa, 2)) return 0xffff;
    return (pa & 1) === 0 ? this.u16[pa >>> 1]! : this.u8[pa]! | (this.u8[pa + 1]! << 8);
  }

  /** Little-endian word at pa (any alignment), unsigned, or 0xffffffff if any byte lies beyond memory. */
  read32(pa: number): number {
    if (!this.contains(pa, 4)) return 0xffffffff;
    if ((pa & 3) === 0) return this.i32[pa >>> 2]! >>> 0;
    const m = this.u8;
    return (m[pa]! | (m[pa + 1]! << 8) | (m[pa + 2]! << 16) | (m[pa + 3]! << 24)) >>> 0;
  }

  write8(pa: number, value: number): boolean {
    if (!this.contains(pa, 1)) return false;
    this.noteWrite(pa, 1);
    this.u8[pa] = value;
    return true;
  }

  write16(pa: number, value: number): boolean {
    if (!this.contains(pa, 2)) return false;
    this.noteWrite(pa, 2);
    this.u8[pa] = value;
    this.u8[pa + 1] = value >>> 8;
    return true;
  }

  write32(pa: number, value: number): boolean {
    if (!this.contains(pa, 4)) return false;
    this.noteWrite(pa, 4);
    if ((pa & 3) === 0) {
      this.i32[pa >>> 2] = value;
    } else {
      const m = this.u8;
      m[pa] = value;
      m[pa + 1] = value >>> 8;
      m[pa + 2] = value >>> 16;
      m[pa + 3] = value >>> 24;
    }
    return true;
  }

  /** A copy of [pa, pa + len), or null if the range is not wholly inside memory. */
  readBytes(pa: number, len: number): Uint8Array | null {
    if (!this.contains(pa, len)) return null;
    return this.u8.slice(pa, pa + len);
  }

  /** Copy data to pa; false (nothing written) if the range is not wholly inside memory. */
  writeBytes(pa: number, data: Uint8Array): boolean {
    if (!this.contains(pa, data.length)) return false;
    this.noteWrite(pa, data.length);
    this.u8.set(data, pa);
    return true;
  }

  /** Fill [pa, pa + len) with a byte; false (nothing written) if out of range. */
  fill(pa: number, len: number, value = 0): boolean {
    if (!this.contains(pa, len)) return false;
    this.noteWrite(pa, len);
    this.u8.fill(value, pa, pa + len);
    return true;
  }

  /** A host write into frame f that did not go through the methods above (log-dirty's mark). */
  markDirty(f: number): void {
    if (this.dirtyLog !== null) this.dirtyLog[f] = 1;
  }

  /**
   * Place an image's segments at their physical addresses, zero-filling each segment's bss part.
   * Throws MemoryRangeError, before writing anything, if a segment lies outside memory.
   */
  loadImage(image: Image): void {
    image.segments.forEach((seg, k) => {
      if (!this.contains(seg.paddr, seg.memBytes) || seg.data.length > seg.memBytes) {
        throw new MemoryRangeError(
          `segment ${k} (paddr 0x${(seg.paddr >>> 0).toString(16)}, ${seg.memBytes} bytes) lies outside ` +
            `physical memory (0x0..0x${this.size.toString(16)}, ${this.size} bytes)`,
        );
      }
    });
    for (const seg of image.segments) {
      this.noteWrite(seg.paddr, seg.memBytes);
      this.u8.set(seg.data, seg.paddr);
      this.u8.fill(0, seg.paddr + seg.data.length, seg.paddr + seg.memBytes);
    }
  }

  /**
   * A host write is about to touch [pa, pa + len): drop code cached from those frames, log them
   * dirty when log-dirty is on, and tell the traced shadows of those they trace as page tables.
   */
  noteWrite(pa: number, len: number): void {
    if (len <= 0) return;
    const last = (pa + len - 1) >>> PAGE_SHIFT;
    const cp = this.codePage;
    const dl = this.dirtyLog;
    const tt = this.tracedTables;
    for (let f = pa >>> PAGE_SHIFT; f <= last; f++) {
      if (dl !== null) dl[f] = 1;
      if (cp[f] !== 0) {
        cp[f] = 0;
        this.onCodeWrite?.(f);
      }
      if (tt !== null && tt[f] !== 0) for (const t of this.tableTracers) t.hostWrite(f);
    }
  }
}
