// The network back end of the split driver, resident in the hypervisor (Xen ran it in domain 0, as
// blkback.ts says of the block one): the front end grants its transmit and receive ring pages
// under GrantLimits.RESERVED_NETIF_TX_RING / _RX_RING to DomId.BACKEND and notifies the one port
// the domain builder bound. Transmit: each request names a granted page (read-only is enough), an
// offset and a size; the frame is taken by grant copy and handed to the wire (onTransmit) at once.
// Receive: the front end posts buffers; a frame from the wire goes into the oldest one, by grant
// copy into a page granted writable (NetRxMode.COPY, what later Xen's netback did) or by grant
// transfer of a fresh frame into an ACCEPT_TRANSFER entry (NetRxMode.FLIP, the 2003 design's
// page flipping), whichever the posted grant is. Everything goes through grants.ts's checks: a
// hostile front end cannot make the back end touch a frame it did not grant. Frames with no
// buffer posted, and malformed requests, are dropped and counted; the counters (indexed like the
// NIC's) are written into the receive ring's page at NetifRing.STATS.
// Touches the two ring pages and the granted pages of its one domain, and fresh frames it gives it.

import { DomId, GrantFlags, GrantLimits } from '../../hypercalls/numbers.ts';
import { NetifRing, NetifRxReq, NetifRxRsp, NetifStatus, NetifTxReq, NetifTxRsp } from '../../hypercalls/structs.ts';
import {
  NIC_STAT_COUNT, NIC_STAT_RX_BYTES, NIC_STAT_RX_ERRORS, NIC_STAT_RX_FRAMES, NIC_STAT_RX_NO_BUFFER, NIC_STAT_TX_BYTES, NIC_STAT_TX_ERRORS,
  NIC_STAT_TX_FRAMES, NIC_STAT_RX_MALFORMED,
} from '../../machine/devices/ports.ts';
import { Ev } from '../../machine/ledger.ts';
import { backendAcquire, copyFrom, copyInto, copyLines, grantCopyCheck, grantEntryAddr, grantRelease, grantTransfer } from './grants.ts';
import { BackRing } from './ring.ts';
import { bindHostPort, setPending } from './events.ts';
import type { PvDomain } from './state.ts';

const TX_REF: number = GrantLimits.RESERVED_NETIF_TX_RING;
const RX_REF: number = GrantLimits.RESERVED_NETIF_RX_RING;
const SLOTS: number = NetifRing.SLOTS;
const SLOT_BYTES: number = NetifRing.SLOT_BYTES;
const MIN_FRAME: number = NetifRing.MIN_FRAME;
const MTU_FRAME: number = NetifRing.MTU_FRAME;
const BACKEND: number = DomId.BACKEND;

/** What --stats shows of a network back end. */
export interface NetBackCounts {
  txFrames: number;
  /** transmit requests refused (bad size, a grant the checks refused) */
  txErrors: number;
  /** frames received by grant copy, and by grant transfer (page flips) */
  rxCopies: number;
  rxFlips: number;
  /** frames dropped: no buffer posted, a posted grant the checks refused */
  rxNoBuffer: number;
  rxErrors: number;
  /** 64-byte lines moved by grant copy, both ways */
  copyLines: number;
}

export class NetBack {
  readonly port: number;
  tx: BackRing | null = null;
  rx: BackRing | null = null;
  private txFrame = -1;
  private rxFrame = -1;
  /** counters, indexed like the NIC's (NIC_STAT_*) */
  readonly stats = new Float64Array(NIC_STAT_COUNT);
  readonly counts: NetBackCounts = { txFrames: 0, txErrors: 0, rxCopies: 0, rxFlips: 0, rxNoBuffer: 0, rxErrors: 0, copyLines: 0 };

  constructor(
    readonly d: PvDomain,
    private readonly onTransmit: (frame: Uint8Array) => void,
  ) {
    const p = bindHostPort(d, () => this.notify());
    if (p < 0) throw new Error('netback: no free port');
    this.port = p;
  }

