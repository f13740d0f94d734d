// The XL32 system-control device: a write to SYS_POWEROFF powers the machine off with the written
// value as exit status (like QEMU's isa-debug-exit); port per machine/devices/ports.ts.
// Device model only: reaches the platform through DeviceContext.powerOff.

import type { DeviceContext, IoDevice } from '../types.ts';
import { SYS_POWEROFF } from './ports.ts';

export class SysCtl implements IoDevice {
  readonly name = 'sysctl';
  readonly portBase = SYS_POWEROFF;
  readonly portCount = 1;

  constructor(private readonly ctx: DeviceContext) {}

  reset(): void {}

  read(_port: number, _size: number): number {
    return 0;
  }

  write(port: number, _size: number, value: number): void {
    if (port === SYS_POWEROFF) this.ctx.powerOff(value >>> 0);
  }
}
