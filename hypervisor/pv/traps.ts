// Traps and upcalls for PV guests. The guest registers a trap table (set_trap_table: every handler
// at ring 1, never ring 0) and an event callback (set_callbacks); the hypervisor writes them into
// the real IDT it keeps for the domain (mapped read-only at HvLayout.IDT). Every vector except the
// system call is intercepted and *bounced*: the hypervisor has the CPU push the frame the guest
// expects and enter its handler. The system call (0x80) is the fast path: its gate is DPL 3 to
// ring 1 and not intercepted, so INT 0x80 goes from ring 3 straight to the guest kernel.
// Touches the domain's IDT frame, the guest's stack (through the CPU's own delivery) and vcpu_info.

import { EventKind } from '../../machine/vmx.ts';
import { Frame, GATE_BYTES, gateFlags } from '../../machine/isa.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { HvLayout, TrapFlags, Upcall } from '../../hypercalls/numbers.ts';
import { TrapInfo, VcpuInfo } from '../../hypercalls/structs.ts';
import type { HcCtx } from './context.ts';
import { setUpcallMask, upcallMasked, vcpuInfoAddr } from './events.ts';
import type { PvDomain, PvHost, PvVcpu } from './state.ts';
import { TraceKind } from '../core/trace.ts';
import { Ev } from '../../machine/ledger.ts';

export const SYSCALL_VECTOR = 0x80;
const UPCALL_VECTOR: number = Upcall.VECTOR;
const HV_BASE: number = HvLayout.BASE;
const MASK_EVENTS: number = TrapFlags.MASK_EVENTS;
const DPL_MASK: number = TrapFlags.DPL_MASK;
const FLAG_IF = 1 << 9;
const GUEST_RING = 1;

/** Rewrite the domain's real IDT from its trap table and event callback. */
export function writeIdt(host: PvHost, d: PvDomain): void {
  const i32 = host.mem.i32;
  const base = d.idtMfn << 10;
  for (let v = 0; v < 256; v++) {
    const addr = v === UPCALL_VECTOR ? d.eventCallback : d.trapAddress[v]!;
    const dpl = v === UPCALL_VECTOR ? 0 : d.trapFlags[v]! & DPL_MASK;
    // trap gates: the real IF stays as the hypervisor set it (the virtual IF is the upcall mask)
    i32[base + v * (GATE_BYTES / 4)] = addr;
    i32[base + v * (GATE_BYTES / 4) + 1] = addr !== 0 ? gateFlags(dpl, GUEST_RING, true) : 0;
  }
}

/** Does the domain's system call take the fast path (no hypervisor entry)? */
export function syscallFastPath(d: PvDomain): boolean {
  return d.trapAddress[SYSCALL_VECTOR] !== 0 && (d.trapFlags[SYSCALL_VECTOR]! & MASK_EVENTS) === 0;
}

/**
 * set_trap_table(table): entries {vector, flags, ring, address} up to one whose address is 0; a
 * table address of 0 clears every handler. The whole table is checked before any of it is used.
 */
export function setTrapTable(ctx: HcCtx, table: number): number {
  const d = ctx.d;
  const vectors: number[] = [];
  const flags: number[] = [];
  const addrs: number[] = [];
  if (table !== 0) {
    for (let k = 0; ; k++) {
      if (k > (TrapInfo.MAX_ENTRIES as number)) return HcErr.E2BIG;
      const e = (table + k * TrapInfo.BYTES) | 0;
      const vector = ctx.r32(e + TrapInfo.VECTOR);
      const f = ctx.r32(e + TrapInfo.FLAGS);
      const ring = ctx.r32(e + TrapInfo.RING);
      const address = ctx.r32(e + TrapInfo.ADDRESS);
      if (ctx.faulted()) return HcErr.EFAULT;
      if (address === 0) break;
      if (vector < 0 || vector > 255 || vector === UPCALL_VECTOR) return HcErr.EINVAL;
      if (ring === 0) return HcErr.EPERM;
      if (ring !== GUEST_RING) return HcErr.EINVAL;
      if ((f & ~(DPL_MASK | MASK_EVENTS)) !== 0) return HcErr.EINVAL;
      if ((address >>> 0) >= HV_BASE >>> 0) return HcErr.EPERM;
      vectors.push(vector);
      flags.push(f);
      addrs.push(address);
    }
  }
  d.trapAddress.fill(0);
  d.trapFlags.fill(0);
  vectors.forEach((v, k) => {
    d.trapAddress[v] = addrs[k]!;
    d.trapFlags[v] = flags[k]!;
  });
  writeIdt(ctx.host, d);
  ctx.host.cpu.interceptVector[SYSCALL_VECTOR] = syscallFastPath(d) ? 0 : 1;
  ctx.charge(Ev.PvRequest, vectors.length + 1);
  return 0;
}

