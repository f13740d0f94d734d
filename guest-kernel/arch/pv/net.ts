// arch/pv network driver: the front end of the split network driver (netfront). Two shared rings,
// one event port: transmit requests name a page granted read-only to the back end (each 2 KiB
// half of a page is one slot's buffer); receive requests post a page each, granted writable for
// grant copy (NetRxMode.COPY) or, for page flipping (NetRxMode.FLIP), given back to the hypervisor
// (memory_op DECREASE_RESERVATION) with an ACCEPT_TRANSFER grant entry in which the back end
// returns a fresh frame holding the packet; the front end maps that frame where its page was
// (p2m, m2p, the kernel's entries) and posts the buffer again. The start info says which mode
// (StartInfo.NET_RX_MODE); a page the hypervisor will not take back is posted for copy instead.
// Rings and buffers are allocated at NET_INIT (the first use of the network), so a kernel that
// never uses the network pays nothing. Guest code (the TypeScript subset); runs at ring 1.

import { load16, load32, store16, store32, store8, load8, staticBuffer } from 'xl32';
import { DomId, GrantFlags, GrantLimits } from '../../../hypercalls/numbers.ts';
import { GrantEntry, NetifRing, NetifRxReq, NetifRxRsp, NetifTxReq, NetifTxRsp, NetRxMode, StartInfo } from '../../../hypercalls/structs.ts';
import { evtchnSend, gnttabGrantAccess } from '../../../hypercalls/guest.ts';
import {
  FrontRing, ringFrontInit, ringFull, ringNextRequest, ringRequestDone, ringPushRequests, ringNextResponse, ringResponseDone,
  ringFinalCheckForResponses,
} from '../../../hypercalls/ring.ts';
import { kalloc } from '../../kernel/kalloc.ts';
import { p2v } from '../../kernel/vm.ts';
import { Xen, startInfo, pfnToMfn, setPfnMfn } from './xen.ts';
import { pvKernelMap } from './mmu.ts';
import { releaseFrame } from './balloon.ts';

const enum NetFront {
  SLOTS = NetifRing.SLOTS,
  MASK = NetifRing.SLOTS - 1,
  BUF = 2048,
  /** grant references: the block driver's data references end at Xen.GREF_DATA + 32 */
  GREF_TX = Xen.GREF_DATA + 32,
  GREF_RX = Xen.GREF_DATA + 32 + NetifRing.SLOTS,
  /** the p2m mark of a receive page given back for a flip (not -1: the balloon must not take it) */
  LENT = -2,
}

const txFront = staticBuffer(FrontRing.BYTES);
const rxFront = staticBuffer(FrontRing.BYTES);
/** pseudo-physical addresses: each transmit page (two slots each), each receive page */
const txPage = staticBuffer((NetFront.SLOTS / 2) * 4);
const rxPage = staticBuffer(NetFront.SLOTS * 4);
/** per receive slot: 1 while its page is given back, waiting for a transferred frame */
const rxFlipped = staticBuffer(NetFront.SLOTS * 4);
let txRingPa = 0;
let rxRingPa = 0;
let netPort = -1;
let flip = false;

/** The port bound to the network back end, or -1 (none). */
export function pvNetPort(): number {
  const p = startInfo(StartInfo.NET_EVTCHN);
  return p > 0 ? p : -1;
}

function grantRef(ref: number): number {
  return Xen.GNTTAB + ref * GrantEntry.BYTES;
}

/** Hand receive slot id to the back end. */
function postRx(id: number): void {
  const pa = load32(rxPage + id * 4);
  const pfn = pa >>> 12;
  const gref = NetFront.GREF_RX + id;
  let accept = flip;
  if (accept && load32(rxFlipped + id * 4) === 0) {
    if (releaseFrame(pfn, NetFront.LENT)) store32(rxFlipped + id * 4, 1);
    else accept = false;
  }
  if (accept) {
    const e = grantRef(gref);
    store32(e + GrantEntry.FRAME, 0);
    store16(e + GrantEntry.DOMID, DomId.BACKEND);
    store16(e + GrantEntry.FLAGS, GrantFlags.ACCEPT_TRANSFER);
  } else {
    gnttabGrantAccess(Xen.GNTTAB, gref, DomId.BACKEND, pfnToMfn(pfn), false);
  }
  const req = ringNextRequest(rxFront);
  store32(req + NetifRxReq.ID, id);
  store32(req + NetifRxReq.GREF, gref);
  ringRequestDone(rxFront);
}

/**
 * Allocate the rings and buffers, grant the ring pages, post every receive buffer and tell the
 * back end. The station address goes to mac (6 bytes), the address the domain was given (0: the
 * default) to mac + 8 (big-endian). -1 without a network back end.
 */
