// The block back end of the split driver, resident in the hypervisor (Xen ran it in domain 0):
// the front end grants its ring page under GrantLimits.RESERVED_BLKIF_RING and its data pages per
// request, all to DomId.BACKEND, and notifies the port the domain builder bound. Each request is
// checked (operation, sector range, segments), its grants mapped, and it completes after the
// disk's service time (the machine's block-device timing), when the data moves and the grants are
// released; the response is published with the ring's notification hold-off.
// Touches the disk bytes, the granted pages and the ring page of its one domain.

import { BLK_DEFAULT_PER_SECTOR_CYCLES, BLK_DEFAULT_REQUEST_CYCLES } from '../../machine/devices/block.ts';
import { GrantLimits } from '../../hypercalls/numbers.ts';
import { BlkifOp, BlkifReq, BlkifRing, BlkifRsp, BlkifSeg, BlkifStatus } from '../../hypercalls/structs.ts';
import { backendAcquire, grantRelease } from './grants.ts';
import { BackRing } from './ring.ts';
import { bindHostPort, setPending } from './events.ts';
import type { PvDomain } from './state.ts';
import { Ev } from '../../machine/ledger.ts';
import { deferred } from '../../machine/deferred.ts';

const SECTOR: number = BlkifRing.SECTOR_BYTES;
const MAX_SEG: number = BlkifReq.MAX_SEGMENTS;
const RING_REF: number = GrantLimits.RESERVED_BLKIF_RING;

interface Held {
  frame: number;
  ref: number;
  readonly: boolean;
}

/** A request being served: its completion event's handle and what complete() needs. */
interface InFlight {
  handle: number;
  op: number;
  id: number;
  sector: number;
  ok: boolean;
  segs: { frame: number; first: number; last: number }[];
  held: Held[];
}

export class BlkBack {
  readonly port: number;
  ring: BackRing | null = null;
  private ringFrame = -1;
  /** the device is busy until this cycle (requests are served one after another) */
  private busyUntil = 0;
  private readonly pending = new Map<number, Held[]>();
  readonly requestCycles: number;
  readonly perSectorCycles: number;
  /** requests served, by outcome */
  served = 0;
  failed = 0;

  constructor(
    readonly d: PvDomain,
    readonly disk: Uint8Array,
  ) {
    const t = d.domain.config.diskTiming ?? {};
    this.requestCycles = t.requestCycles ?? BLK_DEFAULT_REQUEST_CYCLES;
    this.perSectorCycles = t.perSectorCycles ?? BLK_DEFAULT_PER_SECTOR_CYCLES;
    const p = bindHostPort(d, () => this.notify());
    if (p < 0) throw new Error('blkback: no free port');
    this.port = p;
  }

  get sectors(): number {
    return Math.floor(this.disk.length / SECTOR);
  }

  /** The front end notified the port. */
  notify(): void {
    const d = this.d;
    d.stats.blkNotifyIn++;
    if (!this.ring && !this.connect()) return;
    this.consume();
  }

  /** The grants the back end holds mapped now (the ring page, the pages of requests in flight): for `info` and the fuzzers' invariants. */
  held(): { frame: number; readonly: boolean }[] {
    const out: { frame: number; readonly: boolean }[] = this.ring ? [{ frame: this.ringFrame, readonly: false }] : [];
    for (const hs of this.pending.values()) for (const h of hs) out.push({ frame: h.frame, readonly: h.readonly });
    return out;
  }

  /** The ring page's machine frame, -1 before the front end connects. */
  get ringMachineFrame(): number {
    return this.ringFrame;
  }

  /**
   * The domain moved to another machine (hypervisor/save/pv-domain.ts): its ring page is machine
   * frame f there, and its clock is `delta` cycles ahead of the one it was saved on. Only at a
   * quiet point (no request in flight, so no other frame is held).
   */
  moved(f: number, delta: number): void {
    if (this.ringFrame >= 0) {
      this.ringFrame = f;
      this.ring!.page = f * 4096;
    }
    this.busyUntil += delta;
  }

  private connect(): boolean {
    const f = backendAcquire(this.d.host, this.d, RING_REF, false);
    if (f < 0) return false;
    this.ringFrame = f;
    this.ring = new BackRing(this.d.host.mem, f * 4096, BlkifRing.SLOTS, BlkifRing.SLOT_BYTES);
    return true;
  }

  /**
   * Take every published request there is a response slot for, then re-arm the request event
   * (the consumer's hold-off). Requests beyond the response slots wait until a response is out.
   */
  private consume(): void {
    const ring = this.ring!;
    do {
      while (ring.unconsumedRequests() > 0 && ring.responseRoom()) {
        const slot = ring.slot(ring.reqCons);
        ring.reqCons = (ring.reqCons + 1) | 0;
        this.start(slot);
      }
    } while (!ring.broken && ring.responseRoom() && ring.finalCheckForRequests());
    if (ring.broken) this.d.domain.shutdown('crashed', 0, 'blkback: the front end published more requests than the ring holds');
  }

