// Named CPU cost profiles: how many simulated cycles each XL32 event costs (instruction classes,
// trap entry, TLB-miss walks, port I/O, VM exits, ...), each figure with its source, plus the
// per-opcode cost table the interpreter charges from. Pure data; imports only machine/isa.ts.
//
// Figures are grounded in published hardware data and are never fitted to benchmark outcomes.
// Where a figure is recalled from a paper's chart or is an engineering estimate, its comment says
// "approximate" or "unverified"; change it only with a better source, never to move a result.

import { INSTRUCTIONS, Op } from './isa.ts';

export interface CostProfile {
  /** key in PROFILES */
  readonly name: string;
  /** the processor being modelled */
  readonly description: string;
  /** core clock, reported by CPUID leaf 1 and used to convert cycles to time */
  readonly clockMHz: number;

  // Instruction classes (cycles per instruction).
  /** simple ALU, moves, compares, SETcc, RDCPL, SIDT, NOP */
  readonly alu: number;
  /** MUL, MULHU, MULI */
  readonly mul: number;
  /** DIV, DIVU, REM, REMU */
  readonly div: number;
  /** loads and POP (L1 hit; TLB misses are charged separately) */
  readonly load: number;
  /** stores and PUSH */
  readonly store: number;
  /** a conditional branch that falls through */
  readonly branch: number;
  /** a taken branch: JMP, JMPR, a taken Jcc (CALL adds a store, RET a load) */
  readonly branchTaken: number;
  readonly rdtsc: number;
  readonly cpuid: number;

  // Traps and interrupts (hardware cost of the transition only; handler code is charged as it runs).
  /** delivery of an exception or external interrupt through the IDT (and a root-mode intercept) */
  readonly trapEntry: number;
  /** delivery of INT n (the system-call entry) */
  readonly intEntry: number;
  readonly iret: number;

  // Memory management.
  /** one page-table reference during a TLB-miss walk (a walk is two levels) */
  readonly tlbWalkLevel: number;
  /**
   * TLB geometry: entries (sets x ways) and ways, both powers of two. Set = virtual page number
   * mod sets; a miss fills the set's next way in round robin (the replacement state changes on
   * fills only, so a hit is a compare per way). docs/engine.md, "The TLB".
   */
  readonly tlbEntries: number;
  readonly tlbWays: number;
  /** extra cost of a CR3 or CR0 write: serialization and the TLB flush (refills are charged as walks) */
  readonly cr3Write: number;
  /** MOVTOCR / MOVFROMCR base cost */
  readonly crMove: number;
  readonly invlpg: number;
  /** LIDT, LKSP */
  readonly descriptorLoad: number;

  // I/O and the sensitive instructions.
  /** one port access (IN/OUT and variants), a bus round trip the CPU waits for */
  readonly ioPort: number;
  readonly cliSti: number;
  readonly pushf: number;
  readonly popf: number;

  // Hypervisor transitions.
  /** HYPERCALL trapping into the hypervisor (a software trap gate, int 0x82 on Xen/x86-32) */
  readonly hypercallEntry: number;
  /** the hypervisor's return to the guest after a hypercall (an IRET) */
  readonly hypercallExit: number;
  /** non-root -> root transition (VM exit) */
  readonly vmExit: number;
  /** root -> non-root transition (VM entry) */
  readonly vmEntry: number;
  /** one second-stage (EPT) table reference during a walk (a guest walk needs up to 8 in all) */
  readonly eptWalkLevel: number;

  // Hypervisor software paths (charged by hypervisor/, not by the CPU).
  /**
   * A trap-and-emulate monitor's software work for one trap it handles, between the hardware
   * trap entry and the IRET back: save the guest's registers, find the cause (decode the faulting
   * instruction, walk the guest's page table), update the virtual CPU or shadow table or build the
   * guest's trap frame, restore. Also charged for a world switch between two vCPUs.
   */
  readonly monitorTrap: number;

