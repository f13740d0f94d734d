// The generic I/O ring: the guest's front-end helpers (hypercalls/ring.ts, run in Node through the
// xl32 shim) and the hypervisor's back end (hypervisor/pv/ring.ts) on one shared page, with the
// notification hold-off rule counted exactly, free-running indices across the 2^32 wrap, and a
// front end that lies about its producer index.
import { describe, expect, it } from 'vitest';
import { shim, store32, load32 } from '../../toolchain/lib/xl32.ts';
import { PhysicalMemory } from '../../machine/memory.ts';
import {
  RingHeader, ringFrontInit, ringNextRequest, ringRequestDone, ringPushRequests, ringFull, ringShouldNotify,
  ringNextResponse, ringResponseDone, ringFinalCheckForResponses, ringUnconsumedResponses, FrontRing,
} from '../../hypercalls/ring.ts';
import { BackRing, shouldNotify } from '../../hypervisor/pv/ring.ts';

const FRONT = 0x1000;
const SRING = 0x2000;
const SLOTS = 8;
const SLOT_BYTES = 16;

/** One memory both halves see: the shim's guest memory is the machine's. */
function shared() {
  const mem = new PhysicalMemory(64 * 1024);
  shim.memory = new Uint8Array(mem.buffer);
  shim.view = new DataView(mem.buffer);
  ringFrontInit(FRONT, SRING, SLOTS, SLOT_BYTES);
  const back = new BackRing(mem, SRING, SLOTS, SLOT_BYTES);
  let frontNotifies = 0;
  let frontHeld = 0;
  /** the front end queues n requests (id = running number) and pushes them once */
  let id = 0;
  const produce = (n: number): boolean => {
    for (let k = 0; k < n; k++) {
      store32(ringNextRequest(FRONT), id++);
      ringRequestDone(FRONT);
    }
    const notify = ringPushRequests(FRONT);
    if (notify) frontNotifies++;
    else frontHeld++;
    return notify;
  };
  /** the back end takes every request and re-arms, as blkback does */
  const consume = (): number[] => {
    const got: number[] = [];
    do {
      while (back.unconsumedRequests() > 0) {
        got.push(mem.i32[back.slot(back.reqCons) >>> 2]!);
        back.reqCons = (back.reqCons + 1) | 0;
      }
    } while (back.finalCheckForRequests());
    return got;
  };
  const respond = (ids: number[]): boolean => {
    for (const x of ids) {
      mem.write32(back.slot(back.rspProdPvt), x);
      back.rspProdPvt = (back.rspProdPvt + 1) | 0;
    }
    return back.pushResponses();
  };
  const collect = (): number[] => {
    const got: number[] = [];
    for (;;) {
      const r = ringNextResponse(FRONT);
      if (r === 0) {
        if (!ringFinalCheckForResponses(FRONT)) break;
        continue;
      }
      got.push(load32(r));
      ringResponseDone(FRONT);
    }
    return got;
  };
  return { mem, back, produce, consume, respond, collect, counts: () => ({ frontNotifies, frontHeld }) };
}

describe('I/O ring notification hold-off', () => {
  it('notifies only when the consumer asked for the new batch: counted exactly, both directions', () => {
    const r = shared();
    expect(r.produce(1)).toBe(true); // the back end asked for request 1 (REQ_EVENT starts at 1)
    expect(r.produce(2)).toBe(false); // it has not looked yet: no second notification
    expect(r.consume()).toEqual([0, 1, 2]); // ...and then sets REQ_EVENT = 4
    expect(r.mem.read32(SRING + RingHeader.REQ_EVENT)).toBe(4);
    expect(r.produce(3)).toBe(true);
    expect(r.produce(1)).toBe(false);
    expect(r.counts()).toEqual({ frontNotifies: 2, frontHeld: 2 });

    expect(r.respond([0, 1])).toBe(true);
    expect(r.respond([2])).toBe(false); // the front end has not consumed since
    expect(r.collect()).toEqual([0, 1, 2]); // and re-arms RSP_EVENT = 4
    expect(r.consume()).toEqual([3, 4, 5, 6]);
    expect(r.respond([3])).toBe(true);
    expect(r.respond([4, 5, 6])).toBe(false);
    expect([r.back.notifiesSent, r.back.notifiesHeldOff]).toEqual([2, 2]);
    expect(r.collect()).toEqual([3, 4, 5, 6]);
    expect(ringUnconsumedResponses(FRONT)).toBe(0);
  });

  it('fills exactly the power-of-two slots, and the slots are reused in order', () => {
    const r = shared();
    r.produce(SLOTS);
    expect(ringFull(FRONT)).toBe(true);
    expect(r.consume()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    r.respond([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(ringFull(FRONT)).toBe(true); // responses still occupy the slots
    r.collect();
    expect(ringFull(FRONT)).toBe(false);
    r.produce(3);
    expect(ringNextRequest(FRONT) - SRING - RingHeader.SLOTS).toBe(3 * SLOT_BYTES); // index 11 -> slot 3
  });

  it('runs its indices freely across 2^32', () => {
    const r = shared();
    const start = -2; // 0xfffffffe
    for (const off of [RingHeader.REQ_PROD, RingHeader.RSP_PROD]) store32(SRING + off, start);
    store32(SRING + RingHeader.REQ_EVENT, start + 1);
    store32(SRING + RingHeader.RSP_EVENT, start + 1);
    store32(FRONT + FrontRing.REQ_PROD_PVT, start);
    store32(FRONT + FrontRing.RSP_CONS, start);
    r.back.reqCons = start;
    r.back.rspProdPvt = start;
    expect(r.produce(4)).toBe(true); // 0xfffffffe -> 2, event 0xffffffff
    expect(r.consume()).toEqual([0, 1, 2, 3]);
    expect(r.mem.read32(SRING + RingHeader.REQ_EVENT)).toBe(3);
    expect(r.produce(1)).toBe(true);
    expect(ringShouldNotify(-2, 2, -1)).toBe(true);
    expect(shouldNotify(-2, 2, 3)).toBe(false);
  });

  it('the guest and the hypervisor apply the same rule', () => {
    for (const [o, n, e] of [[0, 1, 1], [1, 3, 1], [4, 5, 4], [4, 5, 6], [10, 20, 15], [10, 20, 21], [10, 20, 10], [-5, 5, 0]] as const) {
      expect(ringShouldNotify(o, n, e)).toBe(shouldNotify(o, n, e));
    }
  });

  it('refuses a front end that claims more requests than the ring holds', () => {
    const r = shared();
    store32(SRING + RingHeader.REQ_PROD, SLOTS + 1);
    expect(r.back.unconsumedRequests()).toBe(0);
    expect(r.back.broken).toBe(true);
  });
});

describe('I/O ring back end: requests in flight', () => {
  it('holds a response slot for each request taken and not answered: never more in flight than the ring holds', () => {
    const r = shared();
    store32(SRING + RingHeader.REQ_PROD, SLOTS);
    expect(r.back.unconsumedRequests()).toBe(SLOTS);
    r.back.reqCons = SLOTS - 1;
    expect(r.back.responseRoom()).toBe(true);
    r.back.reqCons = SLOTS;
    expect(r.back.responseRoom()).toBe(false);
    r.back.rspProdPvt = 1;
    expect(r.back.responseRoom()).toBe(true);
  });
});
