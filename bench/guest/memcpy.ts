// Compiler benchmark kernel "memcpy" in the guest subset; bench/asm/memcpy.s is the hand-written
// twin. Fills a source buffer with a word pattern, copies it REPEAT times (words, then the tail
// bytes) and returns the wrapping sum of the copy's words as the program's exit status.
import { load32, load8, staticBuffer, store32, store8 } from 'xl32';

const enum Size {
  /** not a multiple of 4: the byte tail runs too */
  BYTES = 8195,
  WORDS = 2049,
  REPEAT = 8,
  /** 0x9e3779b1 as a signed 32-bit value */
  GOLDEN = -1640531535,
}

const src = staticBuffer(Size.WORDS * 4);
const dst = staticBuffer(Size.WORDS * 4);

/** Copy n bytes from s to d: whole words first, then the remaining bytes. */
export function memcpy(d: number, s: number, n: number): void {
  const words = n & ~3;
  let i = 0;
  while (i < words) {
    store32(d + i, load32(s + i));
    i += 4;
  }
  while (i < n) {
    store8(d + i, load8(s + i));
    i += 1;
  }
}

export function main(): number {
  for (let k = 0; k < Size.WORDS; k++) store32(src + k * 4, Math.imul(k, Size.GOLDEN));
  for (let r = 0; r < Size.REPEAT; r++) memcpy(dst, src, Size.BYTES);
  let sum = 0;
  for (let k = 0; k < Size.WORDS; k++) sum = (sum + load32(dst + k * 4)) | 0;
  return sum;
}
