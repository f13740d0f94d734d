// Grant copy and grant transfer (issue 13): the two ways bytes move through the grant table
// without a mapping. GNTTABOP_copy copies only through a grant made to the caller, with the
// access it allows (a read-only grant is never a destination), within the page, never into a page
// table; grant transfer hands a fresh frame only into an ACCEPT_TRANSFER entry made to the sender,
// once, within the domain's quota. And the network back end built on them: a hostile front end's
// requests are refused and counted, never followed outside what it granted.
import { describe, expect, it } from 'vitest';
import { DomId, GnttabCmd, GntcopyFlags, GrantFlags, Hc, MemoryCmd, UvmFlags } from '../../hypercalls/numbers.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { GntCopy, GrantEntry, NetifRxReq, NetifRxRsp, NetifTxReq, NetifTxRsp } from '../../hypercalls/structs.ts';
import { RingHeader } from '../../hypercalls/ring.ts';
import { Ev } from '../../machine/ledger.ts';
import type { DomainConfig } from '../../hypervisor/core/domain.ts';
import { grantTransfer } from '../../hypervisor/pv/grants.ts';
import { hc, pvDomain, pvHypervisor, pvOf, r32, scratch, spinGuest, w32, PAGE } from './pv-helpers.ts';
import { checkOwnership } from './pv-invariants.ts';

const SELF = 0x7ff0;
const BACKEND = DomId.BACKEND as number;

function setup(config: Partial<DomainConfig> = {}) {
  const { hv, mode } = pvHypervisor();
  const a = pvDomain(hv, mode, 'a', spinGuest(), config);
  const b = pvDomain(hv, mode, 'b', spinGuest());
  const c = pvDomain(hv, mode, 'c', spinGuest());
  const s = scratch(mode, a);
  [SELF, 1, -1, s + 0x100].forEach((v, k) => w32(a, s + k * 4, v));
  expect(hc(hv, mode, a, Hc.GRANT_TABLE_OP, GnttabCmd.SETUP_TABLE, s, 1)).toBe(0);
  const table = r32(a, s + 0x100);
  const entry = (ref: number) => table * PAGE + ref * GrantEntry.BYTES;
  const grant = (ref: number, flags: number, domid: number, frame: number) => {
    hv.mem.write32(entry(ref) + GrantEntry.FRAME, frame);
    hv.mem.write16(entry(ref) + GrantEntry.DOMID, domid);
    hv.mem.write16(entry(ref), flags);
  };
  /** b's GNTTABOP_copy of len bytes: the status */
  const copy = (src: [number, number, number], dst: [number, number, number], len: number, flags: number) => {
    const op = scratch(mode, b);
    [...src, ...dst, len, flags, 99].forEach((v, k) => w32(b, op + k * 4, v));
    expect(hc(hv, mode, b, Hc.GRANT_TABLE_OP, GnttabCmd.COPY, op, 1)).toBe(0);
    return r32(b, op + GntCopy.STATUS);
  };
  const fill = (frame: number, seed: number) => {
    for (let k = 0; k < PAGE; k += 4) hv.mem.write32(frame * PAGE + k, (k * 7 + seed) | 0);
  };
  const bytes = (frame: number, off: number, n: number) => Array.from(hv.mem.u8.subarray(frame * PAGE + off, frame * PAGE + off + n));
  return { hv, mode, a, b, c, table, entry, grant, copy, fill, bytes, host: mode.host };
}

