// arch/pv devices, all through the hypervisor: the tick is the periodic virtual timer (VIRQ TIMER),
// idling is sched_op(block), the console is a ring of its own (console.ts), and the disk is the
// front end of the split block driver: requests on a shared ring, each data page granted to the
// back end, one event channel each way.
// Guest code (the TypeScript subset); runs at ring 1.

import { load32, store32, store8, rdtsc, cstr, staticBuffer, divu } from 'xl32';
import { DomId, VcpuCmd, GrantLimits, GnttabCmd, HvLayout } from '../../../hypercalls/numbers.ts';
import { lockKernelEntry, unlockKernel } from '../../kernel/smp.ts';
import { BlkifOp, BlkifReq, BlkifRsp, BlkifRing, BlkifSeg, BlkifStatus, StartInfo, GntSetup, SharedInfo, VcpuInfo } from '../../../hypercalls/structs.ts';
import {
  hcVcpuOp, schedBlock, schedShutdown, evtchnSend, hcGrantTableOp, gnttabGrantAccess, gnttabEndAccess,
} from '../../../hypercalls/guest.ts';
import {
  FrontRing, ringFrontInit, ringFull, ringNextRequest, ringRequestDone, ringPushRequests, ringNextResponse,
  ringResponseDone, ringFinalCheckForResponses,
} from '../../../hypercalls/ring.ts';
import { DiskCmd } from '../../kernel/pvops.ts';
import { Xen, startInfo, pfnToMfn } from './xen.ts';
import { pvConsoleFlush } from './console.ts';
import { balloonWork } from './balloon.ts';
import { pvNetPort } from './net.ts';

const enum PvDevice {
  /** machine block-device completion codes the shared driver expects (BLK_OK, BLK_ERROR) */
  OK = 1,
  ERROR = 2,
  TAGS = 32,
}

// ---- time ----

export function pvTimerStart(cycles: number): void {
  // the period in ns: cycles / MHz microseconds
  hcVcpuOp(VcpuCmd.SET_PERIODIC_TIMER, 0, divu(cycles, pvClockMHz()) * 1000);
}

export function pvClockMHz(): number {
  return startInfo(StartInfo.CPU_MHZ);
}

export function pvReadCycles(): number {
  return rdtsc();
}

/**
 * Wait for an event. sched_op(block) unmasks events and sleeps unless one is pending; the upcall
 * runs the handlers when it returns; then events are masked again, as the kernel expects.
 */
export function pvIdle(): void {
  // (on a multiprocessor the scheduler let the kernel lock go before idling: take it for the work)
  const took = lockKernelEntry();
  balloonWork();
  pvConsoleFlush();
  if (took) unlockKernel();
  schedBlock();
  store8(Xen.SHARED + SharedInfo.VCPU_INFO + load32(HvLayout.VCPU_ID) * VcpuInfo.BYTES + VcpuInfo.UPCALL_MASK, 1);
}

export function pvPowerOff(status: number): void {
  pvConsoleFlush();
  schedShutdown(status);
}

export function pvArchName(): number {
  return cstr('pv');
}

// ---- console (the ring itself is console.ts) ----

export function pvConsoleIrqEnable(): void {
  // the console ring's port is bound to line CONSOLE; irqUnmask(CONSOLE) opens it
}

// ---- disk: the block front end ----

const ring = staticBuffer(4096, 4096);
const front = staticBuffer(FrontRing.BYTES);
const gntList = staticBuffer(4);
const gntSetup = staticBuffer(GntSetup.BYTES);
let blkPort = -1;
let gnttabReady = false;

/** The grant table's machine frame (0 without a disk or a network): set up before the kernel's tables exist. */
export function pvBlkInit(): number {
  blkPort = startInfo(StartInfo.BLK_EVTCHN);
  if (blkPort <= 0) blkPort = -1;
  if (blkPort < 0 && pvNetPort() < 0) return 0;
  store32(gntSetup + GntSetup.DOM, DomId.SELF);
  store32(gntSetup + GntSetup.NR_FRAMES, 1);
  store32(gntSetup + GntSetup.FRAME_LIST, gntList);
  if (hcGrantTableOp(GnttabCmd.SETUP_TABLE, gntSetup, 1) < 0 || load32(gntSetup + GntSetup.STATUS) !== 0) {
    blkPort = -1;
    return 0;
  }
  gnttabReady = true;
  return load32(gntList);
}

/** Is the grant table set up (the network front end needs it too)? */
export function pvGrantTableReady(): boolean {
  return gnttabReady;
}

/** Once the grant table is mapped at Xen.GNTTAB: share the ring and tell the back end. */
export function pvBlkConnect(): void {
  if (blkPort < 0) return;
  ringFrontInit(front, ring, BlkifRing.SLOTS, BlkifRing.SLOT_BYTES);
  gnttabGrantAccess(Xen.GNTTAB, GrantLimits.RESERVED_BLKIF_RING, DomId.BACKEND, pfnToMfn(ring >>> 12), false);
  evtchnSend(blkPort);
}

export function pvBlkPort(): number {
  return blkPort;
}

export function pvDiskSubmit(cmd: number, sector: number, count: number, phys: number, tag: number): number {
  if (blkPort < 0 || tag < 0 || tag >= PvDevice.TAGS || ringFull(front)) return -1;
  const first = (phys & 0xfff) >>> 9;
  const last = first + count - 1;
  if (count < 1 || last > 7) return -1;
  const gref = Xen.GREF_DATA + tag;
  // a disk read writes the page: grant it writable; a write only needs it read
  gnttabGrantAccess(Xen.GNTTAB, gref, DomId.BACKEND, pfnToMfn(phys >>> 12), cmd === DiskCmd.WRITE);
  const req = ringNextRequest(front);
  store32(req + BlkifReq.OPERATION, cmd === DiskCmd.WRITE ? BlkifOp.WRITE : BlkifOp.READ);
  store32(req + BlkifReq.NR_SEGMENTS, 1);
  store32(req + BlkifReq.ID, tag);
  store32(req + BlkifReq.SECTOR, sector);
  store32(req + BlkifReq.SEG + BlkifSeg.GREF, gref);
  store32(req + BlkifReq.SEG + BlkifSeg.FIRST_SECT, first);
  store32(req + BlkifReq.SEG + BlkifSeg.LAST_SECT, last);
  ringRequestDone(front);
  if (ringPushRequests(front)) evtchnSend(blkPort);
  return 0;
}

/** One completion: tag | status << 8 (status PvDevice.OK or PvDevice.ERROR), or -1 when none is waiting. */
export function pvDiskComplete(): number {
  if (blkPort < 0) return -1;
  let rsp = ringNextResponse(front);
  if (rsp === 0) {
    if (!ringFinalCheckForResponses(front)) return -1;
    rsp = ringNextResponse(front);
  }
  const tag = load32(rsp + BlkifRsp.ID);
  const ok = load32(rsp + BlkifRsp.STATUS) === BlkifStatus.OKAY;
  ringResponseDone(front);
  gnttabEndAccess(Xen.GNTTAB, Xen.GREF_DATA + (tag & (PvDevice.TAGS - 1)));
  return (tag & 0xff) | ((ok ? PvDevice.OK : PvDevice.ERROR) << 8);
}

export function pvDiskCapacity(): number {
  return blkPort < 0 ? 0 : startInfo(StartInfo.BLK_SECTORS);
}
