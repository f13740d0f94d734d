// Direct but validated paging: page ownership and typing, mmu_update, mmuext_op and
// update_va_mapping against hostile arguments. Each rule: the hostile call gets its error code,
// machine memory and the frame table are as before, and the other domain is untouched.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Batch, Hc, MmuCmd, MmuextCmd, UvmFlags, HvLayout } from '../../hypercalls/numbers.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { PREEMPTED, PageType } from '../../hypervisor/pv/page-types.ts';
import { Ev } from '../../machine/ledger.ts';
import { asmGuest, bootstrapPte, compiledGuest, hc, pvDomain, pvHypervisor, r32, scratch, spinGuest, w32, PAGE } from './pv-helpers.ts';

const P = 1;
const W = 2;
const A = 32;
const D = 64;

/** Two 2 MiB domains, A and B; m(pfn) is the machine frame of A's pseudo-physical frame pfn. */
function twoDomains() {
  const { hv, mode } = pvHypervisor();
  const a = pvDomain(hv, mode, 'a', spinGuest());
  const b = pvDomain(hv, mode, 'b', spinGuest());
  const types = mode.host.types;
  const layA = mode.layouts.get(a.id)!;
  const m = (pfn: number): number => a.p2m[pfn]!;
  return { hv, mode, a, b, types, layA, m, l2: a.p2m[layA.ptFirstPfn]!, l1: a.p2m[layA.ptFirstPfn + 1]! };
}

/** Write requests at va and call mmu_update; the done count goes to va + 0x800. */
function mmuUpdate(t: ReturnType<typeof twoDomains>, va: number, reqs: [number, number][]): { r: number; done: number } {
  reqs.forEach(([ptr, val], k) => {
    w32(t.a, va + k * 8, ptr);
    w32(t.a, va + k * 8 + 4, val);
  });
  w32(t.a, va + 0x800, -1);
  const r = hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, va, reqs.length, va + 0x800);
  return { r, done: r32(t.a, va + 0x800) };
}

function mmuext(t: ReturnType<typeof twoDomains>, va: number, cmd: number, arg: number): number {
  w32(t.a, va, cmd);
  w32(t.a, va + 4, arg);
  return hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, va, 1, 0);
}

