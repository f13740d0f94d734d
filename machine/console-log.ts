// A console's byte log: what a guest wrote to its console, kept for reading back (the bare
// machine's UART, a domain's console). Bounded, so a guest that writes without end cannot take
// the host's memory: past `capacity` bytes the older half goes (counted in `dropped`); whoever
// needs every byte takes them as they come (onOutput callbacks). Pure data; imports nothing.

/** Bytes a console log keeps by default: far more than any session prints. */
export const CONSOLE_LOG_BYTES = 16 * 1024 * 1024;

export class ConsoleLog {
  /** bytes dropped from the front of the log */
  dropped = 0;
  private buf: Uint8Array;
  private len = 0;

  constructor(readonly capacity = CONSOLE_LOG_BYTES) {
    this.buf = new Uint8Array(Math.min(4096, capacity));
  }

  /** Bytes held now. */
  get length(): number {
    return this.len;
  }

  /** Append one byte (its low 8 bits). */
  push(byte: number): void {
    if (this.len === this.buf.length) {
      if (this.buf.length < this.capacity) {
        const bigger = new Uint8Array(Math.min(this.capacity, this.buf.length * 2));
        bigger.set(this.buf);
        this.buf = bigger;
      } else {
        const half = this.len >>> 1;
        this.buf.copyWithin(0, half, this.len);
        this.len -= half;
        this.dropped += half;
      }
    }
    this.buf[this.len++] = byte;
  }

  /** The bytes held (a copy). */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** The bytes held, decoded as UTF-8. */
  text(): string {
    return new TextDecoder().decode(this.buf.subarray(0, this.len));
  }
}
