// Log-dirty tracking: which of a domain's pseudo-physical frames were written since the last
// look. The groundwork of live migration's pre-copy rounds (Clark et al., NSDI 2005; Xen's
// paging log-dirty mode: XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY / _PEEK / _CLEAN). Host code; it
// touches the machine's write-protection array, its dirty log and the TLB's write tags only.
//
// hvm with EPT write-protects its second stage itself (LogDirtyStage: read-only entries, EPT
// violations taken by the mode, secondStageWriteFault). Every other mode uses the MMU fill:
//
// The mechanism is write protection plus a fault, as in Xen's shadow log-dirty: while logging,
// every frame of the domain is write-protected (machine/mmu.ts logDirtyProtect): a TLB fill never
// gives a protected frame's page write permission, so the first store to the frame after a clean
// walks, and the walk, once it has passed every guest check (the guest's own page fault wins),
// takes the log-dirty fault: the hypervisor marks the frame in mem.dirtyLog, lifts the protection
// and charges the fault; later stores run at full speed until the next clean protects the frame
// again and drops the TLB's write tags. The guest sees nothing: no exception, no changed register
// or page-table bit, the same instructions - only the fault's cycles.
//
// Where each mode's real hardware/software takes that fault (and what it is charged beside the
// handler's own Ev.LogDirtyFault): pv - Xen's write fault on a validated page table's mapping,
// a trap into the hypervisor and its return (TrapDelivery + InterceptReturn); trap and bt - the
// shadow table's write-protected entry, the same trap path; hvm - an EPT violation on the second
// stage's write-protected entry, or (hvm with shadow paging) the shadow's, both a VM exit and entry
// (VmExit + VmEntry). The protection is kept by machine frame in the MMU fill that all these
// tables feed, instead of being written into each mode's tables: one mechanism, exact for every
// mode, the mode deciding only the price (docs/log-dirty.md).
//
// Writes that do not go through the guest's MMU are logged where they are made: the hypervisor's
// and the devices' writes to guest memory go through PhysicalMemory's write methods (noteWrite
// marks the frame), a direct write calls mem.markDirty, and the page walker marks a table page
// whose accessed/dirty bits it sets (hardware A/D updates; no fault charged).

import type { Cpu } from '../../machine/cpu.ts';
import { Ev } from '../../machine/ledger.ts';
import type { PhysicalMemory } from '../../machine/memory.ts';
import type { Domain } from './domain.ts';

/**
 * A second translation stage the mode write-protects itself (hvm's EPT): its write faults come
 * back as the mode's own exits, which call LogDirtyTracker.secondStageWriteFault.
 */
export interface LogDirtyStage {
  /** make pseudo-physical frame pfn's entry writable or read-only; false if it has none */
  setWritable(pfn: number, writable: boolean): boolean;
}

/** A domain's log-dirty state (Domain.enableLogDirty creates it). */
export class LogDirtyTracker {
  /** log-dirty faults taken (first writes to a protected frame) since enable */
  faults = 0;
  /** peeks (peekAndClean calls) since enable */
  peeks = 0;
  /** the second stage the domain's mode protects (hvm with EPT), else null: the MMU fill's protection */
  private readonly stage: LogDirtyStage | null;
  /** with a second stage: per pseudo-physical frame, 1 while its entry is read-only */
  private readonly stageProtected: Uint8Array | null;

  constructor(
    private readonly cpu: Cpu,
    private readonly mem: PhysicalMemory,
    readonly domain: Domain,
  ) {
    this.stage = domain.logDirtyStage;
    this.stageProtected = this.stage ? new Uint8Array(domain.p2m.length) : null;
    if (mem.dirtyLog === null) mem.dirtyLog = new Uint8Array(mem.frames);
    if (this.stage === null && cpu.mmu.logDirtyProtect === null) cpu.mmu.logDirtyProtect = new Uint8Array(mem.frames);
    this.protectAll(true);
  }

