// Processes: the process table, per-process kernel stacks, the round-robin scheduler, sleep and
// wakeup, and the process half of fork, exit, wait and kill. The kernel is not preemptible: it
// runs with interrupts off (every trap gate clears IF) except while the scheduler idles, so
// nothing here needs a lock. Guest code (the TypeScript subset).

import { load32, store32, staticBuffer, addressOf, contextSwitch, cstr, divu, gtu, TrapFrame } from 'xl32';
import { Param } from './param.ts';
import { Layout } from './memlayout.ts';
import { ContextFrame } from './formats.ts';
import { Err, ProcState, ProcInfo, Limits, ExitStatus } from './abi.ts';
import { memset, memcpy, strlcpy } from './string.ts';
import { kunmap, vmSwitch, kernelPd, uvmCreate, uvmCopy, uvmFree, uvmRelease, uvmSize, copyout } from './vm.ts';
import { setKernelStack, idle, irqDisable, userReturn, powerOff } from './pvops.ts';
import { fileDup, fileClose } from './file.ts';
import { kputs, kputd } from './console.ts';
import { panic } from './panic.ts';
import { Smp, cpuId, cpuCount, lockKernel, unlockKernel, markIdle, kickIdle } from './smp.ts';
import { uptime } from './trap.ts';

/**
 * Fields of a process-table slot (byte offsets): each field starts where the one before it ends
 * (test/guest-kernel/contract.test.ts pins the resulting offsets).
 */
export const enum Proc {
  /** ProcState */
  STATE = 0,
  PID = STATE + 4,
  /** the parent's slot address (0 for init) */
  PARENT = PID + 4,
  /** page directory, physical (0 once the address space is gone) */
  PD = PARENT + 4,
  /** top of this slot's kernel stack: where the CPU pushes the frame of a trap from user mode */
  KSTACK_TOP = PD + 4,
  /** saved stack pointer of the kernel context while the process is switched out */
  CONTEXT = KSTACK_TOP + 4,
  /** the user trap frame: KSTACK_TOP - TrapFrame.BYTES */
  TF = CONTEXT + 4,
  /** what a SLEEPING process waits for */
  CHAN = TF + 4,
  KILLED = CHAN + 4,
  XSTATUS = KILLED + 4,
  /** demand-zero region [LAZY_START, BRK): the image's bss and the heap */
  LAZY_START = XSTATUS + 4,
  HEAP_START = LAZY_START + 4,
  BRK = HEAP_START + 4,
  /** timer ticks left in the current time slice */
  SLICE = BRK + 4,
  /** open files: NOFILE file-table addresses (0 = closed) */
  OFILE = SLICE + 4,
  /** NUL-terminated name (the program's) */
  NAME = OFILE + Param.NOFILE * 4,
  /** for a process in sleepTicks: the tick it wakes at */
  WAKE_TICK = NAME + Limits.NAME_BYTES,
  /** process group (the console's Ctrl-C kills the foreground group) */
  PGID = WAKE_TICK + 4,
  BYTES = PGID + 4,
}

const procs = staticBuffer(Param.NPROC * Proc.BYTES, 4);
/** one slot per process: an unmapped guard page, then the stack */
const kstacks = staticBuffer(Param.NPROC * (Param.KSTACK_BYTES + Layout.PAGE), Layout.PAGE);

/**
 * The CPU running on the kernel stack that holds sp, or -1 if sp is in none: the stack's lowest
 * word, which the scheduler writes before it switches to the process (a process runs kernel code
 * only on the CPU whose scheduler switched to it), as Linux kept the CPU number in the
 * thread_info at the bottom of the kernel stack. Reading it costs no I/O, so no exit when virtualized.
 */
export function kstackCpu(sp: number): number {
  const stride = Param.KSTACK_BYTES + Layout.PAGE;
  if (!gtu(sp, kstacks) || gtu(sp, kstacks + Param.NPROC * stride)) return -1;
  return load32(kstacks + divu(sp - 1 - kstacks, stride) * stride + Layout.PAGE);
}
/** per CPU: the scheduler's saved stack pointer */
const schedContext = staticBuffer(Smp.MAX_CPUS * 4);
/** per CPU: the process it runs (0 in its scheduler) */
const cpuProc = staticBuffer(Smp.MAX_CPUS * 4);
let initProc = 0;
let nextPid = 1;
/** slot index the round-robin scan starts after */
let lastSlot = 0;