export function pvNetInit(mac: number): number {
  netPort = pvNetPort();
  if (netPort < 0) return -1;
  txRingPa = kalloc();
  rxRingPa = kalloc();
  if (txRingPa === 0 || rxRingPa === 0) return -1;
  let k = 0;
  while (k < NetFront.SLOTS / 2) {
    const pa = kalloc();
    if (pa === 0) return -1;
    store32(txPage + k * 4, pa);
    gnttabGrantAccess(Xen.GNTTAB, NetFront.GREF_TX + k, DomId.BACKEND, pfnToMfn(pa >>> 12), true);
    k = k + 1;
  }
  k = 0;
  while (k < NetFront.SLOTS) {
    const pa = kalloc();
    if (pa === 0) return -1;
    store32(rxPage + k * 4, pa);
    store32(rxFlipped + k * 4, 0);
    k = k + 1;
  }
  flip = startInfo(StartInfo.NET_RX_MODE) === NetRxMode.FLIP;
  ringFrontInit(txFront, p2v(txRingPa), NetifRing.SLOTS, NetifRing.SLOT_BYTES);
  ringFrontInit(rxFront, p2v(rxRingPa), NetifRing.SLOTS, NetifRing.SLOT_BYTES);
  gnttabGrantAccess(Xen.GNTTAB, GrantLimits.RESERVED_NETIF_TX_RING, DomId.BACKEND, pfnToMfn(txRingPa >>> 12), false);
  gnttabGrantAccess(Xen.GNTTAB, GrantLimits.RESERVED_NETIF_RX_RING, DomId.BACKEND, pfnToMfn(rxRingPa >>> 12), false);
  k = 0;
  while (k < NetFront.SLOTS) {
    postRx(k);
    k = k + 1;
  }
  ringPushRequests(rxFront);
  evtchnSend(netPort);
  const hi = startInfo(StartInfo.NET_MAC_HI);
  const lo = startInfo(StartInfo.NET_MAC_LO);
  store8(mac, hi >>> 8);
  store8(mac + 1, hi);
  store8(mac + 2, lo >>> 24);
  store8(mac + 3, lo >>> 16);
  store8(mac + 4, lo >>> 8);
  store8(mac + 5, lo);
  const ip = startInfo(StartInfo.NET_IP);
  store8(mac + 8, ip >>> 24);
  store8(mac + 9, ip >>> 16);
  store8(mac + 10, ip >>> 8);
  store8(mac + 11, ip);
  return 0;
}

/** Take the transmit responses in (the back end answers each request when it is notified). */
function txReap(): void {
  for (;;) {
    const rsp = ringNextResponse(txFront);
    if (rsp === 0) return;
    load32(rsp + NetifTxRsp.STATUS);
    ringResponseDone(txFront);
  }
}

function copy(dst: number, src: number, n: number): void {
  let k = 0;
  while (k + 4 <= n) {
    store32(dst + k, load32(src + k));
    k = k + 4;
  }
  while (k < n) {
    store8(dst + k, load8(src + k));
    k = k + 1;
  }
}

/** Copy a frame into the next transmit buffer and queue it: 0, or -1 when the ring is full. */
export function pvNetSend(frame: number, len: number): number {
  if (netPort < 0 || len < NetifRing.MIN_FRAME || len > NetifRing.MTU_FRAME) return -1;
  txReap();
  if (ringFull(txFront)) return -1;
  const id = load32(txFront + FrontRing.REQ_PROD_PVT) & NetFront.MASK;
  const offset = (id & 1) * NetFront.BUF;
  copy(p2v(load32(txPage + (id >>> 1) * 4)) + offset, frame, len);
  const req = ringNextRequest(txFront);
  store32(req + NetifTxReq.GREF, NetFront.GREF_TX + (id >>> 1));
  store32(req + NetifTxReq.OFFSET, offset);
  store32(req + NetifTxReq.SIZE, len);
  store32(req + NetifTxReq.ID, id);
  ringRequestDone(txFront);
  if (ringPushRequests(txFront)) evtchnSend(netPort);
  return 0;
}

/**
 * The next received frame, copied to buf (at most cap bytes): its length; -1 when none is
 * waiting; -2 for a buffer the back end answered with an error. The buffer is posted again.
 */
export function pvNetRecv(buf: number, cap: number): number {
  if (netPort < 0) return -1;
  let rsp = ringNextResponse(rxFront);
  if (rsp === 0) {
    if (!ringFinalCheckForResponses(rxFront)) return -1;
    rsp = ringNextResponse(rxFront);
  }
  const id = load32(rsp + NetifRxRsp.ID) & NetFront.MASK;
  const offset = load32(rsp + NetifRxRsp.OFFSET) & 0x7ff;
  let len = load32(rsp + NetifRxRsp.STATUS);
  ringResponseDone(rxFront);
  const pa = load32(rxPage + id * 4);
  if (load32(rxFlipped + id * 4) !== 0) {
    const e = grantRef(NetFront.GREF_RX + id);
    if ((load16(e + GrantEntry.FLAGS) & GrantFlags.TRANSFER_COMPLETED) !== 0) {
      // the back end's frame takes the place of the page given back
      const mfn = load32(e + GrantEntry.FRAME);
      setPfnMfn(pa >>> 12, mfn);
      pvKernelMap(pa >>> 12, mfn);
      store32(rxFlipped + id * 4, 0);
      store16(e + GrantEntry.FLAGS, 0);
    } else {
      len = -2;
    }
  }
  if (len < 0) len = -2;
  else copy(buf, p2v(pa) + offset, len < cap ? len : cap);
  postRx(id);
  if (ringPushRequests(rxFront)) evtchnSend(netPort);
  return len;
}

export function pvNetAck(): void {
  txReap();
}

/** The back end's counters (indexed like the NIC's), from the receive ring's page. */
export function pvNetStat(k: number): number {
  if (netPort < 0 || k < 0 || k >= NetifRing.STAT_COUNT) return -1;
  return load32(p2v(rxRingPa) + NetifRing.STATS + k * 4);
}
