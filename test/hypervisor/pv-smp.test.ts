// Several vCPUs in a pv domain: vcpu_op (initialise, up, down, is_up, run state), a vcpu_info per
// vCPU (upcall pending per vCPU), per-vCPU timers, event channels bound to a vCPU (bind_vcpu,
// bind_ipi, per-vCPU VIRQ TIMER), IPIs over event channels and mmuext_op's multi-vCPU flushes.
// Each rule of these calls has a test here that fails when the rule alone is removed
// (pv-rules.ts; `npm run check:rules`).
import { describe, expect, it } from 'vitest';
import { EvtchnCmd, EvtchnLimits, EvtchnState, Hc, HvLayout, MmuextCmd, RunState, SchedOp, UvmFlags, Virq, VcpuCmd } from '../../hypercalls/numbers.ts';
import { sendVirq } from '../../hypervisor/pv/events.ts';
import { PortState } from '../../hypervisor/pv/state.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { MmuextTargets, SharedInfo, StartInfo, VcpuGuestContext, VcpuInfo } from '../../hypercalls/structs.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import type { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import type { Vcpu } from '../../hypervisor/core/vcpu.ts';
import type { PvMode } from '../../hypervisor/pv/mode.ts';
import { asmGuest, bootstrapPte, hc, loadVcpu, pvDomain, pvHypervisor, r32, scratch, spinGuest, w32 } from './pv-helpers.ts';

const SELF = 0x7ff0;

/** vCPU 1 writes 'B', takes itself down, and (once up again) writes 'C' and spins; vCPU 0 spins. */
const TWO = asmGuest(`
_start:
  jmp _start
second:
  li r0, 18             ; console_io(WRITE, 1, b)
  li r1, 0
  li r2, 1
  li r3, b
  hypercall
  li r0, 24             ; vcpu_op(DOWN, 1)
  li r1, 6
  li r2, 1
  hypercall
  li r0, 18             ; console_io(WRITE, 1, c)
  li r1, 0
  li r2, 1
  li r3, c
  hypercall
spin:
  jmp spin
b:
  .byte 66
c:
  .byte 67`);

const SECOND = TWO.symbols.find((s) => s.name === 'second')!.addr;

function smp(vcpus = 2) {
  const { hv, mode } = pvHypervisor({ scheduler: new RoundRobinScheduler(100_000) });
  const d = pvDomain(hv, mode, 'smp', TWO, { vcpus });
  const other = pvDomain(hv, mode, 'other', spinGuest());
  return { hv, mode, d, other };
}

/** Make hypercall nr as vCPU v (loading it first). */
function hcOn(hv: Hypervisor, mode: PvMode, v: Vcpu, nr: number, ...args: number[]): number {
  loadVcpu(hv, v);
  return mode.hypercall(v, nr, args[0], args[1], args[2], args[3], args[4]);
}

/** A VcpuGuestContext in d's scratch page (page k), with `patch` over good defaults; its address. */
function context(mode: PvMode, d: Domain, patch: Partial<Record<'pc' | 'sp' | 'arg' | 'base' | 'ksp', number>> = {}): number {
  const s = scratch(mode, d, 1);
  const c = { pc: SECOND, sp: s + 4096, arg: 0x1234, base: mode.pv(d).vcpus[0]!.baseptr, ksp: 0, ...patch };
  w32(d, s + VcpuGuestContext.PC, c.pc);
  w32(d, s + VcpuGuestContext.SP, c.sp);
  w32(d, s + VcpuGuestContext.ARG, c.arg);
  w32(d, s + VcpuGuestContext.BASEPTR, c.base);
  w32(d, s + VcpuGuestContext.KERNEL_SP, c.ksp);
  return s;
}

function evtchn(hv: Hypervisor, mode: PvMode, d: Domain, cmd: number, words: number[], v = d.vcpus[0]!): { r: number; out: number[] } {
  const s = scratch(mode, d);
  words.forEach((x, k) => w32(d, s + k * 4, x));
  const r = hcOn(hv, mode, v, Hc.EVENT_CHANNEL_OP, cmd, s);
  return { r, out: [0, 1, 2, 3, 4, 5].map((k) => r32(d, s + k * 4)) };
}

/** vCPU k's upcall_pending byte. */
function upcall(hv: Hypervisor, mode: PvMode, d: Domain, k: number): number {
  return hv.mem.read8(mode.pv(d).sharedInfo + SharedInfo.VCPU_INFO + k * VcpuInfo.BYTES + VcpuInfo.UPCALL_PENDING);
}

describe('pv vCPUs: bring-up', () => {
  it('starts the secondary vCPUs down: never scheduled, is_up 0, start_info says how many there are', () => {
    const { hv, mode, d } = smp(3);
    expect(d.vcpus.map((v) => v.runState)).toEqual(['runnable', 'blocked', 'blocked']);
    expect([0, 1, 2, 3].map((k) => hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.IS_UP, k, 0))).toEqual([1, 0, 0, HcErr.ENOENT]);
    expect(r32(d, 0x1000 + StartInfo.NR_VCPUS)).toBe(3);
    hv.run({ maxCycles: 200_000 });
    expect(d.vcpus[1]!.runCycles).toBe(0);
  });

  it('refuses a pv domain with more vCPUs than the shared-info page has vcpu_info slots', () => {
    const { hv, mode } = pvHypervisor();
    expect(() => pvDomain(hv, mode, 'five', spinGuest(), { vcpus: 5 })).toThrow("domain 'five': a pv domain has at most 4 vCPUs (the shared-info page's vcpu_info slots; got 5)");
  });

  it('up needs an initialised vCPU: EINVAL, and it stays down', () => {
    const { hv, mode, d } = smp();
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.UP, 1, 0)).toBe(HcErr.EINVAL);
    expect([hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.IS_UP, 1, 0), d.vcpus[1]!.runState]).toEqual([0, 'blocked']);
  });

  it('initialise sets the state a vCPU starts in; up runs it: its console write, then it takes itself down', () => {
    const { hv, mode, d } = smp();
    const ctx = context(mode, d, { ksp: 0x8000 });
    const base = mode.pv(d).vcpus[0]!.baseptr;
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, ctx)).toBe(0);
    const a = d.vcpus[1]!.arch;
    expect([a.pc, a.regs[15], a.regs[1], a.cr3, a.cpl, a.ksp[1]]).toEqual([SECOND, ctx + 4096, 0x1234, base * 4096, 1, 0x8000]);
    expect(mode.pv(d).vcpus[1]!.baseptr).toBe(base);
    // events masked until it unmasks them
    expect(hv.mem.read8(mode.pv(d).sharedInfo + VcpuInfo.BYTES + VcpuInfo.UPCALL_MASK)).toBe(1);
    expect(d.vcpus[1]!.runState).toBe('blocked');
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.UP, 1, 0)).toBe(0);
    expect([hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.IS_UP, 1, 0), d.vcpus[1]!.runState]).toEqual([1, 'runnable']);
    hv.run({ maxCycles: 1_000_000 });
    expect(d.consoleOutput()).toBe('B');
    expect([hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.IS_UP, 1, 0), d.vcpus[1]!.runState]).toEqual([0, 'blocked']);
    // up again: it goes on after its DOWN
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.UP, 1, 0)).toBe(0);
    hv.run({ maxCycles: 1_000_000 });
    expect(d.consoleOutput()).toBe('BC');
  });

  it('initialise once: vCPU 0 and an initialised vCPU are EEXIST', () => {
    const { hv, mode, d } = smp();
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 0, context(mode, d))).toBe(HcErr.EEXIST);
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, context(mode, d))).toBe(0);
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, context(mode, d, { pc: 0x100004 }))).toBe(HcErr.EEXIST);
    expect(d.vcpus[1]!.arch.pc).toBe(SECOND);
  });

  it('initialise refuses a context reaching into the hypervisor, or a misaligned stack, before anything changes', () => {
    const { hv, mode, d } = smp();
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, context(mode, d, { pc: HvLayout.BASE }))).toBe(HcErr.EPERM);
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, context(mode, d, { sp: 0x8002 }))).toBe(HcErr.EINVAL);
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, 0x300000)).toBe(HcErr.EFAULT); // beyond its 2 MiB
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 7, context(mode, d))).toBe(HcErr.ENOENT);
    expect([d.vcpus[1]!.arch.pc, mode.pv(d).vcpus[1]!.initialised]).toEqual([0, false]);
  });

  it('initialise takes only a pinned directory of the caller\'s as the page directory', () => {
    const { hv, mode, d, other } = smp();
    const spare = d.p2m[scratch(mode, d, 2) >>> 12]!; // an ordinary frame of its own, never validated
    const types = mode.host.types;
    const before = [types.type[spare], types.typeCount[spare]];
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, context(mode, d, { base: spare }))).toBe(HcErr.EINVAL);
    expect([types.type[spare], types.typeCount[spare]]).toEqual(before);
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, context(mode, d, { base: 1 << 24 }))).toBe(HcErr.EINVAL);
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, context(mode, d, { base: mode.pv(other).vcpus[0]!.baseptr }))).toBe(HcErr.EPERM);
    const base = mode.pv(d).vcpus[0]!.baseptr;
    const refs = types.typeCount[base]!;
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, context(mode, d))).toBe(0);
    // the base-pointer reference, as NEW_BASEPTR takes one
    expect(types.typeCount[base]).toBe(refs + 1);
  });

  it('down takes another vCPU off the scheduler; the run state reports each vCPU\'s own state and times', () => {
    const { hv, mode, d } = smp();
    const created = hv.cpu.cycles;
    hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, context(mode, d));
    const s = scratch(mode, d);
    // an offline vCPU: all its time so far is offline
    hv.run({ maxCycles: 30_000 });
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.GET_RUNSTATE_INFO, 1, s)).toBe(0);
    const now = hv.cpu.cycles;
    const ns = (c: number) => Math.floor((c * 1000) / hv.profile.clockMHz);
    expect([r32(d, s), r32(d, s + 16), r32(d, s + 24), r32(d, s + 32), r32(d, s + 40)]).toEqual([RunState.OFFLINE, 0, 0, 0, ns(now - created)]);
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.UP, 1, 0)).toBe(0);
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.GET_RUNSTATE_INFO, 1, s)).toBe(0);
    expect(r32(d, s)).toBe(RunState.RUNNABLE);
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.DOWN, 1, 0)).toBe(0);
    expect([d.vcpus[1]!.runState, hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.IS_UP, 1, 0)]).toEqual(['blocked', 0]);
    hv.run({ maxCycles: 300_000 });
    expect(d.vcpus[1]!.runCycles).toBe(0);
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.GET_RUNSTATE_INFO, 0, s)).toBe(0);
    expect(r32(d, s)).toBe(RunState.RUNNING);
  });
});

