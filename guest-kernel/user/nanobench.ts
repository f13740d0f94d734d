// nanobench: the cost of single kernel primitives, measured inside the kernel by the nanobench
// system call (BenchOp), in the spirit of Adams & Agesen's nanobenchmarks (ASPLOS 2006), plus
// the system call itself measured from user mode. Prints "nanobench NAME: C cycles/op" for each,
// after subtracting the kernel's empty loop; "nanobench NAME: n/a" when the architecture does not
// provide the primitive (an optional pvops slot left empty: ENOSYS).
// User program (the TypeScript subset, compiled with --user).

import { cstr, divu, rdtsc } from 'xl32';
import { BenchOp, Err, Fd } from '../kernel/abi.ts';
import { argc, argv, atoi, nanobench, getpid, puts, putd, fputs, fputd } from './lib/ulib.ts';

const enum Default {
  N = 1000,
}

function name(s: number): void {
  puts(cstr('nanobench '));
  puts(s);
  puts(cstr(': '));
}

function report(s: number, cycles: number, n: number): void {
  name(s);
  putd(divu(cycles < 0 ? 0 : cycles, n));
  puts(cstr(' cycles/op\n'));
}

/** Measure kernel primitive op; print its line. False if the kernel reported an error. */
function kernelOp(s: number, op: number, n: number, empty: number): boolean {
  const cycles = nanobench(op, n);
  if (cycles === Err.ENOSYS) {
    name(s);
    puts(cstr('n/a\n'));
    return true;
  }
  if (cycles < 0) {
    fputs(Fd.STDERR, cstr('nanobench: '));
    fputs(Fd.STDERR, s);
    fputs(Fd.STDERR, cstr(' failed (error '));
    fputd(Fd.STDERR, cycles);
    fputs(Fd.STDERR, cstr(')\n'));
    return false;
  }
  report(s, cycles - empty, n);
  return true;
}

export function main(): number {
  const n = argc() > 1 ? atoi(argv(1)) : Default.N;
  if (n <= 0) {
    fputs(Fd.STDERR, cstr('usage: nanobench [N]   (N > 0 iterations per primitive)\n'));
    return 2;
  }
  const empty = nanobench(BenchOp.NOTHING, n);
  let failures = 0;
  if (!kernelOp(cstr('irq-save-restore'), BenchOp.IRQ_SAVE_RESTORE, n, empty)) failures = failures + 1;
  if (!kernelOp(cstr('pte-update'), BenchOp.PTE_UPDATE, n, empty)) failures = failures + 1;
  if (!kernelOp(cstr('address-space-switch'), BenchOp.ADDRESS_SPACE_SWITCH, n, empty)) failures = failures + 1;
  if (!kernelOp(cstr('port-read'), BenchOp.PORT_READ, n, empty)) failures = failures + 1;
  if (!kernelOp(cstr('cr4-write'), BenchOp.CR4_WRITE, n, empty)) failures = failures + 1;
  if (!kernelOp(cstr('divide-fault'), BenchOp.DIVIDE_FAULT, n, empty)) failures = failures + 1;
  const t0 = rdtsc();
  let k = 0;
  while (k < n) {
    getpid();
    k = k + 1;
  }
  report(cstr('syscall'), rdtsc() - t0, n);
  return failures;
}
