// The per-domain device model: the machine's own device classes on the domain's own port bus,
// with interrupts to the domain's virtual PIC (never the real one), DMA through the domain's p2m,
// power-off stopping only that domain, and device events on the hypervisor's one event queue.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { VcpuExit } from '../../hypervisor/core/vcpu.ts';
import {
  BLK_ADDR,
  BLK_CMD_READ,
  BLK_CMD_WRITE,
  BLK_COMMAND,
  BLK_COMPLETE,
  BLK_COUNT,
  BLK_SECTOR,
  PIC_MASK,
  SYS_POWEROFF,
  TIMER_CONTROL,
  TIMER_PERIOD,
  UART_DATA,
  UART_LSR,
} from '../../machine/devices/ports.ts';
import { ScriptMode } from './core-harness.ts';

const MiB = 1024 * 1024;

function io(port: number, size: number, isWrite: boolean, data = 0): VcpuExit {
  const e = new VcpuExit();
  e.reason = 'io';
  e.port = port;
  e.size = size;
  e.isWrite = isWrite;
  e.data = data;
  return e;
}

function setup(opts: { disk?: Uint8Array; domains?: number } = {}) {
  const hv = new Hypervisor({ memoryBytes: 8 * MiB });
  const mode = new ScriptMode();
  const doms = Array.from({ length: opts.domains ?? 1 }, (_, k) =>
    hv.createDomain(mode, { name: `d${k}`, memoryBytes: 256 * 1024, ...(opts.disk ? { disk: opts.disk } : {}) }),
  );
  return { hv, mode, doms };
}

