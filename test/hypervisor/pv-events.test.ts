// Event channels: ports, the pending and mask bitmaps in the shared-info page, the selector and
// upcall_pending, interdomain binding (only by the domain a port was offered to), VIRQs, close.
import { describe, expect, it } from 'vitest';
import { Hc, EvtchnCmd, EvtchnState, Virq, DomId, SchedOp, UvmFlags } from '../../hypercalls/numbers.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { EvtchnAllocUnbound, EvtchnBindInterdomain, EvtchnBindVirq, SharedInfo, VcpuInfo } from '../../hypercalls/structs.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { bootstrapPte, hc, pvDomain, pvHypervisor, r32, scratch, spinGuest, w32 } from './pv-helpers.ts';
import { bindHostPort, sendVirq } from '../../hypervisor/pv/events.ts';
import { PortState } from '../../hypervisor/pv/state.ts';
import { TraceBuffer, traceRecords } from '../../hypervisor/core/trace.ts';
import type { PvMode } from '../../hypervisor/pv/mode.ts';
import type { Hypervisor } from '../../hypervisor/core/hypervisor.ts';

function three() {
  const { hv, mode } = pvHypervisor();
  const a = pvDomain(hv, mode, 'a', spinGuest());
  const b = pvDomain(hv, mode, 'b', spinGuest());
  const c = pvDomain(hv, mode, 'c', spinGuest());
  return { hv, mode, a, b, c };
}

function evtchn(hv: Hypervisor, mode: PvMode, d: Domain, cmd: number, words: number[]): { r: number; out: number[] } {
  const s = scratch(mode, d);
  words.forEach((v, k) => w32(d, s + k * 4, v));
  const r = hc(hv, mode, d, Hc.EVENT_CHANNEL_OP, cmd, s);
  return { r, out: [0, 1, 2, 3, 4, 5].map((k) => r32(d, s + k * 4)) };
}

/** Shared-info state of vCPU 0 and a port. */
function eventState(hv: Hypervisor, mode: PvMode, d: Domain, port: number) {
  const si = mode.pv(d).sharedInfo;
  const word = port >>> 5;
  const bit = 1 << (port & 31);
  return {
    pending: (hv.mem.read32(si + SharedInfo.EVTCHN_PENDING + word * 4) & bit) !== 0,
    selector: hv.mem.read32(si + SharedInfo.VCPU_INFO + VcpuInfo.PENDING_SEL),
    upcallPending: hv.mem.read8(si + SharedInfo.VCPU_INFO + VcpuInfo.UPCALL_PENDING),
  };
}

const SELF = 0x7ff0;

