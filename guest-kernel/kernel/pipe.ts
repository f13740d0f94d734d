// Pipes: a one-page ring buffer between a read end and a write end. Readers sleep while it is
// empty (and a writer remains), writers while it is full (and a reader remains); writing with
// no reader left fails with EPIPE. Guest code (the TypeScript subset).

import { load32, store32, staticBuffer } from 'xl32';
import { Param } from './param.ts';
import { Err } from './abi.ts';
import { memset } from './string.ts';
import { kalloc, kfree } from './kalloc.ts';
import { p2v, copyin, copyout } from './vm.ts';
import { sleep, wakeup, killed } from './proc.ts';

const enum Pp {
  /** the ring buffer: a page (physical address; 0 = slot free) */
  DATA = 0,
  /** bytes read and written so far (free-running; nwrite - nread is the fill) */
  NREAD = 4,
  NWRITE = 8,
  READ_OPEN = 12,
  WRITE_OPEN = 16,
  BYTES = 20,
}

const enum Ring {
  BYTES = 4096,
}

const pipes = staticBuffer(Param.NPIPE * Pp.BYTES, 4);

/** A new pipe with both ends open, or 0. */
export function pipeAlloc(): number {
  let k = 0;
  while (k < Param.NPIPE) {
    const pi = pipes + k * Pp.BYTES;
    if (load32(pi + Pp.DATA) === 0) {
      const page = kalloc();
      if (page === 0) return 0;
      memset(pi, 0, Pp.BYTES);
      store32(pi + Pp.DATA, page);
      store32(pi + Pp.READ_OPEN, 1);
      store32(pi + Pp.WRITE_OPEN, 1);
      return pi;
    }
    k = k + 1;
  }
  return 0;
}

/** Close one end; the pipe goes when both are closed. */
export function pipeClose(pi: number, writeEnd: boolean): void {
  if (writeEnd) {
    store32(pi + Pp.WRITE_OPEN, 0);
    wakeup(pi + Pp.NREAD);
  } else {
    store32(pi + Pp.READ_OPEN, 0);
    wakeup(pi + Pp.NWRITE);
  }
  if (load32(pi + Pp.READ_OPEN) === 0 && load32(pi + Pp.WRITE_OPEN) === 0) {
    kfree(load32(pi + Pp.DATA));
    store32(pi + Pp.DATA, 0);
  }
}

/** Write n bytes from user address src; blocks while full. Bytes written, EPIPE or EFAULT. */
export function pipeWrite(pi: number, src: number, n: number): number {
  let done = 0;
  while (done < n) {
    if (load32(pi + Pp.READ_OPEN) === 0 || killed()) return Err.EPIPE;
    const nread = load32(pi + Pp.NREAD);
    const nwrite = load32(pi + Pp.NWRITE);
    if (nwrite - nread === Ring.BYTES) {
      wakeup(pi + Pp.NREAD);
      sleep(pi + Pp.NWRITE);
      continue;
    }
    const at = nwrite & (Ring.BYTES - 1);
    let chunk = Ring.BYTES - (nwrite - nread);
    if (chunk > Ring.BYTES - at) chunk = Ring.BYTES - at;
    if (chunk > n - done) chunk = n - done;
    if (copyin(p2v(load32(pi + Pp.DATA)) + at, src + done, chunk) < 0) return done > 0 ? done : Err.EFAULT;
    store32(pi + Pp.NWRITE, nwrite + chunk);
    done = done + chunk;
  }
  wakeup(pi + Pp.NREAD);
  return done;
}

/** Read at most n bytes into user address dst; blocks while empty and a writer remains. 0 at end. */
export function pipeRead(pi: number, dst: number, n: number): number {
  while (load32(pi + Pp.NREAD) === load32(pi + Pp.NWRITE) && load32(pi + Pp.WRITE_OPEN) !== 0) {
    if (killed()) return Err.EINTR;
    sleep(pi + Pp.NREAD);
  }
  const nread = load32(pi + Pp.NREAD);
  const nwrite = load32(pi + Pp.NWRITE);
  const at = nread & (Ring.BYTES - 1);
  let chunk = nwrite - nread;
  if (chunk > Ring.BYTES - at) chunk = Ring.BYTES - at;
  if (chunk > n) chunk = n;
  if (chunk > 0 && copyout(dst, p2v(load32(pi + Pp.DATA)) + at, chunk) < 0) return Err.EFAULT;
  store32(pi + Pp.NREAD, nread + chunk);
  wakeup(pi + Pp.NWRITE);
  return chunk;
}