describe('device model', () => {
  it('answers I/O exits through the domain bus: writes reach the device, reads come back masked to the size', () => {
    const { doms } = setup();
    const d = doms[0]!;
    const dm = d.devices!;
    dm.handleIo(io(UART_DATA, 1, true, 0x41));
    const lsr = io(UART_LSR, 1, false);
    dm.handleIo(lsr);
    expect(lsr.data).toBe(0x60);
    const none = io(0x7777, 1, false);
    dm.handleIo(none);
    expect(none.data).toBe(0xff);
    expect(d.consoleOutput()).toBe('A');
    expect(d.stats.ioByPort()).toEqual([
      { port: UART_DATA, reads: 0, writes: 1 },
      { port: UART_LSR, reads: 1, writes: 0 },
      { port: 0x7777, reads: 1, writes: 0 },
    ]);
  });

  it("a device's interrupt goes to the domain's virtual PIC, never the real machine's", () => {
    const { hv, doms } = setup({ domains: 2 });
    const [a, b] = doms as [(typeof doms)[0], (typeof doms)[0]];
    const dm = a.devices!;
    dm.handleIo(io(PIC_MASK, 4, true, 0xfffe));
    dm.handleIo(io(TIMER_PERIOD, 4, true, 1000));
    dm.handleIo(io(TIMER_CONTROL, 4, true, 1));
    hv.cpu.cycles = 1000;
    hv.events.runDue();
    expect(a.devices!.pic.pendingVector()).toBe(32);
    expect(b.devices!.pic.pendingVector()).toBe(-1);
    expect(hv.machine.pic.status()).toBe(0);
  });

  it('one event queue for all domains: timer expiries fire in time order, whichever domain they belong to', () => {
    const { hv, doms } = setup({ domains: 2 });
    const order: string[] = [];
    for (const [d, period] of [
      [doms[0]!, 3000],
      [doms[1]!, 2000],
    ] as const) {
      const dm = d.devices!;
      const raise = dm.raiseIrq.bind(dm);
      dm.raiseIrq = (line) => {
        order.push(d.name);
        raise(line);
      };
      dm.handleIo(io(TIMER_PERIOD, 4, true, period));
      dm.handleIo(io(TIMER_CONTROL, 4, true, 3)); // periodic
    }
    hv.cpu.cycles = 6000;
    hv.events.runDue();
    // expiries at 2000 (d1), 3000 (d0), 4000 (d1), 6000 (d0, re-armed first), 6000 (d1)
    expect(order).toEqual(['d1', 'd0', 'd1', 'd0', 'd1']);
    expect(hv.events.nextDeadline()).toBe(8000);
  });

  it('block-device DMA goes through the p2m into the right machine frames; beyond the quota it fails cleanly', () => {
    const disk = new Uint8Array(8 * 512);
    for (let k = 0; k < disk.length; k++) disk[k] = (k * 7) & 0xff;
    // a domain whose first frames are another domain's, given back: its p2m runs downwards there
    const hv = new Hypervisor({ memoryBytes: 8 * MiB });
    const mode = new ScriptMode();
    hv.destroyDomain(hv.createDomain(mode, { name: 'gone', memoryBytes: 64 * 1024 }));
    const d = hv.createDomain(mode, { name: 'dma', memoryBytes: 256 * 1024, disk });
    const dm = d.devices!;
    // two sectors to guest-physical 0x1e00: the transfer crosses from guest frame 1 into frame 2
    dm.handleIo(io(BLK_SECTOR, 4, true, 2));
    dm.handleIo(io(BLK_COUNT, 4, true, 2));
    dm.handleIo(io(BLK_ADDR, 4, true, 0x1e00));
    dm.handleIo(io(BLK_COMMAND, 4, true, BLK_CMD_READ | (5 << 8)));
    // and two sectors from the last 512 bytes of the domain's memory: runs past its end
    dm.handleIo(io(BLK_ADDR, 4, true, 256 * 1024 - 512));
    dm.handleIo(io(BLK_COMMAND, 4, true, BLK_CMD_READ | (6 << 8)));
    dm.handleIo(io(BLK_COMMAND, 4, true, BLK_CMD_WRITE | (7 << 8)));
    hv.cpu.cycles = 10_000_000;
    hv.events.runDue();
    const done = [0, 1, 2].map(() => {
      const e = io(BLK_COMPLETE, 4, false);
      dm.handleIo(e);
      return e.data.toString(16);
    });
    expect(done).toEqual(['105', '206', '207']); // tag | result << 8: OK, ERROR, ERROR
    expect(Array.from(d.memory.readBytes(0x1e00, 1024)!)).toEqual(Array.from(disk.subarray(1024, 2048)));
    const m1 = d.memory.machineAddress(0x1e00);
    const m2 = d.memory.machineAddress(0x2000);
    expect(m2 - m1).toBe(0x200 - 2 * 4096); // guest frames 1 and 2 are machine frames n and n - 1
    expect(Array.from(hv.mem.u8.subarray(m1, m1 + 512))).toEqual(Array.from(disk.subarray(1024, 1536)));
    expect(Array.from(hv.mem.u8.subarray(m2, m2 + 512))).toEqual(Array.from(disk.subarray(1536, 2048)));
    expect(dm.block.errors).toBe(2);
    expect(d.memory.readBytes(256 * 1024 - 512, 512)!.every((b) => b === 0)).toBe(true);
  });

  it('power-off stops that domain only; the hypervisor and the other domain carry on', () => {
    const { hv, mode, doms } = setup({ domains: 2 });
    mode.scripts.set('d1v0', [{ cycles: 10, reason: 'io', port: SYS_POWEROFF, size: 4, isWrite: true, data: 42 }]);
    mode.scripts.set('d2v0', [
      { cycles: 500, reason: 'io', port: UART_DATA, size: 1, isWrite: true, data: 0x4f },
      { cycles: 500, reason: 'io', port: UART_DATA, size: 1, isWrite: true, data: 0x4b },
    ]);
    expect(hv.run().reason).toBe('all-stopped');
    expect([doms[0]!.stopReason, doms[0]!.stopStatus]).toEqual(['poweroff', 42]);
    expect(doms[1]!.consoleOutput()).toBe('OK');
    expect(doms[1]!.stopReason).toBe('poweroff');
  });

  it('a domain created without devices reads all ones from every port', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB });
    const mode = new ScriptMode();
    const d = hv.createDomain(mode, { name: 'bare', memoryBytes: 64 * 1024, devices: false });
    expect(d.devices).toBeNull();
    mode.scripts.set('d1v0', [{ cycles: 10, reason: 'io', port: UART_LSR, size: 1, isWrite: false }]);
    hv.run();
    expect(mode.completedIns.get('d1v0')).toEqual([0xff]);
  });
});
