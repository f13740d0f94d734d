// The small hypercalls and the dispatch table: multicall (a nested one is refused), memory_op
// (ballooning within the quota), console_io, xen_version, vcpu_op, stack_switch, sched_op,
// unknown numbers, and registering an experimental hypercall.
import { describe, expect, it } from 'vitest';
import { ConsoleCmd, EvtchnCmd, Hc, HcVersion, MemoryCmd, SchedOp, UvmFlags, VcpuCmd, Virq, XenVersionCmd } from '../../hypercalls/numbers.ts';
import { feedConsole } from '../../hypervisor/pv/hypercalls.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { OWNER_FREE } from '../../hypervisor/core/frames.ts';
import { hc, pvDomain, pvHypervisor, r32, scratch, spinGuest, w32 } from './pv-helpers.ts';

const SELF = 0x7ff0;

function one(input?: string) {
  const { hv, mode } = pvHypervisor();
  const d = pvDomain(hv, mode, 'a', spinGuest(), input !== undefined ? { input } : {});
  const b = pvDomain(hv, mode, 'b', spinGuest());
  return { hv, mode, d, b, call: (nr: number, ...args: number[]) => hc(hv, mode, d, nr, ...args) };
}

describe('pv multicall', () => {
  it('runs each entry and stores its result; a nested multicall is refused, the rest go on', () => {
    const t = one();
    const s = scratch(t.mode, t.d);
    const entries = [
      [Hc.XEN_VERSION, -1, XenVersionCmd.VERSION, 0, 0, 0, 0],
      [Hc.MULTICALL, -1, s, 1, 0, 0, 0],
      [Hc.MMUEXT_OP, -1, s + 0x400, 1, 0, 0, 0],
      [33, -1, 0, 0, 0, 0, 0],
      [Hc.STACK_SWITCH, -1, 0x104ff0, 0, 0, 0, 0],
    ];
    entries.forEach((e, k) => e.forEach((v, j) => w32(t.d, s + k * 28 + j * 4, v)));
    w32(t.d, s + 0x400, 77); // an unknown mmuext command
    expect(t.call(Hc.MULTICALL, s, entries.length)).toBe(0);
    expect(entries.map((_, k) => r32(t.d, s + k * 28 + 4))).toEqual([HcVersion.PACKED, HcErr.EINVAL, HcErr.EINVAL, HcErr.ENOSYS, 0]);
    expect(t.hv.cpu.ksp[1]).toBe(0x104ff0);
    // one entry into the hypervisor; each entry is counted as a call made inside a multicall
    const multicalled = t.mode.pv(t.d).stats.multicalled;
    expect([t.d.stats.hypercalls[Hc.MULTICALL], t.d.stats.hypercalls[Hc.XEN_VERSION], t.d.stats.hypercalls[Hc.STACK_SWITCH]]).toEqual([1, 0, 0]);
    expect([multicalled[Hc.MULTICALL], multicalled[Hc.XEN_VERSION], multicalled[Hc.STACK_SWITCH], multicalled[Hc.MMUEXT_OP]]).toEqual([1, 1, 1, 1]);
    expect(t.call(Hc.MULTICALL, s, 65)).toBe(HcErr.E2BIG);
    expect(t.call(Hc.MULTICALL, s, -1)).toBe(HcErr.EINVAL);
    expect(t.call(Hc.MULTICALL, 0x800000, 1)).toBe(HcErr.EFAULT);
  });
});

