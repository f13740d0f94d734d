// Validation rules of the PV mode that no other test pinned (issue 9, item 2): each test here
// fails when its rule alone is removed (pv-rules.ts lists every rule with its test, and
// `npm run check:rules` removes each in turn and runs its test).
import { describe, expect, it } from 'vitest';
import { Dom0Cmd, Hc, EvtchnCmd, GnttabCmd, GntmapFlags, GrantFlags, HvLayout, MemoryCmd, MmuextCmd, UvmFlags } from '../../hypercalls/numbers.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { Exit } from '../../machine/types.ts';
import { BvtScheduler } from '../../hypervisor/pv/bvt.ts';
import { STORE_GUEST, hc, loadVcpu, pvDomain, pvHypervisor, r32, scratch, w32, PAGE } from './pv-helpers.ts';

const P = 1;
const W = 2;
const SELF = 0x7ff0;


function twoDomains() {
  const { hv, mode } = pvHypervisor();
  const a = pvDomain(hv, mode, 'a', STORE_GUEST);
  const b = pvDomain(hv, mode, 'b', STORE_GUEST);
  const types = mode.host.types;
  const lay = (d: typeof a) => mode.layouts.get(d.id)!;
  const l2Of = (d: typeof a) => d.p2m[lay(d).ptFirstPfn]!;
  const l1Of = (d: typeof a) => d.p2m[lay(d).ptFirstPfn + 1]!;
  const s = scratch(mode, a);
  const update = (d: typeof a, ptr: number, val: number) => {
    w32(d, scratch(mode, d), ptr);
    w32(d, scratch(mode, d) + 4, val);
    return hc(hv, mode, d, Hc.MMU_UPDATE, scratch(mode, d), 1, 0);
  };
  const ext = (d: typeof a, cmd: number, arg: number) => {
    w32(d, scratch(mode, d), cmd);
    w32(d, scratch(mode, d) + 4, arg);
    return hc(hv, mode, d, Hc.MMUEXT_OP, scratch(mode, d), 1, 0);
  };
  const store = (d: typeof a, va: number, value: number): boolean => {
    loadVcpu(hv, d.vcpus[0]!);
    hv.cpu.regs[1] = va;
    hv.cpu.regs[2] = value;
    hv.cpu.pc = STORE_GUEST.symbols.find((x) => x.name === 'store')!.addr;
    return hv.cpu.run(hv.cpu.cycles + 1000) === Exit.Hypercall;
  };
  return { hv, mode, a, b, types, s, l2Of, l1Of, update, ext, store };
}

