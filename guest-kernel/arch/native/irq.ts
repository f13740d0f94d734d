// arch/native interrupt control: the CPU's IF flag (PUSHF/CLI/POPF/STI) and the 8259-like
// interrupt controller (EOI, line masks). Guest code (the TypeScript subset); runs at ring 0.

import { pushf, popf, cli, sti, in32, out32, rdcpl } from 'xl32';
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

/** PUSHF's IF bit: whether the CPU reports interrupts enabled (a critical instruction). */
export function nativeIrqsEnabled(): number {
  return (pushf() & Flags.IF) !== 0 ? 1 : 0;
}

/** RDCPL: the ring the CPU says the kernel runs at (a critical instruction). */
export function nativeCurrentRing(): number {
  return rdcpl();
}

const enum Flags {
  IF = 0x200,
}
