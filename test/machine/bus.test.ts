// Tests for machine/bus.ts: routing to registered devices, unmapped ports, size masking,
// overlap errors and access counters.

import { describe, expect, it } from 'vitest';
import { IoPortBus } from '../../machine/bus.ts';
import type { IoDevice } from '../../machine/types.ts';

class Probe implements IoDevice {
  readonly log: string[] = [];
  constructor(
    readonly name: string,
    readonly portBase: number,
    readonly portCount: number,
    private readonly value = 0x12345678,
  ) {}
  read(port: number, size: number): number {
    this.log.push(`r ${port.toString(16)} ${size}`);
    return this.value;
  }
  write(port: number, size: number, value: number): void {
    this.log.push(`w ${port.toString(16)} ${size} ${value.toString(16)}`);
  }
  resets = 0;
  reset(): void {
    this.resets++;
  }
}

describe('IoPortBus', () => {
  it('routes reads and writes to the device owning the port, with the absolute port', () => {
    const bus = new IoPortBus();
    const a = new Probe('a', 0x20, 4);
    const b = new Probe('b', 0x3f8, 6, 0xabcd);
    bus.register(a);
    bus.register(b);
    expect(bus.read(0x23, 4)).toBe(0x12345678);
    bus.write(0x3fd, 4, 7);
    expect(bus.read(0x3f8, 4)).toBe(0xabcd);
    expect(a.log).toEqual(['r 23 4']);
    expect(b.log).toEqual(['w 3fd 4 7', 'r 3f8 4']);
    expect(bus.deviceAt(0x3fa)).toBe(b);
    expect(bus.deviceAt(0x24)).toBeUndefined();
  });

  it('masks reads and writes to the access size', () => {
    const bus = new IoPortBus();
    const a = new Probe('a', 0x40, 1, 0xfedcba98);
    bus.register(a);
    expect(bus.read(0x40, 1)).toBe(0x98);
    expect(bus.read(0x40, 2)).toBe(0xba98);
    expect(bus.read(0x40, 4)).toBe(0xfedcba98);
    bus.write(0x40, 1, 0x1ff);
    bus.write(0x40, 4, -1);
    expect(a.log.slice(3)).toEqual(['w 40 1 ff', 'w 40 4 ffffffff']);
  });

  it('reads unmapped ports as all ones masked to the size and ignores writes to them', () => {
    const bus = new IoPortBus();
    bus.register(new Probe('a', 0x20, 4));
    expect(bus.read(0x24, 1)).toBe(0xff);
    expect(bus.read(0x24, 2)).toBe(0xffff);
    expect(bus.read(0x1f, 4)).toBe(0xffffffff);
    expect(bus.read(0xffff, 4)).toBe(0xffffffff);
    bus.write(0x24, 4, 1);
    expect(bus.unmappedReads).toBe(4);
    expect(bus.unmappedWrites).toBe(1);
  });

  it('treats ports outside 0..0xffff as unmapped', () => {
    const bus = new IoPortBus();
    bus.register(new Probe('a', 0, 4));
    expect(bus.read(0x10000, 4)).toBe(0xffffffff);
    expect(bus.read(-1, 1)).toBe(0xff);
    bus.write(0x10001, 4, 5);
    expect(bus.stats()[0]).toMatchObject({ reads: 0, writes: 0 });
  });

  it('throws a clear error when a device overlaps a registered one', () => {
    const bus = new IoPortBus();
    bus.register(new Probe('pic', 0x20, 4));
    expect(() => bus.register(new Probe('other', 0x23, 2))).toThrow(
      "IoPortBus: device 'other' (ports 0x23..0x24) overlaps 'pic' (ports 0x20..0x23) at port 0x23",
    );
    // the failed registration left nothing behind
    expect(bus.read(0x24, 1)).toBe(0xff);
    bus.register(new Probe('next', 0x24, 1));
    expect(bus.deviceAt(0x24)?.name).toBe('next');
  });

  it('rejects port ranges outside the 16-bit port space or empty', () => {
    const bus = new IoPortBus();
    expect(() => bus.register(new Probe('big', 0xfffe, 3))).toThrow(/invalid port range/);
    expect(() => bus.register(new Probe('empty', 0x10, 0))).toThrow(/invalid port range/);
    expect(() => bus.register(new Probe('neg', -1, 2))).toThrow(/invalid port range/);
  });

  it('counts reads and writes per device, and resets the counters', () => {
    const bus = new IoPortBus();
    bus.register(new Probe('a', 0x20, 4));
    bus.register(new Probe('b', 0x40, 4));
    bus.read(0x20, 1);
    bus.read(0x21, 1);
    bus.write(0x22, 1, 0);
    bus.write(0x43, 4, 0);
    expect(bus.stats()).toEqual([
      { name: 'a', portBase: 0x20, portCount: 4, reads: 2, writes: 1 },
      { name: 'b', portBase: 0x40, portCount: 4, reads: 0, writes: 1 },
    ]);
    bus.resetStats();
    expect(bus.stats().map((s) => s.reads + s.writes)).toEqual([0, 0]);
  });

  it('resetDevices resets every registered device', () => {
    const bus = new IoPortBus();
    const a = new Probe('a', 0x20, 4);
    const b = new Probe('b', 0x40, 4);
    bus.register(a);
    bus.register(b);
    bus.resetDevices();
    expect([a.resets, b.resets]).toEqual([1, 1]);
    expect(bus.devices()).toEqual([a, b]);
  });
});
