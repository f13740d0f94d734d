// spin: burn the CPU. `spin` loops forever (kill it, or watch the scheduler preempt it);
// `spin N` counts to N million, then prints "spin: done".
// User program (the TypeScript subset, compiled with --user).

import { cstr } from 'xl32';
import { argc, argv, atoi, puts } from './lib/ulib.ts';

export function main(): number {
  const millions = argc() > 1 ? atoi(argv(1)) : -1;
  let k = 0;
  while (millions < 0 || k < millions * 1000000) k = k + 1;
  puts(cstr('spin: done\n'));
  return 0;
}
