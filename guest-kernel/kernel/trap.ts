// Trap dispatch: every exception, device interrupt and system call arrives here with the
// registers saved in a TrapFrame (xl32 layout). User exceptions the page-fault handler cannot
// resolve kill the process with a message naming the fault; kernel exceptions panic. On the way
// back to user mode a killed process exits and a process whose time slice ran out yields.
// Guest code (the TypeScript subset).

import { load32, store32, cstr, staticBuffer, ltu, geu, TrapFrame } from 'xl32';
import { IrqLine, irqAck, faultAddress } from './pvops.ts';
import { Err, UserLayout } from './abi.ts';
import { kputs, kputd, kputx, consoleIntr } from './console.ts';
import { syscall } from './syscall.ts';
import { vmFault, copyin } from './vm.ts';
import { myproc, killed, killedStatus, exit, yieldCpu, tickUsed, wakeTimers, procPid, procName, Proc, Killed } from './proc.ts';
import { panicFrame } from './panic.ts';
import { diskIntr } from './disk.ts';
import { netIntr, netTick } from './net/net.ts';
import { divideFixup } from './nanobench.ts';
import { Smp, lockKernelEntry, unlockKernel, smpInterrupt, countTick } from './smp.ts';

/**
 * Exception vectors (machine/isa.ts Vector, pinned by test/guest-kernel/contract.test.ts), the
 * system-call vector, and the kernel-only software interrupt both archs leave for user mode by.
 */
export const enum Vec {
  DIVIDE_ERROR = 0,
  BREAKPOINT = 3,
  INVALID_OPCODE = 6,
  DOUBLE_FAULT = 8,
  GENERAL_PROTECTION = 13,
  PAGE_FAULT = 14,
  SYSCALL = 0x80,
  /** a kernel-only software interrupt: userReturn's way out through the trap stub's IRET */
  USER_RETURN = 0x81,
}

/** Page-fault error-code bits (machine/isa.ts PfErr, pinned by test/guest-kernel/contract.test.ts). */
export const enum PfErr {
  PRESENT = 1,
  WRITE = 2,
  USER = 4,
  FETCH = 16,
}

let ticks = 0;

/** Timer ticks since boot (Param.HZ a second). */
export function uptime(): number {
  return ticks;
}

function vectorName(v: number): number {
  switch (v) {
    case Vec.DIVIDE_ERROR: return cstr('divide error');
    case Vec.BREAKPOINT: return cstr('breakpoint');
    case Vec.INVALID_OPCODE: return cstr('invalid opcode');
    case Vec.DOUBLE_FAULT: return cstr('double fault');
    case Vec.GENERAL_PROTECTION: return cstr('general protection fault');
    case Vec.PAGE_FAULT: return cstr('page fault');
    default: return cstr('unexpected trap');
  }
}

/** Describe a page fault's error code: "(read, not present)", "(write, protection)"... */
function pfDetail(err: number): void {
  if ((err & PfErr.FETCH) !== 0) kputs(cstr(' (fetch, '));
  else if ((err & PfErr.WRITE) !== 0) kputs(cstr(' (write, '));
  else kputs(cstr(' (read, '));
  if ((err & PfErr.PRESENT) !== 0) kputs(cstr('protection)'));
  else kputs(cstr('not present)'));
}

/** user frames a fault's backtrace shows at most */
const USER_FRAMES = 6;
/** a user frame record: the caller's frame pointer, the return address */
const userFrame = staticBuffer(8);

/** Is a in the user half below the ARGS page (where images, heap and stack live)? */
function inUserImage(a: number): boolean {
  return geu(a, UserLayout.USER_BASE) && ltu(a, UserLayout.ARGS);
}

/**
 * The faulting program's backtrace, as the kernel panic prints its own: the pc, then the return
 * address of each frame on the frame-pointer chain (r14) while it stays in user memory. Raw
 * addresses; the host names the function and source line from the program's image (cli/console.ts).
 */
function userBacktrace(frame: number): void {
  kputs(cstr('  #0 '));
  kputx(load32(frame + TrapFrame.PC));
  kputs(cstr('\n'));
  let fp = load32(frame + TrapFrame.R14);
  let n = 1;
  while (n < USER_FRAMES && (fp & 3) === 0 && inUserImage(fp) && copyin(userFrame, fp, 8) === 0) {
    const ret = load32(userFrame + 4);
    if (!inUserImage(ret)) return;
    kputs(cstr('  #'));
    kputd(n);
    kputs(cstr(' '));
    kputx(ret);
    kputs(cstr('\n'));
    const next = load32(userFrame);
    // frames go up the stack; anything else is not a chain to follow
    if (!ltu(fp, next)) return;
    fp = next;
    n = n + 1;
  }
}

