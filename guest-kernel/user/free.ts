// free: how much physical memory is free, and how many processes exist (the sysinfo call).
// User program (the TypeScript subset, compiled with --user).

import { cstr, staticBuffer, load32 } from 'xl32';
import { SysInfo } from '../kernel/abi.ts';
import { sysinfo, puts, putd } from './lib/ulib.ts';

const info = staticBuffer(SysInfo.BYTES);

export function main(): number {
  if (sysinfo(info) < 0) return 1;
  puts(cstr('free: '));
  putd(load32(info + SysInfo.FREE_PAGES));
  puts(cstr(' of '));
  putd(load32(info + SysInfo.TOTAL_PAGES));
  puts(cstr(' pages free, '));
  putd(load32(info + SysInfo.PROCS));
  puts(cstr(' processes\n'));
  return 0;
}
