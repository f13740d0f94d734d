// Grant tables: a domain shares a frame with exactly the domain its entry names; the hypervisor
// checks the entry, holds the frame while mapped, marks READING/WRITING, and never lets a grant
// reach a page table writable. And the whole path with real guests: two domains exchange data
// through a granted page and an interdomain event channel.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Hc, GnttabCmd, GntmapFlags, GrantFlags, MmuextCmd, UvmFlags } from '../../hypercalls/numbers.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { GntCopy, GntMap, GntSetup, GntUnmap } from '../../hypercalls/structs.ts';
import { Ev } from '../../machine/ledger.ts';
import { OWNER_FREE, OWNER_HYPERVISOR } from '../../hypervisor/core/frames.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { MAX_GRANT_MAPS_PER_DOMAIN } from '../../hypervisor/pv/grants.ts';
import { compiledGuest, hc, pvDomain, pvHypervisor, r32, scratch, spinGuest, w32, bootstrapPte, PAGE } from './pv-helpers.ts';

const P = 1;
const W = 2;
const SELF = 0x7ff0;

function setup() {
  const { hv, mode } = pvHypervisor();
  const a = pvDomain(hv, mode, 'a', spinGuest());
  const b = pvDomain(hv, mode, 'b', spinGuest());
  const c = pvDomain(hv, mode, 'c', spinGuest());
  // a sets up its grant table: one frame, its number written to a's memory
  const s = scratch(mode, a);
  [SELF, 1, -1, s + 0x100].forEach((v, k) => w32(a, s + k * 4, v));
  expect(hc(hv, mode, a, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, s, 1)).toBe(0);
  expect(r32(a, s + 8)).toBe(0);
  const table = r32(a, s + 0x100);
  /** a writes grant entry ref (as the guest would, in its table frame) */
  const grant = (ref: number, flags: number, domid: number, frame: number) => {
    hv.mem.write32(table * PAGE + ref * 8 + 4, frame);
    hv.mem.write16(table * PAGE + ref * 8 + 2, domid);
    hv.mem.write16(table * PAGE + ref * 8, flags);
  };
  const flagsOf = (ref: number) => hv.mem.read16(table * PAGE + ref * 8);
  /** b maps (ref of dom) at its va; b's own page there is unmapped first */
  const mapAt = (d: Domain, va: number, ref: number, dom: number, flags: number = GntmapFlags.HOST_MAP) => {
    hc(hv, mode, d, Hc.UPDATE_VA_MAPPING, va, 0, UvmFlags.INVLPG);
    const op = scratch(mode, d);
    [va, flags, ref, dom, 99, 0, 0].forEach((v, k) => w32(d, op + k * 4, v));
    expect(hc(hv, mode, d, Hc.GRANT_TABLE_OP, GnttabCmd.MAP_GRANT_REF, op, 1)).toBe(0);
    return { status: r32(d, op + GntMap.STATUS), handle: r32(d, op + GntMap.HANDLE), bus: r32(d, op + GntMap.DEV_BUS_ADDR) };
  };
  const unmap = (d: Domain, handle: number) => {
    const op = scratch(mode, d);
    [0, 0, handle, 99].forEach((v, k) => w32(d, op + k * 4, v));
    expect(hc(hv, mode, d, Hc.GRANT_TABLE_OP, GnttabCmd.UNMAP_GRANT_REF, op, 1)).toBe(0);
    return r32(d, op + 12);
  };
  return { hv, mode, a, b, c, table, grant, flagsOf, mapAt, unmap, types: mode.host.types };
}