function slot(k: number): number {
  return procs + k * Proc.BYTES;
}

/** The running process's slot address, or 0 in the scheduler. */
export function myproc(): number {
  return load32(cpuProc + cpuId() * 4);
}

function setCurrent(p: number): void {
  store32(cpuProc + cpuId() * 4, p);
}

/** Proc.KILLED values: how a process marked for death dies (0: it is not). */
export const enum Killed {
  /** a fault or kill(): status ExitStatus.KILLED */
  KILLED = 1,
  /** Ctrl-C on the console: status ExitStatus.INTERRUPTED */
  INTERRUPTED = 2,
}

/** Has the running process been killed? */
export function killed(): boolean {
  const current = myproc();
  return current !== 0 && load32(current + Proc.KILLED) !== 0;
}

/** The exit status of the running process, killed as Proc.KILLED says. */
export function killedStatus(): number {
  return load32(myproc() + Proc.KILLED) === Killed.INTERRUPTED ? ExitStatus.INTERRUPTED : ExitStatus.KILLED;
}

/** Unmap the guard page below every kernel stack (once paging is on). */
export function procinit(): void {
  let k = 0;
  while (k < Param.NPROC) {
    const base = kstacks + k * (Param.KSTACK_BYTES + Layout.PAGE);
    kunmap(base);
    store32(slot(k) + Proc.KSTACK_TOP, base + Layout.PAGE + Param.KSTACK_BYTES);
    k = k + 1;
  }
}

/**
 * A fresh EMBRYO slot whose kernel context, when first switched to, runs forkret and leaves
 * for user mode through the trap frame at Proc.TF. 0 when the table is full.
 */
export function allocproc(): number {
  let k = 0;
  while (k < Param.NPROC && load32(slot(k) + Proc.STATE) !== ProcState.UNUSED) k = k + 1;
  if (k === Param.NPROC) return 0;
  const p = slot(k);
  const top = load32(p + Proc.KSTACK_TOP);
  memset(p, 0, Proc.BYTES);
  store32(p + Proc.KSTACK_TOP, top);
  store32(p + Proc.STATE, ProcState.EMBRYO);
  store32(p + Proc.PID, nextPid);
  // a process starts in a group of its own (fork puts the child in its parent's)
  store32(p + Proc.PGID, nextPid);
  nextPid = nextPid + 1;
  const tf = top - TrapFrame.BYTES;
  store32(p + Proc.TF, tf);
  memset(tf, 0, TrapFrame.BYTES);
  const ctx = tf - ContextFrame.BYTES;
  memset(ctx, 0, ContextFrame.BYTES);
  store32(ctx + ContextFrame.RET, addressOf(forkret));
  store32(p + Proc.CONTEXT, ctx);
  store32(p + Proc.SLICE, Param.TIMESLICE_TICKS);
  return p;
}

/** A new process's first kernel code: leave for user mode with its prepared trap frame. */
function forkret(): void {
  // the scheduler switched here holding the kernel lock: the architecture's user return lets it go
  userReturn(load32(myproc() + Proc.TF));
}

/** Return an unused or reaped slot to the table. */
function freeproc(p: number): void {
  const top = load32(p + Proc.KSTACK_TOP);
  memset(p, 0, Proc.BYTES);
  store32(p + Proc.KSTACK_TOP, top);
}

export function setInitProc(p: number): void {
  initProc = p;
}

// ---- scheduling -------------------------------------------------------------------------------

/** The next RUNNABLE slot after the last one run, round robin; 0 if none. */
function pickNext(): number {
  let n = 0;
  while (n < Param.NPROC) {
    lastSlot = lastSlot + 1;
    if (lastSlot === Param.NPROC) lastSlot = 0;
    const p = slot(lastSlot);
    if (load32(p + Proc.STATE) === ProcState.RUNNABLE) return p;
    n = n + 1;
  }
  return 0;
}

/**
 * The scheduler loop, on the boot stack; never returns. Runs each RUNNABLE process in turn and
 * idles (interrupts on, HLT) when there is none.
 */
