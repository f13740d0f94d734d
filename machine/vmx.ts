// XL32 hardware-assisted virtualization (VT-x-like): the control structure that says what makes
// a guest in non-root mode exit, the second-stage (EPT-like) table root, event injection on entry,
// and the exit-information area. Data only; the CPU (machine/cpu.ts) implements the behaviour.

import { doubleFields } from './shapes.ts';

/*
 * The guest-state area is the Cpu itself. A VM exit leaves the guest's registers, pc, FLAGS, CPL,
 * control registers and IDTR in the Cpu, with `nonRoot` cleared; the host (TypeScript, not XL32
 * code) handles the exit and calls `cpu.vmEntry()` to resume. A host running several vCPUs on one
 * Cpu saves and restores them with cpu.saveState() / cpu.loadState().
 *
 * Second stage: `eptRoot` is the host-physical address of a 4 KiB directory of 1024 entries
 * indexed by guest-physical bits 22..31, each pointing to a table of 1024 entries indexed by bits
 * 12..21: the page-table entry format (P = bit 0 readable/present, W = bit 1 writable; U and the
 * other bits are ignored, every mapped page is executable). Every guest-physical reference goes
 * through it, including the guest's own page-walk reads and its accessed/dirty-bit writes, so a
 * TLB miss costs up to 2 guest + 3 x 2 second-stage = 8 references. A missing entry, or a write
 * through a read-only one, is an EPT violation (Exit.EptViolation). eptRoot = -1 disables the
 * second stage (guest-physical = host-physical: for tests only, it gives the guest all memory).
 */

/** Exit qualification bits of an EPT violation (Intel's layout, trimmed). */
export const enum EptQual {
  /** the access was a read */
  Read = 1 << 0,
  /** the access was a write */
  Write = 1 << 1,
  /** the access was an instruction fetch */
  Fetch = 1 << 2,
  /** the guest-physical address was mapped readable (present) */
  Readable = 1 << 3,
  /** the guest-physical address was mapped writable */
  Writable = 1 << 4,
  /** exitGuestLinear is valid (the access came from a linear address) */
  LinearValid = 1 << 7,
  /** the access was to the final page, not to one of the guest's page-table entries */
  FinalPage = 1 << 8,
}

/** Exit qualification of Exit.CrAccess (as documented on Exit in machine/types.ts). */
export const enum CrQual {
  /** bits 0..3: control register number */
  CR_MASK = 0xf,
  /** set: MOVFROMCR (read); clear: MOVTOCR (write) */
  READ = 1 << 4,
  /** bits 8..11: the general register (source for a write, destination for a read) */
  REG_SHIFT = 8,
}

/**
 * How an event was raised: decides the saved pc, whether a fault while delivering it becomes a
 * double fault, and tells a host what it intercepted (VT-x's interruption type).
 */
export const enum EventKind {
  /** a CPU exception (fault): saved pc is the faulting instruction; delivery faults escalate to #DF */
  Fault = 0,
  /** BRK (#BP): saved pc is the next instruction; delivery faults escalate to #DF */
  Trap = 1,
  /** INT n: saved pc is the next instruction; gate DPL is checked; a delivery fault is delivered as is */
  Software = 2,
  /** an external interrupt from the interrupt controller; a delivery fault is delivered as is */
  External = 3,
}

