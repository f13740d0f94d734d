// usertests: the kernel's system-call test suite, run as a user program. Each test prints
// "PASS name" or "FAIL name: what went wrong"; the last line counts them and the exit status is
// the number of failures. `usertests NAME...` runs only the named tests.
// User program (the TypeScript subset, compiled with --user).

import { cstr, syscall, staticBuffer, load8, store8, load32, store32, callIndirect, addressOf } from 'xl32';
import { Err, ArchTest, Fd, UserLayout, SysInfo, ProcInfo, ProcState, DiskOp, ConsMode } from '../kernel/abi.ts';
import {
  exit, fork, wait, pipe, read, write, close, dup, getpid, getppid, yieldCpu, exec, sbrk, sleep, uptime, kill, cycles, procinfo,
  argc, argv, streq, puts, putd, sysinfo, archtest, diskio, setpgid, fgpgrp, consmode,
} from './lib/ulib.ts';

let passed = 0;
let failed = 0;
/** a module variable: fork must give the child its own copy (copy-on-write) */
let shared = 1;

const status = staticBuffer(4);
const fds = staticBuffer(8);
const buf = staticBuffer(256);
const args = staticBuffer(16);

function pass(name: number): void {
  puts(cstr('PASS '));
  puts(name);
  puts(cstr('\n'));
  passed = passed + 1;
}

function fail(name: number, why: number, value: number): void {
  puts(cstr('FAIL '));
  puts(name);
  puts(cstr(': '));
  puts(why);
  puts(cstr(' (got '));
  putd(value);
  puts(cstr(')\n'));
  failed = failed + 1;
}

/** Check got === want; report under name. */
function expect(name: number, what: number, got: number, want: number): boolean {
  if (got === want) return true;
  fail(name, what, got);
  return false;
}

/** Wait for pid; its exit status (or -1000 + wait's error). */
function reap(pid: number): number {
  const w = wait(status);
  if (w !== pid) return -1000 + w;
  return load32(status);
}

function testGetpid(name: number): void {
  const pid = getpid();
  if (pid <= 0) return fail(name, cstr('getpid is not positive'), pid);
  const child = fork();
  if (child === 0) exit(getppid() === pid ? 0 : 1);
  if (expect(name, cstr('the child saw another parent pid'), reap(child), 0)) pass(name);
}

function testWrite(name: number): void {
  if (!expect(name, cstr('write to stdout'), write(Fd.STDOUT, cstr('write ok\n'), 9), 9)) return;
  if (!expect(name, cstr('write to a closed descriptor'), write(7, cstr('x'), 1), Err.EBADF)) return;
  if (!expect(name, cstr('write to a negative descriptor'), write(-1, cstr('x'), 1), Err.EBADF)) return;
  if (!expect(name, cstr('write of a negative count'), write(Fd.STDOUT, cstr('x'), -1), Err.EINVAL)) return;
  if (!expect(name, cstr('write of nothing'), write(Fd.STDOUT, cstr('x'), 0), 0)) return;
  pass(name);
}

function testBadPointers(name: number): void {
  if (!expect(name, cstr('write from address 0'), write(Fd.STDOUT, 0, 4), Err.EFAULT)) return;
  if (!expect(name, cstr('write from the kernel image'), write(Fd.STDOUT, 0x00100000, 4), Err.EFAULT)) return;
  if (!expect(name, cstr('write from the direct map'), write(Fd.STDOUT, UserLayout.USER_TOP, 4), Err.EFAULT)) return;
  if (!expect(name, cstr('write wrapping around'), write(Fd.STDOUT, 0xfffff000, 0x2000), Err.EFAULT)) return;
  if (!expect(name, cstr('write straddling the user top'), write(Fd.STDOUT, UserLayout.USER_TOP - 2, 4), Err.EFAULT)) return;
  if (!expect(name, cstr('write from unmapped memory'), write(Fd.STDOUT, 0x20000000, 4), Err.EFAULT)) return;
  if (!expect(name, cstr('read into the kernel'), read(Fd.STDIN, 0x00100000, 4), Err.EFAULT)) return;
  if (!expect(name, cstr('read into read-only text'), read(Fd.STDIN, UserLayout.USER_BASE, 4), Err.EFAULT)) return;
  if (!expect(name, cstr('pipe into address 0'), pipe(0), Err.EFAULT)) return;
  if (!expect(name, cstr('exec of a kernel path'), exec(0x00100000, 0), Err.EFAULT)) return;
  if (!expect(name, cstr('exec with a bad argv'), exec(cstr('echo'), 0xc0000000), Err.EFAULT)) return;
  store32(args, 0x00000010);
  store32(args + 4, 0);
  if (!expect(name, cstr('exec with a bad argv string'), exec(cstr('echo'), args), Err.EFAULT)) return;
  const child = fork();
  if (child === 0) exit(0);
  if (!expect(name, cstr('wait into the kernel'), wait(0xc0001000), Err.EFAULT)) return;
  if (!expect(name, cstr('wait after the refused wait'), wait(0), child)) return;
  pass(name);
}

