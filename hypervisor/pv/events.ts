// Event channels: per-domain ports whose pending and mask bits live in the domain's shared-info
// page. A 0->1 pending transition on an unmasked port sets the port's selector bit and the vCPU's
// upcall_pending, and wakes the vCPU if it is blocked; the PV mode then delivers an upcall when
// the vCPU's upcall mask (the virtual IF) is clear. Ports bind to another domain's unbound port,
// to a virtual interrupt (timer, console), or to a back end inside the hypervisor.
// Touches only shared-info pages and the PV domains' port tables.

import { HcErr } from '../../hypercalls/errors.ts';
import { DomId, EvtchnCmd, EvtchnLimits, EvtchnState, Virq } from '../../hypercalls/numbers.ts';
import {
  EvtchnAllocUnbound, EvtchnBindInterdomain, EvtchnBindIpi, EvtchnBindVcpu, EvtchnBindVirq, EvtchnPort, EvtchnStatus, SharedInfo, VcpuInfo,
} from '../../hypercalls/structs.ts';
import type { HcCtx } from './context.ts';
import { PortState, virqPerVcpu, type PvDomain } from './state.ts';
import { TraceKind } from '../core/trace.ts';
import { Ev } from '../../machine/ledger.ts';

const PORTS: number = EvtchnLimits.PORTS;
const VIRQS: number = Virq.COUNT;
const PENDING: number = SharedInfo.EVTCHN_PENDING;
const MASK: number = SharedInfo.EVTCHN_MASK;
const SEL: number = VcpuInfo.PENDING_SEL;
const UPCALL_PENDING: number = VcpuInfo.UPCALL_PENDING;
const UPCALL_MASK: number = VcpuInfo.UPCALL_MASK;
const SELF: number = DomId.SELF;
const BACKEND: number = DomId.BACKEND;

/** Machine address of vCPU k's slot in the shared-info page. */
export function vcpuInfoAddr(d: PvDomain, k: number): number {
  return d.sharedInfo + SharedInfo.VCPU_INFO + k * (VcpuInfo.BYTES as number);
}

/** Mark vCPU k's upcall pending and wake it if it waits for events (a down vCPU stays down). */
function markUpcall(d: PvDomain, k: number, word: number): void {
  const mem = d.host.mem;
  const vi = vcpuInfoAddr(d, k);
  mem.noteWrite(vi, VcpuInfo.BYTES); // drop code an engine cached from the page, if any
  mem.i32[(vi + SEL) >>> 2] |= 1 << word;
  mem.u8[vi + UPCALL_PENDING] = 1;
  const v = d.vcpus[k];
  if (v) {
    v.blockRequested = false;
    if (v.online && v.vcpu.runState === 'blocked') d.host.platform.wake(v.vcpu);
  }
}

/** Set `port` pending in domain d (the hypervisor's half of every notification). */
export function setPending(d: PvDomain, port: number): void {
  if (d.domain.stopped) return;
  const i32 = d.host.mem.i32;
  const word = port >>> 5;
  const bit = 1 << (port & 31);
  const pend = (d.sharedInfo + PENDING + word * 4) >>> 2;
  if ((i32[pend]! & bit) !== 0) return;
  i32[pend] = i32[pend]! | bit;
  d.stats.eventsPending++;
  const stats = d.domain.stats;
  // tagged with the vCPU the port notifies (not the sender's)
  if (stats.trace !== null) stats.trace.record(TraceKind.Event, stats.traceDom, port, 0, d.events.notifyVcpu[port]!);
  d.host.charge(d, Ev.PvEventSet, 1);
  if ((i32[(d.sharedInfo + MASK + word * 4) >>> 2]! & bit) !== 0) return;
  markUpcall(d, d.events.notifyVcpu[port]!, word);
}

/** Raise a virtual interrupt (if the domain bound a port to it): a per-vCPU one (the timer) on vCPU k's port. */
export function sendVirq(d: PvDomain, virq: number, k = 0): void {
  const port = d.events.virqPort[k * VIRQS + virq]!;
  if (port !== 0) setPending(d, port);
}

/** Is an upcall waiting for vCPU k (whatever its mask says)? */
export function upcallPending(d: PvDomain, k: number): boolean {
  return d.host.mem.u8[vcpuInfoAddr(d, k) + UPCALL_PENDING] !== 0;
}

