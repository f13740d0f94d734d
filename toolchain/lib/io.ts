// Console output and power-off for guest programs that drive the hardware directly (bare or
// arch/native): polled UART transmit, decimal and hex formatting, the power-off port.
// Guest code (the TypeScript subset); imports only 'xl32' and the guest port map. It also runs
// unchanged in Node over the xl32 shim, which is how the conformance suite compares outputs.

import { inb, outb, out32, load8, divu, remu, geu } from 'xl32';
import { Port, PortBits } from './ports.ts';

const enum Ch {
  NEWLINE = 10,
  MINUS = 45,
  ZERO = 48,
  X = 120,
  /** 'a' - 10: added to a hex digit 10..15 */
  HEX_ALPHA = 87,
}

/** Transmit one byte: wait until the UART's holding register is empty, then write it. */
export function putc(c: number): void {
  while ((inb(Port.UART_LSR) & PortBits.UART_LSR_THRE) === 0) {
    // the transmitter is busy: poll again
  }
  outb(Port.UART_DATA, c);
}

/** Transmit the NUL-terminated string at address s (e.g. from `cstr`). */
export function puts(s: number): void {
  let p = s;
  let c = load8(p);
  while (c !== 0) {
    putc(c);
    p = (p + 1) | 0;
    c = load8(p);
  }
}

/** Transmit a newline. */
export function newline(): void {
  putc(Ch.NEWLINE);
}

/** Transmit n as an unsigned decimal number (0 .. 4294967295). */
export function printUnsigned(n: number): void {
  if (geu(n, 10)) printUnsigned(divu(n, 10));
  putc(Ch.ZERO + remu(n, 10));
}

/** Transmit n as a signed decimal number (-2147483648 .. 2147483647). */
export function printInt(n: number): void {
  if (n < 0) {
    putc(Ch.MINUS);
    // -(-2147483648) wraps to itself, which printUnsigned reads as 2147483648
    printUnsigned(-n | 0);
  } else {
    printUnsigned(n);
  }
}

/** Transmit n as `0x` and exactly eight lowercase hex digits (its 32-bit pattern). */
export function printHex(n: number): void {
  putc(Ch.ZERO);
  putc(Ch.X);
  let shift = 28;
  while (shift >= 0) {
    const digit = (n >>> shift) & 15;
    putc(digit < 10 ? Ch.ZERO + digit : Ch.HEX_ALPHA + digit);
    shift = shift - 4;
  }
}

/** Power the machine off; the host sees `status` as the exit status. Does not return on XL32. */
export function powerOff(status: number): void {
  out32(Port.SYS_POWEROFF, status);
}
