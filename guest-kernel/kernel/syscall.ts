// System-call dispatch: INT 0x80 with the number in r0 and arguments in r1..r5; the handler's
// result goes back in r0. Handlers are found in a table indexed by number (abi.ts Sys), so a
// number outside the table or without a handler is ENOSYS, never a jump into the unknown.
// Guest code (the TypeScript subset).

import { load32, store32, staticBuffer, addressOf, callIndirect, ltu, TrapFrame } from 'xl32';
import { Sys, Err } from './abi.ts';
import { sysExit, sysFork, sysWait, sysGetpid, sysGetppid, sysYield, sysExec, sysSbrk, sysSleep, sysUptime, sysKill, sysProcinfo, sysCycles, sysSysinfo, sysSetpgid, sysFgpgrp, sysConsmode } from './sysproc.ts';
import { sysNanobench } from './nanobench.ts';
import { sysArchtest } from './archtest.ts';
import { sysRead, sysWrite, sysClose, sysDup, sysPipe, sysDiskio } from './sysfile.ts';
import { sysSocket, sysBind, sysSendto, sysRecvfrom, sysNetinfo } from './net/sys.ts';

const table = staticBuffer(Sys.COUNT * 4);

function set(nr: number, fn: number): void {
  store32(table + nr * 4, fn);
}

export function syscallInit(): void {
  set(Sys.EXIT, addressOf(sysExit));
  set(Sys.FORK, addressOf(sysFork));
  set(Sys.WAIT, addressOf(sysWait));
  set(Sys.PIPE, addressOf(sysPipe));
  set(Sys.READ, addressOf(sysRead));
  set(Sys.WRITE, addressOf(sysWrite));
  set(Sys.CLOSE, addressOf(sysClose));
  set(Sys.DUP, addressOf(sysDup));
  set(Sys.GETPID, addressOf(sysGetpid));
  set(Sys.YIELD, addressOf(sysYield));
  set(Sys.EXEC, addressOf(sysExec));
  set(Sys.SBRK, addressOf(sysSbrk));
  set(Sys.SLEEP, addressOf(sysSleep));
  set(Sys.UPTIME, addressOf(sysUptime));
  set(Sys.KILL, addressOf(sysKill));
  set(Sys.PROCINFO, addressOf(sysProcinfo));
  set(Sys.GETPPID, addressOf(sysGetppid));
  set(Sys.NANOBENCH, addressOf(sysNanobench));
  set(Sys.CYCLES, addressOf(sysCycles));
  set(Sys.SYSINFO, addressOf(sysSysinfo));
  set(Sys.DISKIO, addressOf(sysDiskio));
  set(Sys.ARCHTEST, addressOf(sysArchtest));
  set(Sys.SETPGID, addressOf(sysSetpgid));
  set(Sys.FGPGRP, addressOf(sysFgpgrp));
  set(Sys.CONSMODE, addressOf(sysConsmode));
  set(Sys.SOCKET, addressOf(sysSocket));
  set(Sys.BIND, addressOf(sysBind));
  set(Sys.SENDTO, addressOf(sysSendto));
  set(Sys.RECVFROM, addressOf(sysRecvfrom));
  set(Sys.NETINFO, addressOf(sysNetinfo));
}

/** Run the system call the frame asks for and put its result in the frame's r0. */
export function syscall(frame: number): void {
  const nr = load32(frame + TrapFrame.R0);
  let result: number = Err.ENOSYS;
  if (ltu(nr, Sys.COUNT)) {
    const fn = load32(table + nr * 4);
    if (fn !== 0) {
      result = callIndirect(fn, load32(frame + TrapFrame.R1), load32(frame + TrapFrame.R2), load32(frame + TrapFrame.R3),
        load32(frame + TrapFrame.R4), load32(frame + TrapFrame.R5));
    }
  }
  store32(frame + TrapFrame.R0, result);
}
