// arch/pv interrupt control: the virtual interrupt flag is the upcall mask byte in the shared-info
// page, written directly (no hypercall); device lines are event-channel ports, unmasked with the
// unmask hypercall so an event that waited while masked is delivered. Guest code (the TypeScript
// subset); runs at ring 1.

import { load8, store8, load32 } from 'xl32';
import { HvLayout } from '../../../hypercalls/numbers.ts';
import { SharedInfo, VcpuInfo } from '../../../hypercalls/structs.ts';
import { forceEventCallback, evtchnUnmask } from '../../../hypercalls/guest.ts';
import { Xen, linePort } from './xen.ts';

/** This vCPU's upcall mask byte (its vcpu_info slot: HvLayout.VCPU_ID says which vCPU runs this). */
function maskAddr(): number {
  return Xen.SHARED + SharedInfo.VCPU_INFO + load32(HvLayout.VCPU_ID) * VcpuInfo.BYTES + VcpuInfo.UPCALL_MASK;
}

/** The previous state (1 = events were masked), and mask them. */
export function pvIrqSave(): number {
  const m = maskAddr();
  const old = load8(m);
  store8(m, 1);
  return old;
}

export function pvIrqRestore(flags: number): void {
  if (flags === 0) pvIrqEnable();
  else store8(maskAddr(), 1);
}

export function pvIrqDisable(): void {
  store8(maskAddr(), 1);
}

/** Clear the mask; an event that waited meanwhile (upcall_pending) is delivered by a no-op hypercall. */
export function pvIrqEnable(): void {
  const m = maskAddr();
  store8(m, 0);
  if (load8(m - VcpuInfo.UPCALL_MASK + VcpuInfo.UPCALL_PENDING) !== 0) forceEventCallback();
}

/** Events need no end-of-interrupt: a port's pending bit was cleared when it was taken. */
export function pvIrqAck(_line: number): void {
  // nothing to do
}

export function pvIrqUnmask(line: number): void {
  const port = linePort(line);
  if (port !== 0) evtchnUnmask(port);
}

/** Probe: the virtual interrupt flag (1 = events enabled), as the kernel's own state says. */
export function pvIrqsEnabled(): number {
  return load8(maskAddr()) === 0 ? 1 : 0;
}

/**
 * Probe: the kernel's privilege level in the virtual machine. The PV interface gives the guest
 * kernel the machine's most privileged level (the hypervisor is below the machine, not in it);
 * that it really runs at ring 1 is part of the interface, not something the kernel observes.
 */
export function pvCurrentRing(): number {
  return 0;
}