export function upcallMasked(d: PvDomain, k: number): boolean {
  return d.host.mem.u8[vcpuInfoAddr(d, k) + UPCALL_MASK] !== 0;
}

export function setUpcallMask(d: PvDomain, k: number, masked: boolean): void {
  d.host.mem.noteWrite(vcpuInfoAddr(d, k) + UPCALL_MASK, 1);
  d.host.mem.u8[vcpuInfoAddr(d, k) + UPCALL_MASK] = masked ? 1 : 0;
}

/** A free port (never 0), or -1. */
export function allocPort(d: PvDomain): number {
  const st = d.events.state;
  for (let p = 1; p < PORTS; p++) if (st[p] === PortState.FREE) return p;
  return -1;
}

/** Bind a fresh port of d to a hypervisor-resident back end (its notifications call `handler`). */
export function bindHostPort(d: PvDomain, handler: (port: number) => void): number {
  const p = allocPort(d);
  if (p < 0) return HcErr.ENOSPC;
  d.events.state[p] = PortState.INTERDOMAIN;
  d.events.remoteDom[p] = BACKEND;
  d.events.remotePort[p] = 0;
  d.events.hostHandler[p] = handler;
  return p;
}

/**
 * Bind a fresh port to a VIRQ for vCPU k (the builder does this for the console): the timer is
 * per vCPU, every other VIRQ is the domain's and binds on vCPU 0 only.
 */
export function bindVirq(d: PvDomain, virq: number, k = 0): number {
  if (virq < 0 || virq >= VIRQS) return HcErr.EINVAL;
  if (k !== 0 && !virqPerVcpu(virq)) return HcErr.EINVAL;
  if (k < 0 || k >= d.vcpus.length) return HcErr.ENOENT; // the timer of a vCPU the domain lacks
  const slot = k * VIRQS + virq;
  if (d.events.virqPort[slot] !== 0) return HcErr.EEXIST;
  const p = allocPort(d);
  if (p < 0) return HcErr.ENOSPC;
  d.events.state[p] = PortState.VIRQ;
  d.events.virq[p] = virq;
  d.events.virqPort[slot] = p;
  d.events.notifyVcpu[p] = k;
  return p;
}

/** Bind a fresh port for inter-processor interrupts to vCPU k of d. */
export function bindIpi(d: PvDomain, k: number): number {
  if (k < 0 || k >= d.vcpus.length) return HcErr.ENOENT; // IPIs to a vCPU the domain lacks
  const p = allocPort(d);
  if (p < 0) return HcErr.ENOSPC;
  d.events.state[p] = PortState.IPI;
  d.events.notifyVcpu[p] = k;
  return p;
}

/**
 * Route port p's notifications to vCPU k. A per-vCPU VIRQ or an IPI port belongs to its vCPU
 * (EINVAL), as in Xen; an event already pending and unmasked goes to the new vCPU at once.
 */
export function bindVcpu(d: PvDomain, p: number, k: number): number {
  const ev = d.events;
  if (p <= 0 || p >= PORTS || ev.state[p] === PortState.FREE) return HcErr.EINVAL; // a port in use
  if (k < 0 || k >= d.vcpus.length) return HcErr.ENOENT; // a vCPU the domain has
  if (ev.state[p] === PortState.IPI || (ev.state[p] === PortState.VIRQ && virqPerVcpu(ev.virq[p]!))) return HcErr.EINVAL;
  ev.notifyVcpu[p] = k;
  const i32 = d.host.mem.i32;
  const word = p >>> 5;
  const bit = 1 << (p & 31);
  if ((i32[(d.sharedInfo + PENDING + word * 4) >>> 2]! & bit) !== 0 && (i32[(d.sharedInfo + MASK + word * 4) >>> 2]! & bit) === 0) markUpcall(d, k, word);
  return 0;
}