  /** Protect (or unprotect) frame pfn (machine frame mfn) by the domain's mechanism. */
  private protect(pfn: number, mfn: number, on: boolean): void {
    if (this.stage !== null) {
      if (this.stage.setWritable(pfn, !on)) this.stageProtected![pfn] = on ? 1 : 0;
    } else {
      this.cpu.mmu.logDirtyProtect![mfn] = on ? 1 : 0;
    }
  }

  /** Is frame pfn (machine frame mfn) unprotected (written since it was last protected)? */
  private lifted(pfn: number, mfn: number): boolean {
    return this.stage !== null ? this.stageProtected![pfn] === 0 : this.cpu.mmu.logDirtyProtect![mfn] === 0;
  }

  /** Protect (or unprotect) every frame of the domain, clearing their dirty marks; drop write tags. */
  private protectAll(on: boolean): void {
    const p2m = this.domain.p2m;
    const dl = this.mem.dirtyLog!;
    for (let pfn = 0; pfn < p2m.length; pfn++) {
      const mfn = p2m[pfn]!;
      if (mfn < 0) continue;
      this.protect(pfn, mfn, on);
      dl[mfn] = 0;
    }
    this.cpu.mmu.dropWriteTags();
  }

  /**
   * The mode's second stage took a write fault on frame pfn (hvm: an EPT violation on a write).
   * True if it was log-dirty's protection (the entry is writable again, the frame logged and the
   * fault counted; the mode charges it and retries the access); false if not ours.
   */
  secondStageWriteFault(pfn: number): boolean {
    const sp = this.stageProtected;
    if (sp === null || pfn >= sp.length || sp[pfn] === 0) return false;
    const mfn = this.domain.p2m[pfn]!;
    if (mfn < 0 || !this.stage!.setWritable(pfn, true)) return false;
    sp[pfn] = 0;
    this.mem.markDirty(mfn);
    this.faults++;
    return true;
  }

  /**
   * The frames written since the last peek (or enable), as a bitmap over pseudo-physical frame
   * numbers (bit pfn & 7 of byte pfn >> 3, as Xen's dirty bitmap), and clean them: protect them
   * again so their next write is seen. A frame ballooned in meanwhile counts as dirty.
   */
  peekAndClean(): Uint8Array {
    const p2m = this.domain.p2m;
    const dl = this.mem.dirtyLog!;
    const bitmap = new Uint8Array((p2m.length + 7) >> 3);
    for (let pfn = 0; pfn < p2m.length; pfn++) {
      const mfn = p2m[pfn]!;
      if (mfn < 0) continue;
      const lifted = this.lifted(pfn, mfn);
      if (dl[mfn] !== 0 || lifted) bitmap[pfn >> 3]! |= 1 << (pfn & 7);
      dl[mfn] = 0;
      if (lifted) this.protect(pfn, mfn, true);
    }
    this.cpu.mmu.dropWriteTags();
    this.peeks++;
    return bitmap;
  }

  /** Stop logging: the domain's frames are writable again at full speed. */
  disable(): void {
    this.protectAll(false);
  }

  /**
   * The hypervisor's log-dirty fault handler for the running domain: count it and charge it by
   * the path the domain's mode takes (see the header).
   */
  chargeFault(hvmLike: boolean, charge: (ev: number, n: number) => void): void {
    this.faults++;
    if (hvmLike) {
      charge(Ev.VmExit, 1);
      charge(Ev.LogDirtyFault, 1);
      charge(Ev.VmEntry, 1);
    } else {
      charge(Ev.TrapDelivery, 1);
      charge(Ev.LogDirtyFault, 1);
      charge(Ev.InterceptReturn, 1);
    }
  }
}

/** The pseudo-physical frame numbers set in a dirty bitmap, ascending. */
export function dirtyFrames(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let k = 0; k < bitmap.length; k++) {
    const b = bitmap[k]!;
    if (b === 0) continue;
    for (let i = 0; i < 8; i++) if ((b >> i) & 1) out.push(k * 8 + i);
  }
  return out;
}