  // Binary translation (hypervisor/bt; charged by hypervisor/, not by the CPU).
  /**
   * A callout from translated kernel code into the monitor for a privileged instruction (CLI,
   * IN, MOVCR, IRET, ...): a near call at the same privilege, register save, dispatch, the
   * virtual-CPU update, return. No hardware trap and no IRET (those are what BT saves).
   */
  readonly btCallout: number;
  /**
   * A translation-cache lookup: guest PC -> translated code, hashed, compared, jumped to
   * indirectly. Paid by indirect control flow (JMPR, CALLR, RET, IRET) and by every entry into
   * translated code that is not a chained direct jump.
   */
  readonly btLookup: number;
  /** Translating one guest instruction (decode, classify, emit), paid once per translation. */
  readonly btTranslate: number;
}

/**
 * Pentium 4 (NetBurst). Instruction latencies are Northwood's (2002-2003, 130 nm, the "p4-2003"
 * machine Xen 1.0 and VMware Workstation 4 ran on); VT-x did not exist before Prescott model 6x2
 * (2005), so the transition costs are Prescott's, the first VT-x part.
 */
const P4_2003: CostProfile = {
  name: 'p4-2003',
  description: 'Intel Pentium 4 (NetBurst: Northwood latencies; VT-x transition costs of Prescott 6x2)',
  // A 3.0 GHz Northwood (Pentium 4 3.0C, 2003).
  clockMHz: 3000,
  // Intel IA-32 Optimization Reference Manual (2004), App. C: simple integer ops have latency 0.5
  // on the double-pumped ALU; one cycle is the smallest unit we charge.
  alu: 1,
  // Intel Optimization Manual App. C / Agner Fog's instruction tables (Pentium 4): IMUL r32
  // latency 14 on Northwood (10 on Prescott).
  mul: 14,
  // Agner Fog's tables (Pentium 4): DIV/IDIV r32 latency 56-70 depending on operands; lower bound.
  div: 56,
  // Intel Optimization Manual: Northwood L1 data cache load-to-use latency 2 cycles.
  load: 2,
  store: 1,
  branch: 1,
  // approximate: a predicted taken branch costs a fetch bubble from the trace cache; mispredicts
  // (~20 cycles on Northwood per Intel) are not modelled.
  branchTaken: 2,
  // Agner Fog's tables (Pentium 4): RDTSC ~80 cycles. approximate
  rdtsc: 80,
  // approximate/unverified: CPUID is microcoded and serializing, a few hundred cycles on NetBurst.
  cpuid: 200,
  // Adams & Agesen, ASPLOS 2006, Fig. 4 nanobenchmarks (Pentium 4 672, 3.8 GHz): a native
  // "syscall" (software trap + return) is ~242 cycles. We split it as intEntry 140 + iret 100 and
  // use the same microcode path for exceptions. approximate (split is our estimate)
  trapEntry: 140,
  intEntry: 140,
  iret: 100,
  // approximate: page-table entries usually hit in L2 on a TLB miss; NetBurst L2 latency ~18
  // cycles (Intel Optimization Manual, Prescott 18+, Northwood lower). One L2 hit per level.
  tlbWalkLevel: 18,
  // the machine's default geometry (256 entries, 4-way), not yet this core's figures
  tlbEntries: 256,
  tlbWays: 4,
  // approximate/unverified: MOV CR3 serializes and flushes the non-global TLB; ~150 cycles before
  // refills on NetBurst (refills charged separately as walks).
  cr3Write: 150,
  // approximate/unverified: moves to/from control registers are serializing microcode.
  crMove: 20,
  // approximate/unverified
  invlpg: 100,
  // approximate/unverified: LIDT and TR-style loads are serializing.
  descriptorLoad: 50,
  // approximate: a legacy port access is a bus round trip of about 1 us (Linux's io_delay uses a
  // write to port 0x80 as a ~1 us delay; Adams & Agesen's "in" nanobenchmark is likewise in the
  // thousands of cycles) = 3,000 cycles at 3.0 GHz.
  ioPort: 3000,
  // approximate/unverified (Agner Fog's Pentium 4 table lists CLI/STI as multi-uop microcode).
  cliSti: 20,
  // approximate/unverified: PUSHF is a few uops; POPF is long microcode on NetBurst.
  pushf: 10,
  popf: 50,
  // Barham et al., SOSP 2003: a hypercall is a software trap (int 0x82) into Xen at ring 0, and
  // the return an IRET: same costs as intEntry / iret above. approximate
  hypercallEntry: 140,
  hypercallExit: 100,
  // Agesen et al., USENIX ATC 2012, Fig. 1 (and REFERENCE.md): a VMX round trip (exit + entry)
  // was ~2,400 cycles on Prescott. The split between exit and entry is our estimate. unverified
  vmExit: 1300,
  vmEntry: 1100,
  // Prescott had no EPT (it arrived with Nehalem, 2008): a hypothetical second stage charged
  // like a first-stage walk reference.
  eptWalkLevel: 18,
  // approximate/unverified, an engineering estimate (hypervisor/trap): a few hundred instructions
  // of monitor code per trap (register save/restore, decode, dispatch, virtual-CPU update), about
  // 400 cycles at NetBurst's IPC. Adams & Agesen (ASPLOS 2006) show monitor paths costing several
  // times the bare trap; this is a deliberately low figure for a minimal monitor.
  monitorTrap: 400,
  // approximate/unverified, an engineering estimate: a callout is a call into monitor code in the
  // same address space (save a few registers, dispatch, update the virtual CPU, return), about a
  // quarter of monitorTrap's path and no trap entry or IRET. Adams & Agesen (ASPLOS 2006) give
  // callouts as BT's remedy for the trap cost; they publish no per-callout figure.
  btCallout: 100,
  // approximate/unverified: a hash-table probe and an indirect jump, about a dozen instructions
  // plus an indirect-branch mispredict (~20 cycles on NetBurst, Intel Optimization Manual).
  // Adams & Agesen name indirect control flow's lookup as BT's main overhead (no figure given).
  btLookup: 30,
  // approximate/unverified: a translator spends some hundreds of host instructions per guest
  // instruction (decode, classify, emit code); charged once per translated instruction.
  btTranslate: 300,
};

