// The machine-frame allocator: who owns each 4 KiB frame of the real machine's memory (a domain,
// the hypervisor, or nobody). Domains' memory, shadow page tables and any other hypervisor
// structure in machine memory come from here. Pure bookkeeping over typed arrays; touches no memory.

import { PAGE_SHIFT } from '../../machine/isa.ts';

/** Owner value of a free frame. */
export const OWNER_FREE = -1;
/** Owner value of a frame the hypervisor keeps for itself (shadow tables, reserved low memory). */
export const OWNER_HYPERVISOR = -2;

/** A request for more frames than are free; the message says how many. */
export class OutOfFramesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutOfFramesError';
  }
}

/*
 * Free frames are kept on a stack (an Int32Array) so allocation and release are O(1) and never
 * allocate. The stack is built so that a fresh allocator hands out frames in ascending order,
 * which keeps machine layouts deterministic and easy to read in tests ("domain 1 starts at
 * machine frame 0x100"). A released frame is reused first (LIFO), as a real free list would.
 */
export class FrameAllocator {
  /** number of machine frames */
  readonly frames: number;
  /** per frame: OWNER_FREE, OWNER_HYPERVISOR or a domain id (>= 0) */
  readonly owner: Int32Array;
  private readonly free: Int32Array;
  private freeCount = 0;
  /**
   * per frame: 1 while it has never been handed out, so it holds what a new machine's memory
   * holds (zeros): a domain's quota needs no zeroing there (allocMany's `dirty`), and the host
   * never faults in pages the guest does not touch. Cleared for good by the first alloc.
   */
  private readonly pristine: Uint8Array;

  /** memoryBytes: the machine's memory; reservedFrames: low frames kept by the hypervisor */
  constructor(memoryBytes: number, reservedFrames = 1) {
    this.frames = memoryBytes >>> PAGE_SHIFT;
    this.owner = new Int32Array(this.frames).fill(OWNER_FREE);
    this.free = new Int32Array(this.frames);
    this.pristine = new Uint8Array(this.frames).fill(1);
    for (let f = this.frames - 1; f >= reservedFrames; f--) this.free[this.freeCount++] = f;
    for (let f = 0; f < Math.min(reservedFrames, this.frames); f++) this.owner[f] = OWNER_HYPERVISOR;
  }

  /** Frames nobody owns. */
  get freeFrames(): number {
    return this.freeCount;
  }

  /** One frame for `owner`; throws OutOfFramesError if none is free. */
  alloc(owner: number): number {
    if (this.freeCount === 0) throw new OutOfFramesError('no free machine frame left');
    const f = this.free[--this.freeCount]!;
    this.owner[f] = owner;
    this.pristine[f] = 0;
    return f;
  }

  /**
   * `count` frames for `owner`, in allocation order; nothing is taken if not all are free. With
   * `dirty` (at least count long): dirty[k] = 1 if frame k has been handed out before (it may
   * hold an earlier owner's data), 0 if it never has (zeros, as the machine's memory came).
   */
  allocMany(owner: number, count: number, dirty?: Uint8Array): Int32Array {
    if (count > this.freeCount) {
      throw new OutOfFramesError(`${count} machine frames requested, ${this.freeCount} free`);
    }
    const out = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      if (dirty !== undefined) dirty[k] = this.pristine[this.free[this.freeCount - 1]!]! ^ 1;
      out[k] = this.alloc(owner);
    }
    return out;
  }

  /** Give a frame back. It must be owned by `owner` (a guard against double frees and theft). */
  release(frame: number, owner: number): void {
    if (frame < 0 || frame >= this.frames || this.owner[frame] !== owner) {
      throw new Error(`FrameAllocator.release: frame 0x${frame.toString(16)} is not owned by ${owner}`);
    }
    this.owner[frame] = OWNER_FREE;
    this.free[this.freeCount++] = frame;
  }

  /** Release every frame `owner` holds; returns how many. */
  releaseAll(owner: number): number {
    let n = 0;
    for (let f = 0; f < this.frames; f++) {
      if (this.owner[f] === owner) {
        this.release(f, owner);
        n++;
      }
    }
    return n;
  }

  /** How many frames `owner` holds. */
  countOwned(owner: number): number {
    let n = 0;
    for (let f = 0; f < this.frames; f++) if (this.owner[f] === owner) n++;
    return n;
  }
}
