// kmain: the shared kernel's start, called by the architecture's entry code once the pvops
// table is filled. Reads the boot information, sets up memory, traps and devices, starts the
// first user process (the command line's program, "init" by default) and enters the scheduler.
// Guest code (the TypeScript subset).

import { load32, store32, load8, store8, staticBuffer, cstr, divu } from 'xl32';
import { Layout, BootInfo } from './memlayout.ts';
import { Limits, ProcState } from './abi.ts';
import { Param } from './param.ts';
import { pvMissing, archName, trapTableLoad, consoleIrqEnable, irqUnmask, IrqLine, timerStart, clockMHz, powerOff } from './pvops.ts';
import { kputs, kputd, kputx } from './console.ts';
import { kinit, kfreePages } from './kalloc.ts';
import { kvminit, p2v } from './vm.ts';
import { procinit, allocproc, setInitProc, fdSet, scheduler, Proc } from './proc.ts';
import { syscallInit } from './syscall.ts';
import { fileAlloc, fileDup, FileType } from './file.ts';
import { initrdInit } from './initrd.ts';
import { exec } from './exec.ts';
import { panic } from './panic.ts';
import { smpInit, smpSetTick, cpuCount } from './smp.ts';

const enum Ch {
  SPACE = 32,
}

/** the first process's arguments, split from the command line (ARG_BYTES apart) */
const initArgs = staticBuffer(Limits.MAXARG * Limits.ARG_BYTES);

/** Split the command line at kernel address s (n bytes) into initArgs; the word count. */
function splitArgs(s: number, n: number): number {
  let argc = 0;
  let k = 0;
  while (k < n && argc < Limits.MAXARG) {
    while (k < n && load8(s + k) === Ch.SPACE) k = k + 1;
    if (k === n) break;
    const dst = initArgs + argc * Limits.ARG_BYTES;
    let len = 0;
    while (k < n && load8(s + k) !== Ch.SPACE && load8(s + k) !== 0) {
      if (len < Limits.ARG_BYTES - 1) {
        store8(dst + len, load8(s + k));
        len = len + 1;
      }
      k = k + 1;
    }
    store8(dst + len, 0);
    argc = argc + 1;
    if (k < n && load8(s + k) === 0) break;
  }
  return argc;
}

/** Create process 1 running the command line's program with the console as fds 0, 1 and 2. */
function userinit(cmdline: number, cmdlineBytes: number): void {
  let argc = splitArgs(cmdline, cmdlineBytes);
  if (argc === 0) {
    argc = splitArgs(cstr('init'), 4);
  }
  const p = allocproc();
  setInitProc(p);
  const con = fileAlloc(FileType.CONSOLE, true, true, 0);
  fdSet(p, 0, con);
  fdSet(p, 1, fileDup(con));
  fdSet(p, 2, fileDup(con));
  const r = exec(p, initArgs, argc, initArgs);
  if (r < 0) {
    kputs(cstr('kernel: cannot start '));
    kputs(initArgs);
    kputs(cstr(' (error '));
    kputd(r);
    kputs(cstr('): powering off\n'));
    powerOff(1);
  }
  store32(p + Proc.STATE, ProcState.RUNNABLE);
}

export function kmain(): void {
  kputs(cstr('xenolith kernel 0.1 ('));
  kputs(archName());
  kputs(cstr(') booting\n'));
  const missing = pvMissing();
  if (missing >= 0) panicMissing(missing);

  const info = BootInfo.ADDRESS;
  if (load32(info + BootInfo.MAGIC) !== BootInfo.MAGIC_VALUE) {
    kputs(cstr('kernel: no boot information at '));
    kputx(info);
    kputs(cstr(' (boot with hypervisor/boot/native.ts): powering off\n'));
    powerOff(1);
  }
  let mem = load32(info + BootInfo.MEMORY_BYTES);
  if (mem > Layout.MAX_MEMORY || mem < 0) mem = Layout.MAX_MEMORY;
  const initrdAddr = load32(info + BootInfo.INITRD_ADDR);
  const initrdBytes = load32(info + BootInfo.INITRD_BYTES);
  const free = (load32(info + BootInfo.FREE_START) + Layout.PAGE - 1) & ~(Layout.PAGE - 1);
  const cmdline = load32(info + BootInfo.CMDLINE_ADDR);
  const cmdlineBytes = load32(info + BootInfo.CMDLINE_BYTES);

  kinit(free, mem, mem);
  kvminit(mem);
  kputs(cstr('memory: '));
  kputd(divu(mem, 1024));
  kputs(cstr(' KiB, '));
  kputd(kfreePages());
  kputs(cstr(' pages free\n'));
  procinit();
  trapTableLoad();
  syscallInit();
  initrdInit(initrdAddr, initrdBytes);

  consoleIrqEnable();
  irqUnmask(IrqLine.CONSOLE);
  irqUnmask(IrqLine.DISK);
  timerStart(clockMHz() * divu(1000000, Param.HZ));
  irqUnmask(IrqLine.TIMER);
  kputs(cstr('timer: '));
  kputd(Param.HZ);
  kputs(cstr(' Hz\n'));

  userinit(cmdlineBytes > 0 ? p2v(cmdline) : 0, cmdlineBytes);
  smpSetTick(clockMHz() * divu(1000000, Param.HZ));
  smpInit();
  if (cpuCount() > 1) {
    kputs(cstr('smp: '));
    kputd(cpuCount());
    kputs(cstr(' CPUs\n'));
  }
  scheduler();
}

function panicMissing(op: number): void {
  kputs(cstr('kernel: the architecture left pvops slot '));
  kputd(op);
  kputs(cstr(' empty\n'));
  panic(cstr('incomplete pvops table'));
}
