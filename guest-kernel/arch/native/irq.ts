// arch/native interrupt control: the CPU's IF flag (PUSHF/CLI/POPF/STI) and the 8259-like
// interrupt controller (EOI, line masks). Guest code (the TypeScript subset); runs at ring 0.

import { pushf, popf, cli, sti, in32, out32 } from 'xl32';
import { Port, PortBits } from '../../../toolchain/lib/ports.ts';

export function nativeIrqSave(): number {
  const flags = pushf();
  cli();
  return flags;
}

export function nativeIrqRestore(flags: number): void {
  popf(flags);
}

export function nativeIrqDisable(): void {
  cli();
}

export function nativeIrqEnable(): void {
  sti();
}

/** End of interrupt. The controller ends the highest-priority line in service, which is this one. */
export function nativeIrqAck(_line: number): void {
  out32(Port.PIC_CMD, PortBits.PIC_EOI);
}

export function nativeIrqUnmask(line: number): void {
  out32(Port.PIC_MASK, in32(Port.PIC_MASK) & ~(1 << line));
}