describe('pv event channels', () => {
  it('connects two domains: alloc_unbound offers a port, bind_interdomain takes it, status shows both ends', () => {
    const { hv, mode, a, b } = three();
    const offer = evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id]);
    // port 1 of every domain is its console ring's, bound to the back end (bound by the builder)
    expect([offer.r, offer.out[EvtchnAllocUnbound.PORT / 4]]).toEqual([0, 2]);
    expect(evtchn(hv, mode, a, EvtchnCmd.STATUS, [SELF, 2]).out.slice(2)).toEqual([EvtchnState.UNBOUND, 0, b.id, 0]);
    const bind = evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2]);
    expect([bind.r, bind.out[EvtchnBindInterdomain.LOCAL_PORT / 4]]).toEqual([0, 2]);
    expect(evtchn(hv, mode, a, EvtchnCmd.STATUS, [SELF, 2]).out.slice(2)).toEqual([EvtchnState.INTERDOMAIN, 0, b.id, 2]);
    expect(evtchn(hv, mode, b, EvtchnCmd.STATUS, [SELF, 2]).out.slice(2)).toEqual([EvtchnState.INTERDOMAIN, 0, a.id, 2]);
    expect(evtchn(hv, mode, b, EvtchnCmd.STATUS, [SELF, 1]).out.slice(2)).toEqual([EvtchnState.INTERDOMAIN, 0, DomId.BACKEND, 0]);
    expect(evtchn(hv, mode, b, EvtchnCmd.STATUS, [SELF, 9]).out[2]).toBe(EvtchnState.CLOSED);
  });

  it('a send sets the peer pending once: selector and upcall_pending on a 0->1 transition of an unmasked port', () => {
    const { hv, mode, a, b } = three();
    evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id]);
    evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2]);
    expect(eventState(hv, mode, b, 2)).toEqual({ pending: false, selector: 0, upcallPending: 0 });
    expect(evtchn(hv, mode, a, EvtchnCmd.SEND, [2]).r).toBe(0);
    expect(eventState(hv, mode, b, 2)).toEqual({ pending: true, selector: 1, upcallPending: 1 });
    expect(evtchn(hv, mode, a, EvtchnCmd.SEND, [2]).r).toBe(0);
    expect(mode.pv(b).stats.eventsPending).toBe(1);
    // the sender's own bitmaps are untouched
    expect(eventState(hv, mode, a, 2)).toEqual({ pending: false, selector: 0, upcallPending: 0 });
  });

  it('a masked port becomes pending without an upcall; the unmask hypercall then raises it', () => {
    const { hv, mode, a, b } = three();
    evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id]);
    evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2]);
    const si = mode.pv(b).sharedInfo;
    hv.mem.write32(si + SharedInfo.EVTCHN_MASK, 1 << 2); // the guest masks port 2
    evtchn(hv, mode, a, EvtchnCmd.SEND, [2]);
    expect(eventState(hv, mode, b, 2)).toEqual({ pending: true, selector: 0, upcallPending: 0 });
    expect(evtchn(hv, mode, b, EvtchnCmd.UNMASK, [2]).r).toBe(0);
    expect(hv.mem.read32(si + SharedInfo.EVTCHN_MASK)).toBe(0);
    expect(eventState(hv, mode, b, 2)).toEqual({ pending: true, selector: 1, upcallPending: 1 });
  });

  it('only the domain a port was offered to can bind it, and only once', () => {
    const { hv, mode, a, b, c } = three();
    evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id]);
    expect(evtchn(hv, mode, c, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2]).r).toBe(0);
    expect(evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, c, EvtchnCmd.BIND_INTERDOMAIN, [99, 2]).r).toBe(HcErr.ESRCH);
    expect(evtchn(hv, mode, c, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 1024]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, c, EvtchnCmd.ALLOC_UNBOUND, [a.id, b.id]).r).toBe(HcErr.EPERM);
    expect(evtchn(hv, mode, c, EvtchnCmd.ALLOC_UNBOUND, [SELF, 99]).r).toBe(HcErr.ESRCH);
    expect(evtchn(hv, mode, c, EvtchnCmd.STATUS, [a.id, 2]).r).toBe(HcErr.EPERM);
    // nothing of c was bound by its failed attempts
    expect(evtchn(hv, mode, c, EvtchnCmd.STATUS, [SELF, 2]).out[2]).toBe(EvtchnState.CLOSED);
  });

  it('binds each VIRQ once; sends on VIRQ, closed or out-of-range ports are refused', () => {
    const { hv, mode, a } = three();
    const t = evtchn(hv, mode, a, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 0]);
    expect([t.r, t.out[EvtchnBindVirq.PORT / 4]]).toEqual([0, 2]);
    expect(evtchn(hv, mode, a, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 0]).r).toBe(HcErr.EEXIST);
    expect(evtchn(hv, mode, a, EvtchnCmd.BIND_VIRQ, [Virq.COUNT, 0]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, a, EvtchnCmd.BIND_VIRQ, [Virq.DEBUG, 1]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, a, EvtchnCmd.SEND, [2]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, a, EvtchnCmd.SEND, [7]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, a, EvtchnCmd.SEND, [-1]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, a, EvtchnCmd.CLOSE, [0]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, a, 42, [0]).r).toBe(HcErr.EINVAL);
    expect(hc(hv, mode, a, Hc.EVENT_CHANNEL_OP, EvtchnCmd.SEND, 0)).toBe(HcErr.EFAULT);
  });

  it('closing one end leaves the other unbound, waiting for the same domain again', () => {
    const { hv, mode, a, b } = three();
    evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id]);
    evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2]);
    expect(evtchn(hv, mode, a, EvtchnCmd.CLOSE, [2]).r).toBe(0);
    expect(evtchn(hv, mode, a, EvtchnCmd.STATUS, [SELF, 2]).out[2]).toBe(EvtchnState.CLOSED);
    expect(evtchn(hv, mode, b, EvtchnCmd.STATUS, [SELF, 2]).out.slice(2)).toEqual([EvtchnState.UNBOUND, 0, a.id, 0]);
    expect(evtchn(hv, mode, b, EvtchnCmd.SEND, [2]).r).toBe(0); // into the void, as in Xen
    expect(evtchn(hv, mode, a, EvtchnCmd.SEND, [2]).r).toBe(HcErr.EINVAL);
    const again = evtchn(hv, mode, a, EvtchnCmd.BIND_INTERDOMAIN, [b.id, 2]);
    expect([again.r, again.out[EvtchnBindInterdomain.LOCAL_PORT / 4]]).toEqual([0, 2]);
  });

  it('a port past the first word: its own pending bit, and the selector bit of its word', () => {
    const { hv, mode, a, b } = three();
    // ports 2..40 offered to b; b binds 40 (its own port 2)
    for (let k = 2; k <= 40; k++) expect(evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id]).out[EvtchnAllocUnbound.PORT / 4]).toBe(k);
    evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 40]);
    for (let k = 3; k <= 40; k++) evtchn(hv, mode, b, EvtchnCmd.ALLOC_UNBOUND, [SELF, a.id]);
    evtchn(hv, mode, b, EvtchnCmd.CLOSE, [2]);
    const bind = evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 40]);
    expect([bind.r, bind.out[EvtchnBindInterdomain.LOCAL_PORT / 4]]).toEqual([0, 2]);
    // a's port 40 (word 1, bit 8) is b's port 2 now: b sends on 2, a gets 40
    const si = mode.pv(a).sharedInfo;
    hv.mem.write32(si + SharedInfo.EVTCHN_MASK, -1); // word 0 all masked: word 1 is what counts
    expect(evtchn(hv, mode, b, EvtchnCmd.SEND, [2]).r).toBe(0);
    expect([hv.mem.read32(si + SharedInfo.EVTCHN_PENDING), hv.mem.read32(si + SharedInfo.EVTCHN_PENDING + 4)]).toEqual([0, 1 << 8]);
    expect(eventState(hv, mode, a, 40)).toEqual({ pending: true, selector: 2, upcallPending: 1 });
    // masked in word 1: pending, no upcall
    hv.mem.write32(si + SharedInfo.EVTCHN_MASK + 4, 1 << 9);
    const p41 = evtchn(hv, mode, b, EvtchnCmd.ALLOC_UNBOUND, [SELF, a.id]).out[EvtchnAllocUnbound.PORT / 4]!;
    hv.mem.write8(si + SharedInfo.VCPU_INFO + VcpuInfo.UPCALL_PENDING, 0);
    hv.mem.write32(si + SharedInfo.VCPU_INFO + VcpuInfo.PENDING_SEL, 0);
    const bound = evtchn(hv, mode, a, EvtchnCmd.BIND_INTERDOMAIN, [b.id, p41]);
    expect([bound.r, bound.out[EvtchnBindInterdomain.LOCAL_PORT / 4]]).toEqual([0, 41]);
    evtchn(hv, mode, b, EvtchnCmd.SEND, [p41]);
    expect(eventState(hv, mode, a, 41)).toEqual({ pending: true, selector: 0, upcallPending: 0 });
    expect(evtchn(hv, mode, a, EvtchnCmd.UNMASK, [41]).r).toBe(0);
    expect(hv.mem.read32(si + SharedInfo.EVTCHN_MASK + 4)).toBe(0);
    expect(eventState(hv, mode, a, 41)).toEqual({ pending: true, selector: 2, upcallPending: 1 });
  });

  it('a send to a stopped domain sets nothing; one to a blocked vCPU wakes it and drops its block request', () => {
    const { hv, mode, a, b } = three();
    evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id]);
    evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2]);
    const v = b.vcpus[0]!;
    hv.block(v);
    mode.pv(b).vcpus[0]!.blockRequested = true;
    expect(v.runState).toBe('blocked');
    evtchn(hv, mode, a, EvtchnCmd.SEND, [2]);
    expect([v.runState, mode.pv(b).vcpus[0]!.blockRequested]).toEqual(['runnable', false]);
    const cycles = b.stats.monitorCycles;
    b.shutdown('poweroff');
    hv.mem.write32(mode.pv(b).sharedInfo + SharedInfo.EVTCHN_PENDING, 0);
    evtchn(hv, mode, a, EvtchnCmd.SEND, [2]);
    expect([eventState(hv, mode, b, 2).pending, mode.pv(b).stats.eventsPending, b.stats.monitorCycles]).toEqual([false, 1, cycles]);
  });

  it('a pending event costs its domain one eventSet, once', () => {
    const { hv, mode, a, b } = three();
    evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id]);
    evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2]);
    const c0 = b.stats.monitorCycles;
    evtchn(hv, mode, a, EvtchnCmd.SEND, [2]);
    evtchn(hv, mode, a, EvtchnCmd.SEND, [2]);
    expect(b.stats.monitorCycles - c0).toBe(mode.host.costs.eventSet);
  });

  it('a loopback: a port offered to itself (SELF) is bound by itself, and each end signals the other', () => {
    const { hv, mode, a } = three();
    const offer = evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, SELF]);
    expect([offer.r, offer.out[EvtchnAllocUnbound.PORT / 4]]).toEqual([0, 2]);
    expect(evtchn(hv, mode, a, EvtchnCmd.STATUS, [a.id, 2]).out.slice(2)).toEqual([EvtchnState.UNBOUND, 0, a.id, 0]);
    const bind = evtchn(hv, mode, a, EvtchnCmd.BIND_INTERDOMAIN, [SELF, 2]);
    expect([bind.r, bind.out[EvtchnBindInterdomain.LOCAL_PORT / 4]]).toEqual([0, 3]);
    evtchn(hv, mode, a, EvtchnCmd.SEND, [3]);
    expect([eventState(hv, mode, a, 2).pending, eventState(hv, mode, a, 3).pending]).toEqual([true, false]);
    evtchn(hv, mode, a, EvtchnCmd.SEND, [2]);
    expect(eventState(hv, mode, a, 3).pending).toBe(true);
  });

  it("a VIRQ port's status names the VIRQ; closing it frees the VIRQ; a destroyed peer leaves the port unbound", () => {
    const { hv, mode, a, b } = three();
    evtchn(hv, mode, a, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 0]);
    expect(evtchn(hv, mode, a, EvtchnCmd.STATUS, [SELF, 2]).out.slice(2)).toEqual([EvtchnState.VIRQ, 0, Virq.TIMER, 0]);
    expect(evtchn(hv, mode, a, EvtchnCmd.CLOSE, [2]).r).toBe(0);
    expect(evtchn(hv, mode, a, EvtchnCmd.CLOSE, [2]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, a, EvtchnCmd.CLOSE, [1024]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, a, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 0]).r).toBe(0);
    expect(evtchn(hv, mode, a, EvtchnCmd.STATUS, [SELF, 1024]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, a, EvtchnCmd.STATUS, [SELF, -1]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, a, EvtchnCmd.UNMASK, [1024]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, a, EvtchnCmd.UNMASK, [-1]).r).toBe(HcErr.EINVAL);
    // unmasking a port with nothing pending raises nothing
    expect(evtchn(hv, mode, a, EvtchnCmd.UNMASK, [5]).r).toBe(0);
    expect(eventState(hv, mode, a, 5)).toEqual({ pending: false, selector: 0, upcallPending: 0 });
    evtchn(hv, mode, b, EvtchnCmd.ALLOC_UNBOUND, [SELF, a.id]);
    evtchn(hv, mode, a, EvtchnCmd.BIND_INTERDOMAIN, [b.id, 2]);
    hv.destroyDomain(a);
    expect(evtchn(hv, mode, b, EvtchnCmd.STATUS, [SELF, 2]).out.slice(2)).toEqual([EvtchnState.UNBOUND, 0, a.id, 0]);
  });

  it('an unreadable argument is EFAULT for every command, and a bind whose port cannot be written binds nothing', () => {
    const { hv, mode, a, b } = three();
    for (const cmd of [EvtchnCmd.ALLOC_UNBOUND, EvtchnCmd.BIND_INTERDOMAIN, EvtchnCmd.BIND_VIRQ, EvtchnCmd.BIND_IPI, EvtchnCmd.BIND_VCPU, EvtchnCmd.CLOSE, EvtchnCmd.STATUS, EvtchnCmd.UNMASK]) {
      expect(hc(hv, mode, a, Hc.EVENT_CHANNEL_OP, cmd, 0), `command ${cmd}`).toBe(HcErr.EFAULT);
    }
    // the last word of the domain's memory: the port field lies beyond it
    const end = a.memory.size - 4;
    w32(a, end, Virq.TIMER);
    expect(hc(hv, mode, a, Hc.EVENT_CHANNEL_OP, EvtchnCmd.BIND_VIRQ, end - EvtchnBindVirq.VIRQ)).toBe(HcErr.EFAULT);
    expect(evtchn(hv, mode, a, EvtchnCmd.STATUS, [SELF, 2]).out[2]).toBe(EvtchnState.CLOSED);
    void b;
  });
});