export class Vmcs {
  // --- execution controls: what exits (CPUID and HYPERCALL always exit) ---
  /** HLT exits with Exit.Hlt (else the guest halts in non-root mode and run() returns Halted) */
  exitOnHlt = false;
  /** IN/OUT exit with Exit.Io (after the guest's own IOPL check) */
  exitOnIo = false;
  /** bit n set: MOVFROMCR of CR n exits with Exit.CrAccess */
  crReadExits = 0;
  /** bit n set: MOVTOCR of CR n exits with Exit.CrAccess */
  crWriteExits = 0;
  /**
   * Guest/host masks and read shadows of CR0 and CR4 (VT-x's): a bit set in the mask is owned by
   * the host. MOVFROMCR reads an owned bit from the read shadow, the others from the register;
   * MOVTOCR exits with Exit.CrAccess when it would change an owned bit against the read shadow,
   * and otherwise writes only the bits the guest owns (the owned ones keep the host's values).
   */
  cr0GuestHostMask = 0;
  cr0ReadShadow = 0;
  cr4GuestHostMask = 0;
  cr4ReadShadow = 0;
  /** INVLPG exits with Exit.Invlpg */
  exitOnInvlpg = false;
  /** RDTSC exits with Exit.Rdtsc */
  exitOnRdtsc = false;
  /** bit v set: exception vector v (0..31) exits with Exit.Exception instead of guest delivery */
  exceptionBitmap = 0;
  /** an interrupt-controller request exits with Exit.ExternalInterrupt, whatever the guest's IF (not acknowledged) */
  exitOnExternalInterrupt = false;
  /** exit with Exit.InterruptWindow at the first block boundary where the guest's IF is 1 */
  interruptWindowExiting = false;
  /** host-physical address of the second-stage directory, or -1 for none */
  eptRoot = -1;
  /** added to the cycle counter for the guest's RDTSC */
  tscOffset = 0;
  /**
   * Pause-loop exiting (VT-x's secondary control, Intel SDM vol. 3C, "Instructions That Cause VM
   * Exits Conditionally", PAUSE): at CPL 0, a PAUSE less than `pleGap` cycles after the previous
   * one belongs to the same spin loop; the first PAUSE after an entry, or after a longer gap,
   * begins a loop; a PAUSE more than `pleWindow` cycles after its loop began exits with Exit.Pause.
   * Time is the cycle counter (the SDM's counter runs at the TSC's rate). At CPL > 0, and with
   * the control off, PAUSE never exits. The defaults are KVM's (ple_gap 128, ple_window 4096).
   */
  pauseLoopExiting = false;
  pleGap = 128;
  pleWindow = 4096;
  /** the CPU's PLE state: the cycle of the last PAUSE at CPL 0 and of the first of its loop (-Infinity: none since the entry) */
  pleLast = -Infinity;
  pleLoopStart = -Infinity;
  /**
   * The tag of this guest's TLB entries (VT-x's VPID, AMD's ASID), honoured when the profile's CPU
   * has one (CostProfile.vpid): entry and exit keep the TLB. 0: untagged, the TLB is flushed at
   * every entry and exit, as on first-generation VT-x.
   */
  vpid = 0;

  // --- entry controls: an event to inject on the next VM entry ---
  /** vector to deliver through the guest's IDT on the next entry, or -1 */
  injectVector = -1;
  injectError = 0;
  injectKind: EventKind = EventKind.External;
  /**
   * VT-x's VM-entry instruction length, for a software interrupt or trap: the event is delivered
   * as its instruction at the guest's pc would deliver it (the frame saves pc + this; a fault in
   * its delivery saves pc, the instruction's own address). Cleared by the entry that injects.
   */
  injectInsnLength = 0;

  // --- exit information (written by the CPU on every VM exit; also mirrored on the Cpu) ---
  /** the last exit reason (an Exit value), or -1 */
  exitReason = -1;
  exitQualification = 0;
  exitGuestPhys = 0;
  exitGuestLinear = 0;
  /** address and length of the instruction that exited (0 length for non-instruction exits) */
  exitInsnPc = 0;
  exitInsnLength = 0;
  /** the exception or interrupt vector (Exception, ExternalInterrupt) */
  exitVector = 0;
  exitError = 0;
  exitKind: EventKind = EventKind.Fault;
  /** an event whose delivery the exit interrupted (VT-x's IDT-vectoring information), or -1 */
  idtVectoring = -1;
  idtVectoringError = 0;
  idtVectoringKind: EventKind = EventKind.External;

  /** exits so far by reason (index = Exit value, < 64) */
  readonly exitCounts = new Float64Array(64);

  constructor() {
    // 32-bit addresses and qualifications (machine/shapes.ts)
    doubleFields(this, ['exitQualification', 'exitGuestLinear']);
  }
}
