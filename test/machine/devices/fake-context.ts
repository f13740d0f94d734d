// A test double for the platform side of DeviceContext: a controllable cycle counter driving a
// real EventQueue, recorded interrupt-line changes and power-offs, and a byte array for DMA.
// Test helper only; imports machine/clock.ts and machine/types.ts.

import { EventQueue } from '../../../machine/clock.ts';
import type { DeviceContext } from '../../../machine/types.ts';

export interface IrqChange {
  cycle: number;
  line: number;
  raised: boolean;
}

export class FakeContext implements DeviceContext {
  cycle = 0;
  readonly events = new EventQueue(() => this.cycle);
  readonly irqLog: IrqChange[] = [];
  readonly powerOffs: number[] = [];
  readonly memory: Uint8Array;
  /** called after each recorded raise (e.g. to wire a Pic) */
  onRaise: (line: number) => void = () => {};

  constructor(memoryBytes = 0x10000) {
    this.memory = new Uint8Array(memoryBytes);
  }

  now(): number {
    return this.cycle;
  }
  schedule(atCycle: number, fn: () => void): number {
    return this.events.schedule(atCycle, fn);
  }
  cancel(handle: number): void {
    this.events.cancel(handle);
  }
  raiseIrq(line: number): void {
    this.irqLog.push({ cycle: this.cycle, line, raised: true });
    this.onRaise(line);
  }
  lowerIrq(line: number): void {
    this.irqLog.push({ cycle: this.cycle, line, raised: false });
  }
  dmaWrite(paddr: number, data: Uint8Array): boolean {
    if (paddr < 0 || paddr + data.length > this.memory.length) return false;
    this.memory.set(data, paddr);
    return true;
  }
  dmaRead(paddr: number, length: number): Uint8Array | null {
    if (paddr < 0 || length < 0 || paddr + length > this.memory.length) return null;
    return this.memory.slice(paddr, paddr + length);
  }
  powerOff(status: number): void {
    this.powerOffs.push(status);
  }

  /** Cycles at which the line was raised. */
  raises(line: number): number[] {
    return this.irqLog.filter((c) => c.line === line && c.raised).map((c) => c.cycle);
  }
  /** Cycles at which the line was lowered. */
  lowers(line: number): number[] {
    return this.irqLog.filter((c) => c.line === line && !c.raised).map((c) => c.cycle);
  }

  /**
   * Advance time to `target`, stopping at each event deadline on the way so every callback sees
   * now() equal to its own scheduled cycle (what the CPU's run loop guarantees).
   */
  advanceTo(target: number): void {
    for (let next = this.events.nextDeadline(); next <= target; next = this.events.nextDeadline()) {
      this.cycle = Math.max(this.cycle, next);
      this.events.runDue();
    }
    this.cycle = Math.max(this.cycle, target);
  }
  advance(cycles: number): void {
    this.advanceTo(this.cycle + cycles);
  }
}