describe('pv vCPUs: events per vCPU', () => {
  it('an IPI port notifies its own vCPU: its upcall_pending, not vCPU 0\'s; status names the vCPU', () => {
    const { hv, mode, d } = smp();
    const ipi = evtchn(hv, mode, d, EvtchnCmd.BIND_IPI, [1, 0]);
    expect(ipi.r).toBe(0);
    const port = ipi.out[1]!;
    expect(evtchn(hv, mode, d, EvtchnCmd.STATUS, [SELF, port]).out.slice(2, 4)).toEqual([EvtchnState.IPI, 1]);
    expect(evtchn(hv, mode, d, EvtchnCmd.SEND, [port]).r).toBe(0);
    expect([upcall(hv, mode, d, 0), upcall(hv, mode, d, 1)]).toEqual([0, 1]);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_IPI, [2, 0]).r).toBe(HcErr.ENOENT);
  });

  it('an event for a down vCPU is left pending: it does not run until up', () => {
    const { hv, mode, d } = smp();
    hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, context(mode, d));
    const port = evtchn(hv, mode, d, EvtchnCmd.BIND_IPI, [1, 0]).out[1]!;
    evtchn(hv, mode, d, EvtchnCmd.SEND, [port]);
    expect([upcall(hv, mode, d, 1), d.vcpus[1]!.runState]).toEqual([1, 'blocked']);
    hv.run({ maxCycles: 1_000_000 });
    expect(d.consoleOutput()).toBe('');
  });

  it('each vCPU binds its own VIRQ TIMER; its timer raises only its own port', () => {
    const { hv, mode, d } = smp();
    const t0 = evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 0, 0]);
    const t1 = evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 1, 0]);
    expect([t0.r, t1.r]).toEqual([0, 0]);
    expect(t1.out[2]).not.toBe(t0.out[2]);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 1, 0]).r).toBe(HcErr.EEXIST);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 2, 0]).r).toBe(HcErr.ENOENT);
    expect(evtchn(hv, mode, d, EvtchnCmd.STATUS, [SELF, t1.out[2]!]).out.slice(2, 5)).toEqual([EvtchnState.VIRQ, 1, Virq.TIMER]);
    // vCPU 1's periodic timer (set by vCPU 0 for it), 0.1 ms
    expect(hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.SET_PERIODIC_TIMER, 1, 100_000)).toBe(0);
    hv.run({ maxCycles: 400_000 });
    expect([upcall(hv, mode, d, 0), upcall(hv, mode, d, 1)]).toEqual([0, 1]);
  });

  it('bind_vcpu moves a port\'s notifications to another vCPU; an IPI or per-vCPU VIRQ port stays with its vCPU', () => {
    const { hv, mode, d, other } = smp();
    const offer = evtchn(hv, mode, d, EvtchnCmd.ALLOC_UNBOUND, [SELF, other.id]).out[2]!;
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [offer, 1]).r).toBe(0);
    expect(evtchn(hv, mode, d, EvtchnCmd.STATUS, [SELF, offer]).out[3]).toBe(1);
    const bound = evtchn(hv, mode, other, EvtchnCmd.BIND_INTERDOMAIN, [d.id, offer], other.vcpus[0]!).out[2]!;
    evtchn(hv, mode, other, EvtchnCmd.SEND, [bound], other.vcpus[0]!);
    expect([upcall(hv, mode, d, 0), upcall(hv, mode, d, 1)]).toEqual([0, 1]);
    const ipi = evtchn(hv, mode, d, EvtchnCmd.BIND_IPI, [1, 0]).out[1]!;
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [ipi, 0]).r).toBe(HcErr.EINVAL);
    const timer = evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 1, 0]).out[2]!;
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [timer, 0]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, d, EvtchnCmd.STATUS, [SELF, ipi]).out[3]).toBe(1);
  });

  it('bind_vcpu needs a port in use and a vCPU the domain has', () => {
    const { hv, mode, d } = smp();
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [77, 1]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [1, 2]).r).toBe(HcErr.ENOENT);
    expect(evtchn(hv, mode, d, EvtchnCmd.STATUS, [SELF, 1]).out[3]).toBe(0);
    expect(evtchn(hv, mode, d, EvtchnCmd.STATUS, [SELF, 77]).out[3]).toBe(0);
  });

  it('a pending event follows its port to the vCPU bind_vcpu names', () => {
    const { hv, mode, d } = smp();
    const offer = evtchn(hv, mode, d, EvtchnCmd.ALLOC_UNBOUND, [SELF, SELF]).out[2]!;
    const local = evtchn(hv, mode, d, EvtchnCmd.BIND_INTERDOMAIN, [SELF, offer]).out[2]!;
    evtchn(hv, mode, d, EvtchnCmd.SEND, [local]);
    expect(upcall(hv, mode, d, 0)).toBe(1);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [offer, 1]).r).toBe(0);
    expect(upcall(hv, mode, d, 1)).toBe(1);
  });
});