function testForkWait(name: number): void {
  const child = fork();
  if (child < 0) return fail(name, cstr('fork failed'), child);
  if (child === 0) exit(42);
  const w = wait(status);
  if (!expect(name, cstr('wait returned another pid'), w, child)) return;
  if (!expect(name, cstr('exit status'), load32(status), 42)) return;
  if (!expect(name, cstr('wait without children'), wait(0), Err.ECHILD)) return;
  pass(name);
}

function testCow(name: number): void {
  shared = 1;
  const heap = sbrk(4096);
  store32(heap, 7);
  const child = fork();
  if (child === 0) {
    // the child writes its copies; the parent's must not change
    shared = 2;
    store32(heap, 8);
    exit(shared * 10 + load32(heap));
  }
  if (!expect(name, cstr('the child saw its own writes'), reap(child), 28)) return;
  if (!expect(name, cstr('the parent variable changed'), shared, 1)) return;
  if (!expect(name, cstr('the parent heap changed'), load32(heap), 7)) return;
  // and the other way round: the parent writes after fork, the child must see the old value
  const child2 = fork();
  if (child2 === 0) {
    sleep(2);
    exit(shared);
  }
  shared = 5;
  if (!expect(name, cstr('the child saw the parent write'), reap(child2), 1)) return;
  sbrk(-4096);
  pass(name);
}

function testSbrk(name: number): void {
  const old = sbrk(0);
  const a = sbrk(16384);
  if (!expect(name, cstr('sbrk returns the old break'), a, old)) return;
  if (!expect(name, cstr('the break moved'), sbrk(0), old + 16384)) return;
  // demand-zero: fresh memory reads as zero, and can be written
  let k = 0;
  while (k < 16384) {
    if (load32(a + k) !== 0) return fail(name, cstr('fresh heap is not zero'), k);
    store32(a + k, k);
    k = k + 1024;
  }
  if (!expect(name, cstr('heap keeps what was written'), load32(a + 8192), 8192)) return;
  if (!expect(name, cstr('sbrk shrinks'), sbrk(-16384), old + 16384)) return;
  if (!expect(name, cstr('the break is back'), sbrk(0), old)) return;
  // lazily allocated, so a big break is fine; one past HEAP_LIMIT is not
  if (!expect(name, cstr('a big sbrk'), sbrk(0x7ff00000), old)) return;
  if (!expect(name, cstr('sbrk past the heap limit'), sbrk(0x7ff00000), Err.ENOMEM)) return;
  if (!expect(name, cstr('shrinking the big sbrk'), sbrk(-0x7ff00000), old + 0x7ff00000)) return;
  if (!expect(name, cstr('shrinking below the heap is refused'), sbrk(-0x100000), Err.EINVAL)) return;
  pass(name);
}

function testPipe(name: number): void {
  if (!expect(name, cstr('pipe'), pipe(fds), 0)) return;
  const rfd = load32(fds);
  const wfd = load32(fds + 4);
  const child = fork();
  if (child === 0) {
    close(rfd);
    write(wfd, cstr('hello'), 5);
    exit(0);
  }
  close(wfd);
  const n = read(rfd, buf, 100);
  if (!expect(name, cstr('read from the pipe'), n, 5)) return;
  if (load8(buf) !== 104 || load8(buf + 4) !== 111) return fail(name, cstr('wrong bytes'), load8(buf));
  if (!expect(name, cstr('end of file once the writer is gone'), read(rfd, buf, 100), 0)) return;
  if (!expect(name, cstr('write into the read end'), write(rfd, buf, 1), Err.EBADF)) return;
  close(rfd);
  reap(child);
  pass(name);
}