/** set_callbacks(eventEntry, failsafeEntry) */
export function setCallbacks(ctx: HcCtx, event: number, failsafe: number): number {
  if ((event >>> 0) >= HV_BASE >>> 0 || (failsafe >>> 0) >= HV_BASE >>> 0) return HcErr.EPERM;
  ctx.d.eventCallback = event;
  ctx.d.failsafeCallback = failsafe;
  writeIdt(ctx.host, ctx.d);
  return 0;
}

/** The word at frame offset `off` of the frame the CPU just pushed (machine address), or -1. */
function frameWordAddr(host: PvHost, off: number): number {
  const cpu = host.cpu;
  const va = (cpu.regs[15]! + off) | 0;
  return cpu.mmu.translate(va, true, false);
}

/**
 * Deliver `vector` to the guest's handler as the hardware would have with the guest's own IDT:
 * a frame on the ring-1 stack (switching to the stack_switch stack when coming from ring 3), the
 * frame's FLAGS showing the virtual IF, and the upcall mask set if the handler asked for it.
 * False if the domain has no handler or its stack cannot take the frame: it is then crashed.
 */
export function bounce(host: PvHost, d: PvDomain, pv: PvVcpu, vector: number, error: number, kind: EventKind, folded = false): boolean {
  const handler = vector === UPCALL_VECTOR ? d.eventCallback : d.trapAddress[vector]!;
  if (handler === 0) {
    d.domain.shutdown('crashed', 0, `no handler for vector ${vector} (error 0x${(error >>> 0).toString(16)}) at pc 0x${(host.cpu.pc >>> 0).toString(16)}`);
    return false;
  }
  const k = pv.vcpu.id;
  const vIF = !upcallMasked(d, k);
  const cpu = host.cpu;
  const sp0 = cpu.regs[15]!;
  // Xen builds the frame in software (the bounce) and IRETs into the handler
  const res = cpu.deliverTrap(vector, error, kind, false);
  if (res !== -1) {
    d.domain.shutdown('crashed', 0,
      `cannot deliver vector ${vector}: the guest's stack (sp 0x${(sp0 >>> 0).toString(16)}, kernel stack 0x${(cpu.ksp[1]! >>> 0).toString(16)}) does not take the frame`);
    return false;
  }
  const fl = frameWordAddr(host, Frame.FLAGS);
  if (fl >= 0) host.mem.write32(fl, vIF ? host.mem.i32[fl >>> 2]! | FLAG_IF : host.mem.i32[fl >>> 2]! & ~FLAG_IF);
  if (vector === UPCALL_VECTOR || (d.trapFlags[vector]! & MASK_EVENTS) !== 0) setUpcallMask(d, k, true);
  host.charge(d, Ev.PvBounce, 1);
  // the IRET into the handler (folded: the hypercall's own return, already charged, is that IRET)
  if (!folded) cpu.charge(Ev.InterceptReturn, 1);
  return true;
}

/** Bounce an intercepted exception, INT n or page fault to the guest. */
export function bounceException(host: PvHost, d: PvDomain, pv: PvVcpu, vector: number, error: number, kind: EventKind): boolean {
  const cpu = host.cpu;
  const stats = d.domain.stats;
  stats.traps[vector]!++;
  if (stats.trace !== null) stats.trace.record(TraceKind.Trap, stats.traceDom, vector, 0);
  if (kind === EventKind.Software) {
    // INT n through a gate the guest did not open to this ring: #GP(n*8+2), as the IDT would
    const dpl = d.trapFlags[vector]! & DPL_MASK;
    if (d.trapAddress[vector] === 0 || cpu.cpl > dpl) {
      cpu.pc = cpu.exitInsnPc;
      return bounceException(host, d, pv, 13, vector * 8 + 2, EventKind.Fault);
    }
  }
  if (vector === 14) host.mem.write32(vcpuInfoAddr(d, pv.vcpu.id) + VcpuInfo.CR2, cpu.cr2);
  d.stats.bounced[vector]!++;
  d.domain.stats.reflected[vector]!++;
  return bounce(host, d, pv, vector, error, kind);
}

/**
 * Deliver an event upcall (the caller checked upcall_pending and the mask). Charged as an
 * interrupt into Xen (the event's arrival), the bounce and the IRET to the callback - or, on a
 * hypercall's return path (pv.inHypercallReturn), the bounce alone: the guest is already in the
 * hypervisor and the hypercall's return (charged by it) is the IRET into the callback.
 */
export function deliverUpcall(host: PvHost, d: PvDomain, pv: PvVcpu): boolean {
  if (d.eventCallback === 0) return true;
  d.stats.upcalls++;
  const stats = d.domain.stats;
  if (stats.trace !== null) stats.trace.record(TraceKind.Interrupt, stats.traceDom, -1, 0);
  const folded = pv.inHypercallReturn;
  if (folded) d.stats.foldedUpcalls++;
  else host.cpu.charge(Ev.TrapDelivery, 1);
  return bounce(host, d, pv, UPCALL_VECTOR, 0, EventKind.External, folded);
}


