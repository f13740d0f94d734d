// arch/pv trap and event entry. The trap table goes to the hypervisor (set_trap_table): every
// exception masks events on entry (an interrupt gate's IF = 0), the system call does not, so it
// takes the fast path straight from ring 3 to this kernel; it masks events as its first act
// instead. Events arrive as upcalls on one callback (set_callbacks), which turns each pending
// port into the device-line trap the shared kernel expects (vector 32 + line). On the way out
// every handler restores the virtual interrupt flag its frame recorded, handling any event that
// came in meanwhile. Guest code (the TypeScript subset); runs at ring 1.

import { load8, store8, load32, store32, staticBuffer, trapEntry, softInt, TrapFrame } from 'xl32';
import { TrapFlags, HvLayout } from '../../../hypercalls/numbers.ts';
import { SharedInfo, TrapInfo, VcpuInfo } from '../../../hypercalls/structs.ts';
import { hcSetTrapTable, hcSetCallbacks, hcStackSwitch } from '../../../hypercalls/guest.ts';
import { Smp, lockKernelEntry, unlockKernel, unlockKernelForUser } from '../../kernel/smp.ts';
import { portMap, smpPortKind, smpStarting, pvSmpBootWait } from './smp.ts';
import { trap, Vec } from '../../kernel/trap.ts';
import { memcpy } from '../../kernel/string.ts';
import { panic } from '../../kernel/panic.ts';
import { cstr } from 'xl32';
import { IrqLine } from '../../kernel/pvops.ts';
import { Xen, portLine } from './xen.ts';
import { pvConsoleFlush, pvConsoleUnflushed } from './console.ts';
import { isControlPort, controlEvent } from './control.ts';
import { balloonWork } from './balloon.ts';

/** The trap table (pinned by test/guest-kernel/contract.test.ts). */
export const enum Table {
  /** the vectors below the first device interrupt */
  EXCEPTIONS = IrqLine.IRQ_VECTOR_BASE,
  /** table entries: the exceptions, the system call, the user return, the terminator */
  ENTRIES = EXCEPTIONS + 3,
}

const enum UpcallWord {
  FLAGS_IF = 0x200,
  WORDS = 32,
}

const table = staticBuffer(Table.ENTRIES * TrapInfo.BYTES);
/** the frame pvUserReturn wants to leave with */
let returnFrame = 0;

function entry(k: number, vector: number, flags: number, handler: number): void {
  const e = table + k * TrapInfo.BYTES;
  store32(e + TrapInfo.VECTOR, vector);
  store32(e + TrapInfo.FLAGS, flags);
  store32(e + TrapInfo.RING, 1);
  store32(e + TrapInfo.ADDRESS, handler);
}

/** Index of the lowest set bit of a nonzero word. */
function lowestBit(w: number): number {
  let k = 0;
  while ((w & (1 << k)) === 0) k = k + 1;
  return k;
}

/**
 * Run the kernel's handler for every pending, unmasked port this vCPU takes (events are masked):
 * vCPU 0 the device lines and everything no secondary has, a secondary its own IPI and tick
 * (smp.ts portMap). An IPI goes first (it may flush a stale TLB); the tick goes last: its trap
 * may give the CPU to another process, and the other lines should not wait for that.
 */
function handleEvents(frame: number): void {
  const me = load32(HvLayout.VCPU_ID);
  const vi = Xen.SHARED + SharedInfo.VCPU_INFO + me * VcpuInfo.BYTES;
  const map = portMap(me);
  do {
    store8(vi + VcpuInfo.UPCALL_PENDING, 0);
    store32(vi + VcpuInfo.PENDING_SEL, 0);
    let timer = false;
    let tick = false;
    let w = 0;
    while (w < UpcallWord.WORDS) {
      const pend = Xen.SHARED + SharedInfo.EVTCHN_PENDING + w * 4;
      let bits = load32(pend) & ~load32(Xen.SHARED + SharedInfo.EVTCHN_MASK + w * 4) & load32(map + w * 4);
      // one branch-free read-modify-write: no other vCPU or the hypervisor runs in between
      store32(pend, load32(pend) & ~bits);
      while (bits !== 0) {
        const b = lowestBit(bits);
        bits = bits & ~(1 << b);
        const port = w * 32 + b;
        const line = portLine(port);
        const kind = smpPortKind(me, port);
        if (kind === 1) {
          store32(frame + TrapFrame.VECTOR, Smp.IPI_VECTOR);
          trap(frame);
        } else if (kind === 2) {
          tick = true;
        } else if (isControlPort(port)) {
          controlEvent();
        } else if (line === IrqLine.TIMER) {
          timer = true;
        } else if (line >= 0) {
          store32(frame + TrapFrame.VECTOR, IrqLine.IRQ_VECTOR_BASE + line);
          trap(frame);
        }
      }
      w = w + 1;
    }
    if (timer) {
      store32(frame + TrapFrame.VECTOR, IrqLine.IRQ_VECTOR_BASE + IrqLine.TIMER);
      trap(frame);
    }
    if (tick) {
      store32(frame + TrapFrame.VECTOR, Smp.TIMER_VECTOR);
      trap(frame);
    }
  } while (load8(vi + VcpuInfo.UPCALL_PENDING) !== 0);
}

