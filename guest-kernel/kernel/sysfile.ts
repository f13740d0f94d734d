// System calls about file descriptors (read, write, close, dup, pipe) and raw disk sectors.
// Guest code (the TypeScript subset).

import { store32, staticBuffer, divu } from 'xl32';
import { Err, DiskOp } from './abi.ts';
import { DiskCmd, diskCapacity } from './pvops.ts';
import { diskStart, diskFinish, diskBuffer, diskTagFree, diskWaitTag } from './disk.ts';
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

const enum Io {
  /** one request per bounce page: 8 sectors */
  PAGE_SECTORS = 8,
  PAGE_BYTES = 4096,
  /** requests one diskio call keeps in flight at most (the driver's tags) */
  WINDOW = 8,
  /** bits per tag in the packed window of in-flight tags */
  TAG_BITS = 4,
}

/**
 * diskio(op, sector, buf, count): read or write `count` sectors (1..MAX_SECTORS) at `sector`.
 * The device DMAs to physical memory, so the data goes through bounce pages, one request of up
 * to 8 sectors per page; all of a call's requests are started before the first is waited for
 * (as far as free tags allow), so they are in flight together, and the copies overlap the
 * device's work. The byte count, EINVAL, EFAULT, ENOMEM or EIO.
 */
export function sysDiskio(op: number, sector: number, buf: number, count: number): number {
  const capacity = diskCapacity();
  if (op === DiskOp.CAPACITY) return capacity;
  if ((op !== DiskOp.READ && op !== DiskOp.WRITE) || count < 1 || count > DiskOp.MAX_SECTORS) return Err.EINVAL;
  if (sector < 0 || sector > capacity - count) return Err.EINVAL;
  const bytes = count * DiskOp.SECTOR_BYTES;
  if (checkUserBuffer(buf, bytes, op === DiskOp.READ) < 0) return Err.EFAULT;
  const cmd = op === DiskOp.WRITE ? DiskCmd.WRITE : DiskCmd.READ;
  const requests = divu(count + Io.PAGE_SECTORS - 1, Io.PAGE_SECTORS);
  // requests [finished, started) are in flight; request k's tag is nibble k % WINDOW of `window`
  let started = 0;
  let finished = 0;
  let window = 0;
  let r = 0;
  while (finished < started || (started < requests && r === 0)) {
    if (started < requests && r === 0 && diskTagFree()) {
      const n = started === requests - 1 ? count - started * Io.PAGE_SECTORS : Io.PAGE_SECTORS;
      const page = kalloc();
      if (page === 0) {
        r = Err.ENOMEM;
        continue;
      }
      if (op === DiskOp.WRITE) r = copyin(p2v(page), buf + started * Io.PAGE_BYTES, n * DiskOp.SECTOR_BYTES);
      const t = r < 0 ? r : diskStart(cmd, sector + started * Io.PAGE_SECTORS, n, page);
      if (t < 0) {
        kfree(page);
        r = t;
        continue;
      }
      const shift = (started & (Io.WINDOW - 1)) * Io.TAG_BITS;
      window = (window & ~(15 << shift)) | (t << shift);
      started = started + 1;
    } else if (finished < started) {
      const t = (window >>> ((finished & (Io.WINDOW - 1)) * Io.TAG_BITS)) & 15;
      const page = diskBuffer(t);
      const e = diskFinish(t);
      if (e < 0 && r === 0) r = e;
      if (r === 0 && op === DiskOp.READ) {
        const n = finished === requests - 1 ? count - finished * Io.PAGE_SECTORS : Io.PAGE_SECTORS;
        r = copyout(buf + finished * Io.PAGE_BYTES, p2v(page), n * DiskOp.SECTOR_BYTES);
      }
      kfree(page);
      finished = finished + 1;
    } else {
      // nothing of ours in flight and every tag taken by other processes
      diskWaitTag();
    }
  }
  return r < 0 ? r : bytes;
}
