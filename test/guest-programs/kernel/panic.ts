// A test kernel: the native arch and shared kernel, but instead of kmain it loads the trap
// table and divides by zero three calls deep, to exercise the kernel-fault panic path
// (register dump, backtrace). Guest code (the TypeScript subset); see test/guest-kernel/.

import { cstr } from 'xl32';
import { nativeSetup } from '../../../guest-kernel/arch/native/entry.ts';
import { trapTableLoad } from '../../../guest-kernel/kernel/pvops.ts';
import { kputs } from '../../../guest-kernel/kernel/console.ts';

let zero = 0;

function innermost(d: number): number {
  return ((1000 / d) | 0) + 1;
}

function middle(d: number): number {
  return innermost(d) * 2 + 1;
}

function outer(d: number): number {
  return middle(d) + 3;
}

export function main(): number {
  nativeSetup();
  trapTableLoad();
  kputs(cstr('panic test: dividing by zero\n'));
  return outer(zero);
}
