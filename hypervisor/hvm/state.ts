// Per-domain and per-vCPU state of hardware-assisted virtualization: the domain's second-stage
// table, and each vCPU's VMCS with the execution controls hvm mode runs every guest with. Data
// and setup only; hypervisor/hvm/mode.ts drives them.

import { CR0_PG, CR0_WP, Vector } from '../../machine/isa.ts';
import { Vmcs } from '../../machine/vmx.ts';
import type { Domain } from '../core/domain.ts';
import type { Hypervisor } from '../core/hypervisor.ts';
import type { Vcpu } from '../core/vcpu.ts';
import { GuestWalker } from '../trap/guest-mmu.ts';
import { ShadowMmu, type GuestShadow, type ShadowKind } from '../trap/shadow.ts';
import { TrapVcpuState } from '../trap/state.ts';
import { TracedShadowMmu } from '../trap/traced-shadow.ts';
import type { Ept } from './ept.ts';

/** How an hvm guest's memory is translated (`--mmu`). */
export type HvmMmu = 'ept' | 'shadow';
export const HVM_MMUS: readonly HvmMmu[] = ['shadow', 'ept'];

/** d.modeState of an hvm domain. */
export class HvmDomainState {
  constructor(
    /** guest-physical -> machine, shared by the domain's vCPUs; null under shadow paging */
    readonly ept: Ept | null,
  ) {}
}

/** CR0 bits the monitor owns under shadow paging: the real ones stay PG|WP (the shadow is always on). */
export const SHADOW_CR0_OWNED: number = CR0_PG | CR0_WP;

/*
 * What exits, and why (docs/hypervisor.md "Hardware assist"):
 *  - I/O: the devices are the domain's device model, not the machine's;
 *  - HLT: a halted guest gives the CPU to other vCPUs until its virtual PIC has a line;
 *  - CPUID and HYPERCALL: always (the hardware decides);
 *  - external interrupts: real interrupts belong to the host (none arrive in this simulation, but
 *    a monitor sets the control, as KVM does);
 *  - interrupt window: armed only while a virtual interrupt waits for the guest's IF.
 * Not exiting: control-register moves, INVLPG, LIDT, LKSP, CLI/STI, POPF/PUSHF, RDCPL, SIDT,
 * RDTSC, IRET, INT n and every exception (empty exception bitmap): the guest owns its IDT, its
 * page tables and its flags, and the second stage keeps it inside its memory whatever it does.
 */
export function hvmControls(vmcs: Vmcs, eptRoot: number): void {
  vmcs.exitOnHlt = true;
  vmcs.exitOnIo = true;
  vmcs.crReadExits = 0;
  vmcs.crWriteExits = 0;
  vmcs.exitOnInvlpg = false;
  vmcs.exitOnRdtsc = false;
  vmcs.exceptionBitmap = 0;
  vmcs.exitOnExternalInterrupt = true;
  vmcs.interruptWindowExiting = false;
  vmcs.eptRoot = eptRoot;
  vmcs.tscOffset = 0;
  vmcs.injectVector = -1;
}

/*
 * Shadow paging (first-generation VT-x, no second stage: `--mmu shadow`), on top of the above
 * (KVM's shadow MMU on such CPUs did the same):
 *  - the real CR3 is the shadow directory (hypervisor/trap/shadow.ts, the trap mode's shadow MMU,
 *    filled lazily from the guest's own tables), so CR3 loads and stores exit (the guest sees its
 *    own CR3), and so does INVLPG (the shadow entry goes with the TLB's);
 *  - page faults are in the exception bitmap: a hidden fault fills the shadow, a true one is
 *    injected with the guest's error code and CR2;
 *  - CR0.PG and CR0.WP are owned (guest/host mask, read shadow): the guest reads its own values
 *    without an exit; a write exits - every CR0 write, because an XL32 CR0 write flushes the TLB
 *    (unlike x86's), which the shadow must follow even when the owned bits do not change;
 *  - CR4 (only TSD) is the guest's: no bit owned, its writes never exit.
 * No second stage: eptRoot = -1, and the shadow maps only the domain's frames.
 * With `--shadow traced` the shadow is the trap mode's caching one (hypervisor/trap/traced-shadow.ts):
 * a shadow per guest address space, kept across CR3 loads (a CR3-load exit switches the real CR3 to
 * the space's shadow directory), coherent by write-protecting the guest's tables - a guest write to
 * one is a page-fault exit (a trace fault), as on the VT-x monitors of 2006 that had no EPT.
 */
export function shadowControls(vmcs: Vmcs): void {
  vmcs.exitOnInvlpg = true;
  vmcs.crReadExits = 1 << 3;
  vmcs.crWriteExits = (1 << 3) | (1 << 0);
  vmcs.exceptionBitmap = 1 << Vector.PageFault;
  vmcs.cr0GuestHostMask = SHADOW_CR0_OWNED;
  vmcs.cr4GuestHostMask = 0;
  vmcs.eptRoot = -1;
}

/** The shadow-paging state of one hvm vCPU: the guest's view of its MMU registers, its walker and shadow. */
export class HvmShadow {
  /** the guest's CR0/CR3 (its other registers are real); the trap mode's shape, for the walker */
  readonly v = new TrapVcpuState();
  readonly walker: GuestWalker;
  /** the flushing shadow (`--shadow flush`, one directory) or the caching one (`traced`, a directory per space) */
  readonly shadow: GuestShadow;

  constructor(hv: Hypervisor, vcpu: Vcpu, kind: ShadowKind = 'flush') {
    this.walker = new GuestWalker(hv.mem, vcpu.domain.memory, this.v);
    const stats = vcpu.domain.stats;
    this.shadow = kind === 'traced' ? new TracedShadowMmu(hv, hv.cpu, this.walker, this.v, stats) : new ShadowMmu(hv, hv.cpu, this.walker, stats);
  }
}

/** vcpu.modeState of an hvm vCPU. */
export class HvmVcpu {
  /** this vCPU's control structure (one per vCPU, as VT-x has) */
  readonly vmcs = new Vmcs();
  /** shadow paging's state, or null with a second stage */
  readonly shadow: HvmShadow | null;

  constructor(
    readonly vcpu: Vcpu,
    eptRoot: number,
    shadow: HvmShadow | null = null,
  ) {
    hvmControls(this.vmcs, eptRoot);
    this.shadow = shadow;
    if (shadow) shadowControls(this.vmcs);
  }
}

/** The hvm state of a domain; a domain of another mode is a programming error. */
export function hvmDomain(domain: Domain): HvmDomainState {
  const s = domain.modeState;
  if (!(s instanceof HvmDomainState)) throw new Error(`domain '${domain.name}' is not an hvm domain`);
  return s;
}

/** The hvm state (VMCS, shadow) of a vCPU; a vCPU of another mode is a programming error. */
export function hvmVcpu(vcpu: Vcpu): HvmVcpu {
  const h = vcpu.modeState;
  if (!(h instanceof HvmVcpu)) throw new Error(`vCPU ${vcpu.id} of domain '${vcpu.domain.name}' is not an hvm vCPU`);
  return h;
}

declare module '../core/vcpu.ts' {
  interface VcpuModeStates {
    hvm: HvmVcpu;
  }
}
declare module '../core/domain.ts' {
  interface DomainModeStates {
    hvm: HvmDomainState;
  }
}
