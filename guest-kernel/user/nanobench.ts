// nanobench: the cost of single kernel operations, measured inside the kernel by the nanobench
// system call (BenchOp), in the spirit of Adams & Agesen's nanobenchmarks. Prints
// "nanobench NAME: C cycles/op" for each, after subtracting the empty loop.
// User program (the TypeScript subset, compiled with --user).

import { cstr, divu, rdtsc } from 'xl32';
import { BenchOp } from '../kernel/abi.ts';
import { argc, argv, atoi, nanobench, getpid, puts, putd } from './lib/ulib.ts';

function report(name: number, cycles: number, n: number): void {
  puts(cstr('nanobench '));
  puts(name);
  puts(cstr(': '));
  putd(divu(cycles < 0 ? 0 : cycles, n));
  puts(cstr(' cycles/op\n'));
}

export function main(): number {
  const n = argc() > 1 ? atoi(argv(1)) : 1000;
  const empty = nanobench(BenchOp.NOTHING, n);
  report(cstr('irq-save-restore'), nanobench(BenchOp.IRQ_SAVE_RESTORE, n) - empty, n);
  report(cstr('pte-update'), nanobench(BenchOp.PTE_UPDATE, n) - empty, n);
  report(cstr('address-space-switch'), nanobench(BenchOp.ADDRESS_SPACE_SWITCH, n) - empty, n);
  const t0 = rdtsc();
  let k = 0;
  while (k < n) {
    getpid();
    k = k + 1;
  }
  report(cstr('syscall'), rdtsc() - t0, n);
  return 0;
}
