// The block-device driver: sector reads and writes by DMA, up to DISK_TAGS requests in flight,
// each caller sleeping until its completion interrupt. Reaches the device only through pvops.
// Guest code (the TypeScript subset).

import { load32, store32, staticBuffer } from 'xl32';
import { Err } from './abi.ts';
import { diskSubmit, diskComplete } from './pvops.ts';
import { sleep, wakeup } from './proc.ts';

const enum Tag {
  COUNT = 8,
  /** per tag: state word, then result word */
  STATE = 0,
  RESULT = 4,
  BYTES = 8,
  FREE = 0,
  BUSY = 1,
  DONE = 2,
  /** BLK_OK */
  OK = 1,
}

const tags = staticBuffer(Tag.COUNT * Tag.BYTES, 4);

/**
 * Move `count` sectors starting at `sector` between the disk and physical address pa (cmd is a
 * pvops DiskCmd). Sleeps until the device completes. 0, EAGAIN when every tag is busy, or EIO.
 */
export function diskRW(cmd: number, sector: number, count: number, pa: number): number {
  let t = 0;
  while (t < Tag.COUNT && load32(tags + t * Tag.BYTES + Tag.STATE) !== Tag.FREE) t = t + 1;
  if (t === Tag.COUNT) return Err.EAGAIN;
  const slot = tags + t * Tag.BYTES;
  store32(slot + Tag.STATE, Tag.BUSY);
  if (diskSubmit(cmd, sector, count, pa, t) < 0) {
    store32(slot + Tag.STATE, Tag.FREE);
    return Err.EIO;
  }
  while (load32(slot + Tag.STATE) !== Tag.DONE) sleep(slot);
  const result = load32(slot + Tag.RESULT);
  store32(slot + Tag.STATE, Tag.FREE);
  return result === Tag.OK ? 0 : Err.EIO;
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
