// System calls about processes, memory and time: argument checking and the call into proc.ts,
// exec.ts or vm.ts. Every user pointer is checked here or by copyin/copyout.
// Guest code (the TypeScript subset).

import { cpusOnline } from './smp.ts';
import { load32, store32, staticBuffer } from 'xl32';
import { Err, Limits, ProcInfo, SysInfo } from './abi.ts';
import { myproc, fork, exit, wait, kill, yieldCpu, sleepTicks, procInfo, procPid, parentPid, procCount, setpgid } from './proc.ts';
import { consoleSetMode, consoleSetForeground } from './console.ts';
import { kfreePages, ktotalPages } from './kalloc.ts';
import { exec } from './exec.ts';
import { copyin, copyout, copyinstr, growProcess } from './vm.ts';
import { uptime } from './trap.ts';
import { readCycles, clockMHz } from './pvops.ts';

export function sysExit(status: number): number {
  exit(status);
  return 0;
}

export function sysFork(): number {
  return fork();
}

export function sysWait(statusAddr: number): number {
  return wait(statusAddr);
}

export function sysGetpid(): number {
  return procPid(myproc());
}

export function sysGetppid(): number {
  return parentPid(myproc());
}

export function sysYield(): number {
  yieldCpu();
  return 0;
}

export function sysKill(pid: number): number {
  return kill(pid);
}

export function sysSetpgid(pid: number, pgid: number): number {
  return setpgid(pid, pgid);
}

export function sysFgpgrp(pgid: number): number {
  return consoleSetForeground(pgid);
}

export function sysConsmode(m: number): number {
  return consoleSetMode(m);
}

export function sysSbrk(n: number): number {
  return growProcess(myproc(), n);
}

/** Sleep for n timer ticks (milliseconds). EINTR if killed meanwhile. */
export function sysSleep(n: number): number {
  if (n < 0) return Err.EINVAL;
  return sleepTicks(uptime() + n);
}

export function sysUptime(): number {
  return uptime();
}

export function sysCycles(): number {
  return readCycles();
}

const infoBuf = staticBuffer(ProcInfo.BYTES);

/** procinfo(slot, buf): 0 and the record at buf, 1 for an unused slot, EINVAL past the table. */
export function sysProcinfo(k: number, buf: number): number {
  const r = procInfo(k, infoBuf);
  if (r !== 0) return r;
  return copyout(buf, infoBuf, ProcInfo.BYTES);
}

const sysInfoBuf = staticBuffer(SysInfo.BYTES);

/** sysinfo(buf): free and total pages, processes, uptime, the CPU clock. */
export function sysSysinfo(buf: number): number {
  store32(sysInfoBuf + SysInfo.FREE_PAGES, kfreePages());
  store32(sysInfoBuf + SysInfo.TOTAL_PAGES, ktotalPages());
  store32(sysInfoBuf + SysInfo.PROCS, procCount());
  store32(sysInfoBuf + SysInfo.UPTIME, uptime());
  store32(sysInfoBuf + SysInfo.CLOCK_MHZ, clockMHz());
  store32(sysInfoBuf + SysInfo.CPUS, cpusOnline());
  return copyout(buf, sysInfoBuf, SysInfo.BYTES);
}

/** exec's arguments, copied in before the old image goes (the kernel is not preemptible, so one buffer serves everyone) */
const pathBuf = staticBuffer(Limits.PATH_BYTES);
const argBuf = staticBuffer(Limits.MAXARG * Limits.ARG_BYTES);
const word = staticBuffer(4);

/** exec(path, argv): argv is a NULL-terminated array of string pointers (NULL: just the path). */
export function sysExec(path: number, argv: number): number {
  const n = copyinstr(pathBuf, path, Limits.PATH_BYTES);
  if (n < 0) return n === Err.E2BIG ? Err.ENOENT : n;
  let argc = 0;
  if (argv === 0) {
    copyinstr(argBuf, path, Limits.ARG_BYTES);
    argc = 1;
  } else {
    for (;;) {
      if (copyin(word, argv + argc * 4, 4) < 0) return Err.EFAULT;
      const s = load32(word);
      if (s === 0) break;
      if (argc === Limits.MAXARG) return Err.E2BIG;
      const r = copyinstr(argBuf + argc * Limits.ARG_BYTES, s, Limits.ARG_BYTES);
      if (r < 0) return r;
      argc = argc + 1;
    }
  }
  return exec(myproc(), pathBuf, argc, argBuf);
}