/** A current core: AMD Zen 2 (2019-2020), the class of machine behind the LKML KVM figure. */
const MODERN: CostProfile = {
  name: 'modern',
  description: 'AMD Zen 2 class core (2019-2020)',
  // e.g. Ryzen 7 3700X / EPYC 7002 base clocks are 3.0-3.6 GHz.
  clockMHz: 3600,
  alu: 1,
  // Agner Fog's instruction tables (Zen 2): IMUL r32 latency 3.
  mul: 3,
  // Agner Fog's tables (Zen 2): DIV r32 latency ~14-30 depending on operands. approximate
  div: 20,
  // AMD Software Optimization Guide for Family 17h: L1D load-to-use 4 cycles (integer).
  load: 4,
  store: 1,
  branch: 1,
  // approximate: a predicted taken branch costs about a cycle of fetch redirect.
  branchTaken: 1,
  // Agner Fog's tables (Zen 2): RDTSC ~37 cycles. approximate
  rdtsc: 37,
  // approximate/unverified
  cpuid: 150,
  // approximate/unverified: software-interrupt / exception delivery and IRET on current cores
  // (each on the order of 50-100 cycles, before mitigations).
  trapEntry: 80,
  intEntry: 80,
  iret: 50,
  // approximate: page-walk caches and L1/L2 hits keep a walk level to a few cycles.
  tlbWalkLevel: 8,
  // the machine's default geometry (256 entries, 4-way), not yet this core's figures
  tlbEntries: 256,
  tlbWays: 4,
  // approximate/unverified: MOV CR3 without PCID, before refills.
  cr3Write: 150,
  crMove: 10,
  // approximate/unverified
  invlpg: 150,
  descriptorLoad: 40,
  // approximate: legacy port I/O is still ~1 us on current platforms (LPC/eSPI) = 3,600 cycles.
  ioPort: 3600,
  // approximate/unverified (Agner Fog's Zen 2 table: CLI/STI a few cycles, POPF microcoded)
  cliSti: 4,
  pushf: 2,
  popf: 15,
  // a PV hypercall as a software trap + IRET on this core (same as intEntry / iret). approximate
  hypercallEntry: 80,
  hypercallExit: 50,
  // LKML, Dec 2020 (REFERENCE.md): a KVM_RUN round trip with one exit on an AMD part was 2,528
  // cycles, of which ~1,376 the hardware world switch (VMRUN + #VMEXIT) plus guest work. We
  // charge that 1,376 as the transition pair; the split is our estimate. approximate
  vmExit: 700,
  vmEntry: 676,
  // nested paging walks hit the same caches as native walks. approximate
  eptWalkLevel: 8,
  // approximate/unverified, an engineering estimate: the same few hundred instructions of monitor
  // code as p4-2003 at roughly twice the IPC.
  monitorTrap: 200,
  // approximate/unverified: p4-2003's estimates at roughly twice the IPC (a mispredicted
  // indirect branch on Zen 2 is ~15-20 cycles, so the lookup falls less).
  btCallout: 50,
  btLookup: 20,
  btTranslate: 150,
};

