// disk: raw access to the block device. `disk` prints the capacity; `disk read SECTOR` prints
// the sector's text (up to its first NUL); `disk write SECTOR WORDS...` stores the words,
// space-separated and NUL-padded, in that sector.
// User program (the TypeScript subset, compiled with --user).

import { cstr, staticBuffer, load8, store8 } from 'xl32';
import { DiskOp, Fd } from '../kernel/abi.ts';
import { argc, argv, atoi, streq, diskio, puts, putd, fputs, fputd, write, strlen, memset, memcpy } from './lib/ulib.ts';

const sector = staticBuffer(DiskOp.SECTOR_BYTES);

function fail(what: number, err: number): number {
  fputs(Fd.STDERR, cstr('disk: '));
  fputs(Fd.STDERR, what);
  fputs(Fd.STDERR, cstr(' failed (error '));
  fputd(Fd.STDERR, err);
  fputs(Fd.STDERR, cstr(')\n'));
  return 1;
}

export function main(): number {
  if (argc() < 2) {
    puts(cstr('disk: '));
    putd(diskio(DiskOp.CAPACITY, 0, 0, 0));
    puts(cstr(' sectors\n'));
    return 0;
  }
  if (argc() >= 3 && streq(argv(1), cstr('read'))) {
    const r = diskio(DiskOp.READ, atoi(argv(2)), sector, 1);
    if (r < 0) return fail(cstr('read'), r);
    let n = 0;
    while (n < DiskOp.SECTOR_BYTES && load8(sector + n) !== 0) n = n + 1;
    write(Fd.STDOUT, sector, n);
    puts(cstr('\n'));
    return 0;
  }
  if (argc() >= 3 && streq(argv(1), cstr('write'))) {
    memset(sector, 0, DiskOp.SECTOR_BYTES);
    let at = 0;
    let k = 3;
    while (k < argc()) {
      const len = strlen(argv(k));
      if (at + len + 1 > DiskOp.SECTOR_BYTES) break;
      if (k > 3) {
        store8(sector + at, 32);
        at = at + 1;
      }
      memcpy(sector + at, argv(k), len);
      at = at + len;
      k = k + 1;
    }
    const r = diskio(DiskOp.WRITE, atoi(argv(2)), sector, 1);
    if (r < 0) return fail(cstr('write'), r);
    return 0;
  }
  fputs(Fd.STDERR, cstr('usage: disk | disk read SECTOR | disk write SECTOR WORDS...\n'));
  return 2;
}