describe('pv memory_op (ballooning)', () => {
  it('gives frames back and takes them again, never beyond the quota', () => {
    const t = one();
    const s = scratch(t.mode, t.d);
    const list = s + 0x100;
    const reservation = (cmd: number, n: number, order = 0, dom = SELF) => {
      [list, n, order, dom].forEach((v, k) => w32(t.d, s + k * 4, v));
      return t.call(Hc.MEMORY_OP, cmd, s);
    };
    expect(t.call(Hc.MEMORY_OP, MemoryCmd.CURRENT_RESERVATION, 0)).toBe(512);
    expect(t.call(Hc.MEMORY_OP, MemoryCmd.MAXIMUM_RESERVATION, 0)).toBe(512);
    // a frame still mapped cannot leave
    const frame = t.d.p2m[0x1f0]!;
    w32(t.d, list, frame);
    expect(reservation(MemoryCmd.DECREASE_RESERVATION, 1)).toBe(HcErr.EBUSY);
    expect(t.call(Hc.UPDATE_VA_MAPPING, 0x1f0000, 0, UvmFlags.INVLPG)).toBe(0);
    expect(reservation(MemoryCmd.DECREASE_RESERVATION, 1)).toBe(1);
    expect(t.hv.frames.owner[frame]).toBe(OWNER_FREE);
    expect(t.d.p2m[0x1f0]).toBe(-1);
    expect(t.mode.host.m2p[frame]).toBe(-1);
    expect(t.call(Hc.MEMORY_OP, MemoryCmd.CURRENT_RESERVATION, 0)).toBe(511);
    // one frame of room under the quota: of three asked for, one comes back, in the hole
    expect(reservation(MemoryCmd.INCREASE_RESERVATION, 3)).toBe(1);
    const got = r32(t.d, list);
    expect(t.hv.frames.owner[got]).toBe(t.d.id);
    expect(t.d.p2m[0x1f0]).toBe(got);
    expect(t.mode.host.m2p[got]).toBe(0x1f0);
    expect(reservation(MemoryCmd.INCREASE_RESERVATION, 1)).toBe(HcErr.ENOMEM);
    expect(t.call(Hc.MEMORY_OP, MemoryCmd.CURRENT_RESERVATION, 0)).toBe(512);
    // other domains' frames, page tables, large extents and other domains' reservations are refused
    w32(t.d, list, t.b.p2m[0x1f0]!);
    expect(reservation(MemoryCmd.DECREASE_RESERVATION, 1)).toBe(HcErr.EPERM);
    w32(t.d, list, t.d.p2m[0x103]!);
    expect(reservation(MemoryCmd.DECREASE_RESERVATION, 1)).toBe(HcErr.EBUSY);
    expect(reservation(MemoryCmd.INCREASE_RESERVATION, 1, 1)).toBe(HcErr.EINVAL);
    expect(reservation(MemoryCmd.INCREASE_RESERVATION, 1, 0, t.b.id)).toBe(HcErr.EPERM);
    expect(reservation(MemoryCmd.INCREASE_RESERVATION, 1025)).toBe(HcErr.E2BIG);
    expect(t.call(Hc.MEMORY_OP, 9, s)).toBe(HcErr.EINVAL);
    expect(t.hv.frames.owner[t.b.p2m[0x1f0]!]).toBe(t.b.id);
  });

  it('takes a frame out of the slot it really fills, whatever the guest wrote into its m2p entry', () => {
    const t = one();
    const s = scratch(t.mode, t.d);
    const f = t.d.p2m[0x1f0]!;
    expect(t.call(Hc.UPDATE_VA_MAPPING, 0x1f0000, 0, UvmFlags.INVLPG)).toBe(0);
    // the guest claims f is its frame 5 (its m2p entry is its own to keep)
    w32(t.d, s, (f * 4096) | 1);
    w32(t.d, s + 4, 5);
    expect(t.call(Hc.MMU_UPDATE, s, 1, 0)).toBe(0);
    expect(t.mode.host.m2p[f]).toBe(5);
    w32(t.d, s + 0x100, f);
    [s + 0x100, 1, 0, SELF].forEach((v, k) => w32(t.d, s + 0x40 + k * 4, v));
    expect(t.call(Hc.MEMORY_OP, MemoryCmd.DECREASE_RESERVATION, s + 0x40)).toBe(1);
    // its slot 0x1f0 is empty and slot 5 untouched: the domain's memory cannot reach f any more
    expect([t.d.p2m[0x1f0], t.d.p2m[5] === f, t.mode.host.m2p[f], t.hv.frames.owner[f]]).toEqual([-1, false, -1, OWNER_FREE]);
    expect(t.d.memory.machineAddress(0x1f0000)).toBe(-1);
  });
});

