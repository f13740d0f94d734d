// lmbench: lmbench-style latency microbenchmarks, measured in simulated cycles with RDTSC
// (unprivileged at ring 3). `lmbench` runs them all; `lmbench NAME [N]` runs one N times;
// `lmbench all N` runs every one N times.
// Each prints "lmbench NAME: C cycles/op (N ops)". Names: null fork exec ctx pipe pagefault sbrk.
// User program (the TypeScript subset, compiled with --user).

import { cstr, rdtsc, staticBuffer, load32, store32, store8, divu } from 'xl32';
import { Fd } from '../kernel/abi.ts';
import { argc, argv, atoi, streq, getpid, fork, exec, exit, wait, pipe, read, write, close, sbrk, puts, putd, fputs } from './lib/ulib.ts';

const fds = staticBuffer(8);
const back = staticBuffer(8);
const buf = staticBuffer(4096);
const args = staticBuffer(8);

function report(name: number, cycles: number, n: number): void {
  puts(cstr('lmbench '));
  puts(name);
  puts(cstr(': '));
  putd(divu(cycles, n));
  puts(cstr(' cycles/op ('));
  putd(n);
  puts(cstr(' ops)\n'));
}

/** null call: the cheapest system call. */
function benchNull(n: number): number {
  const t0 = rdtsc();
  let k = 0;
  while (k < n) {
    getpid();
    k = k + 1;
  }
  return rdtsc() - t0;
}

/** fork + exit + wait. */
function benchFork(n: number): number {
  const t0 = rdtsc();
  let k = 0;
  while (k < n) {
    const pid = fork();
    if (pid === 0) exit(0);
    wait(0);
    k = k + 1;
  }
  return rdtsc() - t0;
}

/** fork + exec of `true` + wait. */
function benchExec(n: number): number {
  store32(args, cstr('true'));
  store32(args + 4, 0);
  const t0 = rdtsc();
  let k = 0;
  while (k < n) {
    const pid = fork();
    if (pid === 0) {
      exec(cstr('true'), args);
      exit(127);
    }
    wait(0);
    k = k + 1;
  }
  return rdtsc() - t0;
}

/** context switch: two processes pass a byte back and forth through two pipes (2 switches per op). */
function benchCtx(n: number): number {
  pipe(fds);
  pipe(back);
  const pid = fork();
  if (pid === 0) {
    close(load32(fds + 4));
    close(load32(back));
    while (read(load32(fds), buf, 1) === 1) write(load32(back + 4), buf, 1);
    exit(0);
  }
  close(load32(fds));
  close(load32(back + 4));
  const t0 = rdtsc();
  let k = 0;
  while (k < n) {
    write(load32(fds + 4), buf, 1);
    read(load32(back), buf, 1);
    k = k + 1;
  }
  const t = rdtsc() - t0;
  close(load32(fds + 4));
  close(load32(back));
  wait(0);
  return t;
}

/** pipe bandwidth: 4 KiB writes read by a child; cycles per 4 KiB. */
function benchPipe(n: number): number {
  pipe(fds);
  const pid = fork();
  if (pid === 0) {
    close(load32(fds + 4));
    while (read(load32(fds), buf, 4096) > 0) {
      // drain
    }
    exit(0);
  }
  close(load32(fds));
  const t0 = rdtsc();
  let k = 0;
  while (k < n) {
    write(load32(fds + 4), buf, 4096);
    k = k + 1;
  }
  close(load32(fds + 4));
  wait(0);
  return rdtsc() - t0;
}

/** page fault: first touch of a fresh demand-zero heap page. */
function benchPagefault(n: number): number {
  const base = sbrk(n * 4096);
  const t0 = rdtsc();
  let k = 0;
  while (k < n) {
    store8(base + k * 4096, 1);
    k = k + 1;
  }
  const t = rdtsc() - t0;
  sbrk(-n * 4096);
  return t;
}

/** sbrk: grow by a page and give it back (the closest thing to mmap/munmap here). */
function benchSbrk(n: number): number {
  const t0 = rdtsc();
  let k = 0;
  while (k < n) {
    sbrk(4096);
    sbrk(-4096);
    k = k + 1;
  }
  return rdtsc() - t0;
}

/** Run benchmark `name` n times (n <= 0: its default count) if `only` is 0 or names it. */
function run(only: number, name: number, n: number, deflt: number): void {
  if (only !== 0 && !streq(only, name)) return;
  const count = n > 0 ? n : deflt;
  let cycles = 0;
  if (streq(name, cstr('null'))) cycles = benchNull(count);
  else if (streq(name, cstr('fork'))) cycles = benchFork(count);
  else if (streq(name, cstr('exec'))) cycles = benchExec(count);
  else if (streq(name, cstr('ctx'))) cycles = benchCtx(count);
  else if (streq(name, cstr('pipe'))) cycles = benchPipe(count);
  else if (streq(name, cstr('pagefault'))) cycles = benchPagefault(count);
  else if (streq(name, cstr('sbrk'))) cycles = benchSbrk(count);
  report(name, cycles, count);
}

export function main(): number {
  const only = argc() > 1 && !streq(argv(1), cstr('all')) ? argv(1) : 0;
  const n = argc() > 2 ? atoi(argv(2)) : 0;
  if (only !== 0 && !(streq(only, cstr('null')) || streq(only, cstr('fork')) || streq(only, cstr('exec')) || streq(only, cstr('ctx')) ||
      streq(only, cstr('pipe')) || streq(only, cstr('pagefault')) || streq(only, cstr('sbrk')))) {
    fputs(Fd.STDERR, cstr('usage: lmbench [all|null|fork|exec|ctx|pipe|pagefault|sbrk] [N]\n'));
    return 2;
  }
  run(only, cstr('null'), n, 1000);
  run(only, cstr('fork'), n, 20);
  run(only, cstr('exec'), n, 10);
  run(only, cstr('ctx'), n, 200);
  run(only, cstr('pipe'), n, 50);
  run(only, cstr('pagefault'), n, 100);
  run(only, cstr('sbrk'), n, 100);
  return 0;
}
