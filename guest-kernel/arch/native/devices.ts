// arch/native devices on I/O ports: the periodic timer, the UART console, the block device,
// system control (power off), and the CPU's clock, cycle counter and CR4 (whose one bit, TSD,
// governs the cycle counter).
// Guest code (the TypeScript subset); runs at ring 0.

import { inb, outb, in32, out32, rdtsc, cpuid, hlt, sti, cli, load32, staticBuffer, cstr, readCr, writeCr } from 'xl32';
import { Port, PortBits } from '../../../toolchain/lib/ports.ts';

export function nativeTimerStart(cycles: number): void {
  out32(Port.TIMER_PERIOD, cycles);
  out32(Port.TIMER_CONTROL, PortBits.TIMER_ENABLE | PortBits.TIMER_PERIODIC);
}

const cpuidOut = staticBuffer(16);

/** CPUID leaf 1 reports the clock in MHz in its first word. */
export function nativeClockMHz(): number {
  cpuid(1, cpuidOut);
  return load32(cpuidOut);
}

export function nativeReadCycles(): number {
  return rdtsc();
}

export function nativeReadCr4(): number {
  return readCr(4);
}

/** MOV to CR4: serializing, but with no TLB flush (unlike CR0 and CR3 on XL32). */
export function nativeWriteCr4(value: number): void {
  writeCr(4, value);
}

/**
 * Wait for an interrupt. An interrupt may be taken right after STI, before HLT (XL32 has no STI
 * shadow); nativeTrap then returns past the HLT, so no wakeup waits for a later interrupt.
 */
export function nativeIdle(): void {
  sti();
  hlt();
  cli();
}

export function nativePowerOff(status: number): void {
  out32(Port.SYS_POWEROFF, status);
}

export function nativeArchName(): number {
  return cstr('native');
}

// ---- console ----

export function nativeConsolePutc(c: number): void {
  while ((inb(Port.UART_LSR) & PortBits.UART_LSR_THRE) === 0) {
    // the transmitter is busy
  }
  outb(Port.UART_DATA, c);
}

export function nativeConsoleGetc(): number {
  if ((inb(Port.UART_LSR) & PortBits.UART_LSR_DR) === 0) return -1;
  return inb(Port.UART_DATA);
}

/** One read of the UART's line-status register (a port read: a bus round trip). */
export function nativeConsoleStatus(): number {
  return inb(Port.UART_LSR);
}

export function nativeConsoleIrqEnable(): void {
  outb(Port.UART_IER, PortBits.UART_IER_RX);
}

// ---- disk ----

const enum Blk {
  STATUS_REFUSED = 2,
  NONE = -1,
}

export function nativeDiskSubmit(cmd: number, sector: number, count: number, phys: number, tag: number): number {
  out32(Port.BLK_SECTOR, sector);
  out32(Port.BLK_COUNT, count);
  out32(Port.BLK_ADDR, phys);
  out32(Port.BLK_COMMAND, (cmd & 0xff) | ((tag & 0xff) << 8));
  return (in32(Port.BLK_STATUS) & Blk.STATUS_REFUSED) !== 0 ? -1 : 0;
}

export function nativeDiskComplete(): number {
  return in32(Port.BLK_COMPLETE);
}

export function nativeDiskCapacity(): number {
  return in32(Port.BLK_CAPACITY);
}

// ---- the local APIC (multiprocessor machines only; a uniprocessor reads all ones) --------------

/** The CPUs present: LAPIC_CPUS, or 1 when there is no local APIC (the port reads all ones). */
export function nativeCpuCount(): number {
  const n = in32(Port.LAPIC_CPUS);
  return n >= 1 && n <= 8 ? n : 1;
}

/** Start CPU n at pc (a function that never returns) on the stack ending at sp. */
export function nativeLapicStart(n: number, pc: number, sp: number): void {
  out32(Port.LAPIC_START_PC, pc);
  out32(Port.LAPIC_START_SP, sp);
  out32(Port.LAPIC_START, n);
}

export function nativeIpiSend(n: number, v: number): void {
  out32(Port.LAPIC_ICR, (n << 8) | (v & 0xff));
}

export function nativeIpiAck(): void {
  out32(Port.LAPIC_EOI, 0);
}

export function nativeLocalTimerStart(cycles: number, v: number): void {
  out32(Port.LAPIC_TIMER_PERIOD, cycles);
  out32(Port.LAPIC_TIMER_CONTROL, (v & 0xff) | PortBits.LAPIC_TIMER_ENABLE | PortBits.LAPIC_TIMER_PERIODIC);
}