describe('pv grant tables', () => {
  it('caps the mappings one domain holds: beyond the limit a device map gets ENOSPC and nothing grows', () => {
    const t = setup();
    const frame = t.a.p2m[0x1f0]!;
    t.grant(0, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, frame);
    const op = scratch(t.mode, t.b);
    const mapDevice = () => {
      [0, GntmapFlags.DEVICE_MAP | GntmapFlags.READONLY, 0, t.a.id, 99, 0, 0].forEach((v, k) => w32(t.b, op + k * 4, v));
      expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.MAP_GRANT_REF, op, 1)).toBe(0);
      return r32(t.b, op + GntMap.STATUS);
    };
    for (let k = 0; k < MAX_GRANT_MAPS_PER_DOMAIN; k++) expect(mapDevice()).toBe(0);
    expect(mapDevice()).toBe(HcErr.ENOSPC);
    expect(mapDevice()).toBe(HcErr.ENOSPC);
    expect(t.b.state).not.toBe('shutdown');
  });

  it('sets up a grant table of hypervisor frames the domain may map; query_size reports it', () => {
    const t = setup();
    expect(t.hv.frames.owner[t.table]).toBe(OWNER_HYPERVISOR);
    expect(t.mode.host.mayMap(t.a.id, t.table)).toBe(true);
    expect(t.mode.host.mayMap(t.b.id, t.table)).toBe(false);
    const q = scratch(t.mode, t.a);
    [SELF, -1, -1, -1].forEach((v, k) => w32(t.a, q + k * 4, v));
    expect(hc(t.hv, t.mode, t.a, Hc.GRANT_TABLE_OP, GnttabCmd.QUERY_SIZE, q, 1)).toBe(0);
    expect([r32(t.a, q + 4), r32(t.a, q + 8), r32(t.a, q + 12)]).toEqual([1, 4, 0]);
    [SELF, 5, -1, q + 0x100].forEach((v, k) => w32(t.a, q + k * 4, v));
    expect(hc(t.hv, t.mode, t.a, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, q, 1)).toBe(0);
    expect(r32(t.a, q + 8)).toBe(HcErr.EINVAL);
    expect(hc(t.hv, t.mode, t.a, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, q, 2)).toBe(HcErr.EINVAL);
    expect(hc(t.hv, t.mode, t.a, Hc.GRANT_TABLE_OP, 9, q, 1)).toBe(HcErr.EINVAL);
  });

  it('maps a granted page for the named domain only, marks WRITING while mapped, and gives everything back at unmap', () => {
    const t = setup();
    const frame = t.a.p2m[0x1f0]!; // a's page
    const before = t.types.describe(frame);
    t.grant(10, GrantFlags.PERMIT_ACCESS, t.b.id, frame);
    const va = scratch(t.mode, t.b, 2);
    const m = t.mapAt(t.b, va, 10, t.a.id, GntmapFlags.HOST_MAP | GntmapFlags.DEVICE_MAP);
    expect(m).toEqual({ status: 0, handle: 1, bus: frame * PAGE });
    expect(t.flagsOf(10)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.WRITING);
    expect(t.types.describe(frame)).toMatchObject({ owner: t.a.id, type: 'writable', typeCount: before.typeCount + 1, refCount: before.refCount + 1 });
    // b's page table now reaches a's frame: what b writes there, a reads
    const pte = bootstrapPte(t.mode, t.b, va);
    expect(t.hv.mem.read32(pte) & ~0xfff).toBe(frame * PAGE);
    expect(t.hv.mem.read32(pte) & (P | W | 4)).toBe(P | W);
    t.mode.host.mem.write32(frame * PAGE, 0x600d);
    expect(r32(t.a, 0x1f0 * PAGE)).toBe(0x600d);
    // b cannot undo the mapping behind the hypervisor's back
    const req = scratch(t.mode, t.b, 1);
    w32(t.b, req, pte);
    w32(t.b, req + 4, 0);
    expect(hc(t.hv, t.mode, t.b, Hc.MMU_UPDATE, req, 1, 0)).toBe(HcErr.EPERM);
    expect(t.unmap(t.b, m.handle)).toBe(0);
    expect(t.hv.mem.read32(pte)).toBe(0);
    expect(t.flagsOf(10)).toBe(GrantFlags.PERMIT_ACCESS);
    expect(t.types.describe(frame)).toEqual(before);
    expect(t.unmap(t.b, m.handle)).toBe(HcErr.EBADF);
  });

  it('refuses a reference it was not given, one beyond the table, a read-only grant mapped writable, its own grants and unknown domains', () => {
    const t = setup();
    t.grant(10, GrantFlags.PERMIT_ACCESS, t.b.id, t.a.p2m[0x1f0]!);
    t.grant(11, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, t.a.p2m[0x1f1]!);
    t.grant(12, GrantFlags.INVALID, t.b.id, t.a.p2m[0x1f2]!);
    t.grant(13, GrantFlags.PERMIT_ACCESS, t.b.id, t.c.p2m[0x1f0]!); // not a's frame
    const va = scratch(t.mode, t.c, 2);
    expect(t.mapAt(t.c, va, 10, t.a.id).status).toBe(HcErr.EACCES); // granted to b, not c
    const vb = scratch(t.mode, t.b, 2);
    expect(t.mapAt(t.b, vb, 512, t.a.id).status).toBe(HcErr.ENOENT);
    expect(t.mapAt(t.b, vb, -1, t.a.id).status).toBe(HcErr.ENOENT);
    expect(t.mapAt(t.b, vb, 11, t.a.id).status).toBe(HcErr.EACCES);
    expect(t.mapAt(t.b, vb, 12, t.a.id).status).toBe(HcErr.EACCES);
    expect(t.mapAt(t.b, vb, 13, t.a.id).status).toBe(HcErr.EPERM);
    expect(t.mapAt(t.b, vb, 10, t.b.id).status).toBe(HcErr.EINVAL); // its own domain
    expect(t.mapAt(t.b, vb, 10, 77).status).toBe(HcErr.ESRCH);
    expect(t.mapAt(t.b, vb, 10, t.c.id).status).toBe(HcErr.ENOENT); // c has no grant table
    expect(t.mapAt(t.b, vb, 10, t.a.id, 0).status).toBe(HcErr.EINVAL); // neither host nor device map
    expect(t.mapAt(t.b, vb + 0x10, 10, t.a.id).status).toBe(HcErr.EINVAL); // not a page boundary
    // read-only is fine for the read-only grant: READING, and the mapping has no W
    const ro = t.mapAt(t.b, vb, 11, t.a.id, GntmapFlags.HOST_MAP | GntmapFlags.READONLY);
    expect(ro.status).toBe(0);
    expect(t.flagsOf(11)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY | GrantFlags.READING);
    expect(t.hv.mem.read32(bootstrapPte(t.mode, t.b, vb)) & (P | W)).toBe(P);
    // and the address is taken now
    const op = scratch(t.mode, t.b);
    [vb, GntmapFlags.HOST_MAP, 10, t.a.id].forEach((v, k) => w32(t.b, op + k * 4, v));
    hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.MAP_GRANT_REF, op, 1);
    expect(r32(t.b, op + GntMap.STATUS)).toBe(HcErr.EBUSY);
    // nothing a refused map tried is held: only the read-only mapping is
    expect(t.types.describe(t.a.p2m[0x1f0]!)).toMatchObject({ typeCount: 1, refCount: 1 });
    expect(t.types.describe(t.a.p2m[0x1f1]!)).toMatchObject({ typeCount: 1, refCount: 2 });
  });

  it('never lets a grant reach a page table writable', () => {
    const t = setup();
    const l1 = t.a.p2m[t.mode.layouts.get(t.a.id)!.ptFirstPfn + 1]!;
    t.grant(20, GrantFlags.PERMIT_ACCESS, t.b.id, l1);
    const vb = scratch(t.mode, t.b, 2);
    expect(t.mapAt(t.b, vb, 20, t.a.id).status).toBe(HcErr.EBUSY);
    expect(t.flagsOf(20)).toBe(GrantFlags.PERMIT_ACCESS);
    expect(t.mapAt(t.b, vb, 20, t.a.id, GntmapFlags.HOST_MAP | GntmapFlags.READONLY).status).toBe(0);
  });

  it('keeps a granted frame alive for the grantee after its owner is destroyed, and frees it at unmap', () => {
    const t = setup();
    const frame = t.a.p2m[0x1f0]!;
    const other = t.a.p2m[0x1f1]!;
    t.grant(10, GrantFlags.PERMIT_ACCESS, t.b.id, frame);
    const vb = scratch(t.mode, t.b, 2);
    const m = t.mapAt(t.b, vb, 10, t.a.id);
    t.hv.mem.write32(frame * PAGE, 0x1234);
    t.hv.destroyDomain(t.a);
    expect(t.hv.frames.owner[frame]).toBe(OWNER_HYPERVISOR);
    expect(t.hv.frames.owner[other]).toBe(OWNER_FREE);
    expect(t.hv.mem.read32(frame * PAGE)).toBe(0x1234);
    expect(t.unmap(t.b, m.handle)).toBe(0);
    expect(t.hv.frames.owner[frame]).toBe(OWNER_FREE);
    expect(t.mode.host.zombies.size).toBe(0);
  });

  it('two domains exchange data through a granted page and an interdomain event channel', () => {
    const { hv, mode } = pvHypervisor();
    const file = (n: string) => fileURLToPath(new URL(`../guest-programs/pv/${n}.ts`, import.meta.url));
    const producer = pvDomain(hv, mode, 'producer', compiledGuest(file('grant-producer')));
    const consumer = pvDomain(hv, mode, 'consumer', compiledGuest(file('grant-consumer')));
    const run = hv.run({ maxCycles: 100_000_000 });
    expect(run.reason).toBe('all-stopped');
    expect(producer.consoleOutput()).toBe('producer: offering port 2, grant 8\nproducer got: pong from domain 2\nproducer: revoke 0\n');
    expect(consumer.consoleOutput()).toBe('consumer: bound port 2, got: ping from domain 1\n');
    expect([producer.stopReason, producer.stopStatus, consumer.stopReason, consumer.stopStatus]).toEqual(['poweroff', 0, 'poweroff', 0]);
    // one notification, from the consumer to the producer
    expect(mode.host.domains.size).toBe(2);
    expect(producer.stats.hypercalls[Hc.GRANT_TABLE_OP]).toBe(1);
    expect(consumer.stats.hypercalls[Hc.GRANT_TABLE_OP]).toBe(2);
  });
});

