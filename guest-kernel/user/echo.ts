// echo: print the arguments, separated by spaces, and a newline.
// User program (the TypeScript subset, compiled with --user).

import { cstr } from 'xl32';
import { argc, argv, puts } from './lib/ulib.ts';

export function main(): number {
  let k = 1;
  while (k < argc()) {
    if (k > 1) puts(cstr(' '));
    puts(argv(k));
    k = k + 1;
  }
  puts(cstr('\n'));
  return 0;
}
