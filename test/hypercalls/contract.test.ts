// The guest/hypervisor contract defined once in hypercalls/: early Xen's numbering, errno-like
// error codes, struct layouts whose fields fit and do not overlap, the hypervisor's table
// registering exactly the numbered calls, and typed guest stubs that compile to one HYPERCALL
// with the right number in r0.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Hc, EvtchnLimits, GrantLimits, HvLayout } from '../../hypercalls/numbers.ts';
import * as NumbersModule from '../../hypercalls/numbers.ts';
import * as ErrorsModule from '../../hypercalls/errors.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import * as S from '../../hypercalls/structs.ts';
import * as RingModule from '../../hypercalls/ring.ts';
import { RingHeader } from '../../hypercalls/ring.ts';
import { standardHypercalls } from '../../hypervisor/pv/hypercalls.ts';
import { compile } from '../../toolchain/compiler/index.ts';

/** The numbered calls, with early Xen's names. */
const CALLS: [number, string][] = [
  [0, 'set_trap_table'], [1, 'mmu_update'], [3, 'stack_switch'], [4, 'set_callbacks'], [6, 'sched_op'], [7, 'dom0_op'],
  [12, 'memory_op'], [13, 'multicall'], [14, 'update_va_mapping'], [15, 'set_timer_op'], [16, 'event_channel_op'],
  [17, 'xen_version'], [18, 'console_io'], [20, 'grant_table_op'], [24, 'vcpu_op'], [26, 'mmuext_op'],
];

/**
 * The members of a `const enum` as [name, value] pairs. tsx compiles each file on its own, so a
 * const enum stays a runtime object of its module (reached through the module namespace, as the
 * type checker allows no other value use of a const enum).
 */
function members(mod: object, name: string): [string, number][] {
  const e = (mod as Record<string, unknown>)[name] as Record<string, unknown>;
  return Object.entries(e).filter(([k, v]) => typeof v === 'number' && Number.isNaN(Number(k))) as [string, number][];
}

describe('hypercall numbers and errors', () => {
  it("numbers the calls as early Xen did, and the hypervisor's table registers exactly those", () => {
    const table = standardHypercalls();
    const registered = table.entries.flatMap((e, nr) => (e ? [[nr, e.name] as [number, string]] : []));
    expect(registered).toEqual(CALLS);
    const numbers = members(NumbersModule, 'Hc').filter(([k]) => !['EXPERIMENT_FIRST', 'EXPERIMENT_LAST', 'COUNT'].includes(k)).map(([, v]) => v);
    expect(numbers.sort((a, b) => a - b)).toEqual(CALLS.map(([n]) => n));
    expect(Hc.EXPERIMENT_LAST).toBeLessThan(Hc.COUNT);
  });

  it('has negative, distinct, errno-valued error codes', () => {
    const errs = members(ErrorsModule, 'HcErr').filter(([k]) => k !== 'OK');
    expect(new Set(errs.map(([, v]) => v)).size).toBe(errs.length);
    for (const [, v] of errs) expect(v).toBeLessThan(0);
    expect([HcErr.EPERM, HcErr.ENOENT, HcErr.EFAULT, HcErr.EBUSY, HcErr.EINVAL, HcErr.ENOSYS]).toEqual([-1, -2, -14, -16, -22, -38]);
  });
});

/** [struct, field sizes by name (default 4)] for every argument and page layout. */
const LAYOUTS: [string, object, Record<string, number>][] = [
  ['TrapInfo', S, {}],
  ['MmuUpdate', S, {}],
  ['MmuextOp', S, {}],
  ['MulticallEntry', S, {}],
  ['EvtchnAllocUnbound', S, {}],
  ['EvtchnBindInterdomain', S, {}],
  ['EvtchnBindVirq', S, {}],
  ['EvtchnPort', S, {}],
  ['EvtchnStatus', S, {}],
  ['GrantEntry', S, { FLAGS: 2, DOMID: 2 }],
  ['GntMap', S, {}],
  ['GntUnmap', S, {}],
  ['GntSetup', S, {}],
  ['GntQuery', S, {}],
  ['MemoryReservation', S, {}],
  ['DomainInfo', S, { CPU_CYCLES: 8 }],
  ['ConsoleRing', S, { IN: 1024, OUT: 2048 }],
  ['VcpuRunstate', S, { STATE_ENTRY_TIME: 8, TIME: 32 }],
  ['StartInfo', S, { CMDLINE: 1024 }],
  ['SharedInfo', S, { VCPU_INFO: 256, EVTCHN_PENDING: 128, EVTCHN_MASK: 128 }],
  ['VcpuInfo', S, { UPCALL_PENDING: 1, UPCALL_MASK: 1, TIME: 32 }],
  ['VcpuTime', S, { TSC_TIMESTAMP: 8, SYSTEM_TIME: 8 }],
  ['BlkifReq', S, { SEG: 48 }],
  ['BlkifSeg', S, {}],
  ['BlkifRsp', S, {}],
  ['RingHeader', RingModule, {}],
  ['FrontRing', RingModule, {}],
];

/** Members that are sizes or counts, not field offsets. */
const NOT_FIELDS = new Set(['BYTES', 'MAX_ENTRIES', 'MAX_BATCH', 'MAX_VCPUS', 'CMDLINE_BYTES', 'MAX_SEGMENTS', 'SLOTS', 'IN_BYTES', 'OUT_BYTES']);

