// A virtual CPU: its saved architectural state (the real Cpu's registers while it is not on the
// CPU, cpu.saveState()/loadState()), the mode's own virtual-CPU state, its scheduling state, and
// the exit record its last run left for the outer loop (kvm_run's shared page, preallocated so the
// exit path never allocates). Data and small helpers; the Hypervisor loads and saves it.

import type { CpuState } from '../../machine/cpu.ts';
import { NUM_REGS, REG_SP } from '../../machine/isa.ts';
import { hex } from '../../machine/hex.ts';
import { EXIT_NAMES } from '../../machine/types.ts';
import type { Domain } from './domain.ts';
import type { DomainStats, VcpuExitReason } from './stats.ts';
import { TraceKind } from './trace.ts';
import { doubleFields } from '../../machine/shapes.ts';

/**
 * What the last run of a vCPU stopped for (KVM's struct kvm_run exit part). Fields other than
 * `reason` are valid only for the reasons that name them.
 */
export class VcpuExit {
  reason: VcpuExitReason = 'deadline';
  /** deadline: the guest gave the rest of its slice up (pv's sched_op yield), not a deadline */
  yielded = false;
  // --- io: KVM_EXIT_IO ---
  /** port, size in bytes (1 or 4), direction */
  port = 0;
  size = 0;
  isWrite = false;
  /** OUT: the value written; IN: the outer loop stores the value read here */
  data = 0;
  /** IN: the destination general register (written when the vCPU next runs) */
  reg = 0;
  // --- hypercall ---
  /** hypercall number (r0) */
  nr = 0;
  // --- shutdown / crash: a human-readable explanation ---
  detail = '';

  constructor() {
    // an I/O value, 32 bits (machine/shapes.ts)
    doubleFields(this, ['data']);
  }
}

/**
 * The per-vCPU state of each mode, registered by the mode's own module through declaration
 * merging (`declare module '../core/vcpu.ts' { interface VcpuModeStates { trap: TrapVcpu } }`),
 * so the core names no mode while `Vcpu.modeState` is the union of what the modes put there: a
 * cast to anything else does not compile, and the modes' checking accessors (trapVcpu(),
 * hvmVcpu()) narrow it by class.
 */
export interface VcpuModeStates {}
/** What a vCPU's `modeState` may hold: one of the registered modes' vCPU states. */
export type VcpuModeState = VcpuModeStates[keyof VcpuModeStates];

/** Scheduling state: runnable (may be picked), blocked (waits for an event), stopped (its domain is gone). */
export type VcpuRunState = 'runnable' | 'blocked' | 'stopped';
/** Xen's runstates (public/vcpu.h RUNSTATE_*), Hypervisor.vcpuRunstate's answer. */
export type VcpuRunstateName = 'running' | 'runnable' | 'blocked' | 'offline';

/** The architectural state of a CPU at reset (docs/isa.md "State"), for a new vCPU. */
export function resetCpuState(): CpuState {
  // (the counts and 32-bit addresses as doubles from the start: machine/shapes.ts)
  return doubleFields<CpuState>({
    regs: new Array<number>(NUM_REGS).fill(0),
    pc: 0,
    flags: 0,
    cpl: 0,
    cr0: 0,
    cr2: 0,
    cr3: 0,
    cr4: 0,
    idtBase: 0,
    idtLimit: 0,
    ksp: [0, 0, 0],
    cycles: 0,
    instructions: 0,
    halted: false,
    nonRoot: false,
  }, ['cr2', 'idtBase', 'cycles', 'instructions']);
}

/** A secondary CPU's state at start-up (docs/isa.md "Multiprocessor"): reset, at `pc` on the stack `sp`. */
export function startupCpuState(pc: number, sp: number): CpuState {
  const a = resetCpuState();
  a.pc = pc >>> 0;
  a.regs[REG_SP] = sp | 0;
  return a;
}

