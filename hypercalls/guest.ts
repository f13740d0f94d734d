// The guest side of the PV interface: one small typed stub per hypercall (a HYPERCALL instruction
// through the 'xl32' intrinsic), and the helpers every PV guest needs around them: single
// event-channel and MMU operations with a scratch struct, event scanning over the shared-info
// bitmaps, grant entries, and system time. Compiled into PV kernels (`--arch pv`) and test guests.
// Guest-subset code; imports 'xl32' and this folder only. Semantics: docs/hypercalls.md.
//
// Atomicity. XL32 has one CPU, and the hypervisor changes shared memory only while the guest is
// stopped at an exit: a hypercall, a fault, or a block boundary (after a control transfer). A
// read-modify-write written as one branch-free expression therefore cannot interleave with the
// hypervisor, which is what Xen's locked instructions buy on a multiprocessor.

import { hypercall, load8, store8, load16, store16, load32, store32, staticBuffer, rdtsc, mulhu, ltu } from 'xl32';
import { Hc, SchedOp, ShutdownReason, EvtchnCmd, MmuextCmd, ConsoleCmd, XenVersionCmd, GrantFlags, DomId } from './numbers.ts';
import { HcErr } from './errors.ts';
import {
  MmuUpdate, MmuextOp, EvtchnAllocUnbound, EvtchnBindInterdomain, EvtchnBindVirq, EvtchnPort,
  SharedInfo, VcpuInfo, VcpuTime, GrantEntry,
} from './structs.ts';

// ---- the stubs: r0 = number, r1..r5 = arguments, result in r0 --------------------------------

export function hcSetTrapTable(table: number): number { return hypercall(Hc.SET_TRAP_TABLE, table); }
export function hcMmuUpdate(reqs: number, count: number, doneOut: number): number { return hypercall(Hc.MMU_UPDATE, reqs, count, doneOut); }
export function hcStackSwitch(sp: number): number { return hypercall(Hc.STACK_SWITCH, sp); }
export function hcSetCallbacks(eventEntry: number, failsafeEntry: number): number { return hypercall(Hc.SET_CALLBACKS, eventEntry, failsafeEntry); }
export function hcSchedOp(cmd: number, arg: number, arg2: number): number { return hypercall(Hc.SCHED_OP, cmd, arg, arg2); }
export function hcMemoryOp(cmd: number, arg: number): number { return hypercall(Hc.MEMORY_OP, cmd, arg); }
export function hcMulticall(calls: number, count: number): number { return hypercall(Hc.MULTICALL, calls, count); }
export function hcUpdateVaMapping(va: number, val: number, flags: number): number { return hypercall(Hc.UPDATE_VA_MAPPING, va, val, flags); }
/** Fire VIRQ TIMER once at system time hi:lo (ns); 0:0 cancels. */
export function hcSetTimerOp(lo: number, hi: number): number { return hypercall(Hc.SET_TIMER_OP, lo, hi); }
export function hcEventChannelOp(cmd: number, op: number): number { return hypercall(Hc.EVENT_CHANNEL_OP, cmd, op); }
export function hcXenVersion(cmd: number, buf: number): number { return hypercall(Hc.XEN_VERSION, cmd, buf); }
export function hcConsoleIo(cmd: number, count: number, buf: number): number { return hypercall(Hc.CONSOLE_IO, cmd, count, buf); }
export function hcGrantTableOp(cmd: number, ops: number, count: number): number { return hypercall(Hc.GRANT_TABLE_OP, cmd, ops, count); }
export function hcVcpuOp(cmd: number, vcpu: number, arg: number): number { return hypercall(Hc.VCPU_OP, cmd, vcpu, arg); }
export function hcMmuextOp(ops: number, count: number, doneOut: number): number { return hypercall(Hc.MMUEXT_OP, ops, count, doneOut); }
/** The control interface (numbers.ts Dom0Cmd); EPERM unless the caller is the control domain. */
export function hcDom0Op(cmd: number, domid: number, a1: number, a2: number, a3: number): number { return hypercall(Hc.DOM0_OP, cmd, domid, a1, a2, a3); }

// ---- single operations through a scratch struct -----------------------------------------------

/** system time scratch for timerIn */
const timeNow = staticBuffer(8);

/** one struct of the largest single-op kind (callers never nest: each helper finishes with it) */
const scratch = staticBuffer(32);

/** Set one page-table entry (machine address `ptr`) to val: one mmu_update request. */
export function mmuUpdateOne(ptr: number, val: number): number {
  store32(scratch + MmuUpdate.PTR, ptr);
  store32(scratch + MmuUpdate.VAL, val);
  return hcMmuUpdate(scratch, 1, 0);
}

/** One mmuext_op. */
export function mmuextOne(cmd: number, arg: number): number {
  store32(scratch + MmuextOp.CMD, cmd);
  store32(scratch + MmuextOp.ARG, arg);
  return hcMmuextOp(scratch, 1, 0);
}

