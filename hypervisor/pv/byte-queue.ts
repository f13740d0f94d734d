// A first-in first-out queue of bytes for input the hypervisor holds for a guest (console input
// before the guest connects its ring, and input the ring has no room for yet). One Uint8Array
// with a head and a tail: taking bytes moves the head, never the bytes behind it, so draining n
// bytes in reads of k costs O(n), not the O(n^2/k) of shifting an array after every read (issue 9
// item 6: 8 MiB of console input cost 17 s that way). The storage doubles when full and slides
// its contents to the front only when that frees half of it, so a byte is copied at most three
// times on average: once in, and amortized at most once by doublings and once by slides.
// Pure data structure; touches nothing else.

const INITIAL_BYTES = 256;

export class ByteQueue {
  private buf = new Uint8Array(INITIAL_BYTES);
  private head = 0;
  private tail = 0;
  /**
   * Bytes written into the storage since creation: each byte pushed, plus each byte moved when
   * the storage grew or slid to the front. A statistic that pins the linear cost in tests.
   */
  bytesCopied = 0;

  get length(): number {
    return this.tail - this.head;
  }

  /** Append bytes. */
  push(bytes: Uint8Array): void {
    const n = bytes.length;
    this.reserve(n);
    this.buf.set(bytes, this.tail);
    this.tail += n;
    this.bytesCopied += n;
  }

  /** Append everything another queue holds, emptying it. */
  pushFrom(other: ByteQueue): void {
    this.push(other.peek(other.length));
    other.clear();
  }

  /** The first n bytes (n <= length), as a view that is valid until the next push. */
  peek(n: number): Uint8Array {
    if (n < 0 || n > this.length) throw new RangeError(`ByteQueue.peek: ${n} of ${this.length} bytes`);
    return this.buf.subarray(this.head, this.head + n);
  }

  /** Drop the first n bytes (n <= length). */
  drop(n: number): void {
    if (n < 0 || n > this.length) throw new RangeError(`ByteQueue.drop: ${n} of ${this.length} bytes`);
    this.head += n;
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  clear(): void {
    this.head = this.tail = 0;
  }

  /** Room for n more bytes at the tail: slide to the front if that frees enough, else double. */
  private reserve(n: number): void {
    if (this.tail + n <= this.buf.length) return;
    const live = this.length;
    if (live + n <= this.buf.length >>> 1) {
      this.buf.copyWithin(0, this.head, this.tail);
    } else {
      let size = this.buf.length * 2;
      while (size < live + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(this.head, this.tail));
      this.buf = next;
    }
    this.bytesCopied += live;
    this.head = 0;
    this.tail = live;
  }
}
