// The back end's half of the generic I/O ring (hypercalls/ring.ts has the layout and the front
// end): it keeps the request consumer and the private response producer, publishes responses,
// and applies the same notification hold-off. The front end is not trusted: a producer index that
// claims more requests than the ring holds marks the ring broken instead of being followed.
// Reads and writes only the shared ring page, in machine memory.

import type { PhysicalMemory } from '../../machine/memory.ts';
import { RingHeader } from '../../hypercalls/ring.ts';

const REQ_PROD: number = RingHeader.REQ_PROD;
const REQ_EVENT: number = RingHeader.REQ_EVENT;
const RSP_PROD: number = RingHeader.RSP_PROD;
const RSP_EVENT: number = RingHeader.RSP_EVENT;
const SLOTS: number = RingHeader.SLOTS;

/** The hold-off rule: after moving a producer from oldIdx to newIdx, notify iff (new - event) < (new - old), unsigned. */
export function shouldNotify(oldIdx: number, newIdx: number, event: number): boolean {
  return ((newIdx - event) >>> 0) < ((newIdx - oldIdx) >>> 0);
}

export class BackRing {
  /** requests consumed */
  reqCons = 0;
  /** responses written, published or not */
  rspProdPvt = 0;
  /** the front end broke the ring's rules */
  broken = false;
  /** notifications this back end decided to send (after hold-off) and skipped */
  notifiesSent = 0;
  notifiesHeldOff = 0;

  constructor(
    readonly mem: PhysicalMemory,
    /** machine address of the shared page (a domain restored on another machine: its frame there) */
    public page: number,
    readonly nrSlots: number,
    readonly slotBytes: number,
  ) {}

  private word(off: number): number {
    return this.mem.i32[(this.page + off) >>> 2]!;
  }

  /** Requests published and not consumed (0 if the ring is broken). */
  unconsumedRequests(): number {
    const n = (this.word(REQ_PROD) - this.reqCons) >>> 0;
    if (n > this.nrSlots) {
      this.broken = true;
      return 0;
    }
    return n;
  }

  /**
   * Is there a response slot for one more request? Requests taken and not yet answered hold the
   * slots their responses will use, so a front end that publishes without consuming responses
   * cannot make the back end take (and keep in flight) more than the ring holds.
   */
  responseRoom(): boolean {
    return ((this.reqCons - this.rspProdPvt) >>> 0) < this.nrSlots;
  }

  /** Machine address of the slot for free-running index idx. */
  slot(idx: number): number {
    return this.page + SLOTS + (idx & (this.nrSlots - 1)) * this.slotBytes;
  }

  /** Publish the private responses; true if the front end asked to be notified. */
  pushResponses(): boolean {
    const oldIdx = this.word(RSP_PROD);
    const newIdx = this.rspProdPvt | 0;
    this.mem.write32(this.page + RSP_PROD, newIdx);
    const notify = shouldNotify(oldIdx, newIdx, this.word(RSP_EVENT));
    if (notify) this.notifiesSent++;
    else this.notifiesHeldOff++;
    return notify;
  }

  /** Before going idle: ask for a notification at the next request, then look once more. */
  finalCheckForRequests(): boolean {
    if (this.unconsumedRequests() !== 0) return true;
    this.mem.write32(this.page + REQ_EVENT, (this.reqCons + 1) | 0);
    return this.unconsumedRequests() !== 0;
  }
}
