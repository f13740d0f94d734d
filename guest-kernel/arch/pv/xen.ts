// arch/pv's view of the hypervisor: where start_info and the shared-info page are, the
// pseudo-physical <-> machine frame translations (the p2m list from start_info, the read-only m2p
// table the hypervisor maps at the top of every address space), and the event ports the kernel's
// device lines map to. Guest code (the TypeScript subset); runs at ring 1.

import { load32, store32, staticBuffer } from 'xl32';
import { BootLayout, StartInfo } from '../../../hypercalls/structs.ts';
import { HvLayout } from '../../../hypercalls/numbers.ts';
import { p2v } from '../../kernel/vm.ts';

export const enum Xen {
  /** the shared-info page where the builder maps it (and bootProtect in the kernel's own tables) */
  SHARED = BootLayout.SHARED_INFO,
  /** the grant table's first frame, mapped the same way */
  GNTTAB = 0x3000,
  START_INFO = 0x1000,
  /** device lines with an event port (pvops IrqLine numbers) */
  LINES = 16,
  /** grant references: 0 the block ring (GrantLimits.RESERVED_BLKIF_RING), 8.. one per disk tag */
  GREF_DATA = 8,
  /** every address space maps virtual = pseudo-physical below this (the builder's and the kernel's tables) */
  IDENTITY_TOP = 0x400000,
}

/** The port bound to each device line (0: none), and the line of each port (-1: none). */
const lineToPort = staticBuffer(Xen.LINES * 4);
const portToLine = staticBuffer(1024 * 4);

/** A start_info field. */
export function startInfo(field: number): number {
  return load32(BootLayout.START_INFO + field);
}

/** the p2m list's pseudo-physical address (0 until xenInit) */
let p2mList = 0;
/** its virtual address when the identity map (below 4 MiB, in every address space) holds it, else 0 */
let p2mIdentity = 0;

/** Find the p2m list (before anything translates). */
export function xenInit(): void {
  p2mList = startInfo(StartInfo.MFN_LIST);
  p2mIdentity = p2mList + startInfo(StartInfo.NR_PAGES) * 4 <= Xen.IDENTITY_TOP ? p2mList : 0;
}

/** Machine frame of pseudo-physical frame pfn (the p2m list, read through the kernel's view of memory). */
export function pfnToMfn(pfn: number): number {
  if (p2mIdentity !== 0) return load32(p2mIdentity + pfn * 4);
  return load32(p2v(p2mList) + pfn * 4);
}

/** Set the p2m list's entry for pfn (the balloon: -1 while the frame is given back). */
export function setPfnMfn(pfn: number, mfn: number): void {
  if (p2mIdentity !== 0) store32(p2mIdentity + pfn * 4, mfn);
  else store32(p2v(p2mList) + pfn * 4, mfn);
}

/** Pseudo-physical frame of machine frame mfn (the hypervisor's read-only table), or -1. */
export function mfnToPfn(mfn: number): number {
  return load32(HvLayout.M2P + mfn * 4);
}

/** Machine address of pseudo-physical address pa. */
export function physToMachine(pa: number): number {
  return (pfnToMfn(pa >>> 12) << 12) | (pa & 0xfff);
}

export function portsInit(): void {
  let p = 0;
  while (p < 1024) {
    store32(portToLine + p * 4, -1);
    p = p + 1;
  }
}

/** Route events on `port` to device line `line`. */
export function bindLine(line: number, port: number): void {
  store32(lineToPort + line * 4, port);
  store32(portToLine + port * 4, line);
}

export function linePort(line: number): number {
  return load32(lineToPort + line * 4);
}

export function portLine(port: number): number {
  return load32(portToLine + port * 4);
}