/** Close a port (the peer of an interdomain port becomes unbound again, waiting for us). */
export function closePort(d: PvDomain, p: number): number {
  const ev = d.events;
  if (p <= 0 || p >= PORTS || ev.state[p] === PortState.FREE) return HcErr.EINVAL;
  if (ev.state[p] === PortState.INTERDOMAIN && ev.remoteDom[p] !== BACKEND) {
    const peer = d.host.domains.get(ev.remoteDom[p]!);
    const rp = ev.remotePort[p]!;
    if (peer && peer.events.state[rp] === PortState.INTERDOMAIN && peer.events.remoteDom[rp] === d.id) {
      peer.events.state[rp] = PortState.UNBOUND;
      peer.events.remoteDom[rp] = d.id;
      peer.events.remotePort[rp] = 0;
    }
  } else if (ev.state[p] === PortState.VIRQ) {
    const virq = ev.virq[p]!;
    ev.virqPort[(virqPerVcpu(virq) ? ev.notifyVcpu[p]! : 0) * VIRQS + virq] = 0;
  }
  ev.state[p] = PortState.FREE;
  ev.notifyVcpu[p] = 0;
  ev.remoteDom[p] = 0;
  ev.remotePort[p] = 0;
  ev.virq[p] = 0;
  delete ev.hostHandler[p];
  return 0;
}

/** Notify the other end of port p of domain d. */
export function sendPort(d: PvDomain, p: number): number {
  const ev = d.events;
  // a port out of range has no state: the default case
  switch (ev.state[p]) {
    case PortState.INTERDOMAIN: {
      const rd = ev.remoteDom[p]!;
      if (rd === BACKEND) {
        ev.hostHandler[p]?.(p);
        return 0;
      }
      const peer = d.host.domains.get(rd);
      if (peer) setPending(peer, ev.remotePort[p]!);
      return 0;
    }
    case PortState.IPI:
      setPending(d, p);
      return 0;
    case PortState.UNBOUND:
      // nobody has bound the other end yet: the notification goes nowhere (as in Xen)
      return 0;
    default:
      return HcErr.EINVAL;
  }
}

/** Unmask port p; a pending event on it now causes an upcall. */
export function unmaskPort(d: PvDomain, p: number): number {
  if (p < 0 || p >= PORTS) return HcErr.EINVAL;
  const i32 = d.host.mem.i32;
  const word = p >>> 5;
  const bit = 1 << (p & 31);
  const mask = (d.sharedInfo + MASK + word * 4) >>> 2;
  i32[mask] = i32[mask]! & ~bit;
  if ((i32[(d.sharedInfo + PENDING + word * 4) >>> 2]! & bit) !== 0) markUpcall(d, d.events.notifyVcpu[p]!, word);
  return 0;
}