describe('pv validation rules', () => {
  it('owner check: a directory entry naming its own grant-table frame or shared-info page is EPERM, and their types do not change', () => {
    const t = twoDomains();
    [SELF, 1, -1, t.s + 0x100].forEach((v, k) => w32(t.a, t.s + 0x40 + k * 4, v));
    expect(hc(t.hv, t.mode, t.a, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, t.s + 0x40, 1)).toBe(0);
    const table = r32(t.a, t.s + 0x100);
    const pd = t.mode.pv(t.a);
    expect(t.mode.host.mayMap(t.a.id, table)).toBe(true);
    expect(t.types.describe(table)).toMatchObject({ type: 'none', typeCount: 0, refCount: 0 });
    for (const f of [table, pd.sharedInfoMfn]) {
      const before = t.types.describe(f);
      expect(t.update(t.a, t.l2Of(t.a) * PAGE + 4, (f * PAGE) | P | W)).toBe(HcErr.EPERM);
      expect(t.types.describe(f)).toEqual(before);
      expect(t.hv.mem.read32(t.l2Of(t.a) * PAGE + 4)).toBe(0);
    }
  });

  it("owner check: a directory entry naming another domain's live L1 is EPERM, whatever that L1's type count", () => {
    const t = twoDomains();
    const theirs = t.l1Of(t.b);
    const before = t.types.describe(theirs);
    expect(before).toMatchObject({ owner: t.b.id, type: 'L1', typeCount: 1 });
    expect(t.update(t.a, t.l2Of(t.a) * PAGE + 4, (theirs * PAGE) | P | W)).toBe(HcErr.EPERM);
    expect(t.types.describe(theirs)).toEqual(before);
    // nor can it pin it
    expect(t.ext(t.a, MmuextCmd.PIN_L1_TABLE, theirs)).toBe(HcErr.EPERM);
  });

  it('entries naming a frame beyond machine memory are EINVAL, in a table and in a directory', () => {
    const t = twoDomains();
    const beyond = t.hv.frames.frames;
    const l1 = t.l1Of(t.a);
    const pfn = t.mode.layouts.get(t.a.id)!.firstFreePfn + 4;
    expect(t.update(t.a, l1 * PAGE + pfn * 4, (beyond * PAGE) | P)).toBe(HcErr.EINVAL);
    expect(t.update(t.a, t.l2Of(t.a) * PAGE + 4, (beyond * PAGE) | P)).toBe(HcErr.EINVAL);
  });

  it("a directory's hypervisor slot is not validated but replaced: whatever the guest left there, pinning succeeds and installs the hypervisor's entry", () => {
    const t = twoDomains();
    const pfn = t.mode.layouts.get(t.a.id)!.firstFreePfn + 2;
    const f = t.a.p2m[pfn]!;
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, pfn * PAGE, (f * PAGE) | P, UvmFlags.INVLPG)).toBe(0);
    // the slot names another domain's frame: validated, it would be refused
    t.hv.mem.write32(f * PAGE + HvLayout.PDE * 4, (t.b.p2m[5]! * PAGE) | P | W);
    expect(t.ext(t.a, MmuextCmd.PIN_L2_TABLE, f)).toBe(0);
    expect(t.hv.mem.read32(f * PAGE + HvLayout.PDE * 4)).toBe(t.mode.host.hypervisorPde(t.a.id));
    expect(t.types.describe(t.b.p2m[5]!)).toMatchObject({ refCount: 1 });
  });

  it('mmu_update writes only into frames that are page tables now: an untyped frame of its own is EINVAL', () => {
    const t = twoDomains();
    const f = t.a.p2m[t.mode.layouts.get(t.a.id)!.firstFreePfn + 2]!;
    expect(t.update(t.a, f * PAGE + 8, 0x1234)).toBe(HcErr.EINVAL);
    expect(t.hv.mem.read32(f * PAGE + 8)).toBe(0);
  });

  it('a writable translation left in the TLB is flushed before its frame becomes a page table', () => {
    const t = twoDomains();
    const pfn = t.mode.layouts.get(t.a.id)!.firstFreePfn + 2;
    const va = pfn * PAGE;
    const f = t.a.p2m[pfn]!;
    expect(t.store(t.a, va, 7)).toBe(true); // the TLB now holds a writable translation of va
    // read-only without a flush: the translation outlives the mapping ...
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, va, (f * PAGE) | P, UvmFlags.NONE)).toBe(0);
    expect(t.store(t.a, va, 8)).toBe(true);
    // ... until the frame is made a table: then no store reaches it
    expect(t.ext(t.a, MmuextCmd.PIN_L1_TABLE, f)).toBe(0);
    expect(t.store(t.a, va, 9)).toBe(false);
    expect(t.hv.mem.read32(f * PAGE)).toBe(8);
  });
  it('grant setup_table only for itself and within the frame limit', () => {
    const t = twoDomains();
    const setup = (dom: number, nr: number) => {
      [dom, nr, -1, t.s + 0x100].forEach((v, k) => w32(t.a, t.s + 0x40 + k * 4, v));
      expect(hc(t.hv, t.mode, t.a, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, t.s + 0x40, 1)).toBe(0);
      return r32(t.a, t.s + 0x48);
    };
    expect(setup(t.b.id, 1)).toBe(HcErr.EPERM);
    expect(t.mode.pv(t.b).grants.frames.length).toBe(0);
    expect(t.mode.pv(t.a).grants.frames.length).toBe(0);
    expect(setup(SELF, 0)).toBe(HcErr.EINVAL);
    expect(setup(t.a.id, 1)).toBe(0);
    expect(t.mode.pv(t.a).grants.frames.length).toBe(1);
  });

  it('event channels: alloc_unbound and status only for itself', () => {
    const t = twoDomains();
    const op = t.s + 0x40;
    [t.b.id, t.a.id, -1].forEach((v, k) => w32(t.a, op + k * 4, v));
    expect(hc(t.hv, t.mode, t.a, Hc.EVENT_CHANNEL_OP, EvtchnCmd.ALLOC_UNBOUND, op)).toBe(HcErr.EPERM);
    expect(t.mode.pv(t.b).events.state.filter((x) => x !== 0).length).toBe(t.mode.pv(t.a).events.state.filter((x) => x !== 0).length);
    const bPorts = Array.from(t.mode.pv(t.b).events.state);
    // b's console port, asked by a: refused
    const port = t.mode.pv(t.b).console!.port;
    [t.b.id, port, 99, 99, 99, 99].forEach((v, k) => w32(t.a, op + k * 4, v));
    expect(hc(t.hv, t.mode, t.a, Hc.EVENT_CHANNEL_OP, EvtchnCmd.STATUS, op)).toBe(HcErr.EPERM);
    expect(r32(t.a, op + 8)).toBe(99);
    expect(Array.from(t.mode.pv(t.b).events.state)).toEqual(bPorts);
  });

  it('event channels: a remote port out of range is EINVAL', () => {
    const t = twoDomains();
    const op = t.s + 0x40;
    for (const port of [0, -1, 1 << 20]) {
      [t.b.id, port, -1].forEach((v, k) => w32(t.a, op + k * 4, v));
      expect(hc(t.hv, t.mode, t.a, Hc.EVENT_CHANNEL_OP, EvtchnCmd.BIND_INTERDOMAIN, op)).toBe(HcErr.EINVAL);
    }
  });

  it("set_callbacks refuses entry points in the hypervisor's range", () => {
    const t = twoDomains();
    const pd = t.mode.pv(t.a);
    expect(hc(t.hv, t.mode, t.a, Hc.SET_CALLBACKS, HvLayout.BASE, 0x100000)).toBe(HcErr.EPERM);
    expect(hc(t.hv, t.mode, t.a, Hc.SET_CALLBACKS, 0x100000, HvLayout.BASE + 4)).toBe(HcErr.EPERM);
    expect([pd.eventCallback, pd.failsafeCallback]).toEqual([0, 0]);
    expect(hc(t.hv, t.mode, t.a, Hc.SET_CALLBACKS, 0x100000, 0x100004)).toBe(0);
    expect([pd.eventCallback, pd.failsafeCallback]).toEqual([0x100000, 0x100004]);
  });

  it('memory_op: only for itself, and never a frame of another domain', () => {
    const t = twoDomains();
    const op = t.s + 0x40;
    const theirs = t.b.p2m[t.mode.layouts.get(t.b.id)!.firstFreePfn + 3]!;
    const decrease = (dom: number, frame: number) => {
      [op + 0x20, 1, 0, dom].forEach((v, k) => w32(t.a, op + k * 4, v));
      w32(t.a, op + 0x20, frame);
      return hc(t.hv, t.mode, t.a, Hc.MEMORY_OP, MemoryCmd.DECREASE_RESERVATION, op);
    };
    // b's frame is unmapped and untyped: only ownership stands in the way
    expect(t.update(t.b, t.l1Of(t.b) * PAGE + (t.mode.layouts.get(t.b.id)!.firstFreePfn + 3) * 4, 0)).toBe(0);
    expect(t.types.describe(theirs)).toMatchObject({ owner: t.b.id, refCount: 0, typeCount: 0 });
    expect(decrease(SELF, theirs)).toBe(HcErr.EPERM);
    expect(decrease(t.b.id, t.a.p2m[t.mode.layouts.get(t.a.id)!.firstFreePfn + 3]!)).toBe(HcErr.EPERM);
    expect(t.hv.frames.owner[theirs]).toBe(t.b.id);
  });
  it("mmu_update and mmuext_op never touch another domain's tables: an entry of its L1 is EPERM, unpinning or pinning its directory EPERM, loading its frame EPERM", () => {
    const t = twoDomains();
    const theirL1 = t.l1Of(t.b);
    const theirL2 = t.l2Of(t.b);
    const entry = theirL1 * PAGE + 0x1f0 * 4;
    const old = t.hv.mem.read32(entry);
    const l1Before = t.types.describe(theirL1);
    const l2Before = t.types.describe(theirL2);
    expect(t.update(t.a, entry, 0)).toBe(HcErr.EPERM);
    expect(t.hv.mem.read32(entry)).toBe(old);
    expect(t.ext(t.a, MmuextCmd.UNPIN_TABLE, theirL2)).toBe(HcErr.EPERM);
    expect(t.ext(t.a, MmuextCmd.PIN_L2_TABLE, theirL2)).toBe(HcErr.EPERM); // pinned already: EPERM, not EEXIST
    expect(t.ext(t.a, MmuextCmd.NEW_BASEPTR, t.b.p2m[0x1f0]!)).toBe(HcErr.EPERM); // not a directory: EPERM, not EINVAL
    expect([t.types.describe(theirL1), t.types.describe(theirL2)]).toEqual([l1Before, l2Before]);
  });

  it("a grant host map never writes into the hypervisor's range (EPERM)", () => {
    const t = twoDomains();
    const s = t.s;
    [SELF, 1, -1, s + 0x100].forEach((v, k) => w32(t.a, s + 0x40 + k * 4, v));
    expect(hc(t.hv, t.mode, t.a, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, s + 0x40, 1)).toBe(0);
    const table = r32(t.a, s + 0x100);
    t.hv.mem.write32(table * PAGE + 4, t.a.p2m[0x1f0]!);
    t.hv.mem.write16(table * PAGE + 2, t.b.id);
    t.hv.mem.write16(table * PAGE, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY);
    const hvL1 = t.mode.pv(t.b).hvL1Mfn;
    const before = Array.from(t.hv.mem.i32.subarray(hvL1 * 1024, hvL1 * 1024 + 1024));
    const op = scratch(t.mode, t.b);
    const va = (HvLayout.BASE + 0x100000) >>> 0; // a page of the hypervisor's range nothing maps
    [va, GntmapFlags.HOST_MAP | GntmapFlags.READONLY, 0, t.a.id, 99, 0, 0].forEach((v, k) => w32(t.b, op + k * 4, v));
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.MAP_GRANT_REF, op, 1)).toBe(0);
    expect(r32(t.b, op + 16)).toBe(HcErr.EPERM);
    expect(Array.from(t.hv.mem.i32.subarray(hvL1 * 1024, hvL1 * 1024 + 1024))).toEqual(before);
  });
});

