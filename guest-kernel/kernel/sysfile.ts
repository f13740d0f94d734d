// System calls about file descriptors (read, write, close, dup, pipe) and raw disk sectors.
// Guest code (the TypeScript subset).

import { store32, staticBuffer } from 'xl32';
import { Err, DiskOp } from './abi.ts';
import { DiskCmd, diskCapacity } from './pvops.ts';
import { diskRW } from './disk.ts';
import { kalloc, kfree } from './kalloc.ts';
import { fdAlloc, fdFile, fdClear } from './proc.ts';
import { fileAlloc, fileDup, fileClose, fileRead, fileWrite, FileType } from './file.ts';
import { pipeAlloc, pipeClose } from './pipe.ts';
import { p2v, copyin, copyout, checkUserBuffer } from './vm.ts';

export function sysRead(fd: number, buf: number, n: number): number {
  const f = fdFile(fd);
  if (f === 0) return Err.EBADF;
  if (n < 0) return Err.EINVAL;
  if (checkUserBuffer(buf, n, true) < 0) return Err.EFAULT;
  return fileRead(f, buf, n);
}

export function sysWrite(fd: number, buf: number, n: number): number {
  const f = fdFile(fd);
  if (f === 0) return Err.EBADF;
  if (n < 0) return Err.EINVAL;
  if (checkUserBuffer(buf, n, false) < 0) return Err.EFAULT;
  return fileWrite(f, buf, n);
}

export function sysClose(fd: number): number {
  const f = fdFile(fd);
  if (f === 0) return Err.EBADF;
  fdClear(fd);
  fileClose(f);
  return 0;
}

export function sysDup(fd: number): number {
  const f = fdFile(fd);
  if (f === 0) return Err.EBADF;
  const nfd = fdAlloc(f);
  if (nfd < 0) return nfd;
  fileDup(f);
  return nfd;
}

const fds = staticBuffer(8);

/** pipe(fds): store the read end's descriptor at fds[0], the write end's at fds[1]. */
export function sysPipe(addr: number): number {
  if (checkUserBuffer(addr, 8, true) < 0) return Err.EFAULT;
  const pi = pipeAlloc();
  if (pi === 0) return Err.ENFILE;
  const rf = fileAlloc(FileType.PIPE, true, false, pi);
  const wf = rf === 0 ? 0 : fileAlloc(FileType.PIPE, false, true, pi);
  if (wf === 0) {
    if (rf !== 0) fileClose(rf);
    else pipeClose(pi, false);
    pipeClose(pi, true);
    return Err.ENFILE;
  }
  const rfd = fdAlloc(rf);
  const wfd = rfd < 0 ? rfd : fdAlloc(wf);
  if (wfd < 0) {
    if (rfd >= 0) fdClear(rfd);
    fileClose(rf);
    fileClose(wf);
    return Err.EMFILE;
  }
  store32(fds, rfd);
  store32(fds + 4, wfd);
  if (copyout(addr, fds, 8) < 0) {
    fdClear(rfd);
    fdClear(wfd);
    fileClose(rf);
    fileClose(wf);
    return Err.EFAULT;
  }
  return 0;
}

/**
 * diskio(op, sector, buf, count): read or write `count` sectors (1..8) at `sector` through a
 * bounce page (the device DMAs to physical memory). The byte count, EINVAL, EFAULT or EIO.
 */
export function sysDiskio(op: number, sector: number, buf: number, count: number): number {
  const capacity = diskCapacity();
  if (op === DiskOp.CAPACITY) return capacity;
  if ((op !== DiskOp.READ && op !== DiskOp.WRITE) || count < 1 || count > DiskOp.MAX_SECTORS) return Err.EINVAL;
  if (sector < 0 || sector > capacity - count) return Err.EINVAL;
  const bytes = count * DiskOp.SECTOR_BYTES;
  if (checkUserBuffer(buf, bytes, op === DiskOp.READ) < 0) return Err.EFAULT;
  const page = kalloc();
  if (page === 0) return Err.ENOMEM;
  let r = 0;
  if (op === DiskOp.WRITE) r = copyin(p2v(page), buf, bytes);
  if (r === 0) r = diskRW(op === DiskOp.WRITE ? DiskCmd.WRITE : DiskCmd.READ, sector, count, page);
  if (r === 0 && op === DiskOp.READ) r = copyout(buf, p2v(page), bytes);
  kfree(page);
  return r < 0 ? r : bytes;
}