export function pinTable(mfn: number, level: number): number {
  return mmuextOne(level === 2 ? MmuextCmd.PIN_L2_TABLE : MmuextCmd.PIN_L1_TABLE, mfn);
}
export function unpinTable(mfn: number): number { return mmuextOne(MmuextCmd.UNPIN_TABLE, mfn); }
export function newBaseptr(mfn: number): number { return mmuextOne(MmuextCmd.NEW_BASEPTR, mfn); }
export function invlpgLocal(va: number): number { return mmuextOne(MmuextCmd.INVLPG_LOCAL, va); }
export function tlbFlushLocal(): number { return mmuextOne(MmuextCmd.TLB_FLUSH_LOCAL, 0); }

export function schedYield(): number { return hcSchedOp(SchedOp.YIELD, 0, 0); }
/** Sleep until an event is pending (returns at once if one is). */
export function schedBlock(): number { return hcSchedOp(SchedOp.BLOCK, 0, 0); }
/** Power the domain off with an exit status; does not return. */
export function schedShutdown(status: number): number { return hcSchedOp(SchedOp.SHUTDOWN, ShutdownReason.POWEROFF, status); }
/** Stop the domain for a reboot: the toolstack applies on_reboot. */
export function schedReboot(): number { return hcSchedOp(SchedOp.SHUTDOWN, ShutdownReason.REBOOT, 0); }

/** Write n bytes at buf to the domain's console. */
export function consoleWrite(buf: number, n: number): number { return hcConsoleIo(ConsoleCmd.WRITE, n, buf); }
/** Read up to n waiting console bytes into buf; the count (0 if none). */
export function consoleRead(buf: number, n: number): number { return hcConsoleIo(ConsoleCmd.READ, n, buf); }

/** A no-op hypercall: on its way back the hypervisor delivers any pending upcall. */
export function forceEventCallback(): number { return hcXenVersion(XenVersionCmd.VERSION, 0); }

/** A new port that domain remoteDom may bind; the port, or an HcErr. */
export function evtchnAllocUnbound(remoteDom: number): number {
  store32(scratch + EvtchnAllocUnbound.DOM, DomId.SELF);
  store32(scratch + EvtchnAllocUnbound.REMOTE_DOM, remoteDom);
  const r = hcEventChannelOp(EvtchnCmd.ALLOC_UNBOUND, scratch);
  return r < 0 ? r : load32(scratch + EvtchnAllocUnbound.PORT);
}

/** Connect a local port to remoteDom's unbound port remotePort; the local port, or an HcErr. */
export function evtchnBindInterdomain(remoteDom: number, remotePort: number): number {
  store32(scratch + EvtchnBindInterdomain.REMOTE_DOM, remoteDom);
  store32(scratch + EvtchnBindInterdomain.REMOTE_PORT, remotePort);
  const r = hcEventChannelOp(EvtchnCmd.BIND_INTERDOMAIN, scratch);
  return r < 0 ? r : load32(scratch + EvtchnBindInterdomain.LOCAL_PORT);
}

/** A port for a virtual interrupt (numbers.ts Virq); the port, or an HcErr. */
export function evtchnBindVirq(virq: number): number {
  store32(scratch + EvtchnBindVirq.VIRQ, virq);
  store32(scratch + EvtchnBindVirq.VCPU, 0);
  const r = hcEventChannelOp(EvtchnCmd.BIND_VIRQ, scratch);
  return r < 0 ? r : load32(scratch + EvtchnBindVirq.PORT);
}

function evtchnPortOp(cmd: number, port: number): number {
  store32(scratch + EvtchnPort.PORT, port);
  return hcEventChannelOp(cmd, scratch);
}
export function evtchnSend(port: number): number { return evtchnPortOp(EvtchnCmd.SEND, port); }
export function evtchnClose(port: number): number { return evtchnPortOp(EvtchnCmd.CLOSE, port); }
/** Clear the port's mask bit; if it is pending, the upcall follows (the reason this is a hypercall). */
export function evtchnUnmask(port: number): number { return evtchnPortOp(EvtchnCmd.UNMASK, port); }

// ---- events in the shared-info page -----------------------------------------------------------

function vcpuInfo(shared: number): number {
  return shared + SharedInfo.VCPU_INFO;
}

/** The virtual interrupt flag: set the upcall mask (no hypercall); returns the previous mask. */
export function eventsMask(shared: number): number {
  const v = vcpuInfo(shared);
  const old = load8(v + VcpuInfo.UPCALL_MASK);
  store8(v + VcpuInfo.UPCALL_MASK, 1);
  return old;
}

/**
 * Clear the upcall mask. An event that arrived while it was set is waiting with UPCALL_PENDING:
 * a no-op hypercall lets the hypervisor deliver it now (writing the mask alone cannot trap).
 */