describe('pv grant copy (GNTTABOP_copy)', () => {
  it('copies from a grant made to the caller into its own frame, and back into a writable grant; lines charged', () => {
    const t = setup();
    const fa = t.a.p2m[0x1f0]!;
    const fb = t.b.p2m[0x1f0]!;
    t.fill(fa, 1);
    t.fill(fb, 2);
    t.grant(10, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, fa);
    const lines = t.hv.cpu.evCount[Ev.PvGrantCopy]!;
    const refs = t.host.types.refCount[fa];
    expect(t.copy([10, t.a.id, 100], [fb, SELF, 200], 130, GntcopyFlags.SOURCE_GREF)).toBe(0);
    expect(t.bytes(fb, 200, 130)).toEqual(t.bytes(fa, 100, 130));
    expect(t.hv.cpu.evCount[Ev.PvGrantCopy]! - lines).toBe(3);
    // a writable grant as the destination
    t.grant(11, GrantFlags.PERMIT_ACCESS, t.b.id, t.a.p2m[0x1f1]!);
    expect(t.copy([fb, SELF, 0], [11, t.a.id, 4000], 96, GntcopyFlags.DEST_GREF)).toBe(0);
    expect(t.bytes(t.a.p2m[0x1f1]!, 4000, 96)).toEqual(t.bytes(fb, 0, 96));
    // the copy took no lasting reference and set no READING/WRITING
    expect(t.host.types.refCount[fa]).toBe(refs);
    expect(t.hv.mem.read16(t.entry(10))).toBe(GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY);
  });

  it('copies only through a grant made to the caller: another grantee\'s entry, a transfer entry, an empty one or a reference beyond the table are refused and nothing is written', () => {
    const t = setup();
    const fa = t.a.p2m[0x1f0]!;
    const fb = t.b.p2m[0x1f0]!;
    t.fill(fa, 1);
    t.fill(fb, 2);
    const before = t.bytes(fb, 0, 64);
    t.grant(10, GrantFlags.PERMIT_ACCESS, t.c.id, fa);
    t.grant(11, GrantFlags.ACCEPT_TRANSFER, t.b.id, fa);
    t.grant(12, GrantFlags.INVALID, t.b.id, fa);
    expect(t.copy([10, t.a.id, 0], [fb, SELF, 0], 64, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.EACCES);
    expect(t.copy([11, t.a.id, 0], [fb, SELF, 0], 64, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.EACCES);
    expect(t.copy([12, t.a.id, 0], [fb, SELF, 0], 64, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.EACCES);
    expect(t.copy([512, t.a.id, 0], [fb, SELF, 0], 64, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.ENOENT);
    expect(t.bytes(fb, 0, 64)).toEqual(before);
  });

  it('never copies into a read-only grant', () => {
    const t = setup();
    const fa = t.a.p2m[0x1f0]!;
    t.fill(fa, 1);
    const before = t.bytes(fa, 0, 64);
    t.grant(10, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, fa);
    expect(t.copy([t.b.p2m[0x1f0]!, SELF, 0], [10, t.a.id, 0], 64, GntcopyFlags.DEST_GREF)).toBe(HcErr.EACCES);
    expect(t.bytes(fa, 0, 64)).toEqual(before);
  });

  it('copies only the granter\'s own frame: an entry naming another domain\'s frame is EPERM', () => {
    const t = setup();
    const fc = t.c.p2m[0x1f0]!;
    const fb = t.b.p2m[0x1f0]!;
    t.fill(fc, 3);
    t.fill(fb, 2);
    const before = t.bytes(fb, 0, 64);
    t.grant(10, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, fc);
    expect(t.copy([10, t.a.id, 0], [fb, SELF, 0], 64, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.EPERM);
    expect(t.bytes(fb, 0, 64)).toEqual(before);
  });

  it('stays within the page: an offset and length past its end, or negative, is EINVAL on either side', () => {
    const t = setup();
    const fa = t.a.p2m[0x1f0]!;
    const fb = t.b.p2m[0x1f0]!;
    t.fill(fa, 1);
    t.fill(fb, 2);
    t.fill(fb + 1, 4);
    const next = t.bytes(fb + 1, 0, 64);
    t.grant(10, GrantFlags.PERMIT_ACCESS, t.b.id, fa);
    expect(t.copy([10, t.a.id, 4000], [fb, SELF, 0], 200, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.EINVAL);
    expect(t.copy([10, t.a.id, -4], [fb, SELF, 0], 8, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.EINVAL);
    expect(t.copy([fb, SELF, 4000], [10, t.a.id, 0], 200, GntcopyFlags.DEST_GREF)).toBe(HcErr.EINVAL);
    expect(t.copy([fb, SELF, 0], [10, t.a.id, 4000], 200, GntcopyFlags.DEST_GREF)).toBe(HcErr.EINVAL);
    expect(t.bytes(fb + 1, 0, 64)).toEqual(next);
  });

  it('never copies into a page table, even through a writable grant of it (EBUSY)', () => {
    const t = setup();
    const l1 = t.a.p2m[t.mode.layouts.get(t.a.id)!.ptFirstPfn + 1]!;
    const before = t.bytes(l1, 0, 64);
    t.grant(10, GrantFlags.PERMIT_ACCESS, t.b.id, l1);
    expect(t.copy([t.b.p2m[0x1f0]!, SELF, 0], [10, t.a.id, 0], 64, GntcopyFlags.DEST_GREF)).toBe(HcErr.EBUSY);
    expect(t.bytes(l1, 0, 64)).toEqual(before);
  });

  it('a frame side is one of the caller\'s own frames: another domain\'s frame is EPERM, as is naming another domain', () => {
    const t = setup();
    const fa = t.a.p2m[0x1f0]!;
    const fc = t.c.p2m[0x1f0]!;
    t.fill(fc, 3);
    const before = t.bytes(fc, 0, 64);
    t.grant(10, GrantFlags.PERMIT_ACCESS, t.b.id, fa);
    expect(t.copy([10, t.a.id, 0], [fc, SELF, 0], 64, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.EPERM);
    expect(t.copy([10, t.a.id, 0], [fc, t.c.id, 0], 64, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.EPERM);
    // its own frame, but named as another domain's: EPERM too
    expect(t.copy([10, t.a.id, 0], [t.b.p2m[0x1f0]!, t.c.id, 0], 64, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.EPERM);
    expect(t.bytes(fc, 0, 64)).toEqual(before);
  });
});

describe('pv grant transfer (page flipping)', () => {
  /** a gives pfn 0x1f5 back (the hypervisor's side of memory_op DECREASE_RESERVATION) */
  const giveBack = (t: ReturnType<typeof setup>) => {
    const f = t.a.p2m[0x1f5]!;
    t.a.p2m[0x1f5] = -1;
    return f;
  };

  it('puts a fresh frame holding the bytes into an ACCEPT_TRANSFER entry, in the slot the domain gave back', () => {
    const t = setup();
    giveBack(t);
    t.grant(20, GrantFlags.ACCEPT_TRANSFER, BACKEND, 0);
    const free = t.hv.frames.freeFrames;
    const flips = t.hv.cpu.evCount[Ev.PvPageFlip]!;
    expect(grantTransfer(t.host, pvOf(t.mode, t.a), 20, BACKEND, new Uint8Array([1, 2, 3, 4, 5]))).toBe(0);
    const f = t.hv.mem.read32(t.entry(20) + GrantEntry.FRAME);
    expect(t.hv.mem.read16(t.entry(20))).toBe(GrantFlags.ACCEPT_TRANSFER | GrantFlags.TRANSFER_COMPLETED);
    expect(t.hv.frames.owner[f]).toBe(t.a.id);
    expect(t.a.p2m[0x1f5]).toBe(f);
    expect(t.bytes(f, 0, 6)).toEqual([1, 2, 3, 4, 5, 0]);
    expect(t.hv.frames.freeFrames).toBe(free - 1);
    expect(t.hv.cpu.evCount[Ev.PvPageFlip]! - flips).toBe(1);
  });

  it('transfers only into an entry that accepts a transfer, from the domain it names, once: nothing is allocated otherwise', () => {
    const t = setup();
    giveBack(t);
    t.grant(20, GrantFlags.PERMIT_ACCESS, BACKEND, t.a.p2m[0x1f0]!);
    t.grant(21, GrantFlags.ACCEPT_TRANSFER, t.b.id, 0);
    t.grant(22, GrantFlags.ACCEPT_TRANSFER | GrantFlags.TRANSFER_COMPLETED, BACKEND, 0);
    const free = t.hv.frames.freeFrames;
    const pa = pvOf(t.mode, t.a);
    expect(grantTransfer(t.host, pa, 20, BACKEND, new Uint8Array(4))).toBe(HcErr.EACCES);
    expect(grantTransfer(t.host, pa, 21, BACKEND, new Uint8Array(4))).toBe(HcErr.EACCES);
    expect(grantTransfer(t.host, pa, 22, BACKEND, new Uint8Array(4))).toBe(HcErr.EBUSY);
    expect(t.hv.frames.freeFrames).toBe(free);
    expect(t.a.p2m[0x1f5]).toBe(-1);
  });

  it('a flipped-in frame, then ballooned out: the p2m slot is a hole again, the frame free, the reservation right; the next flip fills the same slot', () => {
    const t = setup();
    const pa = pvOf(t.mode, t.a);
    const s = scratch(t.mode, t.a);
    /** a's memory_op on one frame (DECREASE: the frame given; INCREASE: the frame got back at s + 0x40) */
    const memoryOp = (cmd: number, frame = 0) => {
      [s + 0x40, 1, 0, SELF].forEach((v, k) => w32(t.a, s + k * 4, v));
      w32(t.a, s + 0x40, frame);
      return hc(t.hv, t.mode, t.a, Hc.MEMORY_OP, cmd, s);
    };
    const reservation = () => [hc(t.hv, t.mode, t.a, Hc.MEMORY_OP, MemoryCmd.CURRENT_RESERVATION, 0), hc(t.hv, t.mode, t.a, Hc.MEMORY_OP, MemoryCmd.MAXIMUM_RESERVATION, 0)];
    const check = () => checkOwnership(t.hv, [t.a, t.b, t.c], { p2mSlot: t.host.p2mSlot, domains: [t.a, t.b, t.c] });
    const [full, quota] = reservation();
    const free0 = t.hv.frames.freeFrames;
    // the front end unmaps its receive page and gives its frame back, as it does before posting a flip
    const pfn = 0x1f5;
    const given = t.a.p2m[pfn]!;
    expect(hc(t.hv, t.mode, t.a, Hc.UPDATE_VA_MAPPING, pfn * PAGE, 0, UvmFlags.INVLPG)).toBe(0);
    expect(memoryOp(MemoryCmd.DECREASE_RESERVATION, given)).toBe(1);
    expect([t.a.p2m[pfn], t.hv.frames.owner[given] === t.a.id, t.hv.frames.freeFrames - free0]).toEqual([-1, false, 1]);
    // the back end flips a frame in: it lands in that slot
    t.grant(20, GrantFlags.ACCEPT_TRANSFER, BACKEND, 0);
    expect(grantTransfer(t.host, pa, 20, BACKEND, new Uint8Array([9, 8, 7]))).toBe(0);
    const flipped = t.hv.mem.read32(t.entry(20) + GrantEntry.FRAME);
    expect([t.a.p2m[pfn], t.host.p2mSlot[flipped], t.hv.frames.owner[flipped], t.hv.frames.freeFrames - free0]).toEqual([flipped, pfn, t.a.id, 0]);
    expect(reservation()).toEqual([full, quota]);
    check();
    // then the guest balloons the flipped-in frame out: the hole is back, the frame free, the quota unchanged
    expect(memoryOp(MemoryCmd.DECREASE_RESERVATION, flipped)).toBe(1);
    expect([t.a.p2m[pfn], t.host.p2mSlot[flipped], t.hv.frames.owner[flipped] === t.a.id, t.hv.frames.freeFrames - free0]).toEqual([-1, -1, false, 1]);
    expect(reservation()).toEqual([full - 1, quota]);
    check();
    // once given back it is not the guest's: ballooning it out again is refused, nothing moves
    expect(memoryOp(MemoryCmd.DECREASE_RESERVATION, flipped)).toBe(HcErr.EPERM);
    expect(reservation()).toEqual([full - 1, quota]);
    // the entry, re-armed, takes the next flip into the same slot; with no hole left the one after is ENOMEM
    t.grant(20, GrantFlags.ACCEPT_TRANSFER, BACKEND, 0);
    expect(grantTransfer(t.host, pa, 20, BACKEND, new Uint8Array([1]))).toBe(0);
    const again = t.hv.mem.read32(t.entry(20) + GrantEntry.FRAME);
    expect([t.a.p2m[pfn], t.host.p2mSlot[again], t.hv.frames.owner[again]]).toEqual([again, pfn, t.a.id]);
    expect(reservation()).toEqual([full, quota]);
    t.grant(20, GrantFlags.ACCEPT_TRANSFER, BACKEND, 0);
    expect(grantTransfer(t.host, pa, 20, BACKEND, new Uint8Array([1]))).toBe(HcErr.ENOMEM);
    expect(memoryOp(MemoryCmd.INCREASE_RESERVATION)).toBe(HcErr.ENOMEM);
    expect(t.hv.frames.freeFrames).toBe(free0);
    check();
  });

  it('never grows a domain beyond its quota: without a frame given back the transfer is ENOMEM', () => {
    const t = setup();
    t.grant(20, GrantFlags.ACCEPT_TRANSFER, BACKEND, 0);
    const free = t.hv.frames.freeFrames;
    expect(grantTransfer(t.host, pvOf(t.mode, t.a), 20, BACKEND, new Uint8Array(4))).toBe(HcErr.ENOMEM);
    expect(t.hv.frames.freeFrames).toBe(free);
    expect(t.hv.mem.read16(t.entry(20))).toBe(GrantFlags.ACCEPT_TRANSFER);
  });
});

describe('pv network back end: the front end is not trusted', () => {
  const TX = 0x1e0;
  const RX = 0x1e1;
  function net() {
    const sent: number[][] = [];
    const t = setup({ onTransmit: (f) => sent.push(Array.from(f)) });
    const pa = pvOf(t.mode, t.a);
    const back = pa.net!;
    const ringFrame = (pfn: number) => t.a.p2m[pfn]!;
    for (const pfn of [TX, RX]) {
      const m = ringFrame(pfn) * PAGE;
      t.hv.mem.fill(m, PAGE, 0);
      t.hv.mem.write32(m + RingHeader.REQ_EVENT, 1);
      t.hv.mem.write32(m + RingHeader.RSP_EVENT, 1);
    }
    t.grant(1, GrantFlags.PERMIT_ACCESS, BACKEND, ringFrame(TX));
    t.grant(2, GrantFlags.PERMIT_ACCESS, BACKEND, ringFrame(RX));
    const slot = (pfn: number, k: number) => ringFrame(pfn) * PAGE + RingHeader.SLOTS + k * 16;
    const publish = (pfn: number, n: number) => t.hv.mem.write32(ringFrame(pfn) * PAGE + RingHeader.REQ_PROD, n);
    const tx = (k: number, gref: number, offset: number, size: number, id: number) => {
      const s = slot(TX, k);
      t.hv.mem.write32(s + NetifTxReq.GREF, gref);
      t.hv.mem.write32(s + NetifTxReq.OFFSET, offset);
      t.hv.mem.write32(s + NetifTxReq.SIZE, size);
      t.hv.mem.write32(s + NetifTxReq.ID, id);
    };
    const rx = (k: number, id: number, gref: number) => {
      t.hv.mem.write32(slot(RX, k) + NetifRxReq.ID, id);
      t.hv.mem.write32(slot(RX, k) + NetifRxReq.GREF, gref);
    };
    return { ...t, back, sent, slot, publish, tx, rx };
  }

  it('sends what a read-only grant holds, and refuses requests naming a grant it was not given, a foreign frame, a bad size or a range past the page', () => {
    const t = net();
    const fa = t.a.p2m[0x1f0]!;
    t.fill(fa, 5);
    t.grant(10, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, BACKEND, fa);
    t.grant(11, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, fa);
    t.grant(12, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, BACKEND, t.c.p2m[0x1f0]!);
    t.tx(0, 10, 8, 60, 70);
    t.tx(1, 11, 0, 60, 71);
    t.tx(2, 12, 0, 60, 72);
    t.tx(3, 10, 0, 13, 73);
    t.tx(4, 10, 3000, 1500, 74);
    t.publish(TX, 5);
    t.back.notify();
    expect(t.sent).toEqual([t.bytes(fa, 8, 60)]);
    const rsp = (k: number) => [t.hv.mem.read32(t.slot(TX, k) + NetifTxRsp.ID), t.hv.mem.read32(t.slot(TX, k) + NetifTxRsp.STATUS) | 0];
    expect([0, 1, 2, 3, 4].map(rsp)).toEqual([[70, 0], [71, -1], [72, -1], [73, -1], [74, -1]]);
    expect(t.back.counts).toMatchObject({ txFrames: 1, txErrors: 4 });
    expect(t.a.state).toBe('running');
  });

  it('receives by copy into a writable grant, by flip into an ACCEPT_TRANSFER entry, and refuses a read-only buffer; with no buffer the frame is dropped and counted', () => {
    const t = net();
    const fa = t.a.p2m[0x1f0]!;
    const fr = t.a.p2m[0x1f1]!;
    t.fill(fr, 9);
    const roBefore = t.bytes(fr, 0, 64);
    t.grant(10, GrantFlags.PERMIT_ACCESS, BACKEND, fa);
    t.grant(11, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, BACKEND, fr);
    t.grant(12, GrantFlags.ACCEPT_TRANSFER, BACKEND, 0);
    t.a.p2m[0x1f5] = -1;
    t.rx(0, 1, 10);
    t.rx(1, 2, 11);
    t.rx(2, 3, 12);
    t.publish(RX, 3);
    t.back.notify();
    const frame = (seed: number) => Uint8Array.from({ length: 60 }, (_, k) => (k + seed) & 0xff);
    expect(t.back.receive(frame(1))).toBe(true);
    expect(t.back.receive(frame(2))).toBe(false);
    expect(t.back.receive(frame(3))).toBe(true);
    expect(t.back.receive(frame(4))).toBe(false);
    expect(t.bytes(fa, 0, 60)).toEqual(Array.from(frame(1)));
    expect(t.bytes(fr, 0, 64)).toEqual(roBefore);
    const flipped = t.hv.mem.read32(t.entry(12) + GrantEntry.FRAME);
    expect(t.bytes(flipped, 0, 60)).toEqual(Array.from(frame(3)));
    const rsp = (k: number) => [NetifRxRsp.ID, NetifRxRsp.OFFSET, NetifRxRsp.STATUS].map((o) => t.hv.mem.read32(t.slot(RX, k) + o) | 0);
    expect([0, 1, 2].map(rsp)).toEqual([[1, 0, 60], [2, 0, -1], [3, 0, 60]]);
    expect(t.back.counts).toMatchObject({ rxCopies: 1, rxFlips: 1, rxErrors: 1, rxNoBuffer: 1 });
  });

  it('a producer index claiming more requests than the ring holds crashes the domain; nothing is sent', () => {
    const t = net();
    t.publish(TX, 100);
    t.back.notify();
    expect(t.sent).toEqual([]);
    expect(t.a.stopReason).toBe('crashed');
  });
});

describe('pv grant copy and transfer: exact bounds, order of checks and what each touches', () => {
  it('a range may end exactly at the end of the page, on either side, by grant or by frame; one byte more or a negative offset or length is EINVAL', () => {
    const t = setup();
    const fa = t.a.p2m[0x1f0]!;
    const fb = t.b.p2m[0x1f0]!;
    t.fill(fa, 1);
    t.fill(fb, 2);
    t.grant(10, GrantFlags.PERMIT_ACCESS, t.b.id, fa);
    const G = GntcopyFlags.SOURCE_GREF;
    const D = GntcopyFlags.DEST_GREF;
    // [src, dst, len, flags] -> status, for the grant side and the frame side as source and destination
    const cases: [[number, number, number], [number, number, number], number, number, number][] = [
      [[10, t.a.id, 4096], [fb, SELF, 0], 0, G, 0],
      [[10, t.a.id, 4097], [fb, SELF, 0], 0, G, HcErr.EINVAL],
      [[10, t.a.id, 0], [fb, SELF, 0], 4096, G, 0],
      [[10, t.a.id, 1], [fb, SELF, 0], 4096, G, HcErr.EINVAL],
      [[10, t.a.id, 0], [fb, SELF, 0], -1, G, HcErr.EINVAL],
      [[10, t.a.id, -1], [fb, SELF, 0], 0, G, HcErr.EINVAL],
      [[fb, SELF, 4096], [10, t.a.id, 0], 0, D, 0],
      [[fb, SELF, 4097], [10, t.a.id, 0], 0, D, HcErr.EINVAL],
      [[fb, SELF, 1], [10, t.a.id, 0], 4096, D, HcErr.EINVAL],
      [[fb, SELF, -1], [10, t.a.id, 0], 0, D, HcErr.EINVAL],
      [[fb, SELF, 0], [10, t.a.id, 0], -1, D, HcErr.EINVAL],
      [[fb, SELF, 0], [10, t.a.id, 4097], 0, D, HcErr.EINVAL],
      [[fb, SELF, 0], [10, t.a.id, -1], 0, D, HcErr.EINVAL],
      [[fb, SELF, 0], [10, t.a.id, 4096], 0, D, 0],
    ];
    const before = t.bytes(fa, 0, PAGE);
    const lines = t.hv.cpu.evCount[Ev.PvGrantCopy]!;
    expect(cases.map(([s, d, len, flags]) => t.copy(s, d, len, flags))).toEqual(cases.map((c) => c[4]));
    // the whole-page copy went from a to b; nothing was written into a; one copy of 64 lines was charged
    expect(t.bytes(fb, 0, PAGE)).toEqual(before);
    expect(t.bytes(fa, 0, PAGE)).toEqual(before);
    expect(t.hv.cpu.evCount[Ev.PvGrantCopy]! - lines).toBe(64);
    // a whole page into the grant, from b's frame
    t.fill(fb, 7);
    expect(t.copy([fb, SELF, 0], [10, t.a.id, 0], 4096, D)).toBe(0);
    expect(t.bytes(fa, 0, PAGE)).toEqual(t.bytes(fb, 0, PAGE));
  });

  it('charges one PvGrantCopy per started 64-byte line of a copy that is done, none for a refused one', () => {
    const t = setup();
    const fa = t.a.p2m[0x1f0]!;
    const fb = t.b.p2m[0x1f0]!;
    const l1 = t.a.p2m[t.mode.layouts.get(t.a.id)!.ptFirstPfn + 1]!;
    t.grant(10, GrantFlags.PERMIT_ACCESS, t.b.id, fa);
    t.grant(11, GrantFlags.PERMIT_ACCESS, t.b.id, l1);
    const charged = (len: number, dst: [number, number, number] = [fb, SELF, 0]) => {
      const before = t.hv.cpu.evCount[Ev.PvGrantCopy]!;
      const status = t.copy([10, t.a.id, 0], dst, len, GntcopyFlags.SOURCE_GREF | (dst[0] === 11 ? GntcopyFlags.DEST_GREF : 0));
      return [status, t.hv.cpu.evCount[Ev.PvGrantCopy]! - before];
    };
    expect([0, 1, 63, 64, 65, 128, 129].map((n) => charged(n))).toEqual([[0, 0], [0, 1], [0, 1], [0, 1], [0, 2], [0, 2], [0, 3]]);
    expect(charged(64, [11, t.a.id, 0])).toEqual([HcErr.EBUSY, 0]);
  });

  it('a copy into a writable grant holds the frame\'s writable type only while it copies: its counts are as before afterwards', () => {
    const t = setup();
    const fa = t.a.p2m[0x1f0]!;
    const fb = t.b.p2m[0x1f0]!;
    t.grant(10, GrantFlags.PERMIT_ACCESS, t.b.id, fa);
    const before = t.host.types.describe(fa);
    expect(t.copy([fb, SELF, 0], [10, t.a.id, 0], 64, GntcopyFlags.DEST_GREF)).toBe(0);
    expect(t.host.types.describe(fa)).toEqual(before);
    // a second copy takes and drops it again
    expect(t.copy([fb, SELF, 0], [10, t.a.id, 0], 64, GntcopyFlags.DEST_GREF)).toBe(0);
    expect(t.host.types.describe(fa)).toEqual(before);
  });

  it('a grant side names another existing domain: an unknown one is ESRCH, the caller itself EINVAL; a frame side may name the caller by id', () => {
    const t = setup();
    const fa = t.a.p2m[0x1f0]!;
    const fb = t.b.p2m[0x1f0]!;
    const fb2 = t.b.p2m[0x1f1]!;
    t.fill(fa, 1);
    t.fill(fb, 2);
    t.fill(fb2, 3);
    t.grant(10, GrantFlags.PERMIT_ACCESS, t.b.id, fa);
    const before = t.bytes(fb2, 0, 64);
    expect(t.copy([10, 77, 0], [fb2, SELF, 0], 64, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.ESRCH);
    expect(t.copy([10, t.b.id, 0], [fb2, SELF, 0], 64, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.EINVAL);
    expect(t.copy([fb, SELF, 0], [10, 77, 0], 64, GntcopyFlags.DEST_GREF)).toBe(HcErr.ESRCH);
    expect(t.copy([fb, SELF, 0], [10, t.b.id, 0], 64, GntcopyFlags.DEST_GREF)).toBe(HcErr.EINVAL);
    expect(t.bytes(fb2, 0, 64)).toEqual(before);
    // the source is judged first: both sides wrong, the source's error
    expect(t.copy([10, 77, 0], [t.c.p2m[0x1f0]!, SELF, 0], 64, GntcopyFlags.SOURCE_GREF)).toBe(HcErr.ESRCH);
    expect(t.copy([t.c.p2m[0x1f0]!, SELF, 0], [10, 77, 0], 64, GntcopyFlags.DEST_GREF)).toBe(HcErr.EPERM);
    // frame to frame, both named by the caller's own id
    expect(t.copy([fb, t.b.id, 8], [fb2, t.b.id, 16], 32, 0)).toBe(0);
    expect(t.bytes(fb2, 16, 32)).toEqual(t.bytes(fb, 8, 32));
    expect(t.bytes(fb2, 0, 16)).toEqual(before.slice(0, 16));
    expect(t.bytes(fb2, 48, 16)).toEqual(before.slice(48, 64));
  });

  it('does count copies, each from its own slot with its own status, and leaves the slot after them alone', () => {
    const t = setup();
    const fa = t.a.p2m[0x1f0]!;
    const fb = t.b.p2m[0x1f0]!;
    const fb2 = t.b.p2m[0x1f1]!;
    t.fill(fa, 1);
    t.fill(fb, 2);
    t.fill(fb2, 3);
    t.grant(10, GrantFlags.PERMIT_ACCESS | GrantFlags.READONLY, t.b.id, fa);
    const ops = scratch(t.mode, t.b, 1);
    const slots = [
      [10, t.a.id, 4, fb, SELF, 100, 40, GntcopyFlags.SOURCE_GREF, 99],
      [fb, SELF, 0, 10, t.a.id, 0, 8, GntcopyFlags.DEST_GREF, 99], // into a read-only grant
      [10, t.a.id, 0, fb2, SELF, 0, 16, GntcopyFlags.SOURCE_GREF, 99],
      [10, t.a.id, 0, fb2, SELF, 0, 16, GntcopyFlags.SOURCE_GREF, 99], // beyond count
    ];
    slots.forEach((s, k) => s.forEach((v, j) => w32(t.b, ops + k * GntCopy.BYTES + j * 4, v)));
    const before2 = t.bytes(fb2, 0, 16);
    const lines = t.hv.cpu.evCount[Ev.PvGrantCopy]!;
    const requests = t.hv.cpu.evCount[Ev.PvRequest]!;
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.COPY, ops, 2)).toBe(0);
    expect([0, 1, 2, 3].map((k) => r32(t.b, ops + k * GntCopy.BYTES + GntCopy.STATUS))).toEqual([0, HcErr.EACCES, 99, 99]);
    expect(t.bytes(fb, 100, 40)).toEqual(t.bytes(fa, 4, 40));
    expect(t.bytes(fb2, 0, 16)).toEqual(before2);
    expect(t.hv.cpu.evCount[Ev.PvGrantCopy]! - lines).toBe(1);
    expect(t.hv.cpu.evCount[Ev.PvRequest]! - requests).toBe(2);
    // count 0: nothing done, 0
    expect(hc(t.hv, t.mode, t.b, Hc.GRANT_TABLE_OP, GnttabCmd.COPY, ops + 2 * GntCopy.BYTES, 0)).toBe(0);
    expect(r32(t.b, ops + 2 * GntCopy.BYTES + GntCopy.STATUS)).toBe(99);
  });
});

describe('pv grant transfer: exact checks', () => {
  it('refuses a reference beyond the table (ENOENT) and more than a page of bytes (EINVAL); a whole page is fine; nothing allocated when refused', () => {
    const t = setup();
    t.a.p2m[0x1f5] = -1;
    t.grant(20, GrantFlags.ACCEPT_TRANSFER, BACKEND, 0);
    const pa = pvOf(t.mode, t.a);
    const free = t.hv.frames.freeFrames;
    expect(grantTransfer(t.host, pa, 512, BACKEND, new Uint8Array(4))).toBe(HcErr.ENOENT);
    expect(grantTransfer(t.host, pa, -1, BACKEND, new Uint8Array(4))).toBe(HcErr.ENOENT);
    expect(grantTransfer(t.host, pa, 20, BACKEND, new Uint8Array(4097))).toBe(HcErr.EINVAL);
    expect(t.hv.frames.freeFrames).toBe(free);
    expect(t.hv.mem.read16(t.entry(20))).toBe(GrantFlags.ACCEPT_TRANSFER);
    const page = Uint8Array.from({ length: PAGE }, (_, k) => (k * 3 + 1) & 0xff);
    expect(grantTransfer(t.host, pa, 20, BACKEND, page)).toBe(0);
    const f = t.hv.mem.read32(t.entry(20) + GrantEntry.FRAME);
    expect(t.bytes(f, 0, PAGE)).toEqual(Array.from(page));
  });

  it('takes the lowest free p2m slot, a frame cleared of what it held and of any type, and records its m2p entry', () => {
    const t = setup();
    const pa = pvOf(t.mode, t.a);
    t.a.p2m[0x1f5] = -1;
    t.a.p2m[0x1f3] = -1;
    t.grant(20, GrantFlags.ACCEPT_TRANSFER, BACKEND, 0);
    // the allocator hands out the frame released last: fill it with garbage and stale type counts first
    const stale = t.hv.frames.alloc(-2);
    t.hv.mem.fill(stale * PAGE, PAGE, 0xa5);
    t.host.types.refCount[stale] = 3;
    t.host.types.typeCount[stale] = 2;
    t.hv.frames.release(stale, -2);
    expect(grantTransfer(t.host, pa, 20, BACKEND, new Uint8Array([9, 8, 7]))).toBe(0);
    const f = t.hv.mem.read32(t.entry(20) + GrantEntry.FRAME);
    expect(f).toBe(stale);
    expect(t.a.p2m[0x1f3]).toBe(f);
    expect(t.a.p2m[0x1f5]).toBe(-1);
    expect(t.host.m2p[f]).toBe(0x1f3);
    expect(t.host.p2mSlot[f]).toBe(0x1f3);
    expect(t.host.types.describe(f)).toEqual({ owner: t.a.id, type: 'none', typeCount: 0, refCount: 0, pinned: false });
    expect(t.bytes(f, 0, 4)).toEqual([9, 8, 7, 0]);
    expect(t.hv.mem.u8.subarray(f * PAGE, (f + 1) * PAGE).reduce((s, v) => s + v, 0)).toBe(9 + 8 + 7);
  });

  it('with no free machine frame the transfer is ENOMEM and nothing changes', () => {
    const t = setup();
    const pa = pvOf(t.mode, t.a);
    t.a.p2m[0x1f5] = -1;
    t.grant(20, GrantFlags.ACCEPT_TRANSFER, BACKEND, 0);
    const taken: number[] = [];
    while (t.hv.frames.freeFrames > 0) taken.push(t.hv.frames.alloc(-2));
    const flips = t.hv.cpu.evCount[Ev.PvPageFlip]!;
    expect(grantTransfer(t.host, pa, 20, BACKEND, new Uint8Array(4))).toBe(HcErr.ENOMEM);
    expect(t.a.p2m[0x1f5]).toBe(-1);
    expect(t.hv.mem.read16(t.entry(20))).toBe(GrantFlags.ACCEPT_TRANSFER);
    expect(t.hv.cpu.evCount[Ev.PvPageFlip]! - flips).toBe(0);
    // one frame back: now it goes through
    t.hv.frames.release(taken.pop()!, -2);
    expect(grantTransfer(t.host, pa, 20, BACKEND, new Uint8Array(4))).toBe(0);
    expect(t.hv.frames.freeFrames).toBe(0);
    for (const f of taken) t.hv.frames.release(f, -2);
  });
});