describe('pv vCPUs: the event-channel rules for vCPUs, exactly', () => {
  const status = (hv: Hypervisor, mode: PvMode, d: Domain, port: number) => evtchn(hv, mode, d, EvtchnCmd.STATUS, [SELF, port, 99, 99, 99, 99]).out.slice(2);

  it('bind_vcpu refuses port 0, a negative port and one past the last (EINVAL), and vCPU -1 (ENOENT), changing nothing', () => {
    const { hv, mode, d } = smp();
    for (const p of [0, -1, EvtchnLimits.PORTS]) expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [p, 1]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [1, -1]).r).toBe(HcErr.ENOENT);
    expect(mode.pv(d).events.notifyVcpu[1]).toBe(0);
  });

  it('bind_ipi: vCPU -1 is ENOENT; a port word on a read-only page is EFAULT and binds nothing', () => {
    const { hv, mode, d } = smp();
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_IPI, [-1, 0]).r).toBe(HcErr.ENOENT);
    const p1 = scratch(mode, d, 1);
    expect(hc(hv, mode, d, Hc.UPDATE_VA_MAPPING, p1, hv.mem.read32(bootstrapPte(mode, d, p1)) & ~2, UvmFlags.INVLPG)).toBe(0);
    w32(d, p1 - 4, 1);
    expect(hcOn(hv, mode, d.vcpus[0]!, Hc.EVENT_CHANNEL_OP, EvtchnCmd.BIND_IPI, p1 - 4)).toBe(HcErr.EFAULT);
    // port 2 (the first after the console's) is still free
    expect(status(hv, mode, d, 2)).toEqual([EvtchnState.CLOSED, 0, 0, 0]);
  });

  it('bind_virq: a VIRQ of the domain binds on vCPU 0 only (EINVAL), the timer of vCPU -1 is ENOENT', () => {
    const { hv, mode, d } = smp();
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.DEBUG, 1, 0]).r).toBe(HcErr.EINVAL);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, -1, 0]).r).toBe(HcErr.ENOENT);
    expect(status(hv, mode, d, 2)).toEqual([EvtchnState.CLOSED, 0, 0, 0]);
  });

  it('bind_vcpu moves no upcall for a port not pending, or pending but masked; unmasking it then raises the new vCPU\'s', () => {
    const { hv, mode, d } = smp();
    const offer = evtchn(hv, mode, d, EvtchnCmd.ALLOC_UNBOUND, [SELF, SELF]).out[2]!;
    const local = evtchn(hv, mode, d, EvtchnCmd.BIND_INTERDOMAIN, [SELF, offer]).out[2]!;
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [offer, 1]).r).toBe(0);
    expect([upcall(hv, mode, d, 0), upcall(hv, mode, d, 1)]).toEqual([0, 0]);
    // mask the port (the guest's own bit in the shared-info page), then make it pending
    const si = mode.pv(d).sharedInfo;
    hv.mem.write32(si + SharedInfo.EVTCHN_MASK, 1 << offer);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [offer, 0]).r).toBe(0);
    evtchn(hv, mode, d, EvtchnCmd.SEND, [local]);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [offer, 1]).r).toBe(0);
    expect([upcall(hv, mode, d, 0), upcall(hv, mode, d, 1)]).toEqual([0, 0]);
    expect(evtchn(hv, mode, d, EvtchnCmd.UNMASK, [offer]).r).toBe(0);
    expect([upcall(hv, mode, d, 0), upcall(hv, mode, d, 1)]).toEqual([0, 1]);
  });

  it('a VIRQ of the domain may move to another vCPU; closing it frees that VIRQ, and a per-vCPU timer\'s close frees only its vCPU\'s', () => {
    const { hv, mode, d } = smp();
    const debug = evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.DEBUG, 0, 0]).out[2]!;
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [debug, 1]).r).toBe(0);
    expect(status(hv, mode, d, debug)).toEqual([EvtchnState.VIRQ, 1, Virq.DEBUG, 0]);
    sendVirq(mode.pv(d), Virq.DEBUG);
    expect([upcall(hv, mode, d, 0), upcall(hv, mode, d, 1)]).toEqual([0, 1]);
    expect(evtchn(hv, mode, d, EvtchnCmd.CLOSE, [debug]).r).toBe(0);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.DEBUG, 0, 0]).r).toBe(0);
    const t0 = evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 0, 0]).out[2]!;
    const t1 = evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 1, 0]).out[2]!;
    expect(evtchn(hv, mode, d, EvtchnCmd.CLOSE, [t1]).r).toBe(0);
    // a closed port notifies vCPU 0 again
    expect(status(hv, mode, d, t1)).toEqual([EvtchnState.CLOSED, 0, 0, 0]);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 0, 0]).r).toBe(HcErr.EEXIST);
    const again = evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 1, 0]);
    expect([again.r, again.out[2]]).toEqual([0, t1]);
    expect(mode.pv(d).events.virqPort[Virq.TIMER]).toBe(t0);
  });

  it('an IPI may name vCPU 0; with every port in use bind_ipi is ENOSPC and writes nothing', () => {
    const { hv, mode, d } = smp();
    const ipi = evtchn(hv, mode, d, EvtchnCmd.BIND_IPI, [0, 0]);
    expect([ipi.r, ipi.out[1]]).toEqual([0, 2]);
    expect(status(hv, mode, d, 2)).toEqual([EvtchnState.IPI, 0, 0, 0]);
    const ev = mode.pv(d).events;
    for (let p = 3; p < EvtchnLimits.PORTS; p++) ev.state[p] = PortState.IPI;
    const full = evtchn(hv, mode, d, EvtchnCmd.BIND_IPI, [1, 77]);
    expect([full.r, full.out[1]]).toEqual([HcErr.ENOSPC, 77]);
  });

  it('bind_vcpu of a port past the first word: its own pending and mask bits decide, the selector bit of its word is set', () => {
    const { hv, mode, d } = smp();
    const ev = mode.pv(d).events;
    // ports 40 and 41 offered to d itself, 42 and 43 bound to them (loopback)
    for (let p = 2; p < 40; p++) ev.state[p] = PortState.IPI;
    const offer = evtchn(hv, mode, d, EvtchnCmd.ALLOC_UNBOUND, [SELF, SELF]).out[2]!;
    const masked = evtchn(hv, mode, d, EvtchnCmd.ALLOC_UNBOUND, [SELF, SELF]).out[2]!;
    const local = evtchn(hv, mode, d, EvtchnCmd.BIND_INTERDOMAIN, [SELF, offer]).out[2]!;
    const local2 = evtchn(hv, mode, d, EvtchnCmd.BIND_INTERDOMAIN, [SELF, masked]).out[2]!;
    expect([offer, masked, local, local2]).toEqual([40, 41, 42, 43]);
    const si = mode.pv(d).sharedInfo;
    hv.mem.write32(si + SharedInfo.EVTCHN_MASK + 4, 1 << (masked & 31));
    evtchn(hv, mode, d, EvtchnCmd.SEND, [local]);
    evtchn(hv, mode, d, EvtchnCmd.SEND, [local2]);
    expect(hv.mem.read32(si + SharedInfo.EVTCHN_PENDING + 4)).toBe((1 << (offer & 31)) | (1 << (masked & 31)));
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [masked, 1]).r).toBe(0);
    expect(upcall(hv, mode, d, 1)).toBe(0);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VCPU, [offer, 1]).r).toBe(0);
    expect(upcall(hv, mode, d, 1)).toBe(1);
    expect(hv.mem.read32(si + SharedInfo.VCPU_INFO + VcpuInfo.BYTES + VcpuInfo.PENDING_SEL)).toBe(2);
  });

  it('closing an unbound or IPI port leaves the VIRQs bound (vCPU 0\'s timer still raises its port)', () => {
    const { hv, mode, d, other } = smp();
    const timer = evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 0, 0]).out[2]!;
    const offer = evtchn(hv, mode, d, EvtchnCmd.ALLOC_UNBOUND, [SELF, other.id]).out[2]!;
    const ipi = evtchn(hv, mode, d, EvtchnCmd.BIND_IPI, [0, 0]).out[1]!;
    expect(evtchn(hv, mode, d, EvtchnCmd.CLOSE, [offer]).r).toBe(0);
    expect(evtchn(hv, mode, d, EvtchnCmd.CLOSE, [ipi]).r).toBe(0);
    expect(mode.pv(d).events.virqPort[Virq.TIMER]).toBe(timer);
    expect(evtchn(hv, mode, d, EvtchnCmd.BIND_VIRQ, [Virq.TIMER, 0, 0]).r).toBe(HcErr.EEXIST);
    sendVirq(mode.pv(d), Virq.TIMER);
    expect((hv.mem.read32(mode.pv(d).sharedInfo + SharedInfo.EVTCHN_PENDING) >>> timer) & 1).toBe(1);
  });

  it('an argument word on an unmapped page is EFAULT even when the words after it can be read and written (bind_virq, bind_ipi), binding nothing', () => {
    const { hv, mode, d } = smp();
    const p1 = scratch(mode, d, 1);
    const p2 = scratch(mode, d, 2);
    expect(hc(hv, mode, d, Hc.UPDATE_VA_MAPPING, p1, 0, UvmFlags.INVLPG)).toBe(0);
    // bind_virq: VIRQ (unreadable) at p2 - 4, vCPU and port on page 2
    expect(hcOn(hv, mode, d.vcpus[0]!, Hc.EVENT_CHANNEL_OP, EvtchnCmd.BIND_VIRQ, p2 - 4)).toBe(HcErr.EFAULT);
    // bind_ipi: vCPU (unreadable) at p2 - 4, port on page 2
    expect(hcOn(hv, mode, d.vcpus[0]!, Hc.EVENT_CHANNEL_OP, EvtchnCmd.BIND_IPI, p2 - 4)).toBe(HcErr.EFAULT);
    expect(status(hv, mode, d, 2)).toEqual([EvtchnState.CLOSED, 0, 0, 0]);
  });

  it('a port closed after notifying vCPU 1 notifies vCPU 0 when it is allocated again', () => {
    const { hv, mode, d, other } = smp();
    const ipi = evtchn(hv, mode, d, EvtchnCmd.BIND_IPI, [1, 0]).out[1]!;
    expect(evtchn(hv, mode, d, EvtchnCmd.CLOSE, [ipi]).r).toBe(0);
    const offer = evtchn(hv, mode, d, EvtchnCmd.ALLOC_UNBOUND, [SELF, other.id]).out[2]!;
    expect(offer).toBe(ipi);
    const bound = evtchn(hv, mode, other, EvtchnCmd.BIND_INTERDOMAIN, [d.id, offer], other.vcpus[0]!).out[2]!;
    evtchn(hv, mode, other, EvtchnCmd.SEND, [bound], other.vcpus[0]!);
    expect([upcall(hv, mode, d, 0), upcall(hv, mode, d, 1)]).toEqual([1, 0]);
  });
});