function testPipeLarge(name: number): void {
  pipe(fds);
  const rfd = load32(fds);
  const wfd = load32(fds + 4);
  const child = fork();
  if (child === 0) {
    close(rfd);
    let k = 0;
    while (k < 40) {
      let j = 0;
      while (j < 250) {
        store8(buf + j, (k * 250 + j) & 0xff);
        j = j + 1;
      }
      if (write(wfd, buf, 250) !== 250) exit(1);
      k = k + 1;
    }
    exit(0);
  }
  close(wfd);
  let total = 0;
  let bad = 0;
  for (;;) {
    const n = read(rfd, buf, 256);
    if (n <= 0) break;
    let j = 0;
    while (j < n) {
      if (load8(buf + j) !== ((total + j) & 0xff)) bad = bad + 1;
      j = j + 1;
    }
    total = total + n;
  }
  close(rfd);
  if (!expect(name, cstr('bytes through the pipe'), total, 10000)) return;
  if (!expect(name, cstr('bytes out of order'), bad, 0)) return;
  if (!expect(name, cstr('writer status'), reap(child), 0)) return;
  pass(name);
}

function testPipeBroken(name: number): void {
  pipe(fds);
  close(load32(fds));
  if (!expect(name, cstr('write without a reader'), write(load32(fds + 4), cstr('x'), 1), Err.EPIPE)) return;
  close(load32(fds + 4));
  pass(name);
}

function testDupClose(name: number): void {
  const fd = dup(Fd.STDOUT);
  if (fd < 0) return fail(name, cstr('dup failed'), fd);
  if (!expect(name, cstr('write through the copy'), write(fd, cstr('dup ok\n'), 7), 7)) return;
  if (!expect(name, cstr('close'), close(fd), 0)) return;
  if (!expect(name, cstr('close twice'), close(fd), Err.EBADF)) return;
  if (!expect(name, cstr('dup of a closed descriptor'), dup(fd), Err.EBADF)) return;
  pass(name);
}

function testExecMissing(name: number): void {
  if (!expect(name, cstr('exec of a missing program'), exec(cstr('nosuchprogram'), 0), Err.ENOENT)) return;
  if (!expect(name, cstr('exec of an over-long name'), exec(cstr('a-name-far-too-long-for-any-program-in-the-initrd'), 0), Err.ENOENT)) return;
  pass(name);
}

function testExecArgs(name: number): void {
  const child = fork();
  if (child === 0) {
    store32(args, cstr('echo'));
    store32(args + 4, cstr('exec'));
    store32(args + 8, cstr('works'));
    store32(args + 12, 0);
    exec(cstr('echo'), args);
    exit(99);
  }
  if (expect(name, cstr('echo status'), reap(child), 0)) pass(name);
}

function testSleep(name: number): void {
  const t0 = uptime();
  if (!expect(name, cstr('sleep'), sleep(5), 0)) return;
  const dt = uptime() - t0;
  if (dt < 5) return fail(name, cstr('woke too early'), dt);
  if (!expect(name, cstr('negative sleep'), sleep(-1), Err.EINVAL)) return;
  pass(name);
}

function testPreempt(name: number): void {
  const child = fork();
  if (child === 0) {
    for (;;) {
      // spin: only the timer can take the CPU away
    }
  }
  // with the spinner running, this process still gets to run (it sleeps, wakes, yields)
  sleep(3);
  yieldCpu();
  if (!expect(name, cstr('kill the spinner'), kill(child), 0)) return;
  if (!expect(name, cstr('killed status'), reap(child), -1)) return;
  pass(name);
}

function testUserFault(name: number): void {
  const child = fork();
  if (child === 0) {
    store32(0, 1);
    exit(0);
  }
  if (expect(name, cstr('faulting child status'), reap(child), -1)) pass(name);
}

/** Recurse without end (the stack test's child). */
function deeper(n: number): number {
  return deeper(n + 1) + n;
}

/** A stack overflow faults on the guard page below the stack instead of overwriting static data. */
function testStackGuard(name: number): void {
  const child = fork();
  if (child === 0) {
    deeper(0);
    exit(0);
  }
  if (expect(name, cstr('overflowing child status'), reap(child), -1)) pass(name);
}

