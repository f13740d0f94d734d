// The XL32 I/O port bus: a registry of device models keyed by port (kvmtool's idea), with an O(1)
// lookup through a table indexed by the 16-bit port, and per-device access counters.
// Imports only machine/types.ts; knows nothing of particular devices.

import type { IoBus, IoDevice } from './types.ts';
import { hex } from './hex.ts';

/** Number of I/O ports: the port space is 16 bits wide. */
export const PORT_SPACE = 0x10000;

/** Access counts of one registered device (for `info`-style statistics). */
export interface IoDeviceStats {
  readonly name: string;
  readonly portBase: number;
  readonly portCount: number;
  readonly reads: number;
  readonly writes: number;
}

interface Slot {
  readonly dev: IoDevice;
  reads: number;
  writes: number;
}

/** Mask of an access of `size` bytes (1, 2 or 4; anything else is treated as 4). */
function sizeMask(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

export class IoPortBus implements IoBus {
  /** port -> 1 + index into `slots`; 0 = unmapped */
  private readonly map = new Uint16Array(PORT_SPACE);
  private readonly slots: Slot[] = [];
  /** accesses to ports no device answers */
  unmappedReads = 0;
  unmappedWrites = 0;

  /**
   * Attach a device at [portBase, portBase + portCount). Throws if the range is not inside the
   * 16-bit port space or overlaps a registered device (a platform wiring error, not a guest one).
   */
  register(dev: IoDevice): void {
    const { portBase: base, portCount: count } = dev;
    if (!Number.isInteger(base) || !Number.isInteger(count) || base < 0 || count < 1 || base + count > PORT_SPACE) {
      throw new RangeError(
        `IoPortBus: device '${dev.name}' has an invalid port range (base ${base}, count ${count})`,
      );
    }
    for (let p = base; p < base + count; p++) {
      const other = this.map[p]!;
      if (other !== 0) {
        const o = this.slots[other - 1]!.dev;
        throw new Error(
          `IoPortBus: device '${dev.name}' (ports ${hex(base, 1)}..${hex(base + count - 1, 1)}) overlaps ` +
            `'${o.name}' (ports ${hex(o.portBase, 1)}..${hex(o.portBase + o.portCount - 1, 1)}) at port ${hex(p, 1)}`,
        );
      }
    }
    if (this.slots.length >= 0xffff) throw new Error('IoPortBus: too many devices');
    this.slots.push({ dev, reads: 0, writes: 0 });
    this.map.fill(this.slots.length, base, base + count);
  }

  /** Port read. Unmapped ports (and ports outside 0..0xffff) read all ones, masked to the size. */
  read(port: number, size: number): number {
    const mask = sizeMask(size);
    const idx = this.map[port];
    if (!idx) {
      this.unmappedReads++;
      return mask >>> 0;
    }
    const slot = this.slots[idx - 1]!;
    slot.reads++;
    return (slot.dev.read(port, size) & mask) >>> 0;
  }

  /** Port write; the value is masked to the size. Writes to unmapped ports are ignored. */
  write(port: number, size: number, value: number): void {
    const idx = this.map[port];
    if (!idx) {
      this.unmappedWrites++;
      return;
    }
    const slot = this.slots[idx - 1]!;
    slot.writes++;
    slot.dev.write(port, size, (value & sizeMask(size)) >>> 0);
  }

  /** The device answering `port`, if any. */
  deviceAt(port: number): IoDevice | undefined {
    const idx = this.map[port];
    return idx ? this.slots[idx - 1]!.dev : undefined;
  }

  /** Registered devices, in registration order. */
  devices(): IoDevice[] {
    return this.slots.map((s) => s.dev);
  }

  /** Per-device access counters, in registration order. */
  stats(): IoDeviceStats[] {
    return this.slots.map((s) => ({
      name: s.dev.name,
      portBase: s.dev.portBase,
      portCount: s.dev.portCount,
      reads: s.reads,
      writes: s.writes,
    }));
  }

  /** Zero the access counters. */
  resetStats(): void {
    for (const s of this.slots) s.reads = s.writes = 0;
    this.unmappedReads = this.unmappedWrites = 0;
  }

  /** Return every device to its power-on state (counters are kept). */
  resetDevices(): void {
    for (const s of this.slots) s.dev.reset?.();
  }
}