/**
 * Issue 9, item 1: b owns a fresh L1 (pfn 0x110, hooked at directory slot 1, va 4 MiB) and maps
 * a's read-only grant into it. What b can do to that L1 afterwards, and what a grant mapping in
 * it may never become.
 */
function grantInOwnL1() {
  const t = setup();
  const b = t.b;
  const layB = t.mode.layouts.get(b.id)!;
  const l2 = b.p2m[layB.ptFirstPfn]!;
  const xVa = 0x110000;
  const x = b.p2m[xVa >>> 12]!;
  const granted = t.a.p2m[0x1f0]!;
  const req = scratch(t.mode, b, 1);
  /** b's mmu_update of one entry */
  const update = (ptr: number, val: number) => {
    w32(b, req, ptr);
    w32(b, req + 4, val);
    return hc(t.hv, t.mode, b, Hc.MMU_UPDATE, req, 1, 0);
  };
  const hook = () => update(l2 * PAGE + 4, (x * PAGE) | P | W);
  const unhook = () => update(l2 * PAGE + 4, 0);
  const uvm = (va: number, val: number) => hc(t.hv, t.mode, b, Hc.UPDATE_VA_MAPPING, va, val, UvmFlags.TLB_FLUSH);
  t.grant(7, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, b.id, granted);
  // a maps the frame read-only itself (so it could make it a page table of its own)
  expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, 0x1f0000, (granted * PAGE) | P, UvmFlags.INVLPG)).toBe(0);
  const alone = t.types.describe(granted);
  // the L1 may not stay writable in b's bootstrap map: read-only, then hooked
  expect(uvm(xVa, (x * PAGE) | P)).toBe(0);
  expect(hook()).toBe(0);
  const m = t.mapAt(b, 0x400000, 7, t.a.id, GntmapFlags.HOST_MAP | GntmapFlags.READONLY);
  expect(m.status).toBe(0);
  const pte = x * PAGE; // entry 0 of the L1: va 0x400000
  expect(t.hv.mem.read32(pte) >>> 0).toBe(((granted * PAGE) | P | 32) >>> 0);
  return { ...t, l2, x, xVa, granted, alone, pte, handle: m.handle, update, hook, unhook, uvm };
}

describe('pv grant mappings never outlive their page table (issue 9, item 1)', () => {
  it('a read-only grant never becomes a writable mapping: unhooking its L1 unmaps it, and the bytes the guest writes back are refused', () => {
    const t = grantInOwnL1();
    expect(t.alone).toEqual({ owner: t.a.id, type: 'none', typeCount: 0, refCount: 1, pinned: false });
    expect(t.types.describe(t.granted)).toMatchObject({ type: 'none', typeCount: 0, refCount: 2 });
    expect(t.flagsOf(7)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY | GrantFlags.READING);
    // the attack: unhook the L1 (type count 0) ...
    expect(t.unhook()).toBe(0);
    expect(t.types.describe(t.x)).toMatchObject({ type: 'none', typeCount: 0 });
    // ... which unmaps the grant: the entry is gone, the grant is no longer read, the handle is dead
    expect(t.hv.mem.read32(t.pte)).toBe(0);
    expect(t.flagsOf(7)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY);
    expect(t.types.describe(t.granted)).toEqual(t.alone);
    expect(t.mode.pv(t.b).grants.maps.size).toBe(0);
    // ... map the old L1 writable, store the grant's entry back with W set, and hook it again
    expect(t.uvm(t.xVa, (t.x * PAGE) | P | W)).toBe(0);
    w32(t.b, t.xVa, (t.granted * PAGE) | P | W);
    expect(t.uvm(t.xVa, (t.x * PAGE) | P)).toBe(0);
    expect(t.hook()).toBe(HcErr.EPERM);
    expect(t.types.describe(t.granted)).toEqual(t.alone);
    expect(t.types.describe(t.x)).toMatchObject({ type: 'none', typeCount: 0 });
    expect(t.unmap(t.b, t.handle)).toBe(HcErr.EBADF);
    // the last step of the attack: a makes the frame a page table of its own, which b must not
    // be able to write (before the fix, b's hooked L1 mapped it writable here)
    w32(t.a, scratch(t.mode, t.a), MmuextCmd.PIN_L1_TABLE);
    w32(t.a, scratch(t.mode, t.a) + 4, t.granted);
    expect(hc(t.hv, t.mode, t.a, Hc.MMUEXT_OP, scratch(t.mode, t.a), 1, 0)).toBe(0);
    expect(t.types.describe(t.granted)).toEqual({ owner: t.a.id, type: 'L1', typeCount: 1, refCount: 1, pinned: true });
  });

  it('the same holds when the L1 loses its type with its whole directory (unpinned and unloaded)', () => {
    const t = grantInOwnL1();
    const layB = t.mode.layouts.get(t.b.id)!;
    // a second directory, a copy of the first: the L1s keep their type while either names them
    const d2Va = 0x111000;
    const d2 = t.b.p2m[d2Va >>> 12]!;
    expect(t.uvm(d2Va, (d2 * PAGE) | P)).toBe(0);
    for (let k = 0; k < 1023; k++) t.hv.mem.write32(d2 * PAGE + k * 4, t.hv.mem.read32(t.l2 * PAGE + k * 4));
    const ext = scratch(t.mode, t.b, 3);
    const op = (cmd: number, arg: number) => {
      w32(t.b, ext, cmd);
      w32(t.b, ext + 4, arg);
      return hc(t.hv, t.mode, t.b, Hc.MMUEXT_OP, ext, 1, 0);
    };
    expect(op(MmuextCmd.PIN_L2_TABLE, d2)).toBe(0);
    expect(op(MmuextCmd.NEW_BASEPTR, d2)).toBe(0);
    expect(t.types.describe(t.x)).toMatchObject({ type: 'L1', typeCount: 2 });
    expect(t.unhook()).toBe(0); // from the first directory: still typed through the second
    expect(t.hv.mem.read32(t.pte) >>> 0).toBe(((t.granted * PAGE) | P | 32) >>> 0);
    expect(op(MmuextCmd.NEW_BASEPTR, t.l2)).toBe(0);
    expect(op(MmuextCmd.UNPIN_TABLE, d2)).toBe(0);
    expect(t.types.describe(t.x)).toMatchObject({ type: 'none', typeCount: 0 });
    expect(t.hv.mem.read32(t.pte)).toBe(0);
    expect(t.flagsOf(7)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY);
    expect(t.types.describe(t.granted)).toEqual(t.alone);
    expect(layB.ptFrames).toBe(2);
  });
});