/** An exception in user mode: resolve a page fault, or kill the process with a message. */
function userTrap(frame: number, vector: number): void {
  const err = load32(frame + TrapFrame.ERROR);
  let addr = 0;
  let why = 0;
  if (vector === Vec.PAGE_FAULT) {
    addr = faultAddress();
    why = vmFault(addr, err);
    if (why === 0) return;
  }
  const p = myproc();
  kputs(cstr('pid '));
  kputd(procPid(p));
  kputs(cstr(' ('));
  kputs(procName(p));
  kputs(cstr('): '));
  if (why === Err.ENOMEM) kputs(cstr('out of memory: '));
  kputs(vectorName(vector));
  if (vector === Vec.PAGE_FAULT) {
    kputs(cstr(' at '));
    kputx(addr);
    pfDetail(err);
  } else if (vector === Vec.GENERAL_PROTECTION) {
    kputs(cstr(' (error '));
    kputx(err);
    kputs(cstr(')'));
  } else if (vector !== Vec.DIVIDE_ERROR && vector !== Vec.BREAKPOINT && vector !== Vec.INVALID_OPCODE) {
    kputs(cstr(' '));
    kputd(vector);
  }
  kputs(cstr(', pc '));
  kputx(load32(frame + TrapFrame.PC));
  kputs(cstr(': killed\n'));
  userBacktrace(frame);
  store32(p + Proc.KILLED, Killed.KILLED);
}

/** An exception in the kernel: the nanobench divide is resumed; anything else panics. */
function kernelTrap(frame: number, vector: number): void {
  if (vector === Vec.DIVIDE_ERROR && divideFixup(frame)) return;
  if (vector === Vec.PAGE_FAULT) {
    kputs(cstr('panic: kernel page fault at '));
    kputx(faultAddress());
    pfDetail(load32(frame + TrapFrame.ERROR));
    kputs(cstr('\n'));
  }
  panicFrame(vectorName(vector), frame);
}

/** A device interrupt on line `line`. True when the running process should give up the CPU. */
function interrupt(line: number): boolean {
  let resched = false;
  if (line === IrqLine.TIMER) {
    ticks = ticks + 1;
    countTick();
    wakeTimers(ticks);
    netTick(ticks);
    resched = tickUsed();
  } else if (line === IrqLine.CONSOLE) {
    consoleIntr();
  } else if (line === IrqLine.DISK) {
    diskIntr();
  } else if (line === IrqLine.NET) {
    netIntr();
  }
  irqAck(line);
  return resched;
}

/**
 * The kernel's trap handler (the architecture's entry stubs call it with the saved frame). On a
 * multiprocessor it takes the big kernel lock unless this CPU holds it already (an interrupt in
 * kernel code), and lets it go on the way out; a process switch inside passes it on with the CPU.
 */
export function trap(frame: number): void {
  const took = lockKernelEntry();
  dispatch(frame);
  if (took) unlockKernel();
}

function dispatch(frame: number): void {
  const vector = load32(frame + TrapFrame.VECTOR);
  const user = (load32(frame + TrapFrame.CS) & 3) === 3;
  let resched = false;
  if (vector === Vec.SYSCALL) {
    syscall(frame);
  } else if (vector >= IrqLine.IRQ_VECTOR_BASE && vector < IrqLine.IRQ_VECTOR_BASE + IrqLine.COUNT) {
    resched = interrupt(vector - IrqLine.IRQ_VECTOR_BASE);
  } else if (vector === Smp.TIMER_VECTOR) {
    // a secondary CPU's own tick: preemption only (CPU 0's platform timer keeps uptime)
    smpInterrupt();
    countTick();
    resched = tickUsed();
  } else if (vector === Smp.IPI_VECTOR) {
    smpInterrupt();
  } else if (user) {
    userTrap(frame, vector);
  } else {
    kernelTrap(frame, vector);
  }
  if (!user || myproc() === 0) return;
  if (killed()) exit(killedStatus());
  if (resched) yieldCpu();
}