describe('pv control-interface rules (dom0_op)', () => {
  function control(scheduler?: BvtScheduler) {
    const { hv, mode } = pvHypervisor(scheduler ? { scheduler } : {});
    const a = pvDomain(hv, mode, 'a', STORE_GUEST);
    const b = pvDomain(hv, mode, 'b', STORE_GUEST);
    const op = (d: typeof a, cmd: number, domid: number, a1 = 0, a2 = 0, a3 = 0) => hc(hv, mode, d, Hc.DOM0_OP, cmd, domid, a1, a2, a3);
    return { hv, mode, a, b, op };
  }

  it('only the control domain may call it: any other gets EPERM before an argument is read', () => {
    const t = control();
    expect([t.mode.pv(t.a).privileged, t.mode.pv(t.b).privileged]).toEqual([true, false]);
    const buf = scratch(t.mode, t.b);
    w32(t.b, buf, 0x5a5a5a5a);
    expect(t.op(t.b, Dom0Cmd.GETDOMAININFO, t.a.id, buf)).toBe(HcErr.EPERM);
    expect(t.op(t.b, Dom0Cmd.PAUSEDOMAIN, t.a.id)).toBe(HcErr.EPERM);
    expect([r32(t.b, buf), t.a.state]).toEqual([0x5a5a5a5a, 'running']);
    // the control domain's own call reaches the command
    expect(t.op(t.a, Dom0Cmd.GETDOMAININFO, t.b.id, scratch(t.mode, t.a))).toBe(t.b.id);
  });

  it('the control domain does not pause or destroy itself; it may pause and destroy another', () => {
    const t = control();
    expect(t.op(t.a, Dom0Cmd.PAUSEDOMAIN, t.a.id)).toBe(HcErr.EINVAL);
    expect(t.op(t.a, Dom0Cmd.DESTROYDOMAIN, t.a.id)).toBe(HcErr.EINVAL);
    expect([t.a.state, t.a.stopped]).toEqual(['running', false]);
    expect(t.op(t.a, Dom0Cmd.PAUSEDOMAIN, t.b.id)).toBe(0);
    expect(t.b.state).toBe('paused');
  });

  it('READCONSOLE takes no negative count or offset', () => {
    const t = control();
    const buf = scratch(t.mode, t.a);
    w32(t.a, buf, 0x5a5a5a5a);
    expect(t.op(t.a, Dom0Cmd.READCONSOLE, t.b.id, buf, -1, 0)).toBe(HcErr.EINVAL);
    expect(t.op(t.a, Dom0Cmd.READCONSOLE, t.b.id, buf, 4, -1)).toBe(HcErr.EINVAL);
    expect(r32(t.a, buf)).toBe(0x5a5a5a5a);
  });

  it('ADJUSTDOM takes a weight from 1 to 10000 only', () => {
    const sched = new BvtScheduler();
    const t = control(sched);
    expect(t.op(t.a, Dom0Cmd.ADJUSTDOM, t.b.id, 0)).toBe(HcErr.EINVAL);
    expect(t.op(t.a, Dom0Cmd.ADJUSTDOM, t.b.id, 10001)).toBe(HcErr.EINVAL);
    expect(t.op(t.a, Dom0Cmd.ADJUSTDOM, t.b.id, 10000)).toBe(0);
    expect(sched.weight(t.b.id)).toBe(10000);
  });
});