describe('pv event channels: exact effects of each rule', () => {
  /** op at the end of a's scratch page 0, its results on page 1, made read-only */
  const readOnlyResults = (hv: Hypervisor, mode: PvMode, a: Domain, inputs: number[]) => {
    const p1 = scratch(mode, a, 1);
    const pte = bootstrapPte(mode, a, p1);
    expect(hc(hv, mode, a, Hc.UPDATE_VA_MAPPING, p1, hv.mem.read32(pte) & ~2, UvmFlags.INVLPG)).toBe(0);
    const op = p1 - inputs.length * 4;
    inputs.forEach((v, k) => w32(a, op + k * 4, v));
    return op;
  };
  const status = (hv: Hypervisor, mode: PvMode, d: Domain, port: number) => evtchn(hv, mode, d, EvtchnCmd.STATUS, [SELF, port, 99, 99, 99, 99]);

  it('a result word on a read-only page is EFAULT and binds nothing, for alloc_unbound, bind_interdomain, bind_virq and status', () => {
    const { hv, mode, a, b } = three();
    evtchn(hv, mode, b, EvtchnCmd.ALLOC_UNBOUND, [SELF, a.id]);
    const s = scratch(mode, a, 1);
    expect(hc(hv, mode, a, Hc.EVENT_CHANNEL_OP, EvtchnCmd.ALLOC_UNBOUND, readOnlyResults(hv, mode, a, [SELF, b.id]))).toBe(HcErr.EFAULT);
    w32(a, s - 8, b.id);
    w32(a, s - 4, 2);
    expect(hc(hv, mode, a, Hc.EVENT_CHANNEL_OP, EvtchnCmd.BIND_INTERDOMAIN, s - 8)).toBe(HcErr.EFAULT);
    w32(a, s - 8, Virq.TIMER);
    w32(a, s - 4, 0);
    expect(hc(hv, mode, a, Hc.EVENT_CHANNEL_OP, EvtchnCmd.BIND_VIRQ, s - 8)).toBe(HcErr.EFAULT);
    w32(a, s - 8, SELF);
    w32(a, s - 4, 1);
    expect(hc(hv, mode, a, Hc.EVENT_CHANNEL_OP, EvtchnCmd.STATUS, s - 8)).toBe(HcErr.EFAULT);
    // nothing was taken: a's port 2 is still free, b's port 2 still waits for a, the timer VIRQ is unbound
    expect(status(hv, mode, a, 2).out.slice(2)).toEqual([EvtchnState.CLOSED, 0, 0, 0]);
    expect(status(hv, mode, b, 2).out.slice(2)).toEqual([EvtchnState.UNBOUND, 0, a.id, 0]);
    const timer = evtchn(hv, mode, a, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 0, 99]);
    expect([timer.r, timer.out[2]]).toEqual([0, 2]);
  });

  it('a domain may name itself by its id as well as SELF: alloc_unbound for itself, offered to itself', () => {
    const { hv, mode, a } = three();
    const offer = evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [a.id, a.id, 99]);
    expect([offer.r, offer.out[2]]).toEqual([0, 2]);
    expect(status(hv, mode, a, 2).out.slice(2)).toEqual([EvtchnState.UNBOUND, 0, a.id, 0]);
    const bind = evtchn(hv, mode, a, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2, 99]);
    expect([bind.r, bind.out[2]]).toEqual([0, 3]);
    expect(status(hv, mode, a, 3).out.slice(2)).toEqual([EvtchnState.INTERDOMAIN, 0, a.id, 2]);
  });

  it('with every port in use alloc_unbound, bind_interdomain, bind_virq and a back end get ENOSPC, and nothing is written or bound', () => {
    const { hv, mode, a, b } = three();
    evtchn(hv, mode, b, EvtchnCmd.ALLOC_UNBOUND, [SELF, a.id]);
    const ev = mode.pv(a).events;
    for (let p = 2; p < ev.state.length; p++) ev.state[p] = PortState.UNBOUND;
    const before = Array.from(ev.state);
    expect(evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id, 99])).toMatchObject({ r: HcErr.ENOSPC, out: [SELF, b.id, 99, 0, 0, 0] });
    expect(evtchn(hv, mode, a, EvtchnCmd.BIND_INTERDOMAIN, [b.id, 2, 99])).toMatchObject({ r: HcErr.ENOSPC, out: [b.id, 2, 99, 0, 0, 0] });
    expect(evtchn(hv, mode, a, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 0, 99])).toMatchObject({ r: HcErr.ENOSPC, out: [Virq.TIMER, 0, 99, 0, 0, 0] });
    expect(bindHostPort(mode.pv(a), () => {})).toBe(HcErr.ENOSPC);
    expect(Array.from(ev.state)).toEqual(before);
    expect(ev.virqPort[Virq.TIMER]).toBe(0);
    expect(status(hv, mode, b, 2).out.slice(2)).toEqual([EvtchnState.UNBOUND, 0, a.id, 0]);
  });

  it('a VIRQ number below 0 or from COUNT on is EINVAL', () => {
    const { hv, mode, a } = three();
    const before = Array.from(mode.pv(a).events.virqPort);
    for (const virq of [-1, Virq.COUNT, 0x7fffffff]) expect(evtchn(hv, mode, a, EvtchnCmd.BIND_VIRQ, [virq, 0, 99]).r).toBe(HcErr.EINVAL);
    expect(Array.from(mode.pv(a).events.virqPort)).toEqual(before);
    expect(status(hv, mode, a, 2).out[2]).toBe(EvtchnState.CLOSED);
  });

  it('a VIRQ nobody bound raises nothing (not port 0); once bound it sets its port pending', () => {
    const { hv, mode, a } = three();
    const pa = mode.pv(a);
    const si = pa.sharedInfo;
    const events = pa.stats.eventsPending;
    sendVirq(pa, Virq.DEBUG);
    expect([hv.mem.read32(si + SharedInfo.EVTCHN_PENDING), pa.stats.eventsPending]).toEqual([0, events]);
    const port = evtchn(hv, mode, a, EvtchnCmd.BIND_VIRQ, [Virq.DEBUG, 0, 99]).out[2]!;
    sendVirq(pa, Virq.DEBUG);
    expect([hv.mem.read32(si + SharedInfo.EVTCHN_PENDING), pa.stats.eventsPending]).toEqual([1 << port, events + 1]);
  });

  it('a closed port forgets its peer, remote port and VIRQ: its status is all zero; status always writes vCPU 0', () => {
    const { hv, mode, a, b } = three();
    evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id]);
    evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2]);
    expect(status(hv, mode, a, 2).out.slice(2)).toEqual([EvtchnState.INTERDOMAIN, 0, b.id, 2]);
    expect(evtchn(hv, mode, a, EvtchnCmd.CLOSE, [2]).r).toBe(0);
    expect(status(hv, mode, a, 2).out.slice(2)).toEqual([EvtchnState.CLOSED, 0, 0, 0]);
    evtchn(hv, mode, a, EvtchnCmd.BIND_VIRQ, [Virq.CONTROL, 0]);
    expect(status(hv, mode, a, 2).out.slice(2)).toEqual([EvtchnState.VIRQ, 0, Virq.CONTROL, 0]);
    expect(evtchn(hv, mode, a, EvtchnCmd.CLOSE, [2]).r).toBe(0);
    expect(status(hv, mode, a, 2).out.slice(2)).toEqual([EvtchnState.CLOSED, 0, 0, 0]);
    expect(mode.pv(a).events.virq[2]).toBe(0);
    expect(mode.pv(a).events.hostHandler[2]).toBeUndefined();
    // b's end waits for a again, its own port unchanged
    expect(status(hv, mode, b, 2).out.slice(2)).toEqual([EvtchnState.UNBOUND, 0, a.id, 0]);
  });

  it('closing port -1 is EINVAL; port 0, never bound, has status CLOSED and may be unmasked', () => {
    const { hv, mode, a } = three();
    expect(evtchn(hv, mode, a, EvtchnCmd.CLOSE, [-1]).r).toBe(HcErr.EINVAL);
    const s0 = status(hv, mode, a, 0);
    expect([s0.r, ...s0.out.slice(2)]).toEqual([0, EvtchnState.CLOSED, 0, 0, 0]);
    expect(evtchn(hv, mode, a, EvtchnCmd.UNMASK, [0]).r).toBe(0);
  });

  it('a send on a port bound to a back end in the hypervisor calls its handler once, with the port; nothing is set pending', () => {
    const { hv, mode, a } = three();
    const calls: number[] = [];
    const port = bindHostPort(mode.pv(a), (p) => calls.push(p));
    expect(port).toBe(2);
    const pending = hv.mem.read32(mode.pv(a).sharedInfo + SharedInfo.EVTCHN_PENDING);
    expect(evtchn(hv, mode, a, EvtchnCmd.SEND, [port]).r).toBe(0);
    expect(calls).toEqual([2]);
    expect(hv.mem.read32(mode.pv(a).sharedInfo + SharedInfo.EVTCHN_PENDING)).toBe(pending);
  });

  it('a notification that sets a port pending is traced once, as an event of the receiving domain naming its port', () => {
    const { hv, mode, a, b } = three();
    evtchn(hv, mode, a, EvtchnCmd.ALLOC_UNBOUND, [SELF, b.id]);
    evtchn(hv, mode, b, EvtchnCmd.BIND_INTERDOMAIN, [a.id, 2]);
    const trace = new TraceBuffer({ cycles: 0 });
    hv.setTrace(trace);
    evtchn(hv, mode, a, EvtchnCmd.SEND, [2]);
    evtchn(hv, mode, a, EvtchnCmd.SEND, [2]);
    hv.setTrace(null);
    expect(traceRecords(trace).filter((r) => r.kind === 'event')).toEqual([{ kind: 'event', cycle: 0, dom: b.id, vcpu: 0, a: 2, b: 0 }]);
  });

  it("a block unmasks vCPU 0's upcalls with a host write that drops code cached from the shared-info frame, and no other frame's", () => {
    const { hv, mode, a } = three();
    const si = mode.pv(a).sharedInfo;
    const frame = si >>> 12;
    const maskAddr = si + SharedInfo.VCPU_INFO + VcpuInfo.UPCALL_MASK;
    expect(hv.mem.read8(maskAddr)).toBe(1); // the builder starts vCPU 0 masked
    // as an engine marks the frames it decodes code from (the guest maps its shared-info page);
    // the frame before it too, which a write at the wrong side of vCPU 0's slot would hit
    hv.mem.codePage[frame] = 1;
    hv.mem.codePage[frame - 1] = 1;
    const dropped: number[] = [];
    const previous = hv.mem.onCodeWrite;
    hv.mem.onCodeWrite = (f) => {
      dropped.push(f);
      previous?.(f);
    };
    try {
      expect(hc(hv, mode, a, Hc.SCHED_OP, SchedOp.BLOCK, 0)).toBe(0);
    } finally {
      hv.mem.onCodeWrite = previous;
    }
    expect(hv.mem.read8(maskAddr)).toBe(0);
    expect(dropped).toEqual([frame]);
    expect([hv.mem.codePage[frame], hv.mem.codePage[frame - 1]]).toEqual([0, 1]);
  });
});