export function eventsUnmask(shared: number): void {
  const v = vcpuInfo(shared);
  store8(v + VcpuInfo.UPCALL_MASK, 0);
  if (load8(v + VcpuInfo.UPCALL_PENDING) !== 0) forceEventCallback();
}

/** Start a scan: clear UPCALL_PENDING and the selector (an event after this sets them again). */
export function eventsScanBegin(shared: number): void {
  const v = vcpuInfo(shared);
  store8(v + VcpuInfo.UPCALL_PENDING, 0);
  store32(v + VcpuInfo.PENDING_SEL, 0);
}

/** The pending, unmasked ports of word w (32 ports), cleared from the pending bitmap. */
export function eventsTakeWord(shared: number, w: number): number {
  const pend = shared + SharedInfo.EVTCHN_PENDING + w * 4;
  const bits = load32(pend) & ~load32(shared + SharedInfo.EVTCHN_MASK + w * 4);
  // one branch-free read-modify-write: atomic with respect to the hypervisor (see the header)
  store32(pend, load32(pend) & ~bits);
  return bits;
}

/** Did an event arrive since eventsScanBegin? (then scan again) */
export function eventsMore(shared: number): boolean {
  return load8(vcpuInfo(shared) + VcpuInfo.UPCALL_PENDING) !== 0;
}

export function eventsSetMask(shared: number, port: number): void {
  const a = shared + SharedInfo.EVTCHN_MASK + (port >>> 5) * 4;
  store32(a, load32(a) | (1 << (port & 31)));
}

export function eventsClearPending(shared: number, port: number): void {
  const a = shared + SharedInfo.EVTCHN_PENDING + (port >>> 5) * 4;
  store32(a, load32(a) & ~(1 << (port & 31)));
}

export function eventsIsPending(shared: number, port: number): boolean {
  return (load32(shared + SharedInfo.EVTCHN_PENDING + (port >>> 5) * 4) & (1 << (port & 31))) !== 0;
}

// ---- grant entries (in the granting guest's own table) ----------------------------------------

/** Let domain domid map frame mfn (read-only if readonly) under reference ref of table `gnttab`. */
export function gnttabGrantAccess(gnttab: number, ref: number, domid: number, mfn: number, readonly: boolean): void {
  const e = gnttab + ref * GrantEntry.BYTES;
  store32(e + GrantEntry.FRAME, mfn);
  store16(e + GrantEntry.DOMID, domid);
  // the flags last: the entry becomes valid only once frame and grantee are in place
  store16(e + GrantEntry.FLAGS, readonly ? GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY : GrantFlags.PERMIT_ACCESS);
}

/** Revoke a grant: refused with EBUSY while the grantee has it mapped (READING or WRITING set). */
export function gnttabEndAccess(gnttab: number, ref: number): number {
  const e = gnttab + ref * GrantEntry.BYTES;
  if ((load16(e + GrantEntry.FLAGS) & (GrantFlags.READING | GrantFlags.WRITING)) !== 0) return HcErr.EBUSY;
  store16(e + GrantEntry.FLAGS, 0);
  return 0;
}

// ---- time --------------------------------------------------------------------------------------

/**
 * System time now, in ns: writes the low word to out and the high word to out + 4. From the
 * vCPU's time record and the TSC; retried while the hypervisor is updating the record.
 * (The TSC delta since the stamp is taken mod 2^32: the hypervisor restamps at every timer event
 * and every time the vCPU is scheduled, far more often than 2^32 cycles.)
 */
export function systemTime(shared: number, out: number): void {
  const t = vcpuInfo(shared) + VcpuInfo.TIME;
  let version = 0;
  let lo = 0;
  let hi = 0;
  do {
    version = load32(t + VcpuTime.VERSION);
    const stamp = load32(t + VcpuTime.TSC_TIMESTAMP);
    const baseLo = load32(t + VcpuTime.SYSTEM_TIME);
    const baseHi = load32(t + VcpuTime.SYSTEM_TIME + 4);
    const mul = load32(t + VcpuTime.TSC_TO_SYSTEM_MUL);
    const shift = load32(t + VcpuTime.TSC_SHIFT);
    let delta = rdtsc() - stamp;
    if (shift > 0) delta = delta << shift;
    else if (shift < 0) delta = delta >>> -shift;
    const ns = mulhu(delta, mul);
    lo = baseLo + ns;
    hi = baseHi + (ltu(lo, ns) ? 1 : 0);
  } while ((version & 1) !== 0 || version !== load32(t + VcpuTime.VERSION));
  store32(out, lo);
  store32(out + 4, hi);
}

/** Fire VIRQ TIMER `ns` nanoseconds from now (ns below 2^31). */
export function timerIn(shared: number, ns: number): number {
  systemTime(shared, timeNow);
  const lo = load32(timeNow) + ns;
  const hi = load32(timeNow + 4) + (ltu(lo, ns) ? 1 : 0);
  return hcSetTimerOp(lo, hi);
}
