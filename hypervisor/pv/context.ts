// The context a hypercall handler runs in: the calling domain and vCPU, the guest-virtual memory
// accessors through the caller's page directory, and the ways out (crash the domain, block,
// continue later). One object per PV host, reused for every hypercall, so the hot path never
// allocates.

import type { Vcpu } from '../core/vcpu.ts';
import { GuestVirt } from './guest-virt.ts';
import type { PvDomain, PvHost, PvVcpu } from './state.ts';
import { Ev } from '../../machine/ledger.ts';

/**
 * Host work one hypercall entry may do before a batch stops at its next request and continues at
 * the guest's next entry, in page-table entries checked (PageTypes.work): 64 tables' worth. A
 * directory's validation or release stops too, after the directory entry that reaches it, so
 * the most one entry does is this minus one plus the dearest single piece of work: a directory
 * entry naming a new table (1 + 1,024) or an mmu_update request replacing one table by another
 * (2 * 1,024) (docs/hypercalls.md "Long hypercalls").
 */
export const WORK_PER_STEP = 65_536;

export class HcCtx {
  d!: PvDomain;
  pv!: PvVcpu;
  vcpu!: Vcpu;
  readonly gv: GuestVirt;
  /** inside a multicall (a nested one is refused) */
  inMulticall = false;
  /** the handler stopped early and asked to be entered again with `contArgs` (continue()) */
  preempted = false;
  /** arguments a1..a5 of the continuation */
  readonly contArgs = new Int32Array(5);
  /** PageTypes.work when the guest entered */
  private workAtEntry = 0;

  constructor(
    readonly host: PvHost,
    /** the bound on an entry's work (WORK_PER_STEP; Infinity turns continuations off, for tests) */
    readonly workPerStep = WORK_PER_STEP,
  ) {
    this.gv = new GuestVirt(host.mem);
  }

  /** Point the context at the vCPU making the call (which is on the real CPU). */
  enter(d: PvDomain, pv: PvVcpu): void {
    this.d = d;
    this.pv = pv;
    this.vcpu = pv.vcpu;
    this.gv.fault = false;
    this.preempted = false;
    this.workAtEntry = this.host.types.work;
  }

  /** Page-table entries checked since the guest entered. */
  get work(): number {
    return this.host.types.work - this.workAtEntry;
  }

  /** PageTypes.work at which this entry's share of host work is done (a bound for PageTypes' own loops). */
  get workLimit(): number {
    return this.workAtEntry + this.workPerStep;
  }

  /** Has this entry done its share of host work (Xen's hypercall_preempt_check)? */
  preemptCheck(): boolean {
    return this.work >= this.workPerStep;
  }

  /**
   * End this step: the guest will execute HYPERCALL again with the same number and these
   * arguments, which record the progress (Xen's hypercall_create_continuation). Everything the
   * step did stays done; the next step re-reads and re-validates whatever is left.
   */
  continue(a1: number, a2: number, a3: number, a4: number, a5: number): void {
    const c = this.contArgs;
    c[0] = a1;
    c[1] = a2;
    c[2] = a3;
    c[3] = a4;
    c[4] = a5;
    this.preempted = true;
  }

  /** machine address of the caller's page directory */
  get cr3(): number {
    return this.host.cpu.cr3;
  }

  /** Read a word of guest memory; `gv.fault` tells whether it failed. */
  r32(va: number): number {
    return this.gv.read32(this.host.cpu.cr3, va);
  }

  w32(va: number, value: number): boolean {
    return this.gv.write32(this.host.cpu.cr3, va, value);
  }

  /** Take the faulted state and clear it. */
  faulted(): boolean {
    const f = this.gv.fault;
    this.gv.fault = false;
    return f;
  }

  /** Kill the calling domain (it broke a rule no error code can answer); other domains go on. */
  crash(detail: string): void {
    this.d.domain.shutdown('crashed', 0, detail);
  }

  /** Charge `n` events of ledger kind `ev` (machine/ledger.ts) of hypervisor work to the caller. */
  charge(ev: number, n: number): void {
    this.host.charge(this.d, ev, n);
  }

  /** Charge `cycles` of hypervisor work to the caller, by the cycle (a handler with its own cost model). */
  chargeCycles(cycles: number): void {
    this.host.charge(this.d, Ev.HvCycles, cycles);
  }
}
