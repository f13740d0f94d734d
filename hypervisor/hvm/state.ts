// Per-domain and per-vCPU state of hardware-assisted virtualization: the domain's second-stage
// table, and each vCPU's VMCS with the execution controls hvm mode runs every guest with. Data
// and setup only; hypervisor/hvm/mode.ts drives them.

import { Vmcs } from '../../machine/vmx.ts';
import type { Vcpu } from '../core/vcpu.ts';
import type { Ept } from './ept.ts';

/** d.modeState of an hvm domain. */
export class HvmDomainState {
  constructor(
    /** guest-physical -> machine, shared by the domain's vCPUs */
    readonly ept: Ept,
  ) {}
}

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

/** vcpu.modeState of an hvm vCPU. */
export class HvmVcpu {
  /** this vCPU's control structure (one per vCPU, as VT-x has) */
  readonly vmcs = new Vmcs();

  constructor(
    readonly vcpu: Vcpu,
    eptRoot: number,
  ) {
    hvmControls(this.vmcs, eptRoot);
  }
}