/** Send the console output of this kernel entry to the back end, holding the kernel lock (another vCPU may be writing more). */
function consoleFlushLocked(): void {
  const took = lockKernelEntry();
  pvConsoleFlush();
  if (took) unlockKernel();
}

/**
 * Leave a handler: back to ring 3, or to kernel code that ran with events enabled, events are
 * unmasked - after handling any that arrived while they were masked; otherwise they stay masked.
 * Kept small (no loop, no saved registers; pvTrap has a copy inline) since every system call
 * passes here; the rare case of an event pending at exit goes to pvExitEvents.
 */
function pvExit(frame: number): void {
  const vi = Xen.SHARED + SharedInfo.VCPU_INFO + load32(HvLayout.VCPU_ID) * VcpuInfo.BYTES;
  // the end of a kernel entry: console output of this entry goes to the back end in one notification
  if (pvConsoleUnflushed) consoleFlushLocked();
  if ((load32(frame + TrapFrame.CS) & 3) !== 3 && (load32(frame + TrapFrame.FLAGS) & UpcallWord.FLAGS_IF) === 0) {
    store8(vi + VcpuInfo.UPCALL_MASK, 1);
    return;
  }
  store8(vi + VcpuInfo.UPCALL_MASK, 0);
  if (load8(vi + VcpuInfo.UPCALL_PENDING) !== 0) pvExitEvents(frame, vi);
}

/** An event came in while events were masked: handle it (and any that follow) before leaving unmasked. */
function pvExitEvents(frame: number, vi: number): void {
  for (;;) {
    store8(vi + VcpuInfo.UPCALL_MASK, 1);
    handleEvents(frame);
    store8(vi + VcpuInfo.UPCALL_MASK, 0);
    if (load8(vi + VcpuInfo.UPCALL_PENDING) === 0) return;
  }
}

/** Every exception, the system call and the user return enter here. */
function pvTrap(frame: number): void {
  const vi = Xen.SHARED + SharedInfo.VCPU_INFO + load32(HvLayout.VCPU_ID) * VcpuInfo.BYTES;
  // the system call's fast path did not mask events; everything else arrives masked
  store8(vi + VcpuInfo.UPCALL_MASK, 1);
  if (load32(frame + TrapFrame.VECTOR) === Vec.USER_RETURN) {
    memcpy(frame, returnFrame, TrapFrame.BYTES);
    // a new process's first return (forkret) holds the kernel lock; the frame is now on its own stack
    unlockKernelForUser();
  } else {
    trap(frame);
  }
  // pvExit, inlined: the system call's way back to ring 3 costs no further call
  if (pvConsoleUnflushed) consoleFlushLocked();
  if ((load32(frame + TrapFrame.CS) & 3) !== 3) {
    if ((load32(frame + TrapFrame.FLAGS) & UpcallWord.FLAGS_IF) === 0) {
      store8(vi + VcpuInfo.UPCALL_MASK, 1);
      return;
    }
  } else if (smpStarting !== 0) {
    pvSmpBootWait();
  }
  store8(vi + VcpuInfo.UPCALL_MASK, 0);
  if (load8(vi + VcpuInfo.UPCALL_PENDING) !== 0) pvExitEvents(frame, vi);
}

/** The event callback: the hypervisor masked events and pushed a frame with vector Upcall.VECTOR. */
function pvUpcall(frame: number): void {
  handleEvents(frame);
  pvExit(frame);
}

/** Register the trap table and the event callback with the hypervisor. */
export function pvTrapTableLoad(): void {
  const stub = trapEntry(pvTrap);
  let v = 0;
  while (v < Table.EXCEPTIONS) {
    entry(v, v, TrapFlags.MASK_EVENTS | (v === Vec.BREAKPOINT ? 3 : 0), stub);
    v = v + 1;
  }
  // DPL 3 and no event masking: INT 0x80 goes from ring 3 to this kernel without the hypervisor
  entry(Table.EXCEPTIONS, Vec.SYSCALL, 3, stub);
  entry(Table.EXCEPTIONS + 1, Vec.USER_RETURN, TrapFlags.MASK_EVENTS | 1, stub);
  entry(Table.EXCEPTIONS + 2, 0, 0, 0);
  if (hcSetTrapTable(table) < 0) panic(cstr('set_trap_table refused the trap table'));
  if (hcSetCallbacks(trapEntry(pvUpcall), 0) < 0) panic(cstr('set_callbacks refused the event callback'));
}

export function pvSetKernelStack(sp: number): void {
  // the scheduler calls this before every switch to a process, events off, no kernel work half
  // done: the balloon's safe point (pvIdle is the other)
  balloonWork();
  hcStackSwitch(sp);
}

/**
 * Enter user mode with every register from the TrapFrame at `frame`: a kernel-only software
 * interrupt (bounced by the hypervisor) makes the stub build a frame; pvTrap swaps in this one.
 */
export function pvUserReturn(frame: number): void {
  returnFrame = frame;
  softInt(Vec.USER_RETURN);
}

/**
 * Probe: is the trap table in force this kernel's? The hypervisor maps the real IDT read-only at
 * HvLayout.IDT; the page-fault gate must name this kernel's entry stub.
 */
export function pvTrapTableCheck(): number {
  return load32(HvLayout.IDT + 14 * 8) === trapEntry(pvTrap) ? 1 : 0;
}