export function scheduler(): void {
  const me = cpuId();
  const ctx = schedContext + me * 4;
  for (;;) {
    irqDisable();
    const p = pickNext();
    if (p === 0) {
      if (cpuCount() === 1) {
        idle();
        continue;
      }
      // lazy TLB (Linux's idle CPUs keep their active_mm): the last process's address space stays
      // loaded while idle - no CR3 load now, none if it comes back here. A CPU that changes a
      // mapping of it shoots this TLB down, one that frees it makes this CPU leave it first
      // (smp.ts tlbShootdown, waitLazyLeave)
      markIdle(true);
      unlockKernel();
      idle();
      irqDisable();
      lockKernel();
      markIdle(false);
      continue;
    }
    store32(p + Proc.STATE, ProcState.RUNNING);
    store32(p + Proc.SLICE, Param.TIMESLICE_TICKS);
    setCurrent(p);
    vmSwitch(load32(p + Proc.PD));
    setKernelStack(load32(p + Proc.KSTACK_TOP));
    // the CPU number at the bottom of the process's kernel stack (kstackCpu)
    store32(load32(p + Proc.KSTACK_TOP) - Param.KSTACK_BYTES, me);
    contextSwitch(ctx, load32(p + Proc.CONTEXT));
    setCurrent(0);
  }
}

/** Give the CPU back to the scheduler; the caller has set the state to something not RUNNING. */
function sched(): void {
  contextSwitch(myproc() + Proc.CONTEXT, load32(schedContext + cpuId() * 4));
}

/** Let the others run (the process stays RUNNABLE). */
export function yieldCpu(): void {
  store32(myproc() + Proc.STATE, ProcState.RUNNABLE);
  sched();
}

/** A timer tick charged to the running process: true when its time slice is used up. */
export function tickUsed(): boolean {
  const current = myproc();
  if (current === 0) return false;
  const left = load32(current + Proc.SLICE) - 1;
  store32(current + Proc.SLICE, left);
  return left <= 0;
}

/** Sleep until wakeup(chan). The caller re-checks its condition. */
export function sleep(chan: number): void {
  const current = myproc();
  store32(current + Proc.CHAN, chan);
  store32(current + Proc.STATE, ProcState.SLEEPING);
  sched();
  store32(current + Proc.CHAN, 0);
}

/** the channel of processes in sleepTicks, and the earliest tick one of them wakes at */
const timerChan = staticBuffer(4);
let nextWake = 0;
let timersWaiting = 0;

/**
 * Sleep until the tick counter reaches `until` (compared with wraparound). EINTR if the process
 * is killed meanwhile, else 0.
 */
export function sleepTicks(until: number): number {
  while (uptime() - until < 0) {
    if (killed()) return Err.EINTR;
    if (timersWaiting === 0 || until - nextWake < 0) nextWake = until;
    timersWaiting = timersWaiting + 1;
    store32(myproc() + Proc.WAKE_TICK, until);
    sleep(timerChan);
    timersWaiting = timersWaiting - 1;
  }
  return 0;
}

/** From the timer interrupt: wake the sleepers whose tick has come. */
export function wakeTimers(ticks: number): void {
  if (timersWaiting === 0 || ticks - nextWake < 0) return;
  let earliest = ticks + 0x40000000;
  let k = 0;
  while (k < Param.NPROC) {
    const p = slot(k);
    if (load32(p + Proc.STATE) === ProcState.SLEEPING && load32(p + Proc.CHAN) === timerChan) {
      const at = load32(p + Proc.WAKE_TICK);
      if (ticks - at >= 0) store32(p + Proc.STATE, ProcState.RUNNABLE);
      else if (at - earliest < 0) earliest = at;
    }
    k = k + 1;
  }
  nextWake = earliest;
}

/** Make every process sleeping on chan runnable. */
export function wakeup(chan: number): void {
  let k = 0;
  while (k < Param.NPROC) {
    const p = slot(k);
    if (load32(p + Proc.STATE) === ProcState.SLEEPING && load32(p + Proc.CHAN) === chan) {
      store32(p + Proc.STATE, ProcState.RUNNABLE);
      kickIdle();
    }
    k = k + 1;
  }
}

// ---- fork, exit, wait, kill -------------------------------------------------------------------

