// Per-domain statistics, Firecracker-style: a named counter for every kind of exit, trap,
// emulated instruction, I/O port, shadow-paging event and hypercall, bumped on the hot paths
// without allocating (typed arrays indexed by number; one Map keyed by port for I/O).
// Data only; every mode fills the counters that apply to it.

import { EXIT_SLOTS } from '../../machine/types.ts';
import type { TraceBuffer } from './trace.ts';
import { doubleFields } from '../../machine/shapes.ts';

/**
 * Exit reasons the hypervisor's outer loop sees (KVM_RUN's exit reasons, in words); 'yield': the
 * vCPU gives its physical CPU up to another (hvm's pause-loop exit: it spins on a lock).
 */
export const VCPU_EXIT_REASONS = ['io', 'hlt', 'deadline', 'shutdown', 'crash', 'stopped', 'yield'] as const;
export type VcpuExitReason = (typeof VCPU_EXIT_REASONS)[number];

/** Slots of DomainStats.cpuExits: every machine Exit value has one (machine/types.ts EXIT_SLOTS). */
export const CPU_EXIT_SLOTS = EXIT_SLOTS;
/** Hypercall numbers counted individually (hypercalls/ numbers them below this). */
export const HYPERCALL_SLOTS = 64;

/** I/O exits at one port. */
export interface PortCount {
  port: number;
  reads: number;
  writes: number;
}

export class DomainStats {
  /**
   * The trace buffer the tracepoints beside these counters write to (hypervisor/core/trace.ts),
   * or null when tracing is off (then a tracepoint is this one null check).
   */
  trace: TraceBuffer | null = null;
  /** the domain id trace records carry */
  traceDom = 0;
  /** real-CPU exits while this domain ran, by machine Exit value (machine/types.ts) */
  readonly cpuExits = new Float64Array(CPU_EXIT_SLOTS);
  /** exits returned to the outer loop, by reason */
  readonly loopExits = Object.fromEntries(VCPU_EXIT_REASONS.map((r) => [r, 0])) as Record<VcpuExitReason, number>;
  /** intercepted traps (exceptions, INT n) by vector */
  readonly traps = new Float64Array(256);
  /** events delivered into the guest's own IDT by the hypervisor (reflected or injected), by vector */
  readonly reflected = new Float64Array(256);
  /** virtual interrupts injected (a subset of `reflected`) */
  injectedInterrupts = 0;
  /** secondary vCPUs the guest started (through its virtual local APIC) */
  vcpuStarts = 0;
  /** privileged instructions emulated, by opcode */
  readonly emulated = new Float64Array(256);
  /** I/O exits: key port * 2 + (write ? 1 : 0) -> count */
  private readonly io = new Map<number, number>();
  ioExits = 0;

  // shadow paging (trap mode; KVM's MMU vocabulary)
  /** #PF exits the guest never saw: the shadow lacked what the guest's table had */
  hiddenFaults = 0;
  /** #PF exits reflected to the guest: its own table says the access faults */
  trueFaults = 0;
  /** shadow entries written (by hidden faults) */
  shadowFills = 0;
  /** whole-shadow drops (guest CR3 or CR0 writes) */
  shadowFlushes = 0;
  /** single shadow entries dropped by the guest's INVLPG */
  shadowInvlpgs = 0;
  /** shadow page tables (not directories) allocated */
  shadowTables = 0;
  /** whole-shadow drops because the machine had no free frame for another shadow table */
  shadowRecycles = 0;
  /** `--shadow traced`: guest writes to a traced page table (the write-protection's faults) */
  traceFaults = 0;
  /** `--shadow traced`: CR3 loads that found the address space's shadow kept, and those that did not */
  shadowSpaceHits = 0;
  shadowSpaceMisses = 0;
  /** `--shadow traced`: host writes (a device's DMA) into a traced page table, which put it out of sync as a trace fault does */
  traceDmaWrites = 0;

  // hypercalls (pv mode)
  readonly hypercalls = new Float64Array(HYPERCALL_SLOTS);
  readonly hypercallCycles = new Float64Array(HYPERCALL_SLOTS);

  // time
  /** cycles this domain's vCPUs spent running (including the hypervisor's work on their behalf) */
  runCycles = 0;
  /** of which: cycles charged for hypervisor software paths (monitor work, world switches) */
  monitorCycles = 0;
  /** guest instructions retired (including emulated ones) */
  instructions = 0;
  /** world switches onto this domain's vCPUs */
  worldSwitches = 0;
  /** polls of a pending virtual interrupt while the guest had interrupts off (trap mode) */
  interruptWindowPolls = 0;
  /** 'yield' exits (hvm's pause-loop exits) after which the scheduler ran another vCPU first */
  yieldsToOthers = 0;

  constructor() {
    // sums of ledger entries and counts past 2^31 (machine/shapes.ts)
    doubleFields(this, ['runCycles', 'monitorCycles', 'instructions']);
  }

  countIo(port: number, isWrite: boolean): void {
    const key = port * 2 + (isWrite ? 1 : 0);
    this.io.set(key, (this.io.get(key) ?? 0) + 1);
    this.ioExits++;
  }

  /** I/O exits by port, ascending. */
  ioByPort(): PortCount[] {
    const byPort = new Map<number, PortCount>();
    for (const [key, n] of this.io) {
      const port = key >>> 1;
      let e = byPort.get(port);
      if (!e) byPort.set(port, (e = { port, reads: 0, writes: 0 }));
      if (key & 1) e.writes += n;
      else e.reads += n;
    }
    return [...byPort.values()].sort((a, b) => a.port - b.port);
  }

  /** Nonzero entries of a by-number table, as [number, count] pairs. */
  static nonzero(table: Float64Array): [number, number][] {
    const out: [number, number][] = [];
    table.forEach((n, k) => {
      if (n !== 0) out.push([k, n]);
    });
    return out;
  }

  /** A plain-object summary (for --stats, the monitor and tests). */
  summary(): Record<string, unknown> {
    return {
      runCycles: this.runCycles,
      monitorCycles: this.monitorCycles,
      instructions: this.instructions,
      worldSwitches: this.worldSwitches,
      loopExits: { ...this.loopExits },
      cpuExits: Object.fromEntries(DomainStats.nonzero(this.cpuExits)),
      traps: Object.fromEntries(DomainStats.nonzero(this.traps)),
      reflected: Object.fromEntries(DomainStats.nonzero(this.reflected)),
      injectedInterrupts: this.injectedInterrupts,
      interruptWindowPolls: this.interruptWindowPolls,
      emulated: Object.fromEntries(DomainStats.nonzero(this.emulated)),
      ioExits: this.ioExits,
      ioByPort: this.ioByPort(),
      shadow: {
        hiddenFaults: this.hiddenFaults,
        trueFaults: this.trueFaults,
        fills: this.shadowFills,
        flushes: this.shadowFlushes,
        invlpgs: this.shadowInvlpgs,
        tables: this.shadowTables,
        recycles: this.shadowRecycles,
        traceFaults: this.traceFaults,
        spaceHits: this.shadowSpaceHits,
        spaceMisses: this.shadowSpaceMisses,
        traceDmaWrites: this.traceDmaWrites,
      },
      hypercalls: Object.fromEntries(DomainStats.nonzero(this.hypercalls)),
      hypercallCycles: Object.fromEntries(DomainStats.nonzero(this.hypercallCycles)),
    };
  }
}
