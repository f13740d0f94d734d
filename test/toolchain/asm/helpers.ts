// Test helpers for toolchain/asm: assemble a snippet and read back its words and bytes.
import { assemble } from '../../../toolchain/asm/index.ts';
import type { Image } from '../../../machine/image.ts';

export function image(src: string): Image {
  return assemble(src, 'test.s').image;
}

/** The bytes of the only (or first) segment. */
export function bytesOf(src: string): number[] {
  return Array.from(image(src).segments[0]?.data ?? []);
}

/** The first segment's bytes as signed 32-bit little-endian words. */
export function wordsOf(src: string): number[] {
  const data = image(src).segments[0]?.data ?? new Uint8Array();
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: number[] = [];
  for (let off = 0; off + 4 <= data.length; off += 4) out.push(dv.getInt32(off, true));
  return out;
}

/** The message of the AsmError that assembling src throws. */
export function errorOf(src: string, file = 'demo.s'): string {
  try {
    assemble(src, file);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an assembler error');
}
