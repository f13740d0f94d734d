// The XL32 interrupt controller: one 8259-like chip, 16 edge-triggered lines, fully nested
// priorities, registers per machine/devices/ports.ts. Device model only: touches its own state and
// calls onChange so the CPU re-checks for a deliverable interrupt.

import type { InterruptController, IoDevice } from '../types.ts';
import { PIC_BASE, PIC_CMD, PIC_EOI, PIC_MASK, PIC_STATUS } from './ports.ts';

/** Number of interrupt lines. */
export const PIC_LINES = 16;
const LINES_MASK = 0xffff;
const RESET_MASK = 0xffff;
const RESET_BASE = 32;

/** Index of the lowest set bit (the highest-priority line), or 32 if none. */
function lowestBit(bits: number): number {
  return bits === 0 ? 32 : 31 - Math.clz32(bits & -bits);
}

export class Pic implements IoDevice, InterruptController {
  readonly name = 'pic';
  readonly portBase = PIC_CMD;
  readonly portCount = PIC_STATUS - PIC_CMD + 1;

  /** requested lines (IRR) */
  private requested = 0;
  /** lines in service (ISR): acknowledged, not yet ended by EOI */
  private inService = 0;
  /** bit n set = line n masked (IMR) */
  private mask = RESET_MASK;
  /** vector of line 0; line n is delivered as (base + n) & 0xff */
  private base = RESET_BASE;
  /** interrupts acknowledged per line, since power-on (statistics, like /proc/interrupts) */
  readonly delivered = new Float64Array(PIC_LINES);

  /** onChange: called whenever a line may have become deliverable (raise, unmask, EOI, base change). */
  constructor(private readonly onChange: () => void) {}

  reset(): void {
    this.requested = 0;
    this.inService = 0;
    this.mask = RESET_MASK;
    this.base = RESET_BASE;
  }

  /** A device asserts a line: an edge sets its request bit. Lines outside 0..15 are ignored. */
  raise(line: number): void {
    if (!validLine(line)) return;
    this.requested |= 1 << line;
    this.onChange();
  }

  /** A device withdraws a request that has not been acknowledged yet. */
  lower(line: number): void {
    if (!validLine(line)) return;
    this.requested &= ~(1 << line);
  }

  /** The highest-priority deliverable line, or -1: unmasked, requested, above every line in service. */
  private deliverableLine(): number {
    const line = lowestBit(this.requested & ~this.mask & LINES_MASK);
    return line < lowestBit(this.inService) ? line : -1;
  }

  pendingVector(): number {
    const line = this.deliverableLine();
    return line < 0 ? -1 : (this.base + line) & 0xff;
  }

  /** INTA: the pending line moves from requested to in service. Returns its vector, or -1 if none. */
  acknowledge(): number {
    const line = this.deliverableLine();
    if (line < 0) return -1;
    this.requested &= ~(1 << line);
    this.inService |= 1 << line;
    this.delivered[line]!++;
    return (this.base + line) & 0xff;
  }

  /** Requested lines in bits 0..15, in-service lines in bits 16..31 (the PIC_STATUS value). */
  status(): number {
    return (this.requested | (this.inService << 16)) >>> 0;
  }

  read(port: number, _size: number): number {
    switch (port) {
      case PIC_MASK:
        return this.mask;
      case PIC_BASE:
        return this.base;
      case PIC_STATUS:
        return this.status();
      default:
        return 0; // PIC_CMD is write-only
    }
  }

  write(port: number, _size: number, value: number): void {
    switch (port) {
      case PIC_CMD:
        if ((value & 0xff) === PIC_EOI) this.endOfInterrupt();
        return; // other commands are ignored
      case PIC_MASK: {
        const unmasked = this.mask & ~value;
        this.mask = value & LINES_MASK;
        if (unmasked & LINES_MASK) this.onChange();
        return;
      }
      case PIC_BASE: {
        const base = value & 0xff;
        if (base !== this.base) {
          this.base = base;
          this.onChange();
        }
        return;
      }
      default:
        return; // PIC_STATUS is read-only
    }
  }

  /** EOI: end the highest-priority line in service (nothing if none is). */
  private endOfInterrupt(): void {
    if (this.inService === 0) return;
    this.inService &= this.inService - 1; // clear the lowest set bit
    this.onChange();
  }
}

function validLine(line: number): boolean {
  return Number.isInteger(line) && line >= 0 && line < PIC_LINES;
}