describe('pv vCPUs: TLB flushes for a vCPU mask', () => {
  function flush(hv: Hypervisor, mode: PvMode, d: Domain, cmd: number, mask: number, va = 0): number {
    const s = scratch(mode, d);
    w32(d, s, cmd);
    w32(d, s + 4, s + 64);
    w32(d, s + 64 + MmuextTargets.VCPU_MASK, mask);
    w32(d, s + 64 + MmuextTargets.VA, va);
    return hc(hv, mode, d, Hc.MMUEXT_OP, s, 1, 0);
  }

  it('flushes the caller\'s TLB only when the mask names it; the others named are counted', () => {
    const { hv, mode, d } = smp();
    loadVcpu(hv, d.vcpus[0]!);
    const st = hv.cpu.stats;
    const [f0, i0] = [st.tlbFlushes, st.invlpgs];
    expect(flush(hv, mode, d, MmuextCmd.TLB_FLUSH_MULTI, 0b10)).toBe(0);
    expect([st.tlbFlushes - f0, mode.pv(d).vcpus[1]!.remoteFlushes]).toEqual([0, 1]);
    expect(flush(hv, mode, d, MmuextCmd.TLB_FLUSH_MULTI, 0b11)).toBe(0);
    expect([st.tlbFlushes - f0, mode.pv(d).vcpus[1]!.remoteFlushes, mode.pv(d).vcpus[0]!.localFlushes]).toEqual([1, 2, 1]);
    expect(flush(hv, mode, d, MmuextCmd.INVLPG_MULTI, 0b01, 0x200000)).toBe(0);
    expect([st.tlbFlushes - f0, st.invlpgs - i0]).toEqual([1, 1]);
  });

  it('refuses a mask that names no vCPU or one the domain lacks, flushing nothing', () => {
    const { hv, mode, d } = smp();
    loadVcpu(hv, d.vcpus[0]!);
    const f0 = hv.cpu.stats.tlbFlushes;
    expect(flush(hv, mode, d, MmuextCmd.TLB_FLUSH_MULTI, 0)).toBe(HcErr.EINVAL);
    expect(flush(hv, mode, d, MmuextCmd.TLB_FLUSH_MULTI, 0b101)).toBe(HcErr.EINVAL);
    expect(flush(hv, mode, d, MmuextCmd.INVLPG_MULTI, 1 << 31, 0x200000)).toBe(HcErr.EINVAL);
    expect([hv.cpu.stats.tlbFlushes - f0, mode.pv(d).vcpus[0]!.localFlushes, mode.pv(d).vcpus[1]!.remoteFlushes]).toEqual([0, 0, 0]);
  });
});