  /** The front end notified the port: connect on first use, then send what it queued. */
  notify(): void {
    this.d.stats.netNotifyIn++;
    if (!this.tx && !this.connect()) return;
    this.transmit();
  }

  /** The machine frames of the transmit and receive ring pages (-1 before the front end connected). */
  ringFrames(): [number, number] {
    return [this.txFrame, this.rxFrame];
  }

  /** The domain was restored (hypervisor/save/pv-domain.ts): its ring pages are these frames now. */
  moved(txFrame: number, rxFrame: number): void {
    if (!this.tx || !this.rx) return;
    this.txFrame = txFrame;
    this.rxFrame = rxFrame;
    this.tx.page = txFrame * 4096;
    this.rx.page = rxFrame * 4096;
  }

  /** The ring pages the back end holds mapped (for the fuzzers' invariants). */
  held(): { frame: number; readonly: boolean }[] {
    const out: { frame: number; readonly: boolean }[] = [];
    if (this.txFrame >= 0) out.push({ frame: this.txFrame, readonly: false });
    if (this.rxFrame >= 0) out.push({ frame: this.rxFrame, readonly: false });
    return out;
  }

  private connect(): boolean {
    const host = this.d.host;
    const t = backendAcquire(host, this.d, TX_REF, false);
    if (t < 0) return false;
    const r = backendAcquire(host, this.d, RX_REF, false);
    if (r < 0) {
      grantRelease(host, this.d.id, TX_REF, t, false);
      return false;
    }
    this.txFrame = t;
    this.rxFrame = r;
    this.tx = new BackRing(host.mem, t * 4096, SLOTS, SLOT_BYTES);
    this.rx = new BackRing(host.mem, r * 4096, SLOTS, SLOT_BYTES);
    this.publishStats();
    return true;
  }

  /** Take every transmit request there is a response slot for; answer each at once. */
  private transmit(): void {
    const ring = this.tx!;
    const host = this.d.host;
    const i32 = host.mem.i32;
    let answered = false;
    do {
      while (ring.unconsumedRequests() > 0 && ring.responseRoom()) {
        const slot = ring.slot(ring.reqCons);
        ring.reqCons = (ring.reqCons + 1) | 0;
        const gref = i32[(slot + NetifTxReq.GREF) >>> 2]!;
        const offset = i32[(slot + NetifTxReq.OFFSET) >>> 2]!;
        const size = i32[(slot + NetifTxReq.SIZE) >>> 2]!;
        const id = i32[(slot + NetifTxReq.ID) >>> 2]!;
        let status: number = NetifStatus.OKAY;
        const frame = size >= MIN_FRAME && size <= MTU_FRAME ? grantCopyCheck(host, this.d, gref, BACKEND, offset, size, false) : -1;
        if (frame < 0) {
          status = NetifStatus.ERROR;
          this.counts.txErrors++;
          this.stats[NIC_STAT_TX_ERRORS]!++;
        } else {
          const bytes = copyFrom(host, frame, offset, size);
          this.charge(size);
          this.counts.txFrames++;
          this.stats[NIC_STAT_TX_FRAMES]!++;
          this.stats[NIC_STAT_TX_BYTES]! += size;
          this.onTransmit(bytes);
        }
        const rsp = ring.slot(ring.rspProdPvt);
        host.mem.write32(rsp + NetifTxRsp.ID, id);
        host.mem.write32(rsp + NetifTxRsp.STATUS, status);
        ring.rspProdPvt = (ring.rspProdPvt + 1) | 0;
        answered = true;
      }
    } while (!ring.broken && ring.responseRoom() && ring.finalCheckForRequests());
    if (ring.broken) {
      this.d.domain.shutdown('crashed', 0, 'netback: the front end published more transmit requests than the ring holds');
      return;
    }
    if (answered) {
      this.publishStats();
      if (ring.pushResponses()) this.kick();
    }
  }

