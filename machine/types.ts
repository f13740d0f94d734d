// Interfaces between the XL32 CPU, its platform (memory, I/O bus, interrupt controller, clock)
// and the device models, plus the reasons the CPU's run loop returns to its caller.
// Types and constants only; imports nothing of ours.

/**
 * Why `Cpu.run()` returned. The numbers below 256 follow Intel's VM-exit numbering (REFERENCE.md,
 * "Hardware assist"); they are produced by non-root mode and, for Exception and Hypercall, by the
 * root-mode intercept hooks a hypervisor sets (ring 0 belongs to the hypervisor). The numbers from
 * 256 up are returns of the bare machine, not guest exits.
 */
export const enum Exit {
  /** an intercepted exception or interrupt vector; see Cpu.exitVector / exitError */
  Exception = 0,
  /** an external interrupt arrived while external-interrupt exiting was on */
  ExternalInterrupt = 1,
  /** a fault while delivering a double fault: the machine shuts down */
  TripleFault = 2,
  /** IF became 1 while interrupt-window exiting was requested */
  InterruptWindow = 7,
  Cpuid = 10,
  Hlt = 12,
  Invlpg = 14,
  Rdtsc = 16,
  /** the HYPERCALL instruction (VMCALL's role), pc already past it */
  Hypercall = 18,
  /** MOVTOCR / MOVFROMCR; qualification: bits 0..3 CR number, bit 4 set = read, bits 8..11 register */
  CrAccess = 28,
  /** IN/OUT; see Cpu.exitPort, exitSize, exitIsWrite, exitData, exitReg */
  Io = 30,
  /** PAUSE under pause-loop exiting (Vmcs.pauseLoopExiting): a spin loop at CPL 0 outlasted PLE_Window; pc past it */
  Pause = 40,
  /** second-stage translation failed; see Cpu.exitGuestPhys, exitGuestLinear, exitQualification */
  EptViolation = 48,
  /** the run reached its cycle deadline (not a guest event) */
  Deadline = 256,
  /** HLT in root mode: the CPU waits for an interrupt (the platform advances time) */
  Halted = 257,
  /** the platform asked the CPU to stop (power-off device, host request) */
  Stopped = 258,
}

/**
 * What `Cpu.step()` (one instruction on the general path) returns besides an Exit value (all >= 0):
 * the instruction retired and its block goes on (STEP_CONT), or it retired and ended a block -
 * control flow, STI, an event delivered (STEP_BOUND). The CPU's run loops, its generated
 * interpreter and translator, and bt's translated units all read these two.
 */
export const STEP_CONT = -1;
export const STEP_BOUND = -2;

/** Every Exit in words (a Record over the enum, so an Exit added without a name does not compile). */
export const EXIT_NAMES: Readonly<Record<Exit, string>> = {
  [Exit.Exception]: 'exception',
  [Exit.ExternalInterrupt]: 'external-interrupt',
  [Exit.TripleFault]: 'triple-fault',
  [Exit.InterruptWindow]: 'interrupt-window',
  [Exit.Cpuid]: 'cpuid',
  [Exit.Hlt]: 'hlt',
  [Exit.Invlpg]: 'invlpg',
  [Exit.Rdtsc]: 'rdtsc',
  [Exit.Hypercall]: 'hypercall',
  [Exit.CrAccess]: 'cr-access',
  [Exit.Io]: 'io',
  [Exit.Pause]: 'pause',
  [Exit.EptViolation]: 'ept-violation',
  [Exit.Deadline]: 'deadline',
  [Exit.Halted]: 'halted',
  [Exit.Stopped]: 'stopped',
};

/** Slots of a table indexed by Exit value: one more than the largest. */
export const EXIT_SLOTS = Math.max(...Object.keys(EXIT_NAMES).map(Number)) + 1;

/** Port I/O as the CPU sees it. Sizes are 1, 2 or 4 bytes. */
export interface IoBus {
  read(port: number, size: number): number;
  write(port: number, size: number, value: number): void;
}

/** A device model on the I/O bus: kvmtool's uniform callback shape. */
export interface IoDevice {
  readonly name: string;
  /** first port and number of ports it answers */
  readonly portBase: number;
  readonly portCount: number;
  read(port: number, size: number): number;
  write(port: number, size: number, value: number): void;
  /** return to power-on state */
  reset?(): void;
}

/** The interrupt controller as the CPU sees it. */
export interface InterruptController {
  /** vector of the highest-priority deliverable line, or -1 if none */
  pendingVector(): number;
  /** acknowledge it (INTA): the line moves from requested to in service; returns the vector */
  acknowledge(): number;
}

/** What a device may ask of its platform. */
export interface DeviceContext {
  /** the current simulated time in cycles */
  now(): number;
  /** call fn when simulated time reaches atCycle (deterministic order: by time, then by scheduling order) */
  schedule(atCycle: number, fn: () => void): number;
  cancel(handle: number): void;
  /** assert / deassert an interrupt-controller line */
  raiseIrq(line: number): void;
  lowerIrq(line: number): void;
  /** DMA between a device and physical memory; false if the range is outside memory */
  dmaWrite(paddr: number, data: Uint8Array): boolean;
  dmaRead(paddr: number, length: number): Uint8Array | null;
  /** power the machine off with an exit status */
  powerOff(status: number): void;
}