describe('pv vCPUs: the running vCPU\'s number', () => {
  it('is at HvLayout.VCPU_ID, read-only, rewritten at every world switch', () => {
    const { hv, mode, d } = smp();
    const idt = mode.pv(d).idtMfn * 4096 + (HvLayout.VCPU_ID - HvLayout.IDT);
    hc(hv, mode, d, Hc.VCPU_OP, VcpuCmd.INITIALISE, 1, context(mode, d));
    loadVcpu(hv, d.vcpus[1]!);
    expect(hv.mem.read32(idt)).toBe(1);
    loadVcpu(hv, d.vcpus[0]!);
    expect(hv.mem.read32(idt)).toBe(0);
  });
});

describe('pv vCPUs: yielding spinlocks', () => {
  it('counts a spinning lock\'s yields and the cycles it says it spun; a plain yield (0) counts nothing', () => {
    const { hv, mode, d } = smp();
    hv.run({ maxCycles: 1_000_000 }); // vCPU 0 ran its last 10,000 cycles and more (the spinning guest's)
    expect(hc(hv, mode, d, Hc.SCHED_OP, SchedOp.YIELD, 5000, 0)).toBe(0);
    expect(hc(hv, mode, d, Hc.SCHED_OP, SchedOp.YIELD, 0, 0)).toBe(0);
    expect(hc(hv, mode, d, Hc.SCHED_OP, SchedOp.YIELD, -7, 0)).toBe(0);
    expect(hc(hv, mode, d, Hc.SCHED_OP, SchedOp.YIELD, 1200, 0)).toBe(0);
    const v0 = mode.pv(d).vcpus[0]!;
    expect([v0.spinYields, v0.spinCycles]).toEqual([2, 6200]);
  });

  it('counts only the cycles the spinning vCPU itself ran during its wait, not the others\' turns', () => {
    const { hv, mode, d } = smp();
    hv.run({ maxCycles: 1_000_000 });
    const v0 = mode.pv(d).vcpus[0]!;
    const now = hv.cpu.cycles;
    // it ran [now-9000, now-6000) and runs since now-1000; another vCPU had the CPU in between
    v0.stretchStart.fill(0);
    v0.stretchEnd.fill(0);
    v0.stretchStart[0] = now - 9000;
    v0.stretchEnd[0] = now - 6000;
    v0.runningSince = now - 1000;
    v0.spinYields = v0.spinCycles = 0;
    loadVcpu(hv, d.vcpus[0]!);
    expect(mode.hypercall(d.vcpus[0]!, Hc.SCHED_OP, SchedOp.YIELD, 8000, 0)).toBe(0);
    // the wait began at now-8000: 2000 of the first stretch, 1000 of this one
    expect([v0.spinYields, v0.spinCycles]).toEqual([1, 3000]);
  });

  it('a yield under round robin sends the vCPU behind the others, with a fresh slice for the next', () => {
    const sched = new RoundRobinScheduler(1000);
    const fake = (id: number) => ({ id, runState: 'runnable' }) as unknown as Vcpu;
    const [a, b, c] = [fake(0), fake(1), fake(2)];
    for (const v of [a, b, c]) sched.add(v);
    expect(sched.pick(0)).toBe(a);
    sched.account(a, 400);
    sched.yield(b); // not the head: nothing
    expect(sched.runnable()).toEqual([a, b, c]);
    sched.yield(a);
    expect(sched.runnable()).toEqual([b, c, a]);
    expect([sched.pick(400), sched.budget(b)]).toEqual([b, 1000]);
  });
});
