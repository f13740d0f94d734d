// cat: copy standard input to standard output until end of input. (There is no file system;
// programs live in the initrd, so file arguments are refused.)
// User program (the TypeScript subset, compiled with --user).

import { cstr, staticBuffer } from 'xl32';
import { Fd } from '../kernel/abi.ts';
import { argc, argv, read, write, fputs } from './lib/ulib.ts';

const buf = staticBuffer(512);

export function main(): number {
  if (argc() > 1) {
    fputs(Fd.STDERR, cstr('cat: '));
    fputs(Fd.STDERR, argv(1));
    fputs(Fd.STDERR, cstr(': no such file (cat copies its standard input)\n'));
    return 1;
  }
  for (;;) {
    const n = read(Fd.STDIN, buf, 512);
    if (n === 0) return 0;
    if (n < 0) {
      fputs(Fd.STDERR, cstr('cat: read error\n'));
      return 1;
    }
    if (write(Fd.STDOUT, buf, n) !== n) return 1;
  }
}
