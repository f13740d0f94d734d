// Cycle costs of the PV hypervisor's software paths, charged on top of what the CPU charges for
// the transitions themselves (hypercallEntry, hypercallExit, trapEntry, iret). Every figure is
// derived from the machine's named cost profile (machine/costs.ts), never fitted to a benchmark.
// Pure data.

import type { CostProfile } from '../../machine/costs.ts';

export interface PvCosts {
  /** decode r0..r5, bounds-check the number, dispatch through the table, return */
  readonly dispatch: number;
  /** one request of a batch (mmu_update entry, mmuext op, grant op, multicall entry): read it from guest memory, check the frame table, act */
  readonly perRequest: number;
  /** validate (or release) one whole page table: 1,024 entries read and checked */
  readonly tableScan: number;
  /** build a guest trap frame and point the vCPU at its handler (exception bounce, event upcall) */
  readonly bounce: number;
  /** set a port pending in a shared-info page and maybe mark an upcall */
  readonly eventSet: number;
  /** copy one 512-byte sector between a disk model and a granted page (block back end) */
  readonly sectorCopy: number;
  /** copy one 64-byte line through a grant (the network back end's grant copy, GNTTABOP_copy) */
  readonly grantCopyLine: number;
  /** transfer one frame to a domain: frame-table updates of both owners, the p2m slot and a TLB flush (page flipping) */
  readonly pageFlip: number;
}

/**
 * approximate/unverified, engineering estimates in the profile's own units: a hypercall's dispatch
 * is a quarter of a trap-and-emulate monitor path (monitorTrap: no instruction to decode, the
 * number is in r0); a batched request costs two cache misses (the frame-table entry and the page
 * table entry, each charged like a page-walk reference) plus a few loads; a table scan is 1,024
 * loads and compares; a bounce is half a monitor path (six stores of a frame plus the checks); a
 * grant-copy line is 16 word loads and stores (as a sector copy is 128); a page flip is two
 * batched requests' worth (the frame's old and new owner) plus the TLB flush Xen paid per transfer.
 */
export function pvCosts(p: CostProfile): PvCosts {
  return {
    dispatch: Math.round(p.monitorTrap / 4),
    perRequest: 2 * p.tlbWalkLevel + 4 * p.load,
    tableScan: 1024 * (p.load + p.alu),
    bounce: Math.round(p.monitorTrap / 2),
    eventSet: 4 * p.load + 2 * p.store,
    sectorCopy: 128 * (p.load + p.store),
    grantCopyLine: 16 * (p.load + p.store),
    pageFlip: 2 * (2 * p.tlbWalkLevel + 4 * p.load) + p.cr3Write,
  };
}
