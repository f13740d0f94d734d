// The block-device driver: sector reads and writes by DMA, up to Tag.COUNT requests in flight
// (the device's queue depth), each finished by its completion interrupt. A caller starts a
// request (diskStart) and later sleeps until it is done (diskFinish), so one caller can keep
// several requests in flight. Reaches the device only through pvops.
// Guest code (the TypeScript subset).

import { load32, store32, staticBuffer } from 'xl32';
import { Err } from './abi.ts';
import { diskSubmit, diskComplete } from './pvops.ts';
import { sleep, wakeup } from './proc.ts';

const enum Tag {
  /** the device's queue depth (BLK_QUEUE_DEPTH): a started request never finds the queue full */
  COUNT = 8,
  /** per tag: state word, result word, the request's physical buffer */
  STATE = 0,
  RESULT = 4,
  ADDR = 8,
  BYTES = 12,
  FREE = 0,
  BUSY = 1,
  DONE = 2,
  /** BLK_OK */
  OK = 1,
}

const tags = staticBuffer(Tag.COUNT * Tag.BYTES, 4);
/** processes waiting for a tag to become free sleep on this channel */
const tagChan = staticBuffer(4);

function freeTag(): number {
  let t = 0;
  while (t < Tag.COUNT && load32(tags + t * Tag.BYTES + Tag.STATE) !== Tag.FREE) t = t + 1;
  return t === Tag.COUNT ? -1 : t;
}

/** Whether a request can be started now. */
export function diskTagFree(): boolean {
  return freeTag() >= 0;
}

/**
 * Sleep until a tag is free. Only for a caller that holds no tag itself: tags are freed by
 * their owners' diskFinish, so a holder waiting here could wait for itself.
 */
export function diskWaitTag(): void {
  while (!diskTagFree()) sleep(tagChan);
}

/**
 * Start moving `count` sectors at `sector` between the disk and physical address pa (cmd is a
 * pvops DiskCmd). The request's tag, to pass to diskFinish; EAGAIN when every tag is busy; EIO
 * if the device refused the request.
 */
export function diskStart(cmd: number, sector: number, count: number, pa: number): number {
  const t = freeTag();
  if (t < 0) return Err.EAGAIN;
  const slot = tags + t * Tag.BYTES;
  store32(slot + Tag.STATE, Tag.BUSY);
  store32(slot + Tag.ADDR, pa);
  if (diskSubmit(cmd, sector, count, pa, t) < 0) {
    store32(slot + Tag.STATE, Tag.FREE);
    return Err.EIO;
  }
  return t;
}

/** The physical buffer of started request t. */
export function diskBuffer(t: number): number {
  return load32(tags + t * Tag.BYTES + Tag.ADDR);
}

/** Sleep until started request t completes, then free its tag. 0 or EIO. */
export function diskFinish(t: number): number {
  const slot = tags + t * Tag.BYTES;
  while (load32(slot + Tag.STATE) !== Tag.DONE) sleep(slot);
  const result = load32(slot + Tag.RESULT);
  store32(slot + Tag.STATE, Tag.FREE);
  wakeup(tagChan);
  return result === Tag.OK ? 0 : Err.EIO;
}

/** Move `count` sectors and wait for them (one request): 0 or EIO. */
export function diskRW(cmd: number, sector: number, count: number, pa: number): number {
  diskWaitTag();
  const t = diskStart(cmd, sector, count, pa);
  if (t < 0) return t;
  return diskFinish(t);
}

/** The completion interrupt: record every finished request and wake its caller. */
export function diskIntr(): void {
  let c = diskComplete();
  while (c !== -1) {
    const t = c & 0xff;
    if (t < Tag.COUNT) {
      const slot = tags + t * Tag.BYTES;
      store32(slot + Tag.RESULT, (c >>> 8) & 0xff);
      store32(slot + Tag.STATE, Tag.DONE);
      wakeup(slot);
    }
    c = diskComplete();
  }
}