/** Process groups: setpgid for us and a child (not for others), the console's foreground group. */
function testProcessGroups(name: number): void {
  if (!expect(name, cstr('setpgid(0, 0)'), setpgid(0, 0), 0)) return;
  if (!expect(name, cstr('setpgid with a negative group'), setpgid(0, -5), Err.EINVAL)) return;
  if (!expect(name, cstr('setpgid of a missing process'), setpgid(9999, 0), Err.ESRCH)) return;
  if (getppid() > 0 && !expect(name, cstr('setpgid of our parent'), setpgid(getppid(), 0), Err.ESRCH)) return;
  const child = fork();
  if (child === 0) {
    sleep(100000);
    exit(0);
  }
  if (!expect(name, cstr('setpgid of our child'), setpgid(child, 0), 0)) return;
  const before = fgpgrp(-1);
  if (!expect(name, cstr('fgpgrp(child) returns the previous group'), fgpgrp(child), before)) return;
  if (!expect(name, cstr('fgpgrp(-1) asks'), fgpgrp(-1), child)) return;
  fgpgrp(before);
  kill(child);
  if (!expect(name, cstr('the child killed'), reap(child), -1)) return;
  if (!expect(name, cstr('fgpgrp(-2)'), fgpgrp(-2), Err.EINVAL)) return;
  if (expect(name, cstr('consmode(-1) asks: cooked'), consmode(-1), ConsMode.COOKED)) pass(name);
}

function testKill(name: number): void {
  if (!expect(name, cstr('kill of a missing pid'), kill(9999), Err.ESRCH)) return;
  const child = fork();
  if (child === 0) {
    sleep(100000);
    exit(0);
  }
  kill(child);
  if (expect(name, cstr('a sleeping child killed'), reap(child), -1)) pass(name);
}

function testBadSyscall(name: number): void {
  if (!expect(name, cstr('syscall 999'), syscall(999), Err.ENOSYS)) return;
  if (!expect(name, cstr('syscall -1'), syscall(-1), Err.ENOSYS)) return;
  pass(name);
}

function testMisc(name: number): void {
  if (!expect(name, cstr('yield'), yieldCpu(), 0)) return;
  const c0 = cycles();
  const t0 = uptime();
  sleep(1);
  if (cycles() - c0 <= 0) return fail(name, cstr('the cycle counter did not advance'), cycles() - c0);
  if (uptime() - t0 < 1) return fail(name, cstr('uptime did not advance'), uptime() - t0);
  // our own slot, wherever it is (we are process 1 only when started by --cmdline)
  const me = getpid();
  let slot = 0;
  while (procinfo(slot, buf) === 1 || (procinfo(slot, buf) === 0 && load32(buf + ProcInfo.PID) !== me)) slot = slot + 1;
  if (!expect(name, cstr('procinfo finds our own slot'), procinfo(slot, buf), 0)) return;
  if (!expect(name, cstr('our slot holds our pid'), load32(buf + ProcInfo.PID), me)) return;
  if (!expect(name, cstr('we are running'), load32(buf + ProcInfo.STATE), ProcState.RUNNING)) return;
  if (!expect(name, cstr('our parent'), load32(buf + ProcInfo.PPID), getppid())) return;
  if (!expect(name, cstr('procinfo past the table'), procinfo(1000, buf), Err.EINVAL)) return;
  if (!expect(name, cstr('procinfo into the kernel'), procinfo(0, 0x00100000), Err.EFAULT)) return;
  pass(name);
}

function testManyForks(name: number): void {
  let k = 0;
  let started = 0;
  while (k < 40) {
    const child = fork();
    if (child === 0) exit(k);
    if (child > 0) started = started + 1;
    k = k + 1;
  }
  let reaped = 0;
  while (wait(0) > 0) reaped = reaped + 1;
  if (!expect(name, cstr('children reaped'), reaped, started)) return;
  if (started < 20) return fail(name, cstr('too few forks succeeded'), started);
  pass(name);
}

const info = staticBuffer(SysInfo.BYTES);

function freePages(): number {
  sysinfo(info);
  return load32(info + SysInfo.FREE_PAGES);
}