/** Copy the running process: address space (copy-on-write), files, trap frame. The child's pid. */
export function fork(): number {
  const p = myproc();
  const np = allocproc();
  if (np === 0) return Err.EAGAIN;
  const pd = uvmCreate();
  if (pd === 0) {
    freeproc(np);
    return Err.ENOMEM;
  }
  if (uvmCopy(load32(p + Proc.PD), pd) < 0) {
    uvmFree(pd);
    freeproc(np);
    return Err.ENOMEM;
  }
  store32(np + Proc.PD, pd);
  store32(np + Proc.PARENT, p);
  store32(np + Proc.PGID, load32(p + Proc.PGID));
  store32(np + Proc.LAZY_START, load32(p + Proc.LAZY_START));
  store32(np + Proc.HEAP_START, load32(p + Proc.HEAP_START));
  store32(np + Proc.BRK, load32(p + Proc.BRK));
  memcpy(np + Proc.NAME, p + Proc.NAME, Limits.NAME_BYTES);
  memcpy(load32(np + Proc.TF), load32(p + Proc.TF), TrapFrame.BYTES);
  // the child sees fork() return 0
  store32(load32(np + Proc.TF) + TrapFrame.R0, 0);
  let fd = 0;
  while (fd < Param.NOFILE) {
    const f = load32(p + Proc.OFILE + fd * 4);
    if (f !== 0) store32(np + Proc.OFILE + fd * 4, fileDup(f));
    fd = fd + 1;
  }
  store32(np + Proc.STATE, ProcState.RUNNABLE);
  kickIdle();
  return load32(np + Proc.PID);
}

/** End the running process. Does not return. Init's exit powers the machine off. */
export function exit(status: number): void {
  const p = myproc();
  if (p === initProc) {
    kputs(cstr('init exited with status '));
    kputd(status);
    kputs(cstr(': powering off\n'));
    powerOff(status);
  }
  let fd = 0;
  while (fd < Param.NOFILE) {
    const f = load32(p + Proc.OFILE + fd * 4);
    if (f !== 0) {
      store32(p + Proc.OFILE + fd * 4, 0);
      fileClose(f);
    }
    fd = fd + 1;
  }
  // children go to init
  let k = 0;
  while (k < Param.NPROC) {
    const q = slot(k);
    if (load32(q + Proc.STATE) !== ProcState.UNUSED && load32(q + Proc.PARENT) === p) {
      store32(q + Proc.PARENT, initProc);
      if (load32(q + Proc.STATE) === ProcState.ZOMBIE) wakeup(initProc);
    }
    k = k + 1;
  }
  // the address space goes now; the kernel stack is static and stays until wait reaps the slot
  vmSwitch(kernelPd());
  const pd = load32(p + Proc.PD);
  store32(p + Proc.PD, 0);
  if (pd !== 0) uvmRelease(pd);
  store32(p + Proc.XSTATUS, status);
  store32(p + Proc.STATE, ProcState.ZOMBIE);
  wakeup(load32(p + Proc.PARENT));
  sched();
  panic(cstr('exit: a zombie ran'));
}

/**
 * Wait for a child to exit: its pid, with its status stored at user address statusAddr
 * (unless 0). ECHILD without children; EFAULT (reaping nothing) for a bad statusAddr.
 */
export function wait(statusAddr: number): number {
  const p = myproc();
  for (;;) {
    let haveKids = false;
    let k = 0;
    while (k < Param.NPROC) {
      const q = slot(k);
      if (load32(q + Proc.STATE) !== ProcState.UNUSED && load32(q + Proc.PARENT) === p) {
        haveKids = true;
        if (load32(q + Proc.STATE) === ProcState.ZOMBIE) {
          const pid = load32(q + Proc.PID);
          if (statusAddr !== 0 && copyout(statusAddr, q + Proc.XSTATUS, 4) < 0) return Err.EFAULT;
          freeproc(q);
          return pid;
        }
      }
      k = k + 1;
    }
    if (!haveKids) return Err.ECHILD;
    if (killed()) return Err.EINTR;
    sleep(p);
  }
}

/** Is slot p a live process (neither unused nor a zombie)? */
function live(p: number): boolean {
  const st = load32(p + Proc.STATE);
  return st !== ProcState.UNUSED && st !== ProcState.ZOMBIE;
}

/** Mark p to die (how: Killed) when it next returns towards user mode; a sleeper wakes to see it. */
function markKilled(p: number, how: number): void {
  if (load32(p + Proc.KILLED) === 0) store32(p + Proc.KILLED, how);
  if (load32(p + Proc.STATE) === ProcState.SLEEPING) store32(p + Proc.STATE, ProcState.RUNNABLE);
}

