// ps: list the processes: pid, parent, state, user memory mapped and name.
// User program (the TypeScript subset, compiled with --user).

import { cstr, staticBuffer, load32 } from 'xl32';
import { ProcInfo, ProcState } from '../kernel/abi.ts';
import { procinfo, puts, putd } from './lib/ulib.ts';

const info = staticBuffer(ProcInfo.BYTES);

/** Print n right-aligned in a field of `width` characters, then a space. */
function column(n: number, width: number): void {
  let digits = 1;
  let v = n;
  while (v >= 10) {
    v = (v / 10) | 0;
    digits = digits + 1;
  }
  while (digits < width) {
    puts(cstr(' '));
    digits = digits + 1;
  }
  putd(n);
  puts(cstr(' '));
}

function stateName(s: number): number {
  switch (s) {
    case ProcState.EMBRYO: return cstr('embryo  ');
    case ProcState.SLEEPING: return cstr('sleeping');
    case ProcState.RUNNABLE: return cstr('runnable');
    case ProcState.RUNNING: return cstr('running ');
    case ProcState.ZOMBIE: return cstr('zombie  ');
    default: return cstr('?       ');
  }
}

export function main(): number {
  puts(cstr('  PID  PPID STATE     MEMORY NAME\n'));
  let k = 0;
  for (;;) {
    const r = procinfo(k, info);
    if (r < 0) break;
    if (r === 0) {
      column(load32(info + ProcInfo.PID), 5);
      column(load32(info + ProcInfo.PPID), 5);
      puts(stateName(load32(info + ProcInfo.STATE)));
      puts(cstr(' '));
      column(load32(info + ProcInfo.SIZE), 6);
      puts(info + ProcInfo.NAME);
      puts(cstr('\n'));
    }
    k = k + 1;
  }
  return 0;
}
