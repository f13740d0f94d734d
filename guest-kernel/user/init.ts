// init: the first process. Runs the shell and waits; reaps orphans meanwhile. When the shell
// exits, init exits with its status, and the kernel powers the machine off.
// User program (the TypeScript subset, compiled with --user).

import { cstr, staticBuffer, load32, store32 } from 'xl32';
import { fork, exec, wait, exit, puts, fputs, fputd } from './lib/ulib.ts';

const argv = staticBuffer(8);
const status = staticBuffer(4);

export function main(): number {
  puts(cstr('init: starting sh\n'));
  const pid = fork();
  if (pid < 0) {
    fputs(2, cstr('init: fork failed\n'));
    return 1;
  }
  if (pid === 0) {
    store32(argv, cstr('sh'));
    store32(argv + 4, 0);
    const err = exec(cstr('sh'), argv);
    fputs(2, cstr('init: cannot run sh (error '));
    fputd(2, err);
    fputs(2, cstr(')\n'));
    exit(127);
  }
  for (;;) {
    const w = wait(status);
    if (w === pid) return load32(status);
    if (w < 0) return 1;
  }
}
