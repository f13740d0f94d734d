// The virtualization-mode strategy: what a mode (trap, pv, later hvm and bt) plugs into the core.
// The core owns the machine, domains, vCPUs, the scheduler and the outer exit loop; a mode owns how
// a guest is built and how a vCPU runs until something needs the outer loop (KVM_RUN's role).
// Interfaces only.

import type { Image } from '../../machine/image.ts';
import type { Domain } from './domain.ts';
import type { Hypervisor } from './hypervisor.ts';
import type { Vcpu, VcpuExit } from './vcpu.ts';

/** What to boot in a domain. */
export type BootSpec =
  /** a bare image (assembly demos): segments at their physical addresses, entry at image.entry */
  | { image: Image }
  /** a kernel with the xenolith boot protocol (docs/kernel.md): initrd, command line, boot block */
  | { kernel: Image; initrd?: Uint8Array; cmdline?: string };

/*
 * Lifecycle, as the Hypervisor drives it:
 *
 *   attach(hv)                  once, when the mode is first used by a hypervisor
 *   createDomain(domain)        after the domain's memory (p2m) and device model exist
 *   build(domain, boot)         load the guest and set every vCPU's entry state
 *   load(vcpu) ... unload(vcpu) around each stretch a vCPU spends on the real CPU (a world
 *                               switch: the core saves/restores the architectural registers
 *                               (cpu.saveState/loadState); the mode sets its CPU hooks -
 *                               interceptVector, hypercallExits, real CR3, ...)
 *   runVcpu(vcpu, deadline)     run until an exit the outer loop must see; handle the rest
 *                               inside (privileged-instruction emulation, shadow faults,
 *                               hypercalls answered in the hypervisor). Returns vcpu.exit with
 *                               its reason set: 'deadline' when cpu.cycles >= deadline.
 *   hasPendingEvent(vcpu)       a blocked vCPU has something to wake for (a virtual interrupt
 *                               it can take, an event-channel upcall)
 *   destroyDomain(domain)       release the mode's per-domain state (shadow tables, grants)
 *   detach(hv)                  (optional) the mode's last domain is gone: give back attach's hooks
 *
 * The outer loop handles 'io' (device model; an IN's value goes to exit.data and the mode writes
 * it to the register at the next runVcpu, as KVM completes I/O on the next KVM_RUN), 'hlt'
 * (blocks the vCPU until hasPendingEvent), 'deadline' (runs due events, asks the scheduler),
 * 'shutdown' and 'crash' (the domain stops; the hypervisor goes on) and 'stopped' (the CPU was
 * asked to stop) - every VcpuExitReason, in one exhaustive switch: a mode cannot return a reason
 * the core has no case for.
 */
export interface Mode {
  /** 'trap', 'pv', ... */
  readonly name: string;
  attach(hv: Hypervisor): void;
  createDomain(domain: Domain): void;
  build(domain: Domain, boot: BootSpec): void;
  load(vcpu: Vcpu): void;
  unload(vcpu: Vcpu): void;
  runVcpu(vcpu: Vcpu, deadline: number): VcpuExit;
  hasPendingEvent(vcpu: Vcpu): boolean;
  destroyDomain(domain: Domain): void;
  /**
   * A down vCPU is started by its guest (a secondary CPU's start-up through the virtual local
   * APIC): give it the bare machine's start-up state - CPL 0, paging off, interrupts off, at `pc`
   * with stack pointer `sp` - in the mode's terms. Modes with one vCPU per domain leave it out.
   */
  startVcpu?(vcpu: Vcpu, pc: number, sp: number): void;
  /**
   * A vCPU of `domain` was woken or blocked (Hypervisor.vcpuRunstate may have changed): a mode
   * that shows its guests their vCPUs' runstates (pv's HvLayout.VCPU_RUNSTATE) updates them.
   */
  runstateChanged?(domain: Domain): void;
  /**
   * The hypervisor has no domain of this mode left (the last one was destroyed): give back what
   * attach took from it (hooks into its CPU and memory). The hypervisor forgets the mode then,
   * and attaches it again if a domain of it is created later. Modes that take nothing, or whose
   * state outlives their domains (pv's hypervisor-wide tables), leave it out and stay attached.
   */
  detach?(hv: Hypervisor): void;
}