/** One round of everything that allocates: fork, COW faults, exec, pipes, sbrk, exit, wait. */
function churn(): void {
  const child = fork();
  if (child === 0) {
    shared = shared + 1;
    const heap = sbrk(65536);
    store32(heap + 40000, 1);
    pipe(fds);
    write(load32(fds + 4), cstr('x'), 1);
    store32(args, cstr('echo'));
    store32(args + 4, 0);
    exec(cstr('echo'), args);
    exit(1);
  }
  reap(child);
}

function testLeak(name: number): void {
  if (!expect(name, cstr('sysinfo into the kernel'), sysinfo(0xc0000000), Err.EFAULT)) return;
  churn();
  const before = freePages();
  let k = 0;
  while (k < 5) {
    churn();
    k = k + 1;
  }
  if (!expect(name, cstr('pages lost in five fork/exec/exit rounds'), before - freePages(), 0)) return;
  pass(name);
}

const enum Io {
  /** a whole diskio call's worth: DiskOp.MAX_SECTORS sectors */
  BIG_SECTORS = 64,
  BIG_BYTES = 32768,
  /** one bounce page: what a single request moves */
  PAGE_SECTORS = 8,
  PAGE_BYTES = 4096,
}

const bigA = staticBuffer(Io.BIG_BYTES);
const bigB = staticBuffer(Io.BIG_BYTES);
const bigSaved = staticBuffer(Io.BIG_BYTES);

/** Read BIG_SECTORS sectors at `sector` into dst one page-sized call at a time: 0 or the first error. */
function readByPages(sector: number, dst: number): number {
  let k = 0;
  while (k < Io.BIG_SECTORS / Io.PAGE_SECTORS) {
    const r = diskio(DiskOp.READ, sector + k * Io.PAGE_SECTORS, dst + k * Io.PAGE_BYTES, Io.PAGE_SECTORS);
    if (r < 0) return r;
    k = k + 1;
  }
  return 0;
}

/** The first offset where a and b differ over n bytes, or -1. */
function differ(a: number, b: number, n: number): number {
  let k = 0;
  while (k < n) {
    if (load8(a + k) !== load8(b + k)) return k;
    k = k + 1;
  }
  return -1;
}

/**
 * diskio's limits, and (on a disk of at least 64 sectors) that one 64-sector call, whose eight
 * requests are in flight together, moves the same bytes in the same order as eight 8-sector
 * calls. The disk's last 32 KiB are written and then restored.
 */
function testDiskio(name: number): void {
  const cap = diskio(DiskOp.CAPACITY, 0, 0, 0);
  if (!expect(name, cstr('0 sectors'), diskio(DiskOp.READ, 0, bigA, 0), Err.EINVAL)) return;
  if (!expect(name, cstr('65 sectors'), diskio(DiskOp.READ, 0, bigA, DiskOp.MAX_SECTORS + 1), Err.EINVAL)) return;
  if (!expect(name, cstr('unknown op'), diskio(7, 0, bigA, 1), Err.EINVAL)) return;
  if (!expect(name, cstr('past the end'), diskio(DiskOp.READ, cap, bigA, 1), Err.EINVAL)) return;
  if (cap < Io.BIG_SECTORS) return pass(name);
  if (!expect(name, cstr('into the kernel'), diskio(DiskOp.READ, 0, 0xc0000000, 1), Err.EFAULT)) return;
  if (!expect(name, cstr('64 sectors past the end'), diskio(DiskOp.READ, cap - Io.BIG_SECTORS + 1, bigA, Io.BIG_SECTORS), Err.EINVAL)) return;
  if (!expect(name, cstr('read 64 sectors'), diskio(DiskOp.READ, 0, bigA, Io.BIG_SECTORS), Io.BIG_BYTES)) return;
  if (!expect(name, cstr('read by pages'), readByPages(0, bigB), 0)) return;
  if (!expect(name, cstr('a 64-sector read differs from 8-sector reads at byte'), differ(bigA, bigB, Io.BIG_BYTES), -1)) return;
  const last = cap - Io.BIG_SECTORS;
  if (!expect(name, cstr('save the last 64 sectors'), diskio(DiskOp.READ, last, bigSaved, Io.BIG_SECTORS), Io.BIG_BYTES)) return;
  let k = 0;
  while (k < Io.BIG_BYTES) {
    store8(bigA + k, k * 13 + (k >>> 9) + 5);
    k = k + 1;
  }
  if (!expect(name, cstr('write 64 sectors'), diskio(DiskOp.WRITE, last, bigA, Io.BIG_SECTORS), Io.BIG_BYTES)) return;
  if (!expect(name, cstr('read back by pages'), readByPages(last, bigB), 0)) return;
  if (!expect(name, cstr('a 64-sector write differs from its 8-sector reads at byte'), differ(bigA, bigB, Io.BIG_BYTES), -1)) return;
  if (!expect(name, cstr('restore the last 64 sectors'), diskio(DiskOp.WRITE, last, bigSaved, Io.BIG_SECTORS), Io.BIG_BYTES)) return;
  pass(name);
}