  /** Check one request, map its grants and schedule its completion. */
  private start(slot: number): void {
    const host = this.d.host;
    const i32 = host.mem.i32;
    const w = (off: number): number => i32[(slot + off) >>> 2]!;
    const op = w(BlkifReq.OPERATION);
    const nseg = w(BlkifReq.NR_SEGMENTS);
    const id = w(BlkifReq.ID);
    const sector = w(BlkifReq.SECTOR);
    const held: Held[] = [];
    let ok = (op === BlkifOp.READ || op === BlkifOp.WRITE) && nseg >= 1 && nseg <= MAX_SEG && sector >= 0;
    let sectors = 0;
    const segs: { frame: number; first: number; last: number }[] = [];
    for (let k = 0; ok && k < nseg; k++) {
      const s = slot + BlkifReq.SEG + k * BlkifSeg.BYTES;
      const gref = i32[(s + BlkifSeg.GREF) >>> 2]!;
      const first = i32[(s + BlkifSeg.FIRST_SECT) >>> 2]!;
      const last = i32[(s + BlkifSeg.LAST_SECT) >>> 2]!;
      if (first < 0 || last > 7 || first > last) {
        ok = false;
        break;
      }
      // a disk read writes the guest's page: it needs a writable grant
      const readonly = op === BlkifOp.WRITE;
      const frame = backendAcquire(host, this.d, gref, readonly);
      if (frame < 0) {
        ok = false;
        break;
      }
      held.push({ frame, ref: gref, readonly });
      segs.push({ frame, first, last });
      sectors += last - first + 1;
    }
    if (ok && sector + sectors > this.sectors) ok = false;
    const now = host.cpu.cycles;
    const begin = Math.max(now, this.busyUntil);
    const done = begin + this.requestCycles + (ok ? sectors * this.perSectorCycles : 0);
    this.busyUntil = done;
    const req: InFlight = { handle: -1, op, id, sector, ok, segs, held };
    const h = host.platform.events.schedule(done, deferred(this, 'finish', req));
    req.handle = h;
    host.cpu.shortenDeadline(done);
    this.pending.set(h, held);
  }

  /** A request's completion event (a deferred call: saved with the event queue). */
  private finish(req: InFlight): void {
    this.pending.delete(req.handle);
    this.complete(req.op, req.id, req.sector, req.ok, req.segs, req.held);
  }

  private complete(op: number, id: number, sector: number, ok: boolean, segs: { frame: number; first: number; last: number }[], held: Held[]): void {
    const host = this.d.host;
    const mem = host.mem;
    if (ok) {
      let at = sector * SECTOR;
      for (const s of segs) {
        const ma = s.frame * 4096 + s.first * SECTOR;
        const n = (s.last - s.first + 1) * SECTOR;
        if (op === BlkifOp.READ) mem.writeBytes(ma, this.disk.subarray(at, at + n));
        else this.disk.set(mem.u8.subarray(ma, ma + n), at);
        at += n;
        host.charge(this.d, Ev.PvSectorCopy, s.last - s.first + 1);
      }
      this.served++;
    } else {
      this.failed++;
    }
    for (const g of held) grantRelease(host, this.d.id, g.ref, g.frame, g.readonly);
    const ring = this.ring;
    if (!ring || this.d.domain.stopped) return;
    const rsp = ring.slot(ring.rspProdPvt);
    mem.write32(rsp + BlkifRsp.ID, id);
    mem.write32(rsp + BlkifRsp.OPERATION, op);
    mem.write32(rsp + BlkifRsp.STATUS, ok ? BlkifStatus.OKAY : BlkifStatus.ERROR);
    ring.rspProdPvt = (ring.rspProdPvt + 1) | 0;
    if (ring.pushResponses()) {
      this.d.stats.blkNotifyOut++;
      setPending(this.d, this.port);
    }
    // a response slot is free again: requests held back for one can go
    this.consume();
  }

  /** The domain is going away: cancel what is in flight and give the ring page back. */
  destroy(): void {
    const host = this.d.host;
    for (const [h, held] of this.pending) {
      host.platform.events.cancel(h);
      for (const g of held) grantRelease(host, this.d.id, g.ref, g.frame, g.readonly);
    }
    this.pending.clear();
    if (this.ringFrame >= 0) {
      grantRelease(host, this.d.id, RING_REF, this.ringFrame, false);
      this.ringFrame = -1;
    }
    this.ring = null;
  }
}
