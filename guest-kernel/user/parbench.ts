// parbench [workers] [rounds]: a parallel workload. Times `rounds` steps of CPU-only work done by
// one process, then by `workers` processes at once (default: one per CPU online), and prints the
// speedup in simulated time: workers x one's time / all together's time. On one CPU it is about
// 1.00x; on N CPUs, close to N (docs/kernel.md "Multiprocessor").
// User program (the TypeScript subset, compiled with --user).

import { cstr, staticBuffer, load32, divu } from 'xl32';
import { SysInfo } from '../kernel/abi.ts';
import { sysinfo, puts, putd, fork, wait, exit, cycles, argc, argv, atoi } from './lib/ulib.ts';

const info = staticBuffer(SysInfo.BYTES);
const status = staticBuffer(4);

function work(rounds: number): number {
  let x = 1;
  let k = 0;
  while (k < rounds) {
    x = x * 69069 + 12345;
    k = k + 1;
  }
  return x;
}

export function main(): number {
  if (sysinfo(info) < 0) return 1;
  let workers = load32(info + SysInfo.CPUS);
  let rounds = 200000;
  if (argc() > 1) workers = atoi(argv(1));
  if (argc() > 2) rounds = atoi(argv(2));
  if (workers < 1 || workers > 8 || rounds < 1) {
    puts(cstr('usage: parbench [workers 1..8] [rounds]\n'));
    return 2;
  }
  const t0 = cycles();
  work(rounds);
  const one = cycles() - t0;
  const t1 = cycles();
  let k = 0;
  while (k < workers) {
    if (fork() === 0) {
      work(rounds);
      exit(0);
    }
    k = k + 1;
  }
  while (wait(status) > 0) {}
  const all = cycles() - t1;
  // speedup in hundredths: workers * one / all (kilocycles keep the product in 32 bits)
  const speedup = divu(workers * divu(one, 10), divu(all, 1000));
  puts(cstr('parbench: '));
  putd(workers);
  puts(cstr(' workers x '));
  putd(rounds);
  puts(cstr(' rounds on '));
  putd(load32(info + SysInfo.CPUS));
  puts(cstr(' CPUs: one alone '));
  putd(divu(one, 1000));
  puts(cstr(' kcycles, all together '));
  putd(divu(all, 1000));
  puts(cstr(' kcycles, speedup '));
  putd(divu(speedup, 100));
  puts(cstr('.'));
  const frac = speedup - divu(speedup, 100) * 100;
  if (frac < 10) puts(cstr('0'));
  putd(frac);
  puts(cstr('x\n'));
  return 0;
}