describe('struct layouts', () => {
  it.each(LAYOUTS)('%s: fields aligned, inside the struct, not overlapping', (name, mod, sizes) => {
    const all = Object.fromEntries(members(mod, name));
    const bytes = all.BYTES ?? (name === 'RingHeader' ? RingHeader.SLOTS : undefined);
    expect(bytes).toBeDefined();
    const fields = members(mod, name).filter(([k]) => !NOT_FIELDS.has(k)).map(([k, off]) => ({ k, off, size: sizes[k] ?? 4 })).sort((a, b) => a.off - b.off);
    for (const f of fields) {
      expect(f.off % Math.min(f.size, 4), `${f.k} is aligned`).toBe(0);
      expect(f.off + f.size, `${f.k} fits`).toBeLessThanOrEqual(bytes!);
    }
    fields.slice(1).forEach((f, k) => expect(f.off, `${f.k} starts after ${fields[k]!.k}`).toBeGreaterThanOrEqual(fields[k]!.off + fields[k]!.size));
  });

  it('fits the pages and limits together: shared info, start_info, rings, grant frames, the hypervisor range', () => {
    expect(S.SharedInfo.VCPU_INFO + S.SharedInfo.MAX_VCPUS * S.VcpuInfo.BYTES).toBeLessThanOrEqual(S.SharedInfo.EVTCHN_PENDING);
    expect(EvtchnLimits.PORTS / 8).toBe(128);
    expect(EvtchnLimits.WORDS * 32).toBe(EvtchnLimits.PORTS);
    expect(S.SharedInfo.BYTES).toBeLessThanOrEqual(4096);
    expect(S.VcpuInfo.TIME + S.VcpuTime.BYTES).toBeLessThanOrEqual(S.VcpuInfo.BYTES);
    expect(S.StartInfo.CMDLINE + S.StartInfo.CMDLINE_BYTES).toBe(S.StartInfo.BYTES);
    expect(S.StartInfo.BYTES).toBeLessThanOrEqual(4096);
    expect(S.BlkifReq.SEG + S.BlkifReq.MAX_SEGMENTS * S.BlkifSeg.BYTES).toBeLessThanOrEqual(S.BlkifReq.BYTES);
    expect(Math.max(S.BlkifReq.BYTES, S.BlkifRsp.BYTES)).toBeLessThanOrEqual(S.BlkifRing.SLOT_BYTES);
    expect(S.BlkifRing.SLOTS & (S.BlkifRing.SLOTS - 1)).toBe(0);
    expect(RingHeader.SLOTS + S.BlkifRing.SLOTS * S.BlkifRing.SLOT_BYTES).toBeLessThanOrEqual(4096);
    expect(GrantLimits.ENTRIES_PER_FRAME * S.GrantEntry.BYTES).toBe(4096);
    expect(HvLayout.BASE >>> 22).toBe(HvLayout.PDE);
    expect(HvLayout.M2P - HvLayout.BASE + HvLayout.MAX_MACHINE_FRAMES * 4).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(S.BootLayout.START_INFO + 4096).toBe(S.BootLayout.SHARED_INFO);
    expect(S.ConsoleRing.IN + S.ConsoleRing.IN_BYTES).toBe(S.ConsoleRing.OUT);
    expect(S.ConsoleRing.OUT + S.ConsoleRing.OUT_BYTES).toBe(S.ConsoleRing.IN_CONS);
    expect(S.ConsoleRing.BYTES).toBeLessThanOrEqual(4096);
    expect([S.ConsoleRing.IN_BYTES & (S.ConsoleRing.IN_BYTES - 1), S.ConsoleRing.OUT_BYTES & (S.ConsoleRing.OUT_BYTES - 1)]).toEqual([0, 0]);
    expect(S.BootLayout.CONSOLE_RING % 4096).toBe(0);
    expect(S.BootLayout.CONSOLE_RING).toBeLessThan(S.BootLayout.KERNEL_MIN);
  });
});

describe('typed guest stubs', () => {
  const asm = compile(fileURLToPath(new URL('../guest-programs/pv/all-stubs.ts', import.meta.url)), { arch: 'pv' }).asm;
  /** The instructions of compiled function `name` (module.name). */
  const body = (name: string): string[] => {
    const lines = asm.split('\n');
    const start = lines.indexOf(`${name}:`);
    expect(start, name).toBeGreaterThanOrEqual(0);
    const end = lines.indexOf('.endfunc', start);
    return lines.slice(start + 1, end).map((l) => l.trim());
  };
  const STUBS: [string, number][] = [
    ['hcSetTrapTable', Hc.SET_TRAP_TABLE], ['hcMmuUpdate', Hc.MMU_UPDATE], ['hcStackSwitch', Hc.STACK_SWITCH],
    ['hcSetCallbacks', Hc.SET_CALLBACKS], ['hcSchedOp', Hc.SCHED_OP], ['hcMemoryOp', Hc.MEMORY_OP], ['hcMulticall', Hc.MULTICALL],
    ['hcUpdateVaMapping', Hc.UPDATE_VA_MAPPING], ['hcSetTimerOp', Hc.SET_TIMER_OP], ['hcEventChannelOp', Hc.EVENT_CHANNEL_OP],
    ['hcXenVersion', Hc.XEN_VERSION], ['hcConsoleIo', Hc.CONSOLE_IO], ['hcGrantTableOp', Hc.GRANT_TABLE_OP],
    ['hcVcpuOp', Hc.VCPU_OP], ['hcMmuextOp', Hc.MMUEXT_OP], ['hcDom0Op', Hc.DOM0_OP],
  ];

  it.each(STUBS)('%s loads %i into r0 and makes exactly one HYPERCALL', (name, nr) => {
    const code = body(`guest.${name}`);
    expect(code.filter((l) => l === 'hypercall')).toHaveLength(1);
    const hcAt = code.indexOf('hypercall');
    expect(code.slice(0, hcAt)).toContain(`li r0, ${nr}`);
  });
});
