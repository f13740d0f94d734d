// A domain's guest-physical memory: the pseudo-physical -> machine frame map (p2m) and host-side
// accessors that go through it (image loading, DMA, the hypervisor's own reads and writes of guest
// memory). Guest-physical addresses at or beyond the domain's memory reach no machine frame.
// Touches only the machine frames its p2m names.

import type { Image } from '../../machine/image.ts';
import { MemoryRangeError, type PhysicalMemory } from '../../machine/memory.ts';

const PAGE = 4096;

export class GuestMemory {
  /** guest-physical bytes (frames * 4096) */
  readonly size: number;
  /** number of guest-physical frames */
  readonly frames: number;

  /**
   * mem: the real machine's memory; p2m: guest frame -> machine frame (every entry a frame the
   * domain owns; -1 for a hole).
   */
  constructor(
    readonly mem: PhysicalMemory,
    readonly p2m: Int32Array,
  ) {
    this.frames = p2m.length;
    this.size = p2m.length * PAGE;
  }

  /** Machine address of guest-physical `gpa`, or -1 if no machine frame backs it. */
  machineAddress(gpa: number): number {
    const gfn = gpa >>> 12;
    if (gfn >= this.frames || gpa < 0) return -1;
    const mfn = this.p2m[gfn]!;
    return mfn < 0 ? -1 : mfn * PAGE + (gpa & 0xfff);
  }

  /** Is [gpa, gpa + len) wholly guest memory? */
  contains(gpa: number, len = 1): boolean {
    return Number.isInteger(gpa) && Number.isInteger(len) && gpa >= 0 && len >= 0 && gpa + len <= this.size;
  }

  /** Byte at gpa, or 0xff outside guest memory (open bus). */
  read8(gpa: number): number {
    const ma = this.machineAddress(gpa);
    return ma < 0 ? 0xff : this.mem.u8[ma]!;
  }

  /** Word at gpa (unsigned, any alignment), or 0xffffffff if any byte lies outside. */
  read32(gpa: number): number {
    if ((gpa & 3) === 0) {
      const ma = this.machineAddress(gpa);
      return ma < 0 ? 0xffffffff : this.mem.i32[ma >>> 2]! >>> 0;
    }
    let v = 0;
    for (let k = 0; k < 4; k++) {
      if (!this.contains(gpa + k)) return 0xffffffff;
      v |= this.read8(gpa + k) << (8 * k);
    }
    return v >>> 0;
  }

  /** Write a word at gpa; false (nothing written) if any byte lies outside. */
  write32(gpa: number, value: number): boolean {
    const b = new Uint8Array([value, value >>> 8, value >>> 16, value >>> 24]);
    return this.writeBytes(gpa, b);
  }

  /** A copy of [gpa, gpa + len), or null if the range is not wholly guest memory. */
  readBytes(gpa: number, len: number): Uint8Array | null {
    if (!this.contains(gpa, len)) return null;
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const at = gpa + done;
      const n = Math.min(len - done, PAGE - (at & 0xfff));
      const ma = this.machineAddress(at);
      if (ma < 0) return null;
      out.set(this.mem.u8.subarray(ma, ma + n), done);
      done += n;
    }
    return out;
  }

  /** Copy data to gpa, page by page through the p2m; false (nothing written) if out of range. */
  writeBytes(gpa: number, data: Uint8Array): boolean {
    if (!this.contains(gpa, data.length)) return false;
    for (let p = gpa & ~0xfff; p < gpa + data.length; p += PAGE) if (this.machineAddress(Math.max(p, gpa)) < 0) return false;
    let done = 0;
    while (done < data.length) {
      const at = gpa + done;
      const n = Math.min(data.length - done, PAGE - (at & 0xfff));
      // a host write: code caches built from the frame are told (PhysicalMemory.noteWrite)
      this.mem.writeBytes(this.machineAddress(at), data.subarray(done, done + n));
      done += n;
    }
    return true;
  }

  /** Fill [gpa, gpa + len) with a byte; false if out of range. */
  fill(gpa: number, len: number, value = 0): boolean {
    if (!this.contains(gpa, len)) return false;
    let done = 0;
    while (done < len) {
      const at = gpa + done;
      const n = Math.min(len - done, PAGE - (at & 0xfff));
      this.mem.fill(this.machineAddress(at), n, value);
      done += n;
    }
    return true;
  }

  /**
   * Place an image's segments at their *physical* addresses in guest-physical memory (bss
   * zeroed). Throws MemoryRangeError, before writing anything, if a segment does not fit.
   */
  loadImage(image: Image): void {
    image.segments.forEach((seg, k) => {
      if (!this.contains(seg.paddr, seg.memBytes) || seg.data.length > seg.memBytes) {
        throw new MemoryRangeError(
          `segment ${k} (paddr 0x${(seg.paddr >>> 0).toString(16)}, ${seg.memBytes} bytes) lies outside ` +
            `the domain's guest-physical memory (0x0..0x${this.size.toString(16)}, ${this.size} bytes)`,
        );
      }
    });
    for (const seg of image.segments) {
      this.writeBytes(seg.paddr, seg.data);
      this.fill(seg.paddr + seg.data.length, seg.memBytes - seg.data.length, 0);
    }
  }
}
