// A test kernel: the native arch and shared kernel, with the optional (benchmark-only) pvops
// slots left empty, as an architecture that does not provide them would leave them. kmain must
// still boot, and nanobench must report those primitives as n/a (ENOSYS).
// Guest code (the TypeScript subset); see test/guest-kernel/bench-programs.test.ts.

import { PvOp, pvSet } from '../../../guest-kernel/kernel/pvops.ts';
import { nativeSetup } from '../../../guest-kernel/arch/native/entry.ts';
import { kmain } from '../../../guest-kernel/kernel/main.ts';

export function main(): void {
  nativeSetup();
  let op = PvOp.REQUIRED_COUNT as number;
  while (op < PvOp.COUNT) {
    pvSet(op, 0);
    op = op + 1;
  }
  kmain();
}