  /**
   * A frame from the wire (the uplink or a bridge): into the oldest posted buffer. False when it
   * is dropped (not connected, no buffer, malformed, a posted grant refused).
   */
  receive(frame: Uint8Array): boolean {
    const ring = this.rx;
    if (!ring || this.d.domain.stopped) return false;
    const host = this.d.host;
    if (frame.length < MIN_FRAME || frame.length > MTU_FRAME) {
      this.stats[NIC_STAT_RX_MALFORMED]!++;
      this.publishStats();
      return false;
    }
    if (ring.unconsumedRequests() === 0 || !ring.responseRoom()) {
      if (ring.broken) this.d.domain.shutdown('crashed', 0, 'netback: the front end published more receive buffers than the ring holds');
      this.counts.rxNoBuffer++;
      this.stats[NIC_STAT_RX_NO_BUFFER]!++;
      this.publishStats();
      return false;
    }
    const slot = ring.slot(ring.reqCons);
    ring.reqCons = (ring.reqCons + 1) | 0;
    const id = host.mem.i32[(slot + NetifRxReq.ID) >>> 2]!;
    const gref = host.mem.i32[(slot + NetifRxReq.GREF) >>> 2]!;
    let status = this.deliver(gref, frame);
    if (status < 0) {
      this.counts.rxErrors++;
      this.stats[NIC_STAT_RX_ERRORS]!++;
      status = NetifStatus.ERROR;
    } else {
      this.stats[NIC_STAT_RX_FRAMES]!++;
      this.stats[NIC_STAT_RX_BYTES]! += frame.length;
    }
    const rsp = ring.slot(ring.rspProdPvt);
    host.mem.write32(rsp + NetifRxRsp.ID, id);
    host.mem.write32(rsp + NetifRxRsp.OFFSET, 0);
    host.mem.write32(rsp + NetifRxRsp.STATUS, status);
    ring.rspProdPvt = (ring.rspProdPvt + 1) | 0;
    this.publishStats();
    if (ring.pushResponses()) this.kick();
    return status >= 0;
  }

  /** Copy or flip, as the posted grant asks: the frame's length, or an HcErr. */
  private deliver(gref: number, frame: Uint8Array): number {
    const host = this.d.host;
    const entry = grantEntryAddr(this.d, gref);
    const flags = entry >= 0 ? host.mem.u16[entry >>> 1]! : 0;
    if ((flags & GrantFlags.TYPE_MASK) === GrantFlags.ACCEPT_TRANSFER) {
      const r = grantTransfer(host, this.d, gref, BACKEND, frame);
      if (r < 0) return r;
      this.counts.rxFlips++;
      return frame.length;
    }
    const f = grantCopyCheck(host, this.d, gref, BACKEND, 0, frame.length, true);
    if (f < 0) return f;
    const r = copyInto(host, f, this.d.id, 0, frame);
    if (r < 0) return r;
    this.charge(frame.length);
    this.counts.rxCopies++;
    return frame.length;
  }

  private charge(bytes: number): void {
    const lines = copyLines(bytes);
    this.counts.copyLines += lines;
    this.d.host.charge(this.d, Ev.PvGrantCopy, lines);
  }

  private kick(): void {
    this.d.stats.netNotifyOut++;
    setPending(this.d, this.port);
  }

  /** The counters into the receive ring's page, where the front end reads them. */
  private publishStats(): void {
    if (this.rxFrame < 0) return;
    const mem = this.d.host.mem;
    const base = this.rxFrame * 4096 + NetifRing.STATS;
    for (let k = 0; k < NetifRing.STAT_COUNT; k++) mem.write32(base + k * 4, this.stats[k]! >>> 0);
  }

  /** The domain is going away: give the ring pages back. */
  destroy(): void {
    const host = this.d.host;
    if (this.txFrame >= 0) grantRelease(host, this.d.id, TX_REF, this.txFrame, false);
    if (this.rxFrame >= 0) grantRelease(host, this.d.id, RX_REF, this.rxFrame, false);
    this.txFrame = -1;
    this.rxFrame = -1;
    this.tx = null;
    this.rx = null;
  }
}
