// Open files: a system-wide table of reference-counted file objects (the console, one end of
// a pipe, or a socket) that descriptors point to; fork and dup share them, close drops a reference.
// Guest code (the TypeScript subset).

import { load32, store32, staticBuffer } from 'xl32';
import { Param } from './param.ts';
import { Err } from './abi.ts';
import { memset } from './string.ts';
import { consoleRead, consoleWrite } from './console.ts';
import { pipeRead, pipeWrite, pipeClose } from './pipe.ts';
import { sockClose } from './net/net.ts';

const enum FileSlot {
  /** FileType */
  TYPE = 0,
  REFS = 4,
  READABLE = 8,
  WRITABLE = 12,
  /** the pipe, for FileType.PIPE; the socket, for FileType.SOCKET */
  PIPE = 16,
  BYTES = 20,
}

export const enum FileType {
  NONE = 0,
  CONSOLE = 1,
  PIPE = 2,
  SOCKET = 3,
}

const files = staticBuffer(Param.NFILE * FileSlot.BYTES, 4);

/** A new file with one reference, or 0 when the table is full. */
export function fileAlloc(type: number, readable: boolean, writable: boolean, pipe: number): number {
  let k = 0;
  while (k < Param.NFILE) {
    const f = files + k * FileSlot.BYTES;
    if (load32(f + FileSlot.REFS) === 0) {
      memset(f, 0, FileSlot.BYTES);
      store32(f + FileSlot.TYPE, type);
      store32(f + FileSlot.REFS, 1);
      store32(f + FileSlot.READABLE, readable ? 1 : 0);
      store32(f + FileSlot.WRITABLE, writable ? 1 : 0);
      store32(f + FileSlot.PIPE, pipe);
      return f;
    }
    k = k + 1;
  }
  return 0;
}

export function fileDup(f: number): number {
  store32(f + FileSlot.REFS, load32(f + FileSlot.REFS) + 1);
  return f;
}

export function fileClose(f: number): void {
  const refs = load32(f + FileSlot.REFS) - 1;
  store32(f + FileSlot.REFS, refs);
  if (refs > 0) return;
  if (load32(f + FileSlot.TYPE) === FileType.PIPE) pipeClose(load32(f + FileSlot.PIPE), load32(f + FileSlot.WRITABLE) !== 0);
  if (load32(f + FileSlot.TYPE) === FileType.SOCKET) sockClose(load32(f + FileSlot.PIPE));
  store32(f + FileSlot.TYPE, FileType.NONE);
}

/** The socket behind file f, or 0 when f is not a socket. */
export function fileSocket(f: number): number {
  return load32(f + FileSlot.TYPE) === FileType.SOCKET ? load32(f + FileSlot.PIPE) : 0;
}

/** read() on a file into user address dst. */
export function fileRead(f: number, dst: number, n: number): number {
  if (load32(f + FileSlot.READABLE) === 0) return Err.EBADF;
  const type = load32(f + FileSlot.TYPE);
  if (type === FileType.CONSOLE) return consoleRead(dst, n);
  if (type === FileType.PIPE) return pipeRead(load32(f + FileSlot.PIPE), dst, n);
  return Err.EBADF;
}

/** write() on a file from user address src. */
export function fileWrite(f: number, src: number, n: number): number {
  if (load32(f + FileSlot.WRITABLE) === 0) return Err.EBADF;
  const type = load32(f + FileSlot.TYPE);
  if (type === FileType.CONSOLE) return consoleWrite(src, n);
  if (type === FileType.PIPE) return pipeWrite(load32(f + FileSlot.PIPE), src, n);
  return Err.EBADF;
}