/** Mark process pid killed: it exits when it next returns towards user mode. */
export function kill(pid: number): number {
  let k = 0;
  while (k < Param.NPROC) {
    const p = slot(k);
    if (load32(p + Proc.PID) === pid && live(p)) {
      markKilled(p, Killed.KILLED);
      return 0;
    }
    k = k + 1;
  }
  return Err.ESRCH;
}

/** Kill every live process of group pgid (how: Killed). How many there were. */
export function killGroup(pgid: number, how: number): number {
  let n = 0;
  let k = 0;
  while (k < Param.NPROC) {
    const p = slot(k);
    if (live(p) && load32(p + Proc.PGID) === pgid) {
      markKilled(p, how);
      n = n + 1;
    }
    k = k + 1;
  }
  return n;
}

/**
 * setpgid: put process pid (0: the caller; otherwise it must be a child of the caller) in group
 * pgid (0: a group named after pid itself). 0, ESRCH for no such child, EINVAL for pgid < 0.
 */
export function setpgid(pid: number, pgid: number): number {
  if (pgid < 0) return Err.EINVAL;
  const current = myproc();
  let p = 0;
  if (pid === 0 || pid === load32(current + Proc.PID)) {
    p = current;
  } else {
    let k = 0;
    while (k < Param.NPROC && p === 0) {
      const q = slot(k);
      if (live(q) && load32(q + Proc.PID) === pid && load32(q + Proc.PARENT) === current) p = q;
      k = k + 1;
    }
    if (p === 0) return Err.ESRCH;
  }
  store32(p + Proc.PGID, pgid === 0 ? load32(p + Proc.PID) : pgid);
  return 0;
}

export function procPgid(p: number): number {
  return load32(p + Proc.PGID);
}

/** Fill a ProcInfo record at kernel address out for table slot k: 0, 1 when unused, EINVAL past the end. */
export function procInfo(k: number, out: number): number {
  if (k < 0 || k >= Param.NPROC) return Err.EINVAL;
  const p = slot(k);
  const state = load32(p + Proc.STATE);
  if (state === ProcState.UNUSED) return 1;
  memset(out, 0, ProcInfo.BYTES);
  store32(out + ProcInfo.PID, load32(p + Proc.PID));
  const parent = load32(p + Proc.PARENT);
  store32(out + ProcInfo.PPID, parent === 0 ? 0 : load32(parent + Proc.PID));
  store32(out + ProcInfo.STATE, state);
  const pd = load32(p + Proc.PD);
  store32(out + ProcInfo.SIZE, pd === 0 ? 0 : uvmSize(pd));
  strlcpy(out + ProcInfo.NAME, p + Proc.NAME, ProcInfo.BYTES - ProcInfo.NAME);
  return 0;
}

/** Process-table slots in use. */
export function procCount(): number {
  let n = 0;
  let k = 0;
  while (k < Param.NPROC) {
    if (load32(slot(k) + Proc.STATE) !== ProcState.UNUSED) n = n + 1;
    k = k + 1;
  }
  return n;
}

export function procName(p: number): number {
  return p + Proc.NAME;
}

export function procPid(p: number): number {
  return load32(p + Proc.PID);
}

export function parentPid(p: number): number {
  const parent = load32(p + Proc.PARENT);
  return parent === 0 ? 0 : load32(parent + Proc.PID);
}

/** Install a file at the lowest free descriptor of the running process: the fd, or EMFILE. */
export function fdAlloc(f: number): number {
  const current = myproc();
  let fd = 0;
  while (fd < Param.NOFILE) {
    if (load32(current + Proc.OFILE + fd * 4) === 0) {
      store32(current + Proc.OFILE + fd * 4, f);
      return fd;
    }
    fd = fd + 1;
  }
  return Err.EMFILE;
}

/** The file behind descriptor fd of the running process, or 0. */
export function fdFile(fd: number): number {
  if (fd < 0 || fd >= Param.NOFILE) return 0;
  return load32(myproc() + Proc.OFILE + fd * 4);
}

export function fdClear(fd: number): void {
  store32(myproc() + Proc.OFILE + fd * 4, 0);
}

/** Install f as descriptor fd of process p (for init's console descriptors). */
export function fdSet(p: number, fd: number, f: number): void {
  store32(p + Proc.OFILE + fd * 4, f);
}
