// The context a hypercall handler runs in: the calling domain and vCPU, the guest-virtual memory
// accessors through the caller's page directory, and the ways out (crash the domain, block).
// One object per PV host, reused for every hypercall, so the hot path never allocates.

import type { Vcpu } from '../core/vcpu.ts';
import { GuestVirt } from './guest-virt.ts';
import type { PvDomain, PvHost, PvVcpu } from './state.ts';

export class HcCtx {
  d!: PvDomain;
  pv!: PvVcpu;
  vcpu!: Vcpu;
  readonly gv: GuestVirt;
  /** inside a multicall (a nested one is refused) */
  inMulticall = false;

  constructor(readonly host: PvHost) {
    this.gv = new GuestVirt(host.mem);
  }

  /** Point the context at the vCPU making the call (which is on the real CPU). */
  enter(d: PvDomain, pv: PvVcpu): void {
    this.d = d;
    this.pv = pv;
    this.vcpu = pv.vcpu;
    this.gv.fault = false;
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

  /** Charge hypervisor work to the caller. */
  charge(cycles: number): void {
    this.host.charge(this.d, cycles);
  }
}