describe('pv block back end', () => {
  it('keeps at most a ring of requests in flight for a front end that never takes its responses, and crashes one that overruns the ring', () => {
    const { hv, mode } = pvHypervisor();
    const a = pvDomain(hv, mode, 'a', spinGuest(), { disk: new Uint8Array(64 * 512) });
    const s = scratch(mode, a);
    [SELF, 1, -1, s + 0x100].forEach((v, k) => w32(a, s + 4 * k, v));
    expect(hc(hv, mode, a, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, s, 1)).toBe(0);
    // grant reference 0: a page of a's as the ring, to the back end (domain 0)
    const table = r32(a, s + 0x100);
    const ringFrame = a.p2m[(s >>> 12) + 1]!;
    hv.mem.write32(table * PAGE + 4, ringFrame);
    hv.mem.write16(table * PAGE + 2, 0);
    hv.mem.write16(table * PAGE, GrantFlags.PERMIT_ACCESS);
    const port = mode.pv(a).blk!.port;
    const publish = (prod: number) => {
      hv.mem.write32(ringFrame * PAGE, prod); // REQ_PROD: slots of zeros (invalid requests, answered with errors)
      w32(a, s + 0x200, port);
      return hc(hv, mode, a, Hc.EVENT_CHANNEL_OP, 4, s + 0x200); // SEND
    };
    const queued = hv.events.size;
    expect(publish(32)).toBe(0);
    expect(hv.events.size - queued).toBe(32);
    // 32 more before any response: they wait for response slots instead of piling up
    expect(publish(64)).toBe(0);
    expect(hv.events.size - queued).toBe(32);
    expect(a.stopped).toBe(false);
    // more than the ring holds beyond what was taken: a broken front end
    expect(publish(97)).toBe(0);
    expect([a.stopReason, a.stopDetail]).toEqual(['crashed', 'blkback: the front end published more requests than the ring holds']);
  });
});

