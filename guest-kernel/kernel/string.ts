// Byte and string helpers for kernel memory (kernel virtual addresses only; user memory goes
// through vm.ts copyin/copyout). Guest code (the TypeScript subset); imports only 'xl32'.

import { load8, store8, load32, store32 } from 'xl32';

/** Fill n bytes at dst with the byte c. Word stores when dst and n allow. */
export function memset(dst: number, c: number, n: number): void {
  let k = 0;
  if (((dst | n) & 3) === 0) {
    const b = c & 0xff;
    const w = b | (b << 8) | (b << 16) | (b << 24);
    while (k < n) {
      store32(dst + k, w);
      k = k + 4;
    }
    return;
  }
  while (k < n) {
    store8(dst + k, c);
    k = k + 1;
  }
}

/** Copy n bytes from src to dst (the ranges must not overlap). */
export function memcpy(dst: number, src: number, n: number): void {
  let k = 0;
  if (((dst | src | n) & 3) === 0) {
    while (k < n) {
      store32(dst + k, load32(src + k));
      k = k + 4;
    }
    return;
  }
  while (k < n) {
    store8(dst + k, load8(src + k));
    k = k + 1;
  }
}

export function strlen(s: number): number {
  let n = 0;
  while (load8(s + n) !== 0) n = n + 1;
  return n;
}

/** Compare at most n bytes of two NUL-terminated strings: 0 when equal. */
export function strncmp(a: number, b: number, n: number): number {
  let k = 0;
  while (k < n) {
    const ca = load8(a + k);
    const cb = load8(b + k);
    if (ca !== cb) return ca - cb;
    if (ca === 0) return 0;
    k = k + 1;
  }
  return 0;
}

/** Copy the string src into dst of size n bytes, always NUL-terminating (truncates). */
export function strlcpy(dst: number, src: number, n: number): void {
  let k = 0;
  while (k < n - 1) {
    const c = load8(src + k);
    if (c === 0) break;
    store8(dst + k, c);
    k = k + 1;
  }
  if (n > 0) store8(dst + k, 0);
}