export class Vcpu {
  /** the real-CPU state while this vCPU is off the CPU (stale while `loaded`) */
  arch: CpuState = resetCpuState();
  /** on the real CPU now: the live state is the Cpu's */
  loaded = false;
  runState: VcpuRunState = 'runnable';
  /**
   * Brought up: vCPU 0 from creation; a mode whose guest starts its other vCPUs itself (the local
   * APIC's start-up under trap/bt/hvm) creates them down (blocked, never woken) until
   * Hypervisor.startVcpu.
   */
  up = true;
  /** the physical CPU it is pinned to (Hypervisor pcpus; 0 with one) */
  pcpu = 0;
  /** the exit record of the last run */
  readonly exit = new VcpuExit();
  /** an IN exit whose value the outer loop has put in exit.data: write it to exit.reg at the next run */
  ioPending = false;
  /** the mode's virtual-CPU state (trap: TrapVcpu, bt: a TrapVcpu subclass, hvm: HvmVcpu; pv: none); read it through the mode's typed accessor (trapVcpu(), hvmVcpu()), never a cast */
  modeState: VcpuModeState | null = null;
  /** cycles this vCPU has run (scheduler accounting) */
  runCycles = 0;

  constructor(
    readonly domain: Domain,
    /** index within its domain */
    readonly id: number,
  ) {
    // a cycle count (machine/shapes.ts)
    doubleFields(this, ['runCycles']);
  }

  /**
   * Complete an IN that exited to the outer loop: write its value to the register it named
   * (KVM completes I/O on the next KVM_RUN). Call at the start of a mode's runVcpu.
   */
  completeIo(regs: Int32Array): void {
    if (!this.ioPending) return;
    this.ioPending = false;
    const exit = this.exit;
    regs[exit.reg] = exit.size === 1 ? exit.data & 0xff : exit.data | 0;
  }

  /** "d<domain>v<vcpu>", for messages. */
  get label(): string {
    return `d${this.domain.id}v${this.id}`;
  }
}

/** Fill `exit` for a domain that has stopped (shut down, or crashed by the hypervisor). */
export function stoppedExit(dom: Domain, exit: VcpuExit): VcpuExit {
  exit.reason = dom.stopReason === 'crashed' ? 'crash' : 'shutdown';
  exit.detail = dom.stopDetail;
  return exit;
}

/*
 * The inner loop's one shape. Every mode's runVcpu is
 *
 *   complete a pending IN (vcpu.completeIo)
 *   for (;;) {
 *     domain stopped?            -> return its stopped exit
 *     deliver what is pending    (a virtual interrupt or upcall the guest can take now)
 *     deadline reached?          -> return deadlineExit(exit)
 *     x = cpu.run(...); countExit(stats, x)
 *     handleCpuExit(state, x, exit): a switch over the Exit values the mode arranges for, its
 *       default crashOnUnexpectedExit; CONTINUE (run on) or TO_LOOP (return vcpu.exit)
 *   }
 *
 * (bt runs translated kernel code unit by unit in place of cpu.run, and its units' CPU exits go
 * through the same handleCpuExit.)
 */

/** A mode's exit handler to its inner loop: run the vCPU on. */
export const CONTINUE = 0;
/** A mode's exit handler to its inner loop: vcpu.exit is filled, return it to the outer loop. */
export const TO_LOOP = 1;

/** Count a CPU exit of a domain's vCPU (and trace it when tracing is on). */
export function countExit(stats: DomainStats, x: number): void {
  stats.cpuExits[x]!++;
  if (stats.trace !== null) stats.trace.record(TraceKind.Exit, stats.traceDom, x, 0);
}

/** The run reached its deadline: the outer loop runs due events and asks the scheduler. */
export function deadlineExit(exit: VcpuExit): VcpuExit {
  exit.reason = 'deadline';
  exit.yielded = false;
  return exit;
}

/** The CPU was asked to stop (Exit.Stopped): the outer loop stops. */
export function hostStopExit(exit: VcpuExit): VcpuExit {
  exit.reason = 'stopped';
  return exit;
}

/**
 * The crash path for a CPU exit a mode never arranges for (its intercept setup rules it out): a
 * bug in the mode, not the guest's doing, so the domain is crashed with the exit named and the
 * hypervisor goes on. The caller then returns its stopped exit.
 */
export function crashOnUnexpectedExit(dom: Domain, mode: string, x: number, pc: number): void {
  const name = (EXIT_NAMES as Readonly<Record<number, string | undefined>>)[x] ?? 'unknown';
  dom.shutdown('crashed', 0, `${mode} mode: unexpected CPU exit ${x} (${name}) at pc ${hex(pc)}`);
}
