// crash: fault on purpose, to show how the kernel reports and kills a faulting process.
// `crash KIND` with KIND one of: null-read null-write text-write kernel-read kernel-write
// divide privileged undefined breakpoint oom (touch heap pages until memory runs out) stack
// (recurse until the stack overflows into the guard page below it).
// User program (the TypeScript subset, compiled with --user).

import { cstr, load32, store32, cli, brk, callIndirect, addressOf, staticBuffer } from 'xl32';
import { Fd } from '../kernel/abi.ts';
import { argc, argv, streq, fputs, puts, sbrk } from './lib/ulib.ts';

/** zeroed memory: opcode 0 is undefined, so calling into it raises #UD */
const zeros = staticBuffer(16);
let divisor = 0;

/** Recurse without end: each call takes a frame of the stack, until the guard page stops it. */
function deeper(n: number): number {
  return deeper(n + 1) + n;
}

function kinds(): void {
  fputs(Fd.STDERR, cstr('usage: crash null-read|null-write|text-write|kernel-read|kernel-write|divide|privileged|undefined|breakpoint|oom|stack\n'));
}

export function main(): number {
  if (argc() < 2) {
    kinds();
    return 2;
  }
  const kind = argv(1);
  puts(cstr('crash: '));
  puts(kind);
  puts(cstr('\n'));
  if (streq(kind, cstr('null-read'))) return load32(0);
  if (streq(kind, cstr('null-write'))) store32(4, 1);
  else if (streq(kind, cstr('text-write'))) store32(addressOf(main), 0);
  else if (streq(kind, cstr('kernel-read'))) return load32(0xc0000000);
  else if (streq(kind, cstr('kernel-write'))) store32(0x00100000, 0);
  else if (streq(kind, cstr('divide'))) return (100 / divisor) | 0;
  else if (streq(kind, cstr('privileged'))) cli();
  else if (streq(kind, cstr('undefined'))) callIndirect(zeros);
  else if (streq(kind, cstr('breakpoint'))) brk();
  else if (streq(kind, cstr('stack'))) return deeper(0);
  else if (streq(kind, cstr('oom'))) {
    const heap = sbrk(0x20000000);
    let k = 0;
    while (k < 0x20000000) {
      store32(heap + k, k);
      k = k + 4096;
    }
  }
  else {
    kinds();
    return 2;
  }
  puts(cstr('crash: still alive\n'));
  return 1;
}