/**
 * The critical-instruction checks (archtest): the kernel observes its own ring, the interrupt
 * flag inside a critical section, whether interrupts come back after a restore, and which trap
 * table the CPU reports. A faithful machine gives the expected answers; trap-and-emulate does
 * not, because the instructions behind them are sensitive but not privileged.
 */
function archCheck(name: number, op: number, want: number): void {
  const got = archtest(op);
  if (got === Err.ENOSYS) {
    fail(name, cstr('this architecture has no probe for it'), got);
    return;
  }
  if (!expect(name, cstr('observed'), got, want)) return;
  // the observation on the PASS line too: `compare` judges a critical test by the value it saw
  puts(cstr('PASS '));
  puts(name);
  puts(cstr(' (observed '));
  putd(got);
  puts(cstr(')\n'));
  passed = passed + 1;
}
/**
 * A user read of a present supervisor-only page faults, as the hardware's user/supervisor check
 * says: kernel code the kernel has just run in this address space (so any cached translation of
 * it exists), and the direct map. Each read is made by a child, which the fault must kill.
 */
function testKernelRead(name: number): void {
  const text = archtest(ArchTest.KERNEL_TEXT);
  if (text === Err.ENOSYS || text === Err.EINVAL) return fail(name, cstr('no kernel text address'), text);
  let which = 0;
  while (which < 2) {
    const addr = which === 0 ? text : UserLayout.USER_TOP + 0x1000;
    const child = fork();
    if (child === 0) {
      archtest(ArchTest.KERNEL_TEXT);
      exit(load32(addr) === 0x7eadbeef ? 2 : 0);
    }
    if (!expect(name, which === 0 ? cstr('a child reading kernel text was not killed') : cstr('a child reading the direct map was not killed'), reap(child), -1)) return;
    which = which + 1;
  }
  pass(name);
}

/** Condition bits survive kernel traps and interrupts (an IRET that dropped them would lose them). */
function testCondAcrossTraps(name: number): void {
  if (expect(name, cstr('condition bits across kernel traps'), archtest(ArchTest.COND_ACROSS_TRAPS), 1)) pass(name);
}

function testCriticalRdcpl(name: number): void { archCheck(name, ArchTest.RING, 0); }
function testCriticalPushf(name: number): void { archCheck(name, ArchTest.IRQS_OFF_VISIBLE, 0); }
function testCriticalPopf(name: number): void { archCheck(name, ArchTest.IRQ_RESTORE, 1); }
function testCriticalSidt(name: number): void { archCheck(name, ArchTest.TRAP_TABLE, 1); }

/** Work that needs only the CPU: `rounds` steps of a linear congruential generator. */
function spinWork(rounds: number): number {
  let x = 1;
  let k = 0;
  while (k < rounds) {
    x = x * 69069 + 12345;
    k = k + 1;
  }
  return x;
}

/**
 * rounds of spinWork for the two-CPU tests: about three million cycles, so the fork's and the
 * reap's fixed costs (dear under a shadow MMU: hvm without EPT) stay small beside the work timed
 */
const SMP_ROUNDS = 300000;

/**
 * Two processes running at once: on two CPUs the same work done by two processes together takes
 * well under twice as long as by one alone (under 1.5x).
 */
