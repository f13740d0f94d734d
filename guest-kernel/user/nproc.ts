// nproc: the number of CPUs online (the sysinfo call's CPUS field), as coreutils' nproc prints it.
// User program (the TypeScript subset, compiled with --user).

import { cstr, staticBuffer, load32 } from 'xl32';
import { SysInfo } from '../kernel/abi.ts';
import { sysinfo, puts, putd } from './lib/ulib.ts';

const info = staticBuffer(SysInfo.BYTES);

export function main(): number {
  if (sysinfo(info) < 0) return 1;
  putd(load32(info + SysInfo.CPUS));
  puts(cstr('\n'));
  return 0;
}