describe('pv console_io, xen_version, vcpu_op, stack_switch, sched_op', () => {
  it('writes to the domain console and reads its input without blocking', () => {
    const t = one('hi');
    const s = scratch(t.mode, t.d);
    w32(t.d, s, 0x0a6b6f); // "ok\n"
    expect(t.call(Hc.CONSOLE_IO, ConsoleCmd.WRITE, 3, s)).toBe(3);
    expect(t.d.consoleOutput()).toBe('ok\n');
    expect(t.call(Hc.CONSOLE_IO, ConsoleCmd.READ, 8, s + 16)).toBe(2);
    expect(r32(t.d, s + 16) & 0xffff).toBe(0x6968);
    expect(t.call(Hc.CONSOLE_IO, ConsoleCmd.READ, 8, s + 16)).toBe(0);
    expect(t.call(Hc.CONSOLE_IO, ConsoleCmd.WRITE, 3, 0x800000)).toBe(HcErr.EFAULT);
    expect(t.call(Hc.CONSOLE_IO, ConsoleCmd.WRITE, 4097, s)).toBe(HcErr.EINVAL);
    expect(t.call(Hc.CONSOLE_IO, 2, 1, s)).toBe(HcErr.EINVAL);
    // a guest without a console ring (it never notified the ring's port) hears of input on VIRQ CONSOLE
    w32(t.d, s, Virq.CONSOLE);
    w32(t.d, s + 4, 0);
    expect(t.call(Hc.EVENT_CHANNEL_OP, EvtchnCmd.BIND_VIRQ, s)).toBe(0);
    feedConsole(t.mode.pv(t.d), 'more');
    expect(t.mode.pv(t.d).stats.eventsPending).toBe(1);
    expect(t.call(Hc.CONSOLE_IO, ConsoleCmd.READ, 8, s + 16)).toBe(4);
  });

  it('answers xen_version with the interface version and strings', () => {
    const t = one();
    const s = scratch(t.mode, t.d);
    expect(t.call(Hc.XEN_VERSION, XenVersionCmd.VERSION, 0)).toBe(0x10000);
    expect(t.call(Hc.XEN_VERSION, XenVersionCmd.EXTRAVERSION, s)).toBe(0);
    expect(new TextDecoder().decode(t.d.memory.readBytes(s, 10)!)).toBe('-xenolith\0');
    expect(t.call(Hc.XEN_VERSION, XenVersionCmd.CAPABILITIES, 0x800000)).toBe(HcErr.EFAULT);
    expect(t.call(Hc.XEN_VERSION, 9, s)).toBe(HcErr.EINVAL);
  });

  it('vcpu_op: one vCPU up, its run state, the periodic timer with a sane period', () => {
    const t = one();
    const s = scratch(t.mode, t.d);
    expect(t.call(Hc.VCPU_OP, VcpuCmd.IS_UP, 0, 0)).toBe(1);
    expect(t.call(Hc.VCPU_OP, VcpuCmd.IS_UP, 1, 0)).toBe(HcErr.ENOENT);
    expect(t.call(Hc.VCPU_OP, VcpuCmd.GET_RUNSTATE_INFO, 0, s)).toBe(0);
    expect(r32(t.d, s)).toBe(0);
    expect(t.call(Hc.VCPU_OP, VcpuCmd.GET_RUNSTATE_INFO, 0, 0x800000)).toBe(HcErr.EFAULT);
    expect(t.call(Hc.VCPU_OP, VcpuCmd.SET_PERIODIC_TIMER, 0, 100)).toBe(HcErr.EINVAL);
    expect(t.call(Hc.VCPU_OP, VcpuCmd.SET_PERIODIC_TIMER, 0, 1_000_000)).toBe(0);
    expect(t.mode.pv(t.d).vcpus[0]!.periodCycles).toBe(3_000_000);
    expect(t.call(Hc.VCPU_OP, VcpuCmd.STOP_PERIODIC_TIMER, 0, 0)).toBe(0);
    expect(t.call(Hc.VCPU_OP, 7, 0, 0)).toBe(HcErr.EINVAL);
  });

  it('stack_switch sets the ring-1 stack, never in the hypervisor range; sched_op checks its commands', () => {
    const t = one();
    expect(t.call(Hc.STACK_SWITCH, 0x104ff0)).toBe(0);
    expect(t.hv.cpu.ksp[1]).toBe(0x104ff0);
    expect(t.call(Hc.STACK_SWITCH, 0xffc01000)).toBe(HcErr.EPERM);
    expect(t.call(Hc.STACK_SWITCH, 0x104ff2)).toBe(HcErr.EINVAL); // misaligned
    expect(t.hv.cpu.ksp[1]).toBe(0x104ff0);
    expect(t.call(Hc.SCHED_OP, 9, 0, 0)).toBe(HcErr.EINVAL);
    expect(t.call(Hc.SCHED_OP, SchedOp.SHUTDOWN, 9, 0)).toBe(HcErr.EINVAL);
    expect(t.d.stopped).toBe(false);
    expect(t.call(Hc.SCHED_OP, SchedOp.SHUTDOWN, 3, 0)).toBe(0);
    expect([t.d.stopReason, t.d.stopDetail]).toEqual(['crashed', 'the guest reported a crash']);
    expect(t.b.stopped).toBe(false);
  });
});

describe('pv hypercall table', () => {
  it('answers numbers nobody registered with ENOSYS', () => {
    const t = one();
    for (const nr of [2, 5, 23, Hc.EXPERIMENT_FIRST, Hc.COUNT, 1000, -1]) expect(t.call(nr)).toBe(HcErr.ENOSYS);
    expect(t.d.stopped).toBe(false);
  });

  it('registers an experimental hypercall once, in range', () => {
    const t = one();
    t.mode.table.register(Hc.EXPERIMENT_FIRST, 'double', (_c, a1) => a1 * 2);
    expect(t.call(Hc.EXPERIMENT_FIRST, 21)).toBe(42);
    expect(t.mode.table.name(Hc.EXPERIMENT_FIRST)).toBe('double');
    expect(() => t.mode.table.register(Hc.EXPERIMENT_FIRST, 'again', () => 0)).toThrow("hypercall 40 is already 'double'");
    expect(() => t.mode.table.register(Hc.COUNT, 'big', () => 0)).toThrow('hypercall number 48 is outside 0..47');
  });
});
