// diskbench: block-device throughput through the kernel's driver (the diskio system call on the
// raw device), in simulated time. `diskbench [KIB]` (default 256, at most the disk) runs:
//   seq-read, seq-write    the first KIB KiB in 32 KiB calls (8 page-sized requests in flight)
//   rand-read, rand-write  as many 4 KiB calls (one request in flight) at pseudo-random 4 KiB
//                          blocks of that region (a fixed seed: every run touches the same blocks)
// and prints "diskbench NAME: K KiB/s, C cycles/op (B KiB/op, N ops)", from RDTSC and the clock
// in sysinfo. The writes put back the bytes the reads found, so the disk ends as it began.
// User program (the TypeScript subset, compiled with --user).

import { cstr, staticBuffer, load32, store8, rdtsc, divu, remu, mulhu, geu } from 'xl32';
import { DiskOp, Fd, SysInfo } from '../kernel/abi.ts';
import { argc, argv, atoi, diskio, sbrk, sysinfo, puts, putd, fputs, fputd } from './lib/ulib.ts';

const enum Bench {
  /** default bytes per test, KiB */
  DEFAULT_KIB = 256,
  /** sectors per sequential call (DiskOp.MAX_SECTORS: 32 KiB) */
  SEQ_SECTORS = 64,
  /** sectors per random call: one 4 KiB block */
  RAND_SECTORS = 8,
  PAGE = 4096,
  SEED = 12345,
}

const info = staticBuffer(SysInfo.BYTES);
let seed = 0;

/** A pseudo-random number in [0, n) (a linear congruential generator's high bits). */
function random(n: number): number {
  seed = seed * 1103515245 + 12345;
  return remu(seed >>> 16, n);
}

/** floor(a * b / c), unsigned, with a 64-bit product; requires a * b / c < 2^32. */
function mulDiv(a: number, b: number, c: number): number {
  let hi = mulhu(a, b);
  let lo = a * b;
  let q = 0;
  let k = 0;
  while (k < 32) {
    const carry = hi < 0;
    hi = (hi << 1) | (lo >>> 31);
    lo = lo << 1;
    q = q << 1;
    if (carry || geu(hi, c)) {
      hi = hi - c;
      q = q | 1;
    }
    k = k + 1;
  }
  return q;
}

/** Print one result line: ops calls of opSectors sectors took `cycles` at `mhz` MHz. */
function report(name: number, cycles: number, ops: number, opSectors: number, mhz: number): void {
  const kib = divu(ops * opSectors * DiskOp.SECTOR_BYTES, 1024);
  puts(cstr('diskbench '));
  puts(name);
  puts(cstr(': '));
  putd(mulDiv(kib * mhz, 1000000, cycles));
  puts(cstr(' KiB/s, '));
  putd(divu(cycles, ops));
  puts(cstr(' cycles/op ('));
  putd(divu(opSectors * DiskOp.SECTOR_BYTES, 1024));
  puts(cstr(' KiB/op, '));
  putd(ops);
  puts(cstr(' ops)\n'));
}

function fail(name: number, err: number): number {
  fputs(Fd.STDERR, cstr('diskbench: '));
  fputs(Fd.STDERR, name);
  fputs(Fd.STDERR, cstr(' failed (error '));
  fputd(Fd.STDERR, err);
  fputs(Fd.STDERR, cstr(')\n'));
  return -1;
}

/** Sequential calls over sectors [0, sectors): the cycles, or -1 after printing the error. */
function sequential(name: number, op: number, buf: number, sectors: number): number {
  const t0 = rdtsc();
  let s = 0;
  while (s < sectors) {
    const r = diskio(op, s, buf + s * DiskOp.SECTOR_BYTES, Bench.SEQ_SECTORS);
    if (r < 0) return fail(name, r);
    s = s + Bench.SEQ_SECTORS;
  }
  return rdtsc() - t0;
}

/** `ops` calls on pseudo-random blocks of the region: the cycles, or -1 after printing the error. */
function randomBlocks(name: number, op: number, buf: number, ops: number): number {
  seed = Bench.SEED;
  const t0 = rdtsc();
  let k = 0;
  while (k < ops) {
    const b = random(ops);
    const r = diskio(op, b * Bench.RAND_SECTORS, buf + b * Bench.PAGE, Bench.RAND_SECTORS);
    if (r < 0) return fail(name, r);
    k = k + 1;
  }
  return rdtsc() - t0;
}

export function main(): number {
  const capacity = diskio(DiskOp.CAPACITY, 0, 0, 0);
  if (capacity < Bench.SEQ_SECTORS) {
    fputs(Fd.STDERR, cstr('diskbench: the disk has '));
    fputd(Fd.STDERR, capacity < 0 ? 0 : capacity);
    fputs(Fd.STDERR, cstr(' sectors; it needs at least 64 (32 KiB)\n'));
    return 1;
  }
  const kib = argc() > 1 ? atoi(argv(1)) : Bench.DEFAULT_KIB;
  if (kib <= 0) {
    fputs(Fd.STDERR, cstr('usage: diskbench [KIB]   (KiB per test, rounded down to a multiple of 32; the writes put back what the reads found)\n'));
    return 2;
  }
  // whole 32 KiB calls, within the disk
  let sectors = kib * 2 > capacity ? capacity : kib * 2;
  sectors = sectors - remu(sectors, Bench.SEQ_SECTORS);
  if (sectors < Bench.SEQ_SECTORS) sectors = Bench.SEQ_SECTORS;
  const bytes = sectors * DiskOp.SECTOR_BYTES;
  const buf = sbrk(bytes);
  if (buf < 0 && buf > -4096) {
    fputs(Fd.STDERR, cstr('diskbench: out of memory\n'));
    return 1;
  }
  // touch every page now, so the timed calls do not take demand-zero faults
  let off = 0;
  while (off < bytes) {
    store8(buf + off, 0);
    off = off + Bench.PAGE;
  }
  sysinfo(info);
  const mhz = load32(info + SysInfo.CLOCK_MHZ);
  puts(cstr('diskbench: '));
  putd(divu(sectors, 2));
  puts(cstr(' KiB per test of '));
  putd(divu(capacity, 2));
  puts(cstr(' KiB, '));
  putd(mhz);
  puts(cstr(' MHz\n'));

  const seqOps = divu(sectors, Bench.SEQ_SECTORS);
  const randOps = divu(sectors, Bench.RAND_SECTORS);
  let c = sequential(cstr('seq-read'), DiskOp.READ, buf, sectors);
  if (c === -1) return 1;
  report(cstr('seq-read'), c, seqOps, Bench.SEQ_SECTORS, mhz);
  c = sequential(cstr('seq-write'), DiskOp.WRITE, buf, sectors);
  if (c === -1) return 1;
  report(cstr('seq-write'), c, seqOps, Bench.SEQ_SECTORS, mhz);
  c = randomBlocks(cstr('rand-read'), DiskOp.READ, buf, randOps);
  if (c === -1) return 1;
  report(cstr('rand-read'), c, randOps, Bench.RAND_SECTORS, mhz);
  c = randomBlocks(cstr('rand-write'), DiskOp.WRITE, buf, randOps);
  if (c === -1) return 1;
  report(cstr('rand-write'), c, randOps, Bench.RAND_SECTORS, mhz);
  return 0;
}
