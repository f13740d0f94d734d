// The virtual CPU of trap-and-emulate: the privileged state the guest believes it has, kept by the
// monitor while the guest really runs deprivileged (virtual ring 0 at real ring 1). Data only.

import { doubleFields } from '../../machine/shapes.ts';

/** Real IDT base the hypervisor loads: what a guest's SIDT reveals (a recognizable monitor address). */
export const HYPERVISOR_IDT_BASE = 0xffc00000;

/*
 * Ring compression. The guest's ring 0 runs at real ring 1 and its ring 3 at real ring 3; real
 * ring 2 stands for the guest's rings 1 and 2 (which one is kept in `midRing`). The virtual CPL is
 * therefore derived from the real one, never stored - so it stays right when the guest's IRET to
 * ring 3 runs natively, unseen (docs/hypervisor.md).
 */
export function virtualCpl(realCpl: number, midRing: number): number {
  return realCpl === 1 ? 0 : realCpl === 3 ? 3 : realCpl === 2 ? midRing : 0;
}

/** The real ring that runs virtual ring `ring`. */
export function realRing(ring: number): number {
  return ring === 0 ? 1 : ring === 3 ? 3 : 2;
}

export class TrapVcpuState {
  /**
   * Virtual IF, meaningful while the guest is in (virtual) kernel mode. In ring 3 the guest is
   * taken to run with interrupts enabled: the kernel's IRET to ring 3 is not seen (it runs
   * natively at real ring 1), so the IF in its frame cannot be honoured - and the real IF is 1.
   */
  vIF = false;
  /** virtual IOPL */
  vIOPL = 0;
  /** which guest ring real ring 2 stands for (1 or 2) */
  midRing = 2;
  /** virtual control registers: CR0 (PG, WP), CR2, CR3 (guest-physical), CR4 (TSD) */
  cr0 = 0;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  /** virtual IDTR (guest-virtual base, entry count) */
  idtBase = 0;
  idtLimit = 0;
  /** virtual kernel stack pointers (LKSP) of rings 0..2 */
  readonly ksp = new Int32Array(3);

  constructor() {
    // 32-bit addresses (machine/shapes.ts)
    doubleFields(this, ['cr2', 'idtBase']);
  }
}