describe('pv page ownership and typing', () => {
  it('builds the bootstrap tables pinned, with the page-table frames mapped read-only', () => {
    const t = twoDomains();
    expect(t.layA).toMatchObject({ nrPages: 512, kernelEnd: 0x101000, p2mList: 0x101000, ptFirstPfn: 0x102, ptFrames: 2, firstFreePfn: 0x105 });
    // the frames are where the allocator put them (machine frame 0 is the hypervisor's), and the
    // published m2p table names each one's pseudo-physical number
    expect([t.a.p2m[0], t.a.p2m[0x102], t.a.p2m[511]]).toEqual([1, 0x103, 512]);
    expect([0, 0x102, 511].map((pfn) => t.mode.host.m2p[t.a.p2m[pfn]!])).toEqual([0, 0x102, 511]);
    expect(t.hv.mem.read32(t.mode.host.m2pFrames[0]! * PAGE + t.b.p2m[7]! * 4)).toBe(7);
    // type references: the pin and the base pointer (L2), the directory entry (L1); plain
    // references: their own read-only mappings (and the directory entry)
    expect(t.types.describe(t.l2)).toEqual({ owner: t.a.id, type: 'L2', typeCount: 2, refCount: 1, pinned: true });
    expect(t.types.describe(t.l1)).toEqual({ owner: t.a.id, type: 'L1', typeCount: 1, refCount: 2, pinned: false });
    const pteOf = (va: number) => t.hv.mem.read32(bootstrapPte(t.mode, t.a, va));
    expect(pteOf(0x102000) & (P | W)).toBe(P);
    expect(pteOf(0x103000) & (P | W)).toBe(P);
    expect(pteOf(0x105000) & (P | W)).toBe(P | W);
    expect(pteOf(0) & P).toBe(0);
  });

  it('mmu_update refuses to map a frame of another domain (EPERM), leaving the entry and the frame alone', () => {
    const t = twoDomains();
    const victim = t.b.p2m[0x105]!;
    const pte = bootstrapPte(t.mode, t.a, 0x106000);
    const before = t.hv.mem.read32(pte);
    // (B maps its own frame writable once, in its bootstrap map)
    const victimBefore = { owner: t.b.id, type: 'writable', typeCount: 1, refCount: 1, pinned: false };
    expect(t.types.describe(victim)).toEqual(victimBefore);
    const res = mmuUpdate(t, scratch(t.mode, t.a), [[pte, (victim * PAGE) | P | W]]);
    expect(res).toEqual({ r: HcErr.EPERM, done: 0 });
    expect(mmuUpdate(t, scratch(t.mode, t.a), [[pte, (victim * PAGE) | P]])).toEqual({ r: HcErr.EPERM, done: 0 });
    expect(t.hv.mem.read32(pte)).toBe(before);
    expect(t.types.describe(victim)).toEqual(victimBefore);
  });

  it('mmu_update refuses to map a page-table frame writable (EBUSY); read-only is allowed', () => {
    const t = twoDomains();
    const pte = bootstrapPte(t.mode, t.a, 0x106000);
    const s = scratch(t.mode, t.a);
    expect(mmuUpdate(t, s, [[pte, (t.l1 * PAGE) | P | W]])).toEqual({ r: HcErr.EBUSY, done: 0 });
    expect(mmuUpdate(t, s, [[pte, (t.l2 * PAGE) | P | W | A | D]])).toEqual({ r: HcErr.EBUSY, done: 0 });
    expect(mmuUpdate(t, s, [[pte, (t.l1 * PAGE) | P]])).toEqual({ r: 0, done: 1 });
    expect(t.hv.mem.read32(pte)).toBe((t.l1 * PAGE) | P);
    // the old frame's writable reference went, the table gained a plain one
    expect(t.types.describe(t.m(0x106))).toMatchObject({ type: 'none', typeCount: 0, refCount: 0 });
    expect(t.types.describe(t.l1)).toMatchObject({ type: 'L1', typeCount: 1, refCount: 3 });
  });

  it('counts references exactly: a writable mapping is a writable type reference, rewriting an entry with itself changes nothing', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const frame = t.m(0x1f0);
    expect(t.types.describe(frame)).toMatchObject({ type: 'writable', typeCount: 1, refCount: 1 });
    const p1 = bootstrapPte(t.mode, t.a, 0x106000);
    const p2 = bootstrapPte(t.mode, t.a, 0x107000);
    expect(mmuUpdate(t, s, [[p1, (frame * PAGE) | P | W], [p2, (frame * PAGE) | P]]).r).toBe(0);
    expect(t.types.describe(frame)).toMatchObject({ type: 'writable', typeCount: 2, refCount: 3 });
    expect(mmuUpdate(t, s, [[p1, (frame * PAGE) | P | W]]).r).toBe(0);
    expect(t.types.describe(frame)).toMatchObject({ type: 'writable', typeCount: 2, refCount: 3 });
    expect(mmuUpdate(t, s, [[p1, 0], [p2, 0]]).r).toBe(0);
    expect(t.types.describe(frame)).toMatchObject({ type: 'writable', typeCount: 1, refCount: 1 });
  });

  it('a batch stops at the first bad request and reports how many were done', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const p1 = bootstrapPte(t.mode, t.a, 0x106000);
    const p2 = bootstrapPte(t.mode, t.a, 0x107000);
    const p3 = bootstrapPte(t.mode, t.a, 0x108000);
    const res = mmuUpdate(t, s, [[p1, 0], [p2, (t.b.p2m[1]! * PAGE) | P], [p3, 0]]);
    expect(res).toEqual({ r: HcErr.EPERM, done: 1 });
    expect(t.hv.mem.read32(p1)).toBe(0);
    expect(t.hv.mem.read32(p3) & P).toBe(P);
  });

  it('rejects unknown commands, addresses outside memory or outside its tables, and oversized or unreadable batches', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const pte = bootstrapPte(t.mode, t.a, 0x106000);
    expect(mmuUpdate(t, s, [[pte | 3, 0]]).r).toBe(HcErr.EINVAL); // command 3
    expect(mmuUpdate(t, s, [[pte | 2, 0]]).r).toBe(HcErr.EINVAL); // command 2
    expect(mmuUpdate(t, s, [[0x7ffff000, 0]]).r).toBe(HcErr.EINVAL); // beyond the machine
    expect(mmuUpdate(t, s, [[t.b.p2m[0x103]! * PAGE, 0]]).r).toBe(HcErr.EPERM); // B's page table
    expect(mmuUpdate(t, s, [[t.m(0x1f0) * PAGE, 0]]).r).toBe(HcErr.EINVAL); // A's frame, not a table
    expect(mmuUpdate(t, s, [[HvLayout.M2P, 0]]).r).toBe(HcErr.EINVAL); // a hypervisor frame's address
    expect(hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, s, 1025, 0)).toBe(HcErr.E2BIG);
    expect(hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, s, -1, 0)).toBe(HcErr.EINVAL);
    expect(hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, 0x0, 1, 0)).toBe(HcErr.EFAULT); // page 0 is not mapped
    // the IDT page is readable, so it can be read as a (zero) request: frame 0 is the hypervisor's
    expect(hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, HvLayout.IDT, 1, 0)).toBe(HcErr.EPERM);
    // the result pointer must be writable: a page table is not
    w32(t.a, s, pte);
    w32(t.a, s + 4, 0);
    expect(hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, s, 1, 0x103000)).toBe(HcErr.EFAULT);
    // machine-to-physical updates: only for its own frames, only to a frame number it has
    expect(mmuUpdate(t, s, [[(t.m(0x1f0) * PAGE) | MmuCmd.MACHPHYS_UPDATE, 0x1f1]]).r).toBe(0);
    expect(t.mode.host.m2p[t.m(0x1f0)]).toBe(0x1f1);
    expect(mmuUpdate(t, s, [[(t.b.p2m[5]! * PAGE) | MmuCmd.MACHPHYS_UPDATE, 5]]).r).toBe(HcErr.EPERM);
    expect(mmuUpdate(t, s, [[(t.m(0x1f0) * PAGE) | MmuCmd.MACHPHYS_UPDATE, 512]]).r).toBe(HcErr.EINVAL);
    // misaligned: a machine-to-physical update names a frame, so only the command bits may be set
    expect(mmuUpdate(t, s, [[(t.m(0x1f0) * PAGE + 8) | MmuCmd.MACHPHYS_UPDATE, 0x1f0]]).r).toBe(HcErr.EINVAL);
    // and update_va_mapping takes a page address
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x106004, 0, 0)).toBe(HcErr.EINVAL);
  });

  it('mmu_update at its bounds: the first frame past the machine, commands 2 and 3 on a frame, frame numbers 0 and -1', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const end = t.types.frames;
    const f = t.m(0x1f0);
    const m2p = t.mode.host.m2p;
    // a table entry or a machine-to-physical update naming the first frame past the machine: EINVAL, not EPERM
    expect(mmuUpdate(t, s, [[end * PAGE, 0]])).toEqual({ r: HcErr.EINVAL, done: 0 });
    expect(mmuUpdate(t, s, [[(end * PAGE) | MmuCmd.MACHPHYS_UPDATE, 5]])).toEqual({ r: HcErr.EINVAL, done: 0 });
    // commands 2 and 3 on a page-aligned frame of its own: EINVAL, its m2p entry unchanged
    expect(mmuUpdate(t, s, [[(f * PAGE) | 2, 0x1f1]])).toEqual({ r: HcErr.EINVAL, done: 0 });
    expect(mmuUpdate(t, s, [[(f * PAGE) | 3, 0x1f1]])).toEqual({ r: HcErr.EINVAL, done: 0 });
    expect(m2p[f]).toBe(0x1f0);
    // pseudo-physical frame 0 is a frame number it has; -1 is not
    expect(mmuUpdate(t, s, [[(f * PAGE) | MmuCmd.MACHPHYS_UPDATE, -1]])).toEqual({ r: HcErr.EINVAL, done: 0 });
    expect(m2p[f]).toBe(0x1f0);
    expect(mmuUpdate(t, s, [[(f * PAGE) | MmuCmd.MACHPHYS_UPDATE, 0]])).toEqual({ r: 0, done: 1 });
    expect(m2p[f]).toBe(0);
  });

  it('a continued batch whose done count cannot be read is EFAULT and does none of its requests', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const pte = bootstrapPte(t.mode, t.a, 0x106000);
    const before = t.hv.mem.read32(pte);
    w32(t.a, s, pte);
    w32(t.a, s + 4, 0);
    // the done count on page 0, which is not mapped
    expect(hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, s, 1 | Batch.CONTINUED, 4)).toBe(HcErr.EFAULT);
    expect(t.hv.mem.read32(pte)).toBe(before);
    w32(t.a, s, MmuextCmd.PIN_L1_TABLE);
    w32(t.a, s + 4, t.m(0x107));
    expect(hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, s, 1 | Batch.CONTINUED, 4)).toBe(HcErr.EFAULT);
    expect(t.types.describe(t.m(0x107))).toMatchObject({ pinned: false });
    // the done count is read before the count is judged: EFAULT, not E2BIG
    expect(hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, s, 2000 | Batch.CONTINUED, 4)).toBe(HcErr.EFAULT);
    expect(hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, s, 2000 | Batch.CONTINUED, 4)).toBe(HcErr.EFAULT);
    // a done count that cannot be written (a page table's page, read-only) is EFAULT only for a
    // batch that otherwise succeeded: a failing request's own error stands
    w32(t.a, s, pte);
    w32(t.a, s + 4, (t.b.p2m[1]! * PAGE) | P);
    expect(hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, s, 1, 0x103000)).toBe(HcErr.EPERM);
    w32(t.a, s + 4, before);
    expect(hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, s, 1, 0x103000)).toBe(HcErr.EFAULT);
    w32(t.a, s, MmuextCmd.PIN_L1_TABLE);
    w32(t.a, s + 4, t.b.p2m[0x107]!);
    expect(hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, s, 1, 0x103000)).toBe(HcErr.EPERM);
    w32(t.a, s, MmuextCmd.TLB_FLUSH_LOCAL);
    expect(hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, s, 1, 0x103000)).toBe(HcErr.EFAULT);
    // readable: the count goes on from it
    w32(t.a, s + 0x800, 7);
    w32(t.a, s, pte);
    w32(t.a, s + 4, 0);
    expect(hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, s, 1 | Batch.CONTINUED, s + 0x800)).toBe(0);
    expect([t.hv.mem.read32(pte), r32(t.a, s + 0x800)]).toEqual([0, 8]);
  });

  it('each call is charged one request and one per request done; a refused batch count none', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const ev = t.hv.cpu.evCount;
    const charged = (call: () => number): [number, number] => {
      const n = ev[Ev.PvRequest]!;
      const r = call();
      return [r, ev[Ev.PvRequest]! - n];
    };
    const p1 = bootstrapPte(t.mode, t.a, 0x106000);
    const p2 = bootstrapPte(t.mode, t.a, 0x107000);
    const p3 = bootstrapPte(t.mode, t.a, 0x108000);
    expect(charged(() => mmuUpdate(t, s, [[p1, 0], [p2, 0], [p3, 0]]).r)).toEqual([0, 4]);
    expect(charged(() => mmuUpdate(t, s, [[p1, 0], [p2, (t.b.p2m[1]! * PAGE) | P]]).r)).toEqual([HcErr.EPERM, 2]);
    expect(charged(() => hc(t.hv, t.mode, t.a, Hc.MMU_UPDATE, s, 1025, 0))).toEqual([HcErr.E2BIG, 0]);
    w32(t.a, s, MmuextCmd.TLB_FLUSH_LOCAL);
    w32(t.a, s + 8, MmuextCmd.INVLPG_LOCAL);
    w32(t.a, s + 12, 0x106000);
    expect(charged(() => hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, s, 2, 0))).toEqual([0, 3]);
    const scans = ev[Ev.PvTableScan]!;
    expect(charged(() => hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, s, 1025, 0))).toEqual([HcErr.E2BIG, 0]);
    expect(ev[Ev.PvTableScan]! - scans).toBe(0);
    expect(charged(() => hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x106000, (t.m(0x106) * PAGE) | P, UvmFlags.NONE))).toEqual([0, 1]);
  });

  it('an entry naming the first frame past the machine is EINVAL, the last frame (not its own) EPERM, in a table and in a directory', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const end = t.types.frames;
    expect(t.types.owner[end - 1]).not.toBe(t.a.id);
    const pte = bootstrapPte(t.mode, t.a, 0x106000);
    const slot = t.l2 * PAGE + 5 * 4; // an empty directory slot (20 MiB)
    const before = [t.hv.mem.read32(pte), t.hv.mem.read32(slot)];
    const l1Before = t.types.describe(t.l1);
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x106000, (end * PAGE) | P, UvmFlags.INVLPG)).toBe(HcErr.EINVAL);
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x106000, ((end - 1) * PAGE) | P, UvmFlags.INVLPG)).toBe(HcErr.EPERM);
    expect(mmuUpdate(t, s, [[slot, (end * PAGE) | P]]).r).toBe(HcErr.EINVAL);
    expect(mmuUpdate(t, s, [[slot, ((end - 1) * PAGE) | P]]).r).toBe(HcErr.EPERM);
    expect([t.hv.mem.read32(pte), t.hv.mem.read32(slot)]).toEqual(before);
    expect(t.types.describe(t.l1)).toEqual(l1Before);
  });

  it('pinning validates the table: a foreign frame is EPERM, a writable page-table mapping is EBUSY, and nothing stays typed', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const table = scratch(t.mode, t.a, 1); // pfn 0x106
    // make the candidate read-only in the bootstrap map first, so only its contents matter
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, table, (t.m(0x106) * PAGE) | P, UvmFlags.INVLPG)).toBe(0);
    // (the guest can no longer write it: fill it from the host side, as a crafted guest page)
    t.hv.mem.write32(t.m(0x106) * PAGE + 0, (t.m(0x1f0) * PAGE) | P | W);
    t.hv.mem.write32(t.m(0x106) * PAGE + 4, (t.b.p2m[0x1f0]! * PAGE) | P);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, t.m(0x106))).toBe(HcErr.EPERM);
    expect(t.types.describe(t.m(0x106))).toMatchObject({ type: 'none', typeCount: 0, pinned: false });
    expect(t.types.describe(t.m(0x1f0))).toMatchObject({ type: 'writable', typeCount: 1, refCount: 1 });
    t.hv.mem.write32(t.m(0x106) * PAGE + 4, (t.l1 * PAGE) | P | W);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, t.m(0x106))).toBe(HcErr.EBUSY);
    t.hv.mem.write32(t.m(0x106) * PAGE + 4, (t.l1 * PAGE) | P);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, t.m(0x106))).toBe(0);
    expect(t.types.describe(t.m(0x106))).toEqual({ owner: t.a.id, type: 'L1', typeCount: 1, refCount: 1, pinned: true });
    expect(t.types.describe(t.m(0x1f0))).toMatchObject({ type: 'writable', typeCount: 2, refCount: 2 });
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, t.m(0x106))).toBe(HcErr.EEXIST);
    expect(mmuext(t, s, MmuextCmd.PIN_L2_TABLE, t.m(0x106))).toBe(HcErr.EEXIST);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, t.b.p2m[0x106]!)).toBe(HcErr.EPERM);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, 1 << 20)).toBe(HcErr.EINVAL);
    // a negative frame number too (not EPERM, which an owner check on no frame would answer)
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, -1)).toBe(HcErr.EINVAL);
    expect(mmuext(t, s, MmuextCmd.PIN_L2_TABLE, -1)).toBe(HcErr.EINVAL);
    expect(mmuext(t, s, MmuextCmd.UNPIN_TABLE, -1)).toBe(HcErr.EINVAL);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, t.types.frames)).toBe(HcErr.EINVAL);
    expect(mmuext(t, s, MmuextCmd.UNPIN_TABLE, t.types.frames)).toBe(HcErr.EINVAL);
    expect(mmuext(t, s, MmuextCmd.NEW_BASEPTR, t.types.frames)).toBe(HcErr.EINVAL);
    // frame 0 is a frame (the hypervisor's): EPERM
    for (const cmd of [MmuextCmd.PIN_L1_TABLE, MmuextCmd.UNPIN_TABLE, MmuextCmd.NEW_BASEPTR]) expect(mmuext(t, s, cmd, 0)).toBe(HcErr.EPERM);
    // unpinning releases it and its references
    expect(mmuext(t, s, MmuextCmd.UNPIN_TABLE, t.m(0x106))).toBe(0);
    expect(t.types.describe(t.m(0x106))).toMatchObject({ type: 'none', typeCount: 0, pinned: false });
    expect(t.types.describe(t.m(0x1f0))).toMatchObject({ type: 'writable', typeCount: 1, refCount: 1 });
    expect(mmuext(t, s, MmuextCmd.UNPIN_TABLE, t.m(0x106))).toBe(HcErr.EINVAL);
  });

  it('a table that maps itself writable is refused (EBUSY), as a directory naming itself as its own table is', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const f = t.m(0x106);
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x106000, (f * PAGE) | P, UvmFlags.INVLPG)).toBe(0);
    t.hv.mem.write32(f * PAGE + 8, (f * PAGE) | P | W);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, f)).toBe(HcErr.EBUSY);
    expect(t.types.describe(f)).toMatchObject({ type: 'none', typeCount: 0, refCount: 1, pinned: false });
    // read-only, the same entry is fine: the table can be read through itself, never written
    t.hv.mem.write32(f * PAGE + 8, (f * PAGE) | P);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, f)).toBe(0);
    expect(mmuext(t, s, MmuextCmd.UNPIN_TABLE, f)).toBe(0);
    // a directory whose entry names the directory itself (as its page table)
    t.hv.mem.write32(f * PAGE + 8, 0);
    t.hv.mem.write32(f * PAGE + 4, (f * PAGE) | P | W);
    expect(mmuext(t, s, MmuextCmd.PIN_L2_TABLE, f)).toBe(HcErr.EBUSY);
    expect(t.types.describe(f)).toMatchObject({ type: 'none', typeCount: 0, pinned: false });
  });

  it('a frame mapped writable cannot become a page table (EBUSY) until that mapping is read-only', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const f = t.m(0x107);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, f)).toBe(HcErr.EBUSY);
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x107000, (f * PAGE) | P | A, UvmFlags.INVLPG)).toBe(0);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, f)).toBe(0);
    // and once it is a table it cannot be mapped writable again
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x107000, (f * PAGE) | P | W, UvmFlags.INVLPG)).toBe(HcErr.EBUSY);
  });

  it('the TLB is flushed once when a frame becomes a table after a writable mapping went, not at every typing after', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const flushes = () => t.hv.cpu.stats.tlbFlushes;
    expect(mmuUpdate(t, s, []).r).toBe(0); // (the vCPU loaded first: its CR3 load flushes)
    const f0 = flushes();
    // 0x107000 and 0x108000 made read-only: their frames' writable types go, the TLB may still hold them
    const ro = (pfn: number): [number, number] => [bootstrapPte(t.mode, t.a, pfn * PAGE), (t.m(pfn) * PAGE) | P | A];
    expect(mmuUpdate(t, s, [ro(0x107), ro(0x108)])).toEqual({ r: 0, done: 2 });
    expect(flushes() - f0).toBe(0);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, t.m(0x107))).toBe(0);
    expect(flushes() - f0).toBe(1);
    const pins = t.mode.pv(t.a).stats.pins;
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, t.m(0x108))).toBe(0);
    expect(flushes() - f0).toBe(1);
    expect(t.mode.pv(t.a).stats.pins - pins).toBe(1);
  });

  it('update_va_mapping types no table, so it never flushes for a stale writable mapping: the next typing does', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const flushes = () => t.hv.cpu.stats.tlbFlushes;
    expect(mmuUpdate(t, s, []).r).toBe(0); // (the vCPU loaded first: its CR3 load flushes)
    // a pin whose validation fails (an entry naming the hypervisor's frame 0): a typing began and ended
    const bad = t.m(0x109);
    t.hv.mem.write32(bad * PAGE, P);
    expect(mmuUpdate(t, s, [[bootstrapPte(t.mode, t.a, 0x109000), (bad * PAGE) | P | A]])).toEqual({ r: 0, done: 1 });
    const f0 = flushes();
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, bad)).toBe(HcErr.EPERM);
    expect(flushes() - f0).toBe(1); // 0x109000's writable translation may have been in the TLB
    expect(t.types.describe(bad)).toMatchObject({ type: 'none', typeCount: 0 });
    // 0x107000 made read-only by update_va_mapping, no flush asked: its writable translation may stay
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x107000, (t.m(0x107) * PAGE) | P | A, UvmFlags.NONE)).toBe(0);
    expect(flushes() - f0).toBe(1);
    // until the frame becomes a table: then the TLB is flushed, once
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, t.m(0x107))).toBe(0);
    expect(flushes() - f0).toBe(2);
  });

  it('INVLPG_MULTI drops the page its targets name, and only it; unreadable targets are EFAULT', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    const mmu = t.hv.cpu.mmu;
    const cached = (va: number): boolean => Array.from(mmu.tlbR).includes(va);
    expect(mmuUpdate(t, s, []).r).toBe(0); // (the vCPU loaded)
    const [x, y] = [0x1f0000, 0x1f1000];
    mmu.xlate(x, 0, false);
    mmu.xlate(y, 0, false);
    expect([cached(x), cached(y)]).toEqual([true, true]);
    // the op at s, its targets at s + 16: the word before them names y
    w32(t.a, s, MmuextCmd.INVLPG_MULTI);
    w32(t.a, s + 4, s + 16);
    w32(t.a, s + 12, y);
    w32(t.a, s + 16, 1);
    w32(t.a, s + 20, x);
    expect(hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, s, 1, 0)).toBe(0);
    expect([cached(x), cached(y)]).toEqual([false, true]);
    // targets on page 0, not mapped
    w32(t.a, s + 4, 0);
    expect(hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, s, 1, 0)).toBe(HcErr.EFAULT);
    w32(t.a, s, MmuextCmd.TLB_FLUSH_MULTI);
    expect(hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, s, 1, 0)).toBe(HcErr.EFAULT);
  });

  it('update_va_mapping\'s flags: INVLPG drops that page from the TLB, TLB_FLUSH every page, NONE none; each call is one request', () => {
    const t = twoDomains();
    const mmu = t.hv.cpu.mmu;
    const cached = (va: number): boolean => Array.from(mmu.tlbR).includes(va);
    const requests = () => t.mode.pv(t.a).stats.mmuRequests;
    expect(mmuUpdate(t, scratch(t.mode, t.a), []).r).toBe(0); // (the vCPU loaded)
    const [x, y] = [0x1f0000, 0x1f1000];
    const remap = (flags: number): number => {
      mmu.xlate(x, 0, false);
      mmu.xlate(y, 0, false);
      const n = requests();
      const f = t.hv.cpu.stats.tlbFlushes;
      const r = hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, x, (t.m(0x1f0) * PAGE) | P | A, flags);
      expect([requests() - n, t.hv.cpu.stats.tlbFlushes - f]).toEqual([1, flags === UvmFlags.TLB_FLUSH ? 1 : 0]);
      return r;
    };
    expect(remap(UvmFlags.NONE)).toBe(0);
    expect([cached(x), cached(y)]).toEqual([true, true]);
    expect(remap(UvmFlags.INVLPG)).toBe(0);
    expect([cached(x), cached(y)]).toEqual([false, true]);
    expect(remap(UvmFlags.TLB_FLUSH)).toBe(0);
    expect([cached(x), cached(y)]).toEqual([false, false]);
  });

  it('loads only a pinned directory of its own as the base pointer', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    expect(mmuext(t, s, MmuextCmd.NEW_BASEPTR, t.m(0x1f0))).toBe(HcErr.EINVAL); // never validated
    expect(mmuext(t, s, MmuextCmd.NEW_BASEPTR, t.l1)).toBe(HcErr.EINVAL); // a page table, not a directory
    // a pinned page table is not a directory either: EINVAL (not getType's EBUSY)
    expect(mmuUpdate(t, s, [[bootstrapPte(t.mode, t.a, 0x107000), (t.m(0x107) * PAGE) | P | A]]).r).toBe(0);
    expect(mmuext(t, s, MmuextCmd.PIN_L1_TABLE, t.m(0x107))).toBe(0);
    expect(mmuext(t, s, MmuextCmd.NEW_BASEPTR, t.m(0x107))).toBe(HcErr.EINVAL);
    expect(mmuext(t, s, MmuextCmd.NEW_BASEPTR, t.b.p2m[0x102]!)).toBe(HcErr.EPERM); // B's directory
    expect(mmuext(t, s, MmuextCmd.NEW_BASEPTR, -5)).toBe(HcErr.EINVAL);
    expect(mmuext(t, s, 99, 0)).toBe(HcErr.EINVAL);
    expect(t.hv.cpu.cr3).toBe(t.l2 * PAGE);
    const requests = t.hv.cpu.evCount[Ev.PvRequest]!;
    expect(mmuext(t, s, MmuextCmd.NEW_BASEPTR, t.l2)).toBe(0);
    expect(t.types.describe(t.l2)).toMatchObject({ typeCount: 2, pinned: true });
    // the old base pointer's reference went at once: no release left for a further entry
    expect(t.mode.pv(t.a).vcpus[0]!.pendingRelease).toBe(-1);
    expect(t.hv.cpu.evCount[Ev.PvRequest]! - requests).toBe(2);
  });

  it('dropping a type reference a frame does not hold is a hypervisor bug: putType throws, with the count and the unfinished operation', () => {
    const t = twoDomains();
    const free = t.m(0x1f0);
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x1f0000, 0, UvmFlags.INVLPG)).toBe(0); // its only mapping
    expect(t.types.describe(free)).toMatchObject({ type: 'none', typeCount: 0, refCount: 0 });
    expect(() => t.types.putType(free, t.a.id)).toThrow(`PageTypes.putType: frame 0x${free.toString(16)} has no type reference of its own (count 0, partial 0)`);
    expect(t.types.describe(free)).toMatchObject({ type: 'none', typeCount: 0 });
    // the bootstrap directory (pinned, and the base pointer): its last reference's release stops
    // after one entry, the directory keeping that reference for the release (Partial.RELEASING)
    expect(t.types.putType(t.l2, t.a.id)).toBe(0);
    expect(t.types.putType(t.l2, t.a.id, t.types.work + 1)).toBe(1); // PREEMPTED
    expect(t.types.describe(t.l2)).toMatchObject({ type: 'L2 (releasing 1/1024)', typeCount: 1 });
    expect(() => t.types.putType(t.l2, t.a.id)).toThrow(`PageTypes.putType: frame 0x${t.l2.toString(16)} has no type reference of its own (count 1, partial 2)`);
    expect(t.types.describe(t.l2)).toMatchObject({ type: 'L2 (releasing 1/1024)', typeCount: 1 });
  });

  it('a directory step whose work bound falls on its last entry finishes there: validation, release and undoing', () => {
    const t = twoDomains();
    const f = t.m(0x106);
    const dom = t.a.id;
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x106000, (f * PAGE) | P, UvmFlags.INVLPG)).toBe(0);
    t.hv.mem.fill(f * PAGE, PAGE, 0);
    // 1,024 entries, one unit of work each: a bound 1,024 away is reached at the last one
    const start = t.types.work;
    expect(t.types.getType(f, PageType.L2, dom, t.types.work + 1024)).toBe(0);
    expect(t.types.work - start).toBe(1024);
    expect(t.types.describe(f)).toMatchObject({ type: 'L2', typeCount: 1 });
    expect(t.types.putType(f, dom, t.types.work + 1024)).toBe(0);
    expect(t.types.work - start).toBe(2048);
    expect(t.types.describe(f)).toMatchObject({ type: 'none', typeCount: 0 });
    // one bound short of the end: the step stops with the last entry left
    expect(t.types.getType(f, PageType.L2, dom, t.types.work + 1023)).toBe(PREEMPTED);
    expect(t.types.describe(f).type).toBe('L2 (validating 1023/1024)');
    expect(t.types.getType(f, PageType.L2, dom, t.types.work + 1)).toBe(0);
    expect(t.types.putType(f, dom, t.types.work + 1023)).toBe(PREEMPTED);
    expect(t.types.describe(f).type).toBe('L2 (releasing 1023/1024)');
    expect(t.types.resumeRelease(f, dom, t.types.work + 1)).toBe(0);
    expect(t.types.describe(f)).toMatchObject({ type: 'none', typeCount: 0 });
    // entries 0 and 1 name the bootstrap table, entry 2 another domain's frame: three entries
    // checked, then 1 and 0 given back - the bound reached as entry 0 is given back ends it
    t.hv.mem.write32(f * PAGE, (t.l1 * PAGE) | P);
    t.hv.mem.write32(f * PAGE + 4, (t.l1 * PAGE) | P);
    t.hv.mem.write32(f * PAGE + 8, (t.b.p2m[0x1f0]! * PAGE) | P);
    const l1 = t.types.describe(t.l1);
    const w0 = t.types.work;
    expect(t.types.getType(f, PageType.L2, dom, t.types.work + 5)).toBe(HcErr.EPERM);
    expect(t.types.work - w0).toBe(5); // the work unit: each entry checked, each given back
    expect(t.types.describe(f)).toMatchObject({ type: 'none', typeCount: 0 });
    expect(t.types.describe(t.l1)).toEqual(l1);
    // a bound one short: the undoing stops before entry 0, which the next step gives back
    expect(t.types.getType(f, PageType.L2, dom, t.types.work + 4)).toBe(PREEMPTED);
    expect(t.types.describe(f).type).toBe('L2 (failing 1/1024)');
    expect(t.types.describe(t.l1).typeCount).toBe(l1.typeCount + 1);
    expect(t.types.getType(f, PageType.L2, dom, t.types.work + 1)).toBe(HcErr.EPERM);
    expect(t.types.describe(f)).toMatchObject({ type: 'none', typeCount: 0 });
    expect(t.types.describe(t.l1)).toEqual(l1);
  });

  it('update_va_mapping cannot reach the hypervisor range, the hypervisor slot is refused, and bad flags are EINVAL', () => {
    const t = twoDomains();
    const s = scratch(t.mode, t.a);
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, HvLayout.IDT, (t.m(0x1f0) * PAGE) | P | W, 0)).toBe(HcErr.EPERM);
    // its first page too (the range starts there), and the last page below it is the guest's
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, HvLayout.BASE, (t.m(0x1f0) * PAGE) | P | W, 0)).toBe(HcErr.EPERM);
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, (HvLayout.BASE - PAGE) | 0, (t.m(0x1f0) * PAGE) | P | W, 0)).toBe(HcErr.EINVAL); // no page table there
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x106000, 0, 7)).toBe(HcErr.EINVAL);
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x00800000, 0, 0)).toBe(HcErr.EINVAL); // no page table there
    const slot = t.l2 * PAGE + HvLayout.PDE * 4;
    const hvPde = t.hv.mem.read32(slot);
    expect(mmuUpdate(t, s, [[slot, (t.l1 * PAGE) | P | W]]).r).toBe(HcErr.EPERM);
    expect(t.hv.mem.read32(slot)).toBe(hvPde);
    // the hypervisor slot maps the IDT and the m2p table, read-only and supervisor-only
    const pd = t.mode.pv(t.a);
    expect(hvPde).toBe(((pd.hvL1Mfn * PAGE) | P | A) >>> 0);
    expect(t.hv.mem.read32(pd.hvL1Mfn * PAGE)).toBe(((pd.idtMfn * PAGE) | P | A) >>> 0);
    expect(t.hv.mem.read32(pd.hvL1Mfn * PAGE + 16 * 4) & (P | W | 4)).toBe(P);
  });

  it('a guest that writes its own page table directly faults and, with no handler, is crashed; the other domain runs on', () => {
    const { hv, mode } = pvHypervisor();
    const bad = pvDomain(hv, mode, 'bad', asmGuest(`
_start:
  li r1, 0x103000      ; its bootstrap page table, mapped read-only
  li r2, 0x1f0003
  stw [r1 + 8], r2
  jmp _start`));
    const good = pvDomain(hv, mode, 'good', asmGuest(`
_start:
  li r0, 18            ; console_io
  li r1, 0             ; WRITE
  li r2, 3
  li r3, msg
  hypercall
  li r0, 6             ; sched_op
  li r1, 2             ; SHUTDOWN
  li r2, 0             ; POWEROFF
  li r3, 5
  hypercall
msg:
  .ascii "ok\\n"`));
    const l1 = bad.p2m[0x103]!;
    const before = hv.mem.readBytes(l1 * PAGE, PAGE)!;
    const run = hv.run({ maxCycles: 10_000_000 });
    expect(run.reason).toBe('all-stopped');
    expect(bad.stopReason).toBe('crashed');
    expect(bad.stopDetail).toBe('no handler for vector 14 (error 0x3) at pc 0x100010');
    expect(hv.mem.readBytes(l1 * PAGE, PAGE)).toEqual(before);
    expect([good.stopReason, good.stopStatus, good.consoleOutput()]).toEqual(['poweroff', 5, 'ok\n']);
  });
});

