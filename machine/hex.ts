// hex(): the one way the project writes a number in hexadecimal (addresses, frames, ports, words)
// in messages, listings and reports. Imports nothing.

/** `n` as an unsigned 32-bit value: `0x` and at least `minDigits` hex digits (0x0000b000; hex(0x3f8, 1) is 0x3f8). */
export function hex(n: number, minDigits = 8): string {
  return `0x${(n >>> 0).toString(16).padStart(minDigits, '0')}`;
}