function testSmpParallel(name: number): void {
  sysinfo(info);
  const cpus = load32(info + SysInfo.CPUS);
  const t0 = cycles();
  spinWork(SMP_ROUNDS);
  const solo = cycles() - t0;
  const t1 = cycles();
  const child = fork();
  if (child === 0) {
    spinWork(SMP_ROUNDS);
    exit(0);
  }
  spinWork(SMP_ROUNDS);
  if (!expect(name, cstr('child status'), reap(child), 0)) return;
  const both = cycles() - t1;
  // (on one CPU the ratio is about 2, but a hypervisor sharing the CPU with other domains makes
  // any ratio possible there, so only the two-CPU case is checked)
  if (cpus >= 2 && !expect(name, cstr('two at once took 1.5x one or more (tenths)'), both * 2 < solo * 3 ? 0 : (both * 10) / solo, 0)) return;
  pass(name);
}

/**
 * A mapping removed while the process moves between CPUs: the child grows the heap, touches it,
 * forks a grandchild and waits for it. Its CPU idles with the child's address space still loaded
 * (lazy TLB) and the heap page's translation in its TLB; the grandchild, started on the other
 * CPU, exits at once, and that CPU's scheduler - holding the kernel lock from the exit on - runs
 * the woken child next. There the child shrinks the heap, which must shoot down the TLB of the
 * CPU it left; it yields twice (it may move back) and touches the removed page: it must die of
 * the page fault, whichever CPU's TLB once held the translation.
 */
function testSmpUnmap(name: number): void {
  const child = fork();
  if (child === 0) {
    const top = sbrk(4096);
    store32(top, 7);
    const grandchild = fork();
    if (grandchild === 0) exit(0);
    if (wait(status) !== grandchild) exit(3);
    if (load32(top) !== 7) exit(2);
    sbrk(-4096);
    yieldCpu();
    yieldCpu();
    store32(top, 1);
    exit(0);
  }
  if (expect(name, cstr('the child wrote an unmapped page (status)'), reap(child), -1)) pass(name);
}

/** Run test `fn` if it was asked for (or everything was). */
function run(name: number, fn: number): void {
  if (argc() > 1) {
    let k = 1;
    let wanted = false;
    while (k < argc()) {
      if (streq(argv(k), name)) wanted = true;
      k = k + 1;
    }
    if (!wanted) return;
  }
  callIndirect(fn, name);
}

export function main(): number {
  run(cstr('getpid'), addressOf(testGetpid));
  run(cstr('write'), addressOf(testWrite));
  run(cstr('badptr'), addressOf(testBadPointers));
  run(cstr('forkwait'), addressOf(testForkWait));
  run(cstr('cow'), addressOf(testCow));
  run(cstr('sbrk'), addressOf(testSbrk));
  run(cstr('pipe'), addressOf(testPipe));
  run(cstr('pipelarge'), addressOf(testPipeLarge));
  run(cstr('pipebroken'), addressOf(testPipeBroken));
  run(cstr('dup'), addressOf(testDupClose));
  run(cstr('execmissing'), addressOf(testExecMissing));
  run(cstr('execargs'), addressOf(testExecArgs));
  run(cstr('sleep'), addressOf(testSleep));
  run(cstr('preempt'), addressOf(testPreempt));
  run(cstr('userfault'), addressOf(testUserFault));
  run(cstr('stackguard'), addressOf(testStackGuard));
  run(cstr('pgroup'), addressOf(testProcessGroups));
  run(cstr('kill'), addressOf(testKill));
  run(cstr('badsyscall'), addressOf(testBadSyscall));
  run(cstr('misc'), addressOf(testMisc));
  run(cstr('manyforks'), addressOf(testManyForks));
  run(cstr('leak'), addressOf(testLeak));
  run(cstr('diskio'), addressOf(testDiskio));
  run(cstr('kernelread'), addressOf(testKernelRead));
  run(cstr('condflags'), addressOf(testCondAcrossTraps));
  run(cstr('critical-rdcpl'), addressOf(testCriticalRdcpl));
  run(cstr('critical-pushf'), addressOf(testCriticalPushf));
  run(cstr('critical-popf'), addressOf(testCriticalPopf));
  run(cstr('critical-sidt'), addressOf(testCriticalSidt));
  run(cstr('smp-parallel'), addressOf(testSmpParallel));
  run(cstr('smp-unmap'), addressOf(testSmpUnmap));
  puts(cstr('usertests: '));
  putd(passed);
  puts(cstr(' passed, '));
  putd(failed);
  puts(cstr(' failed\n'));
  return failed;
}