describe('a hostile pv guest', () => {
  it('gets an error code for every rule it breaks, then is killed; the other domain and the hypervisor are untouched', () => {
    const { hv, mode } = pvHypervisor();
    const hostile = pvDomain(hv, mode, 'hostile', compiledGuest(fileURLToPath(new URL('../guest-programs/pv/hostile.ts', import.meta.url))));
    const victim = pvDomain(hv, mode, 'victim', asmGuest(`
_start:
  li r5, 200000
.Lspin:
  addi r5, r5, -1
  cmpi r5, 0
  jne .Lspin
  li r0, 18
  li r1, 0
  li r2, 10
  li r3, msg
  hypercall
  li r0, 6
  li r1, 2
  li r2, 0
  li r3, 0
  hypercall
msg:
  .ascii "victim ok\\n"`));
    const types = mode.host.types;
    const victimTypes = () => Array.from(victim.p2m, (f) => JSON.stringify(types.describe(f)));
    const before = victimTypes();
    const victimIdt = hv.mem.readBytes(mode.pv(victim).idtMfn * PAGE, PAGE);
    hv.run({ maxCycles: 200_000_000 });
    expect(hostile.consoleOutput().split('\n')).toEqual([
      'map a frame it does not own: -1',
      'map its page table writable: -16',
      'base pointer to an unvalidated frame: -22',
      'pin a frame beyond memory: -22',
      'misaligned mapping address: -22',
      'write the hypervisor slot: -1',
      'nested multicall: -22',
      'a grant it was not given: -2',
      'more memory than its quota: -12',
      'a handler at ring 0: -1',
      'writing its page table directly',
      '',
    ]);
    expect(hostile.stopReason).toBe('crashed');
    expect(hostile.stopDetail).toMatch(/^no handler for vector 14 \(error 0x3\) at pc 0x[0-9a-f]+$/);
    expect([victim.stopReason, victim.stopStatus, victim.consoleOutput()]).toEqual(['poweroff', 0, 'victim ok\n']);
    expect(victimTypes()).toEqual(before);
    expect(hv.mem.readBytes(mode.pv(victim).idtMfn * PAGE, PAGE)).toEqual(victimIdt);
  });
});
