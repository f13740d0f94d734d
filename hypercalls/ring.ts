// The generic I/O ring (early Xen's io/ring.h, 2004, rebuilt from its published rules): a shared
// page with four indices and a power-of-two array of slots that requests and responses share.
// Indices run freely (they are never reduced) and are masked to find a slot. The front end keeps
// its private request producer and response consumer in a FrontRing struct of its own; the back
// end (hypervisor/pv/ring.ts) keeps the mirror image.
//
// Notification hold-off: a producer that moved its index from `old` to `new` notifies only if the
// consumer's requested event index lies in the new batch: (new - event) < (new - old), unsigned.
// A consumer about to sleep sets event = consumed + 1 and checks once more.
//
// Guest-subset code (the layout enums are also imported by the hypervisor); imports only 'xl32'.

import { load32, store32, ltu } from 'xl32';

/** The shared page's header; slots start at SLOTS. */
export const enum RingHeader {
  /** requests produced (written by the front end) */
  REQ_PROD = 0,
  /** the back end wants a notification when REQ_PROD passes this */
  REQ_EVENT = 4,
  /** responses produced (written by the back end) */
  RSP_PROD = 8,
  /** the front end wants a notification when RSP_PROD passes this */
  RSP_EVENT = 12,
  SLOTS = 64,
}

/** The front end's private state (in its own memory). */
export const enum FrontRing {
  /** virtual address of the shared page */
  SRING = 0,
  /** requests written so far, published or not */
  REQ_PROD_PVT = 4,
  /** responses consumed */
  RSP_CONS = 8,
  /** slots (a power of two) and bytes per slot */
  NR_SLOTS = 12,
  SLOT_BYTES = 16,
  BYTES = 20,
}

/** Initialize a fresh shared page and the front end's private state. */
export function ringFrontInit(front: number, sring: number, nrSlots: number, slotBytes: number): void {
  store32(sring + RingHeader.REQ_PROD, 0);
  store32(sring + RingHeader.RSP_PROD, 0);
  store32(sring + RingHeader.REQ_EVENT, 1);
  store32(sring + RingHeader.RSP_EVENT, 1);
  store32(front + FrontRing.SRING, sring);
  store32(front + FrontRing.REQ_PROD_PVT, 0);
  store32(front + FrontRing.RSP_CONS, 0);
  store32(front + FrontRing.NR_SLOTS, nrSlots);
  store32(front + FrontRing.SLOT_BYTES, slotBytes);
}

/** Address of the slot for free-running index idx. */
export function ringSlot(front: number, idx: number): number {
  const mask = load32(front + FrontRing.NR_SLOTS) - 1;
  return load32(front + FrontRing.SRING) + RingHeader.SLOTS + (idx & mask) * load32(front + FrontRing.SLOT_BYTES);
}

/** Are all slots taken by requests whose responses have not been consumed? */
export function ringFull(front: number): boolean {
  return load32(front + FrontRing.REQ_PROD_PVT) - load32(front + FrontRing.RSP_CONS) === load32(front + FrontRing.NR_SLOTS);
}

/** The slot for the next request; call ringRequestDone once it is filled. */
export function ringNextRequest(front: number): number {
  return ringSlot(front, load32(front + FrontRing.REQ_PROD_PVT));
}

export function ringRequestDone(front: number): void {
  store32(front + FrontRing.REQ_PROD_PVT, load32(front + FrontRing.REQ_PROD_PVT) + 1);
}

/**
 * The hold-off rule on its own: after moving a producer index from oldIdx to newIdx, notify only
 * if the consumer's event index lies in (oldIdx, newIdx], i.e. (new - event) < (new - old) unsigned.
 */
export function ringShouldNotify(oldIdx: number, newIdx: number, event: number): boolean {
  return ltu(newIdx - event, newIdx - oldIdx);
}

/** Publish the private requests; true if the back end asked to be notified of them. */
export function ringPushRequests(front: number): boolean {
  const sring = load32(front + FrontRing.SRING);
  const oldIdx = load32(sring + RingHeader.REQ_PROD);
  const newIdx = load32(front + FrontRing.REQ_PROD_PVT);
  // (XL32 has one CPU and in-order stores: the slot writes are visible before the index)
  store32(sring + RingHeader.REQ_PROD, newIdx);
  return ringShouldNotify(oldIdx, newIdx, load32(sring + RingHeader.REQ_EVENT));
}

/** Responses published and not yet consumed. */
export function ringUnconsumedResponses(front: number): number {
  return load32(load32(front + FrontRing.SRING) + RingHeader.RSP_PROD) - load32(front + FrontRing.RSP_CONS);
}

/** The next response's slot, or 0 if none is waiting; call ringResponseDone after reading it. */
export function ringNextResponse(front: number): number {
  if (ringUnconsumedResponses(front) === 0) return 0;
  return ringSlot(front, load32(front + FrontRing.RSP_CONS));
}

export function ringResponseDone(front: number): void {
  store32(front + FrontRing.RSP_CONS, load32(front + FrontRing.RSP_CONS) + 1);
}

/**
 * Before waiting for responses: ask for a notification at the next one (event = consumed + 1),
 * then look again, so a response published in between is not missed. True if one is waiting.
 */
export function ringFinalCheckForResponses(front: number): boolean {
  if (ringUnconsumedResponses(front) !== 0) return true;
  const sring = load32(front + FrontRing.SRING);
  store32(sring + RingHeader.RSP_EVENT, load32(front + FrontRing.RSP_CONS) + 1);
  return ringUnconsumedResponses(front) !== 0;
}