// Each test below pins one rule of grants.ts that a surviving mutant showed no test pinned
// (docs/mutation.md, grants.ts survivors).
describe('pv grant table operations: counts, bounds and argument checks', () => {
  /** b maps ref of a for device access only (no page-table entry); returns the status and handle */
  const mapDevice = (t: ReturnType<typeof setup>, ref: number, flags: number) => {
    const op = scratch(t.mode, t.b);
    [0, GntmapFlags.DEVICE_MAP | flags, ref, t.a.id, 99, 0, 0].forEach((v, k) => w32(t.b, op + k * 4, v));
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.MAP_GRANT_REF, op, 1)).toBe(0);
    return { status: r32(t.b, op + GntMap.STATUS), handle: r32(t.b, op + GntMap.HANDLE) };
  };

  it('READING and WRITING stay set until the last of several mappings of one reference is unmapped', () => {
    const t = setup();
    const frame = t.a.p2m[0x1f0]!;
    const alone = t.types.describe(frame);
    t.grant(3, GrantFlags.PERMIT_ACCESS, t.b.id, frame);
    const r1 = mapDevice(t, 3, GntmapFlags.READONLY);
    const r2 = mapDevice(t, 3, GntmapFlags.READONLY);
    const w1 = mapDevice(t, 3, 0);
    const w2 = mapDevice(t, 3, 0);
    expect([r1, r2, w1, w2].map((m) => m.status)).toEqual([0, 0, 0, 0]);
    expect([r1, r2, w1, w2].map((m) => m.handle)).toEqual([1, 2, 3, 4]);
    expect(t.flagsOf(3)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READING | GrantFlags.WRITING);
    expect(t.types.describe(frame)).toMatchObject({ type: 'writable', typeCount: alone.typeCount + 2, refCount: alone.refCount + 4 });
    expect(t.unmap(t.b, r1.handle)).toBe(0);
    expect(t.flagsOf(3)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READING | GrantFlags.WRITING);
    expect(t.unmap(t.b, w2.handle)).toBe(0);
    expect(t.flagsOf(3)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READING | GrantFlags.WRITING);
    expect(t.unmap(t.b, r2.handle)).toBe(0);
    expect(t.flagsOf(3)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.WRITING);
    expect(t.unmap(t.b, w1.handle)).toBe(0);
    expect(t.flagsOf(3)).toBe(GrantFlags.PERMIT_ACCESS);
    expect(t.types.describe(frame)).toEqual(alone);
    // the counts start again from zero: one more mapping, one more unmap, clear again
    const r3 = mapDevice(t, 3, GntmapFlags.READONLY);
    expect(t.flagsOf(3)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READING);
    expect(t.unmap(t.b, r3.handle)).toBe(0);
    expect(t.flagsOf(3)).toBe(GrantFlags.PERMIT_ACCESS);
  });

  it('takes at most 64 operations per call: 64 are done, 65 get E2BIG, a negative count EINVAL', () => {
    const t = setup();
    const ops = scratch(t.mode, t.b);
    for (let k = 0; k < 65; k++) [0, 0, 1000 + k, 99].forEach((v, j) => w32(t.b, ops + k * GntUnmap.BYTES + j * 4, v));
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.UNMAP_GRANT_REF, ops, 65)).toBe(HcErr.E2BIG);
    expect(r32(t.b, ops + 64 * GntUnmap.BYTES + GntUnmap.STATUS)).toBe(99);
    expect(r32(t.b, ops + GntUnmap.STATUS)).toBe(99);
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.UNMAP_GRANT_REF, ops, -1)).toBe(HcErr.EINVAL);
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.UNMAP_GRANT_REF, ops, 64)).toBe(0);
    expect(r32(t.b, ops + 63 * GntUnmap.BYTES + GntUnmap.STATUS)).toBe(HcErr.EBADF);
    expect(r32(t.b, ops + 64 * GntUnmap.BYTES + GntUnmap.STATUS)).toBe(99);
  });

  it('unmap does exactly count operations, each at its own slot, each status its own', () => {
    const t = setup();
    t.grant(4, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, t.a.p2m[0x1f0]!);
    const h = [mapDevice(t, 4, GntmapFlags.READONLY), mapDevice(t, 4, GntmapFlags.READONLY), mapDevice(t, 4, GntmapFlags.READONLY)].map((m) => m.handle);
    expect(h).toEqual([1, 2, 3]);
    const ops = scratch(t.mode, t.b, 1);
    // slots: h[0], an unknown handle, h[2] (beyond count), ...
    [h[0]!, 77, h[2]!].forEach((handle, k) => [0, 0, handle, 99].forEach((v, j) => w32(t.b, ops + k * GntUnmap.BYTES + j * 4, v)));
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.UNMAP_GRANT_REF, ops, 2)).toBe(0);
    expect([0, 1, 2].map((k) => r32(t.b, ops + k * GntUnmap.BYTES + GntUnmap.STATUS))).toEqual([0, HcErr.EBADF, 99]);
    expect([...(t.mode.host.domains.get(t.b.id)!.grants.maps.keys())]).toEqual([2, 3]);
    expect(t.flagsOf(4)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY | GrantFlags.READING);
  });

  it('map and unmap refuse with EFAULT, doing nothing, when a status word cannot be written', () => {
    const t = setup();
    t.grant(5, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, t.a.p2m[0x1f0]!);
    const m = mapDevice(t, 5, GntmapFlags.READONLY);
    // b's scratch page 2 is unmapped: an operation straddling into it has its status word there
    const page2 = scratch(t.mode, t.b, 2);
    expect(hc(t.hv, t.mode, t.b, Hc.UPDATE_VA_MAPPING, page2, 0, UvmFlags.INVLPG)).toBe(0);
    const un = page2 - GntUnmap.STATUS;
    [0, 0, m.handle].forEach((v, j) => w32(t.b, un + j * 4, v));
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.UNMAP_GRANT_REF, un, 1)).toBe(HcErr.EFAULT);
    expect(t.flagsOf(5)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY | GrantFlags.READING);
    const mp = page2 - GntMap.STATUS;
    [0, GntmapFlags.DEVICE_MAP | GntmapFlags.READONLY, 5, t.a.id].forEach((v, j) => w32(t.b, mp + j * 4, v));
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.MAP_GRANT_REF, mp, 1)).toBe(HcErr.EFAULT);
    expect([...(t.mode.host.domains.get(t.b.id)!.grants.maps.keys())]).toEqual([m.handle]);
    // the status is writable but the bus address is not: still EFAULT, nothing mapped
    const mp2 = page2 - GntMap.DEV_BUS_ADDR;
    [0, GntmapFlags.DEVICE_MAP | GntmapFlags.READONLY, 5, t.a.id, 99, 0].forEach((v, j) => w32(t.b, mp2 + j * 4, v));
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.MAP_GRANT_REF, mp2, 1)).toBe(HcErr.EFAULT);
    expect(r32(t.b, mp2 + GntMap.STATUS)).toBe(99);
    expect([...(t.mode.host.domains.get(t.b.id)!.grants.maps.keys())]).toEqual([m.handle]);
    // the status word on a read-only page, the rest of the results on a writable one: EFAULT
    const page3 = scratch(t.mode, t.b, 3);
    const ro = t.hv.mem.read32(bootstrapPte(t.mode, t.b, page3)) & ~W;
    const mp3 = page3 + PAGE - GntMap.HANDLE;
    [0, GntmapFlags.DEVICE_MAP | GntmapFlags.READONLY, 5, t.a.id].forEach((v, j) => w32(t.b, mp3 + j * 4, v));
    expect(hc(t.hv, t.mode, t.b, Hc.UPDATE_VA_MAPPING, page3, ro, UvmFlags.INVLPG)).toBe(0);
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.MAP_GRANT_REF, mp3, 1)).toBe(HcErr.EFAULT);
    expect([...(t.mode.host.domains.get(t.b.id)!.grants.maps.keys())]).toEqual([m.handle]);
    expect(t.unmap(t.b, m.handle)).toBe(0);
    expect(t.flagsOf(5)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY);
  });

  it('setup_table checks every word of the frame list, and only those', () => {
    const t = setup();
    const s = scratch(t.mode, t.b);
    const page2 = scratch(t.mode, t.b, 2);
    expect(hc(t.hv, t.mode, t.b, Hc.UPDATE_VA_MAPPING, page2, 0, UvmFlags.INVLPG)).toBe(0);
    const before = t.hv.frames.freeFrames;
    // two words, the second on the unmapped page: EFAULT, no frame taken
    [SELF, 2, 99].forEach((v, k) => w32(t.b, s + k * 4, v));
    w32(t.b, s + GntSetup.FRAME_LIST, page2 - 4);
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, s, 1)).toBe(0);
    expect(r32(t.b, s + GntSetup.STATUS)).toBe(HcErr.EFAULT);
    expect(t.hv.frames.freeFrames).toBe(before);
    // the list wholly on the unmapped page: EFAULT
    w32(t.b, s + GntSetup.FRAME_LIST, page2);
    [SELF, 1, 99].forEach((v, k) => w32(t.b, s + k * 4, v));
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, s, 1)).toBe(0);
    expect(r32(t.b, s + GntSetup.STATUS)).toBe(HcErr.EFAULT);
    // two words ending exactly where the mapped page ends: done (the word after is not checked)
    [SELF, 2, 99].forEach((v, k) => w32(t.b, s + k * 4, v));
    w32(t.b, s + GntSetup.FRAME_LIST, page2 - 8);
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, s, 1)).toBe(0);
    expect(r32(t.b, s + GntSetup.STATUS)).toBe(0);
    expect(t.hv.frames.freeFrames).toBe(before - 2);
    const frames = t.mode.host.domains.get(t.b.id)!.grants.frames;
    expect([r32(t.b, page2 - 8), r32(t.b, page2 - 4)]).toEqual([frames[0]!, frames[1]!]);
  });

  it('a destroyed grantee gives back every mapping it held: flags cleared, references returned', () => {
    const t = setup();
    const f0 = t.a.p2m[0x1f0]!;
    const f1 = t.a.p2m[0x1f1]!;
    const before = [t.types.describe(f0), t.types.describe(f1)];
    t.grant(6, GrantFlags.PERMIT_ACCESS, t.b.id, f0);
    t.grant(7, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, f1);
    expect(mapDevice(t, 6, 0).status).toBe(0);
    expect(t.mapAt(t.b, scratch(t.mode, t.b, 2), 7, t.a.id, GntmapFlags.HOST_MAP | GntmapFlags.READONLY).status).toBe(0);
    expect([t.flagsOf(6), t.flagsOf(7)]).toEqual([GrantFlags.PERMIT_ACCESS | GrantFlags.WRITING, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY | GrantFlags.READING]);
    t.hv.destroyDomain(t.b);
    expect([t.flagsOf(6), t.flagsOf(7)]).toEqual([GrantFlags.PERMIT_ACCESS, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY]);
    expect([t.types.describe(f0), t.types.describe(f1)]).toEqual(before);
  });
});