/** Every profile by name. */
export const PROFILES: Readonly<Record<string, CostProfile>> = {
  [P4_2003.name]: P4_2003,
  [MODERN.name]: MODERN,
};

/** The default profile of a bare machine. */
export const DEFAULT_PROFILE = 'p4-2003';

/** The profile called `name`; throws an error listing the known names. */
export function getProfile(name: string): CostProfile {
  const p = Object.prototype.hasOwnProperty.call(PROFILES, name) ? PROFILES[name] : undefined;
  if (!p) throw new Error(`unknown CPU cost profile '${name}' (known: ${Object.keys(PROFILES).join(', ')})`);
  return p;
}

/**
 * Per-opcode base cost, charged when an instruction retires (cycles += table[op]). Extra costs
 * that depend on what the instruction does are charged where it happens: a taken Jcc adds
 * branchTaken - branch; trap delivery (trapEntry / intEntry), TLB-miss walks, CR3/CR0 writes,
 * hypercalls and VM transitions are charged by the CPU as they occur. Undefined opcodes cost 0:
 * they fault, and the fault's delivery is charged.
 */
export function opcodeCosts(p: CostProfile): Uint16Array {
  const t = new Uint16Array(256);
  for (const info of INSTRUCTIONS) t[info.op] = classCost(p, info.op);
  return t;
}

function classCost(p: CostProfile, op: Op): number {
  switch (op) {
    case Op.MUL:
    case Op.MULHU:
    case Op.MULI:
      return p.mul;
    case Op.DIV:
    case Op.DIVU:
    case Op.REM:
    case Op.REMU:
      return p.div;
    case Op.LDW:
    case Op.LDH:
    case Op.LDHU:
    case Op.LDB:
    case Op.LDBU:
    case Op.POP:
      return p.load;
    case Op.STW:
    case Op.STH:
    case Op.STB:
    case Op.PUSH:
      return p.store;
    case Op.JCC:
      return p.branch;
    case Op.JMP:
    case Op.JMPR:
      return p.branchTaken;
    case Op.CALL:
    case Op.CALLR:
      return p.branchTaken + p.store;
    case Op.RET:
      return p.branchTaken + p.load;
    case Op.RDTSC:
      return p.rdtsc;
    case Op.CPUID:
      return p.cpuid;
    case Op.CLI:
    case Op.STI:
      return p.cliSti;
    case Op.IN:
    case Op.INB:
    case Op.OUT:
    case Op.OUTB:
    case Op.INR:
    case Op.OUTR:
      return p.ioPort;
    case Op.MOVTOCR:
    case Op.MOVFROMCR:
      return p.crMove;
    case Op.LIDT:
    case Op.LKSP:
      return p.descriptorLoad;
    case Op.INVLPG:
      return p.invlpg;
    case Op.IRET:
      return p.iret;
    case Op.PUSHF:
      return p.pushf;
    case Op.POPF:
      return p.popf;
    default:
      // NOP, MOV, LI, ALU and immediate forms, compares, SETcc, INT/BRK (delivery charged
      // separately), HLT, RDCPL, SIDT, HYPERCALL (entry charged when it traps)
      return p.alu;
  }
}

/** Convert cycles to seconds at the profile's clock. */
export function cyclesToSeconds(p: CostProfile, cycles: number): number {
  return cycles / (p.clockMHz * 1e6);
}