/** event_channel_op(cmd, op) */
export function eventChannelOp(ctx: HcCtx, cmd: number, op: number): number {
  const d = ctx.d;
  const ev = d.events;
  switch (cmd) {
    case EvtchnCmd.ALLOC_UNBOUND: {
      const dom = ctx.r32(op + EvtchnAllocUnbound.DOM);
      const remote = ctx.r32(op + EvtchnAllocUnbound.REMOTE_DOM);
      if (ctx.faulted()) return HcErr.EFAULT;
      if (dom !== SELF && dom !== d.id) return HcErr.EPERM;
      if (remote !== d.id && remote !== SELF && !d.host.domains.has(remote)) return HcErr.ESRCH;
      const p = allocPort(d);
      if (p < 0) return HcErr.ENOSPC;
      if (!ctx.w32(op + EvtchnAllocUnbound.PORT, p)) return HcErr.EFAULT;
      ev.state[p] = PortState.UNBOUND;
      ev.remoteDom[p] = remote === SELF ? d.id : remote;
      return 0;
    }
    case EvtchnCmd.BIND_INTERDOMAIN: {
      let rd = ctx.r32(op + EvtchnBindInterdomain.REMOTE_DOM);
      const rp = ctx.r32(op + EvtchnBindInterdomain.REMOTE_PORT);
      if (ctx.faulted()) return HcErr.EFAULT;
      if (rd === SELF) rd = d.id;
      const peer = d.host.domains.get(rd);
      if (!peer) return HcErr.ESRCH;
      // (a port out of range has no state: not UNBOUND)
      if (peer.events.state[rp] !== PortState.UNBOUND || peer.events.remoteDom[rp] !== d.id) return HcErr.EINVAL;
      const p = allocPort(d);
      if (p < 0) return HcErr.ENOSPC;
      if (!ctx.w32(op + EvtchnBindInterdomain.LOCAL_PORT, p)) return HcErr.EFAULT;
      ev.state[p] = PortState.INTERDOMAIN;
      ev.remoteDom[p] = rd;
      ev.remotePort[p] = rp;
      peer.events.state[rp] = PortState.INTERDOMAIN;
      peer.events.remoteDom[rp] = d.id;
      peer.events.remotePort[rp] = p;
      return 0;
    }
    case EvtchnCmd.BIND_VIRQ: {
      const virq = ctx.r32(op + EvtchnBindVirq.VIRQ);
      const vcpu = ctx.r32(op + EvtchnBindVirq.VCPU);
      if (ctx.faulted()) return HcErr.EFAULT;
      // check the output first, so a bad pointer leaves nothing bound
      if (ctx.gv.translate(ctx.cr3, op + EvtchnBindVirq.PORT, true) < 0) return HcErr.EFAULT;
      const p = bindVirq(d, virq, vcpu);
      if (p < 0) return p;
      ctx.w32(op + EvtchnBindVirq.PORT, p);
      return 0;
    }
    case EvtchnCmd.BIND_IPI: {
      const vcpu = ctx.r32(op + EvtchnBindIpi.VCPU);
      if (ctx.faulted()) return HcErr.EFAULT;
      if (ctx.gv.translate(ctx.cr3, op + EvtchnBindIpi.PORT, true) < 0) return HcErr.EFAULT;
      const p = bindIpi(d, vcpu);
      if (p < 0) return p;
      ctx.w32(op + EvtchnBindIpi.PORT, p);
      return 0;
    }
    case EvtchnCmd.BIND_VCPU: {
      const p = ctx.r32(op + EvtchnBindVcpu.PORT);
      const vcpu = ctx.r32(op + EvtchnBindVcpu.VCPU);
      if (ctx.faulted()) return HcErr.EFAULT;
      return bindVcpu(d, p, vcpu);
    }
    case EvtchnCmd.CLOSE: {
      const p = ctx.r32(op + EvtchnPort.PORT);
      if (ctx.faulted()) return HcErr.EFAULT;
      return closePort(d, p);
    }
    case EvtchnCmd.SEND: {
      const p = ctx.r32(op + EvtchnPort.PORT);
      if (ctx.faulted()) return HcErr.EFAULT;
      return sendPort(d, p);
    }
    case EvtchnCmd.STATUS: {
      const dom = ctx.r32(op + EvtchnStatus.DOM);
      const p = ctx.r32(op + EvtchnStatus.PORT);
      if (ctx.faulted()) return HcErr.EFAULT;
      if (dom !== SELF && dom !== d.id) return HcErr.EPERM;
      if (p < 0 || p >= PORTS) return HcErr.EINVAL;
      const st = ev.state[p]!;
      const status =
        st === PortState.UNBOUND ? EvtchnState.UNBOUND
        : st === PortState.INTERDOMAIN ? EvtchnState.INTERDOMAIN
        : st === PortState.VIRQ ? EvtchnState.VIRQ
        : st === PortState.IPI ? EvtchnState.IPI
        : EvtchnState.CLOSED;
      ctx.w32(op + EvtchnStatus.STATUS, status);
      ctx.w32(op + EvtchnStatus.VCPU, ev.notifyVcpu[p]!);
      ctx.w32(op + EvtchnStatus.REMOTE_DOM, st === PortState.VIRQ ? ev.virq[p]! : ev.remoteDom[p]!);
      ctx.w32(op + EvtchnStatus.REMOTE_PORT, ev.remotePort[p]!);
      return ctx.faulted() ? HcErr.EFAULT : 0;
    }
    case EvtchnCmd.UNMASK: {
      const p = ctx.r32(op + EvtchnPort.PORT);
      if (ctx.faulted()) return HcErr.EFAULT;
      return unmaskPort(d, p);
    }
    default:
      return HcErr.EINVAL;
  }
}

/** Close every port of a domain that is going away (its peers see their ports unbound). */
export function closeAll(d: PvDomain): void {
  for (let p = 1; p < PORTS; p++) if (d.events.state[p] !== PortState.FREE) closePort(d, p);
}