describe('pv grant_table_op arguments: faults, read-only results, counts, every command', () => {
  /** b's scratch pages 2 and 3; page 2 made unmapped or read-only in b's page table */
  const pages = (t: ReturnType<typeof setup>, page2: 'unmapped' | 'read-only' | 'mapped', page3: 'read-only' | 'mapped') => {
    const p2 = scratch(t.mode, t.b, 2);
    const p3 = scratch(t.mode, t.b, 3);
    const set = (va: number, how: string) => {
      if (how === 'unmapped') expect(hc(t.hv, t.mode, t.b, Hc.UPDATE_VA_MAPPING, va, 0, UvmFlags.INVLPG)).toBe(0);
      if (how === 'read-only') {
        const ro = t.hv.mem.read32(bootstrapPte(t.mode, t.b, va)) & ~W;
        expect(hc(t.hv, t.mode, t.b, Hc.UPDATE_VA_MAPPING, va, ro, UvmFlags.INVLPG)).toBe(0);
      }
    };
    set(p2, page2);
    set(p3, page3);
    return { p2, p3 };
  };
  const words = (d: Domain, va: number, n: number) => Array.from({ length: n }, (_, k) => r32(d, va + k * 4));
  const op = (t: ReturnType<typeof setup>, cmd: number, at: number, count: number) => hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, cmd, at, count);
  const grantsOf = (t: ReturnType<typeof setup>, d: Domain) => t.mode.host.domains.get(d.id)!.grants;

  it('an argument word on an unmapped page is EFAULT with nothing done and no result written, for every command', () => {
    const t = setup();
    t.grant(5, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, t.a.p2m[0x1f0]!);
    const m = t.mapAt(t.b, scratch(t.mode, t.b, 4), 5, t.a.id, GntmapFlags.HOST_MAP | GntmapFlags.READONLY);
    expect(m.status).toBe(0);
    const { p3 } = pages(t, 'unmapped', 'mapped');
    const free = t.hv.frames.freeFrames;
    // each operation starts on the unmapped page 2, its first word there, the rest on page 3
    // setup_table: DOM unreadable; NR_FRAMES, STATUS, FRAME_LIST readable
    [1, 99, p3 + 0x100].forEach((v, k) => w32(t.b, p3 + k * 4, v));
    expect(op(t, GnttabCmd.SETUP_TABLE, p3 - 4, 1)).toBe(HcErr.EFAULT);
    expect(words(t.b, p3, 3)).toEqual([1, 99, p3 + 0x100]);
    expect(grantsOf(t, t.b).frames).toEqual([]);
    expect(t.hv.frames.freeFrames).toBe(free);
    // query_size: DOM unreadable, the results readable
    [99, 99, 99].forEach((v, k) => w32(t.b, p3 + k * 4, v));
    expect(op(t, GnttabCmd.QUERY_SIZE, p3 - 4, 1)).toBe(HcErr.EFAULT);
    expect(words(t.b, p3, 3)).toEqual([99, 99, 99]);
    // map: HOST_ADDR unreadable; a device map of grant 5 in the rest
    [GntmapFlags.DEVICE_MAP | GntmapFlags.READONLY, 5, t.a.id, 99, 99, 99].forEach((v, k) => w32(t.b, p3 + k * 4, v));
    expect(op(t, GnttabCmd.MAP_GRANT_REF, p3 - 4, 1)).toBe(HcErr.EFAULT);
    expect(words(t.b, p3 + 12, 3)).toEqual([99, 99, 99]);
    expect([...grantsOf(t, t.b).maps.keys()]).toEqual([m.handle]);
    // copy: SRC_REF unreadable; a frame-to-frame copy in the rest
    const fb = t.b.p2m[0x1f0]!;
    [SELF, 0, fb, SELF, 64, 16, 0, 99].forEach((v, k) => w32(t.b, p3 + k * 4, v));
    const lines = t.hv.cpu.evCount[Ev.PvGrantCopy]!;
    expect(op(t, GnttabCmd.COPY, p3 - 4, 1)).toBe(HcErr.EFAULT);
    expect(r32(t.b, p3 + 28)).toBe(99);
    expect(t.hv.cpu.evCount[Ev.PvGrantCopy]! - lines).toBe(0);
    // unmap: HANDLE unreadable (the last word of page 2), STATUS on page 3
    w32(t.b, p3, 99);
    expect(op(t, GnttabCmd.UNMAP_GRANT_REF, p3 - GntUnmap.STATUS, 1)).toBe(HcErr.EFAULT);
    expect(r32(t.b, p3)).toBe(99);
    expect([...grantsOf(t, t.b).maps.keys()]).toEqual([m.handle]);
    expect(t.flagsOf(5)).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY | GrantFlags.READING);
  });

  it('a result word on a read-only page is EFAULT with nothing done, for every command', () => {
    const t = setup();
    t.grant(5, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, t.a.p2m[0x1f0]!);
    const m = t.mapAt(t.b, scratch(t.mode, t.b, 4), 5, t.a.id, GntmapFlags.HOST_MAP | GntmapFlags.READONLY);
    const { p2, p3 } = pages(t, 'mapped', 'read-only');
    const free = t.hv.frames.freeFrames;
    // setup_table: the frame list on the read-only page
    [SELF, 1, 99, p3].forEach((v, k) => w32(t.b, p2 + k * 4, v));
    expect(op(t, GnttabCmd.SETUP_TABLE, p2, 1)).toBe(0);
    expect(r32(t.b, p2 + GntSetup.STATUS)).toBe(HcErr.EFAULT);
    expect(t.hv.frames.freeFrames).toBe(free);
    expect(grantsOf(t, t.b).frames).toEqual([]);
    // setup_table: its STATUS on the read-only page (DOM and NR_FRAMES before it): EFAULT
    [SELF, 1].forEach((v, k) => w32(t.b, p3 - 8 + k * 4, v));
    expect(op(t, GnttabCmd.SETUP_TABLE, p3 - 8, 1)).toBe(HcErr.EFAULT);
    // query_size: the results on the read-only page
    w32(t.b, p3 - 4, SELF);
    expect(op(t, GnttabCmd.QUERY_SIZE, p3 - 4, 1)).toBe(HcErr.EFAULT);
    // map: STATUS writable, HANDLE and DEV_BUS_ADDR read-only
    const mp = p3 - GntMap.HANDLE;
    [0, GntmapFlags.DEVICE_MAP | GntmapFlags.READONLY, 5, t.a.id, 99].forEach((v, k) => w32(t.b, mp + k * 4, v));
    expect(op(t, GnttabCmd.MAP_GRANT_REF, mp, 1)).toBe(HcErr.EFAULT);
    expect(r32(t.b, mp + GntMap.STATUS)).toBe(99);
    expect([...grantsOf(t, t.b).maps.keys()]).toEqual([m.handle]);
    // copy: STATUS read-only
    const fb = t.b.p2m[0x1f0]!;
    const fb2 = t.b.p2m[0x1f1]!;
    const cp = p3 - GntCopy.STATUS;
    [fb, SELF, 0, fb2, SELF, 0, 16, 0].forEach((v, k) => w32(t.b, cp + k * 4, v));
    t.hv.mem.fill(fb * PAGE, 16, 0x11);
    t.hv.mem.fill(fb2 * PAGE, 16, 0x22);
    expect(op(t, GnttabCmd.COPY, cp, 1)).toBe(HcErr.EFAULT);
    expect(t.hv.mem.read32(fb2 * PAGE)).toBe(0x22222222);
    // unmap: STATUS read-only
    const un = p3 - GntUnmap.STATUS;
    [0, 0, m.handle].forEach((v, k) => w32(t.b, un + k * 4, v));
    expect(op(t, GnttabCmd.UNMAP_GRANT_REF, un, 1)).toBe(HcErr.EFAULT);
    expect([...grantsOf(t, t.b).maps.keys()]).toEqual([m.handle]);
  });

  it('count 0 does nothing and returns 0 for map, unmap and copy; setup_table and query_size take exactly one', () => {
    const t = setup();
    t.grant(5, GrantFlags.PERMIT_ACCESS, t.b.id, t.a.p2m[0x1f0]!);
    const s = scratch(t.mode, t.b);
    [0, GntmapFlags.DEVICE_MAP, 5, t.a.id, 99, 99, 99].forEach((v, k) => w32(t.b, s + k * 4, v));
    for (const cmd of [GnttabCmd.MAP_GRANT_REF, GnttabCmd.UNMAP_GRANT_REF, GnttabCmd.COPY]) expect(op(t, cmd, s, 0)).toBe(0);
    expect(words(t.b, s + GntMap.STATUS, 3)).toEqual([99, 99, 99]);
    expect(grantsOf(t, t.b).maps.size).toBe(0);
    expect(t.flagsOf(5)).toBe(GrantFlags.PERMIT_ACCESS);
    [SELF, 99, 99, 99].forEach((v, k) => w32(t.b, s + k * 4, v));
    for (const n of [0, 2]) {
      expect(op(t, GnttabCmd.QUERY_SIZE, s, n)).toBe(HcErr.EINVAL);
      expect(op(t, GnttabCmd.SETUP_TABLE, s, n)).toBe(HcErr.EINVAL);
    }
    expect(words(t.b, s + 4, 3)).toEqual([99, 99, 99]);
  });

  it('query_size reports another domain by id, and ESRCH with no frames for an unknown one', () => {
    const t = setup();
    const q = scratch(t.mode, t.b);
    const query = (dom: number) => {
      [dom, 99, 99, 99].forEach((v, k) => w32(t.b, q + k * 4, v));
      expect(op(t, GnttabCmd.QUERY_SIZE, q, 1)).toBe(0);
      return words(t.b, q + 4, 3);
    };
    expect(query(t.a.id)).toEqual([1, 4, 0]);
    expect(query(SELF)).toEqual([0, 4, 0]);
    expect(query(t.b.id)).toEqual([0, 4, 0]);
    expect(query(77)).toEqual([0, 4, HcErr.ESRCH]);
  });

  it('a device-only mapping writes no page-table entry anywhere, at map or at unmap', () => {
    const t = setup();
    const f0 = t.a.p2m[0x1f0]!;
    t.grant(5, GrantFlags.PERMIT_ACCESS, t.b.id, f0);
    // machine frame 0 (the hypervisor's) is where a mapping with no entry would write if it took address 0 onwards
    const low = () => [0, 4, 8].map((k) => t.hv.mem.read32(k));
    t.hv.mem.write32(0, 0x11111111);
    t.hv.mem.write32(4, 0x22222222);
    const before = low();
    const pte = bootstrapPte(t.mode, t.b, 0);
    const pteBefore = t.hv.mem.read32(pte);
    const ops = scratch(t.mode, t.b, 1);
    [0, GntmapFlags.DEVICE_MAP, 5, t.a.id, 99, 99, 99].forEach((v, k) => w32(t.b, ops + k * 4, v));
    expect(op(t, GnttabCmd.MAP_GRANT_REF, ops, 1)).toBe(0);
    expect(words(t.b, ops + GntMap.STATUS, 3)).toEqual([0, 1, f0 * PAGE]);
    expect(low()).toEqual(before);
    expect(t.hv.mem.read32(pte)).toBe(pteBefore);
    expect(t.unmap(t.b, 1)).toBe(0);
    expect(low()).toEqual(before);
    expect(t.hv.mem.read32(pte)).toBe(pteBefore);
    expect(t.flagsOf(5)).toBe(GrantFlags.PERMIT_ACCESS);
    t.hv.mem.fill(0, 8, 0);
  });

  it('map does count operations, each from its own slot; a refused one gets a zero handle and bus address', () => {
    const t = setup();
    const f0 = t.a.p2m[0x1f0]!;
    const f1 = t.a.p2m[0x1f1]!;
    t.grant(5, GrantFlags.PERMIT_ACCESS, t.b.id, f0);
    t.grant(6, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, f1);
    const ops = scratch(t.mode, t.b, 1);
    const slots = [
      [0, GntmapFlags.DEVICE_MAP | GntmapFlags.READONLY, 6, t.a.id, 99, 99, 99],
      [0, GntmapFlags.DEVICE_MAP, 77, t.a.id, 99, 99, 99], // an empty entry: EACCES
      [0, GntmapFlags.DEVICE_MAP, 5, t.a.id, 99, 99, 99],
      [0, GntmapFlags.DEVICE_MAP, 5, t.a.id, 99, 99, 99], // beyond count
    ];
    slots.forEach((s, k) => s.forEach((v, j) => w32(t.b, ops + k * GntMap.BYTES + j * 4, v)));
    expect(op(t, GnttabCmd.MAP_GRANT_REF, ops, 3)).toBe(0);
    const results = (k: number) => words(t.b, ops + k * GntMap.BYTES + GntMap.STATUS, 3);
    expect([0, 1, 2, 3].map(results)).toEqual([[0, 1, f1 * PAGE], [HcErr.EACCES, 0, 0], [0, 2, f0 * PAGE], [99, 99, 99]]);
    expect([t.flagsOf(5), t.flagsOf(6)]).toEqual([GrantFlags.PERMIT_ACCESS | GrantFlags.WRITING, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY | GrantFlags.READING]);
    expect([...grantsOf(t, t.b).maps.values()].map((m) => [m.ref, m.frame, m.readonly])).toEqual([[6, f1, true], [5, f0, false]]);
  });

  it('setup_table: 1 to 4 frames, for itself by SELF or its own id; it grows only by the frames it lacks, ENOMEM when they are not free; exactly nr words written', () => {
    const t = setup();
    const s = scratch(t.mode, t.b);
    const list = scratch(t.mode, t.b, 1);
    const setupTable = (dom: number, nr: number) => {
      [dom, nr, 99, list].forEach((v, k) => w32(t.b, s + k * 4, v));
      for (let k = 0; k < 6; k++) w32(t.b, list + k * 4, 0x5a5a);
      expect(op(t, GnttabCmd.SETUP_TABLE, s, 1)).toBe(0);
      return r32(t.b, s + GntSetup.STATUS);
    };
    const free = t.hv.frames.freeFrames;
    expect(setupTable(SELF, 0)).toBe(HcErr.EINVAL);
    expect(setupTable(SELF, 5)).toBe(HcErr.EINVAL);
    expect(setupTable(t.a.id, 1)).toBe(HcErr.EPERM);
    expect(t.hv.frames.freeFrames).toBe(free);
    expect(setupTable(t.b.id, 1)).toBe(0);
    const g = grantsOf(t, t.b);
    expect(words(t.b, list, 2)).toEqual([g.frames[0], 0x5a5a]);
    // the machine keeps exactly 2 free frames: growing from 1 to 3 frames takes both
    const taken: number[] = [];
    while (t.hv.frames.freeFrames > 2) taken.push(t.hv.frames.alloc(-2));
    expect(setupTable(SELF, 4)).toBe(HcErr.ENOMEM);
    expect(g.frames.length).toBe(1);
    expect(words(t.b, list, 2)).toEqual([0x5a5a, 0x5a5a]);
    expect(setupTable(SELF, 3)).toBe(0);
    expect(t.hv.frames.freeFrames).toBe(0);
    expect(words(t.b, list, 4)).toEqual([g.frames[0], g.frames[1], g.frames[2], 0x5a5a]);
    // asking again for what it has needs no free frame
    expect(setupTable(SELF, 3)).toBe(0);
    expect(setupTable(SELF, 2)).toBe(0);
    expect(words(t.b, list, 3)).toEqual([g.frames[0], g.frames[1], 0x5a5a]);
    expect(setupTable(SELF, 4)).toBe(HcErr.ENOMEM);
    // a list it cannot write is EFAULT, whether or not the frames would be free
    [SELF, 4, 99, 0xfff00000].forEach((v, k) => w32(t.b, s + k * 4, v));
    expect(op(t, GnttabCmd.SETUP_TABLE, s, 1)).toBe(0);
    expect(r32(t.b, s + GntSetup.STATUS)).toBe(HcErr.EFAULT);
    t.hv.frames.release(taken.pop()!, -2);
    expect(setupTable(SELF, 4)).toBe(0);
    expect(words(t.b, list, 5)).toEqual([...g.frames, 0x5a5a]);
    for (const f of taken) t.hv.frames.release(f, -2);
  });
});
