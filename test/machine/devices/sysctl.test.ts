// Tests for machine/devices/sysctl.ts: power-off with the written exit status.

import { describe, expect, it } from 'vitest';
import { IoPortBus } from '../../../machine/bus.ts';
import { SYS_POWEROFF } from '../../../machine/devices/ports.ts';
import { SysCtl } from '../../../machine/devices/sysctl.ts';
import { FakeContext } from './fake-context.ts';

describe('SysCtl', () => {
  it('occupies port 0x501 only', () => {
    const s = new SysCtl(new FakeContext());
    expect([s.portBase, s.portCount]).toEqual([0x501, 1]);
  });

  it('powers the machine off with the written value as exit status', () => {
    const ctx = new FakeContext();
    const s = new SysCtl(ctx);
    s.write(SYS_POWEROFF, 4, 0);
    s.write(SYS_POWEROFF, 4, 0xdeadbeef);
    expect(ctx.powerOffs).toEqual([0, 0xdeadbeef]);
  });

  it('through the bus, a byte write passes the low byte as status; reads are 0', () => {
    const ctx = new FakeContext();
    const bus = new IoPortBus();
    bus.register(new SysCtl(ctx));
    bus.write(SYS_POWEROFF, 1, 0x1234);
    expect(ctx.powerOffs).toEqual([0x34]);
    expect(bus.read(SYS_POWEROFF, 4)).toBe(0);
  });
});
