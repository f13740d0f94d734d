// The user library: system-call wrappers (INT 0x80 through the `syscall` intrinsic: number in
// r0, arguments in r1..r5, result in r0), the program's arguments (the ARGS page exec fills),
// and small string and printing helpers. Unbuffered: every print is one write().
// Guest code (the TypeScript subset) for ring-3 programs compiled with --user.

import { syscall, load8, store8, load32, staticBuffer, divu, remu } from 'xl32';
import { Sys, Fd, UserLayout } from '../../kernel/abi.ts';

// ---- system calls ---------------------------------------------------------------------------

export function exit(status: number): void { syscall(Sys.EXIT, status); }
export function fork(): number { return syscall(Sys.FORK); }
/** Wait for a child: its pid; its exit status at statusAddr unless 0. */
export function wait(statusAddr: number): number { return syscall(Sys.WAIT, statusAddr); }
/** Two descriptors at fdsAddr: [0] the read end, [1] the write end. */
export function pipe(fdsAddr: number): number { return syscall(Sys.PIPE, fdsAddr); }
export function read(fd: number, buf: number, n: number): number { return syscall(Sys.READ, fd, buf, n); }
export function write(fd: number, buf: number, n: number): number { return syscall(Sys.WRITE, fd, buf, n); }
export function close(fd: number): number { return syscall(Sys.CLOSE, fd); }
export function dup(fd: number): number { return syscall(Sys.DUP, fd); }
export function getpid(): number { return syscall(Sys.GETPID); }
export function getppid(): number { return syscall(Sys.GETPPID); }
export function yieldCpu(): number { return syscall(Sys.YIELD); }
/** Run program path (an initrd name) with the NULL-terminated argument array argv. Returns only on error. */
export function exec(path: number, argv: number): number { return syscall(Sys.EXEC, path, argv); }
/** Grow (or shrink) the heap by n bytes: the old end of the heap, or a negative error. */
export function sbrk(n: number): number { return syscall(Sys.SBRK, n); }
/** Sleep for n timer ticks (milliseconds of simulated time). */
export function sleep(ticks: number): number { return syscall(Sys.SLEEP, ticks); }
export function uptime(): number { return syscall(Sys.UPTIME); }
export function kill(pid: number): number { return syscall(Sys.KILL, pid); }
export function procinfo(slot: number, buf: number): number { return syscall(Sys.PROCINFO, slot, buf); }
export function cycles(): number { return syscall(Sys.CYCLES); }
export function nanobench(op: number, n: number): number { return syscall(Sys.NANOBENCH, op, n); }
/** Memory and process counts (a SysInfo record at buf). */
export function sysinfo(buf: number): number { return syscall(Sys.SYSINFO, buf); }
/** Raw disk sectors: DiskOp READ/WRITE of count sectors at sector, or CAPACITY. */
export function archtest(op: number): number { return syscall(Sys.ARCHTEST, op); }
/** Put process pid (0: us) in process group pgid (0: a group named after pid). */
export function setpgid(pid: number, pgid: number): number { return syscall(Sys.SETPGID, pid, pgid); }
/** Make pgid the console's foreground group (the one Ctrl-C kills; 0: none, -1: only ask); the previous one. */
export function fgpgrp(pgid: number): number { return syscall(Sys.FGPGRP, pgid); }
/** Set the console's mode (ConsMode; -1: only ask); the previous mode. */
export function consmode(m: number): number { return syscall(Sys.CONSMODE, m); }
export function diskio(op: number, sector: number, buf: number, count: number): number { return syscall(Sys.DISKIO, op, sector, buf, count); }

// ---- arguments ------------------------------------------------------------------------------

export function argc(): number {
  return load32(UserLayout.ARGS);
}

/** The address of argument k (a NUL-terminated string), or 0 past the end. */
export function argv(k: number): number {
  if (k < 0 || k >= argc()) return 0;
  return load32(UserLayout.ARGS + 4 + k * 4);
}

/** The argument array itself (for passing on to exec). */
export function argvArray(): number {
  return UserLayout.ARGS + 4;
}

// ---- strings --------------------------------------------------------------------------------

export function strlen(s: number): number {
  let n = 0;
  while (load8(s + n) !== 0) n = n + 1;
  return n;
}

export function streq(a: number, b: number): boolean {
  let k = 0;
  for (;;) {
    const c = load8(a + k);
    if (c !== load8(b + k)) return false;
    if (c === 0) return true;
    k = k + 1;
  }
}

export function memset(dst: number, c: number, n: number): void {
  let k = 0;
  while (k < n) {
    store8(dst + k, c);
    k = k + 1;
  }
}

export function memcpy(dst: number, src: number, n: number): void {
  let k = 0;
  while (k < n) {
    store8(dst + k, load8(src + k));
    k = k + 1;
  }
}

/** The decimal number at s (optional leading '-'); digits stop at the first non-digit. */
export function atoi(s: number): number {
  let k = 0;
  let neg = false;
  if (load8(s) === 45) {
    neg = true;
    k = 1;
  }
  let n = 0;
  let c = load8(s + k);
  while (c >= 48 && c <= 57) {
    n = n * 10 + (c - 48);
    k = k + 1;
    c = load8(s + k);
  }
  return neg ? -n : n;
}

// ---- printing -------------------------------------------------------------------------------

const numBuf = staticBuffer(16);
const chBuf = staticBuffer(4);

export function fputs(fd: number, s: number): void {
  write(fd, s, strlen(s));
}

export function puts(s: number): void {
  write(Fd.STDOUT, s, strlen(s));
}

export function putc(c: number): void {
  store8(chBuf, c);
  write(Fd.STDOUT, chBuf, 1);
}

/** Print n in decimal on fd. */
export function fputd(fd: number, n: number): void {
  let k = 15;
  store8(numBuf + k, 0);
  let u = n < 0 ? -n : n;
  do {
    k = k - 1;
    store8(numBuf + k, 48 + remu(u, 10));
    u = divu(u, 10);
  } while (u !== 0);
  if (n < 0) {
    k = k - 1;
    store8(numBuf + k, 45);
  }
  write(fd, numBuf + k, 15 - k);
}

export function putd(n: number): void {
  fputd(Fd.STDOUT, n);
}

/** Print n as 0x and eight hex digits. */
export function putx(n: number): void {
  store8(numBuf, 48);
  store8(numBuf + 1, 120);
  let k = 0;
  while (k < 8) {
    const d = (n >>> (28 - 4 * k)) & 15;
    store8(numBuf + 2 + k, d < 10 ? 48 + d : 87 + d);
    k = k + 1;
  }
  write(Fd.STDOUT, numBuf, 10);
}

