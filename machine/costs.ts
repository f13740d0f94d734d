// Named CPU cost profiles: how many simulated cycles each XL32 event costs (instruction classes,
// trap entry, TLB-miss walks, port I/O, VM exits, ...), each figure with its source, plus the
// per-opcode cost table the interpreter charges from. Pure data; imports only machine/isa.ts.
//
// Figures are grounded in published hardware data and are never fitted to benchmark outcomes.
// Where a figure is recalled from a paper's chart or is an engineering estimate, its comment says
// "approximate", "unverified" or "estimate" and why; change it only with a better source, never to
// move a result.
//
// Sources named below:
//  - [AA06] K. Adams, O. Agesen, "A Comparison of Software and Hardware Techniques for x86
//    Virtualization", ASPLOS 2006: Table 1 and its text (Pentium 4 672, Prescott, 3.8 GHz, first-
//    generation VT-x): VM entry ~2,409 cycles, page-fault VM exit ~1,931, VMREAD ~178 with about
//    ten per exit, CLI ~60, OUT to port 0x80 ~3,209 natively; BT: translating one instruction
//    ~2,300 cycles, a translation-cache lookup adds ~40, a callout ~1,040.
//  - [AGE12] O. Agesen et al., "Software Techniques for Avoiding Hardware Virtualization Exits",
//    USENIX ATC 2012, Fig. 1: VMX transition costs per CPU generation (Core 2 Merom: entry ~937,
//    exit ~1,186).
//  - [LNX02] the getppid() measurement posted with Linux 2.5's sysenter support (December 2002):
//    on a Pentium 4, ~1,761 cycles by int 0x80/iret and ~641 by sysenter/sysexit.
//  - [BAR03] P. Barham et al., "Xen and the Art of Virtualization", SOSP 2003 (hypercall = int 0x82).
//  - [INTEL] Intel IA-32 Optimization Reference Manual (2004-2007), App. C; [FOG] Agner Fog's
//    instruction tables.

/** VMREADs a monitor issues per VM exit ([AA06]: "about ten"). */
export const VMCS_READS_PER_EXIT = 10;

import { INSTRUCTIONS, type CostClass } from './isa.ts';
import { assertNever } from './never.ts';

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
  /**
   * PAUSE, the spin-wait hint: a fixed delay (the SDM: "finite and can be zero for some
   * processors"); under pause-loop exiting, what the loop's PAUSEs add to its length
   */
  readonly pause: number;

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
  /**
   * The CPU has a second translation stage (EPT/NPT). Without it hardware assist runs the guest on
   * shadow page tables (hvm's `--mmu shadow`, its default for such a profile); `--mmu ept` is refused.
   */
  readonly ept: boolean;
  /**
   * The CPU tags TLB entries with the guest they belong to (VT-x's VPID, AMD's ASID): VM entries
   * and exits keep the guest's translations instead of flushing the TLB (Vmcs.vpid).
   */
  readonly vpid: boolean;
  /**
   * One VMREAD of the exit information (reason, qualification, guest registers) in the monitor's
   * exit handler; hvm charges VMCS_READS_PER_EXIT of them per VM exit on top of monitorTrap.
   */
  readonly vmcsRead: number;

  // Hypervisor software paths (charged by hypervisor/, not by the CPU).
  /**
   * A trap-and-emulate monitor's software work for one trap it handles, between the hardware
   * trap entry and the IRET back: save the guest's registers, find the cause (decode the faulting
   * instruction, walk the guest's page table), update the virtual CPU or shadow table or build the
   * guest's trap frame, restore. Also charged for a world switch between two vCPUs.
   */
  readonly monitorTrap: number;
  /**
   * The device model's work for one emulated port access (an I/O exit of trap, bt or hvm): find
   * the port's device, run its register handler, hand the result back. Charged instead of
   * ioPort: an emulated access never crosses the physical bus.
   */
  readonly deviceModel: number;
  /**
   * A hosted monitor's world switch to the host OS and back, per I/O exit (VMware Workstation's
   * architecture: the device model runs in a host process): charged only when the hypervisor is
   * hosted (HypervisorOptions.hosted).
   */
  readonly hostedWorldSwitch: number;

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
 * (2005), so the transition costs are Prescott's, the first VT-x part - which had no second
 * translation stage (EPT arrived with Nehalem, 2008): hvm runs on shadow page tables here.
 */
const P4_2003: CostProfile = {
  name: 'p4-2003',
  description: 'Intel Pentium 4 (NetBurst: Northwood latencies; VT-x transition costs of Prescott 6x2, no EPT)',
  // A 3.0 GHz Northwood: the Pentium 4 3.0C (2003) at its rated clock (Intel's product specification).
  clockMHz: 3000,
  // [INTEL] App. C: simple integer ops have latency 0.5 on the double-pumped ALU; one cycle is
  // the smallest unit we charge.
  alu: 1,
  // [INTEL] App. C / [FOG] (Pentium 4): IMUL r32 latency 14 on Northwood (10 on Prescott).
  mul: 14,
  // [FOG] (Pentium 4): DIV/IDIV r32 latency 56-70 depending on operands; lower bound.
  div: 56,
  // [INTEL]: Northwood L1 data cache load-to-use latency 2 cycles.
  load: 2,
  store: 1,
  branch: 1,
  // approximate: a predicted taken branch costs a fetch bubble from the trace cache; mispredicts
  // (~20 cycles on Northwood per Intel) are not modelled.
  branchTaken: 2,
  // [FOG] (Pentium 4): RDTSC ~80 cycles. approximate
  rdtsc: 80,
  // approximate/unverified: CPUID is microcoded and serializing, a few hundred cycles on NetBurst.
  cpuid: 200,
  // approximate: Intel's optimization manual (its Skylake section) puts PAUSE at about 10 cycles on
  // the generations before Skylake (140 on Skylake); this core's own delay is not published.
  pause: 10,
  // [LNX02]: getppid by int 0x80 ~1,761 cycles, by sysenter ~641 on a Pentium 4; the kernel work
  // is the same, so INT + IRET cost ~1,120 cycles more than SYSENTER + SYSEXIT. estimate: with
  // SYSENTER + SYSEXIT at ~150 (fast paths without gate or stack checks), INT + IRET ~1,270, split
  // 700 entry (gate lookup, privilege checks, stack switch, frame push) + 570 IRET (frame pop,
  // checks). Exceptions and external interrupts use the same delivery microcode as INT n.
  trapEntry: 700,
  intEntry: 700,
  iret: 570,
  // approximate: page-table entries usually hit in L2 on a TLB miss; NetBurst L2 latency ~18
  // cycles ([INTEL], Prescott 18+, Northwood lower). One L2 hit per level.
  tlbWalkLevel: 18,
  // approximate/unverified: the machine's default geometry (256 entries, 4-way), not yet this core's figures
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
  // write to port 0x80 as a ~1 us delay; [AA06] measured an OUT to port 0x80 at ~3,209 cycles on a
  // 3.8 GHz Prescott) = 3,000 cycles at 3.0 GHz.
  ioPort: 3000,
  // [AA06] (text): CLI ~60 cycles on a NetBurst core.
  cliSti: 60,
  // approximate/unverified: PUSHF is a few uops; POPF is long microcode on NetBurst.
  pushf: 10,
  popf: 50,
  // [BAR03]: a hypercall is a software trap (int 0x82) into Xen at ring 0, and the return an
  // IRET: the same microcode as intEntry / iret above (the same estimate).
  hypercallEntry: 700,
  hypercallExit: 570,
  // [AA06] Table 1 (Prescott 672): VM exit (page fault) ~1,931, VM entry ~2,409 cycles.
  vmExit: 1931,
  vmEntry: 2409,
  // no EPT on this CPU (ept: false); the figure is unused, kept equal to a first-stage reference
  eptWalkLevel: 18,
  ept: false,
  // no VPID before Nehalem (2008, with EPT; Intel SDM vol. 3, "Virtual-processor identifiers"):
  // first-generation VT-x flushes the TLB at every VM entry and exit.
  vpid: false,
  // [AA06]: a VMREAD ~178 cycles (Prescott).
  vmcsRead: 178,
  // estimate: no published figure for a trap-and-emulate monitor's software path. It does what a
  // BT callout does (register save, decode, dispatch, virtual-CPU or shadow update, restore) and
  // [AA06] measured a callout at ~1,040 cycles on NetBurst: the same figure. The hardware trap
  // entry and the IRET back are charged separately.
  monitorTrap: 1040,
  // estimate: no published figure for one emulated register access in a device model; a port
  // lookup and a register handler of a few dozen instructions: a quarter of the monitor path, as
  // pv's hypercall dispatch.
  deviceModel: 260,
  // estimate: a world switch saves and restores the whole processor state and changes address
  // space both ways: two monitor paths and two CR3 loads.
  hostedWorldSwitch: 2380,
  // [AA06]: a callout ~1,040 cycles.
  btCallout: 1040,
  // [AA06]: a translation-cache lookup adds ~40 cycles to an indirect control transfer.
  btLookup: 40,
  // [AA06]: translating one guest instruction ~2,300 cycles.
  btTranslate: 2300,
};

/**
 * Pentium 4 672 (Prescott 2M, 90 nm, 3.8 GHz, 2005-2006): the machine of [AA06]'s measurements,
 * first-generation VT-x without EPT.
 */
const P4_2006_VTX: CostProfile = {
  name: 'p4-2006-vtx',
  description: 'Intel Pentium 4 672 (Prescott, 3.8 GHz), first-generation VT-x, no EPT',
  // [AA06]: the Pentium 4 672 runs at 3.8 GHz.
  clockMHz: 3800,
  alu: 1,
  // [FOG] (Pentium 4 Prescott): IMUL r32 latency 10.
  mul: 10,
  // [FOG] (Pentium 4): DIV r32 latency 56-70; lower bound. approximate
  div: 56,
  // [INTEL]: Prescott L1 data cache load-to-use latency 4 cycles.
  load: 4,
  store: 1,
  branch: 1,
  // approximate: as p4-2003 (trace-cache fetch bubble).
  branchTaken: 2,
  // [FOG] (Pentium 4): RDTSC ~80 cycles. approximate
  rdtsc: 80,
  // approximate/unverified: microcoded and serializing.
  cpuid: 200,
  // approximate: Intel's optimization manual (its Skylake section) puts PAUSE at about 10 cycles on
  // the generations before Skylake (140 on Skylake); this core's own delay is not published.
  pause: 10,
  // the p4-2003 estimate from [LNX02] (same NetBurst delivery microcode).
  trapEntry: 700,
  intEntry: 700,
  iret: 570,
  // approximate: one L2 hit per walk level; Prescott's L2 latency is longer than Northwood's
  // ([INTEL]: "18 or more"); the lower bound.
  tlbWalkLevel: 18,
  // approximate/unverified: the machine's default geometry (256 entries, 4-way), as p4-2003's
  tlbEntries: 256,
  tlbWays: 4,
  // approximate/unverified, as p4-2003.
  cr3Write: 150,
  crMove: 20,
  invlpg: 100,
  descriptorLoad: 50,
  // [AA06]: an OUT to port 0x80 ~3,209 cycles natively.
  ioPort: 3209,
  // [AA06]: CLI ~60 cycles.
  cliSti: 60,
  // approximate/unverified, as p4-2003.
  pushf: 10,
  popf: 50,
  // as intEntry / iret ([BAR03]: int 0x82 and IRET).
  hypercallEntry: 700,
  hypercallExit: 570,
  // [AA06] Table 1: VM exit (page fault) ~1,931, VM entry ~2,409 cycles.
  vmExit: 1931,
  vmEntry: 2409,
  // no EPT (ept: false); unused.
  eptWalkLevel: 18,
  ept: false,
  // no VPID (Nehalem, 2008, as p4-2003)
  vpid: false,
  // [AA06]: VMREAD ~178 cycles.
  vmcsRead: 178,
  // the p4-2003 estimate (a callout's path, [AA06]).
  monitorTrap: 1040,
  // the p4-2003 estimates (a quarter of the monitor path; two monitor paths and two CR3 loads).
  deviceModel: 260,
  hostedWorldSwitch: 2380,
  // [AA06]: callout ~1,040; lookup ~40; translation ~2,300 per instruction.
  btCallout: 1040,
  btLookup: 40,
  btTranslate: 2300,
};

/**
 * Core 2 Duo (Merom, 65 nm, 2006): VT-x with much cheaper transitions, still no EPT.
 */
const CORE2_2006_VTX: CostProfile = {
  name: 'core2-2006-vtx',
  description: 'Intel Core 2 Duo (Merom, 2.33 GHz), VT-x, no EPT',
  // the Core 2 Duo T7600 (2006) at its rated 2.33 GHz (Intel's product specification).
  clockMHz: 2333,
  alu: 1,
  // [FOG] (Core 2 / Merom): IMUL r32 latency 3.
  mul: 3,
  // [FOG] (Merom): DIV r32 latency 17-41 depending on operands. approximate (middle)
  div: 22,
  // [INTEL] (Core microarchitecture): L1 data cache load-to-use latency 3 cycles.
  load: 3,
  store: 1,
  branch: 1,
  // approximate: a predicted taken branch costs about a cycle of fetch redirect.
  branchTaken: 1,
  // [FOG] (Merom): RDTSC ~64 cycles. approximate
  rdtsc: 64,
  // approximate/unverified
  cpuid: 200,
  // approximate: Intel's optimization manual (its Skylake section) puts PAUSE at about 10 cycles on
  // the generations before Skylake (140 on Skylake); this core's own delay is not published.
  pause: 10,
  // estimate: no published figure for INT n / IRET on Merom; Core's gate delivery and IRET are
  // microcoded as NetBurst's but at roughly twice the IPC: about half the p4-2003 estimate.
  trapEntry: 350,
  intEntry: 350,
  iret: 280,
  // [INTEL] (Core microarchitecture): L2 latency ~14 cycles; one L2 hit per level. approximate
  tlbWalkLevel: 14,
  // Core 2's DTLB1 for 4 KiB pages is 256 entries, 4-way (Intel's optimization reference manual,
  // the Intel Core microarchitecture's cache and TLB table): the machine's geometry.
  tlbEntries: 256,
  tlbWays: 4,
  // approximate/unverified
  cr3Write: 120,
  crMove: 20,
  invlpg: 100,
  descriptorLoad: 40,
  // approximate: a legacy port access is ~1 us (as p4-2003) = 2,333 cycles at 2.33 GHz.
  ioPort: 2333,
  // approximate/unverified ([FOG] lists CLI/STI as a few microcoded uops on Merom)
  cliSti: 20,
  pushf: 5,
  popf: 20,
  // as intEntry / iret (a PV hypercall is int 0x82 and IRET).
  hypercallEntry: 350,
  hypercallExit: 280,
  // [AGE12] Fig. 1 (Merom): VM entry ~937, VM exit ~1,186 cycles.
  vmExit: 1186,
  vmEntry: 937,
  // no EPT on Merom (it arrived with Nehalem, 2008); unused.
  eptWalkLevel: 14,
  ept: false,
  // no VPID on Merom (it arrived with Nehalem, 2008, as p4-2003)
  vpid: false,
  // estimate: no published VMREAD figure for Merom; transitions fell to ~45% of Prescott's
  // ([AA06] vs [AGE12]) and we scale VMREAD alike: ~80.
  vmcsRead: 80,
  // estimate: the p4-2003 monitor and BT figures ([AA06], NetBurst) at roughly twice the IPC.
  monitorTrap: 520,
  deviceModel: 130,
  hostedWorldSwitch: 1280,
  btCallout: 520,
  btLookup: 20,
  btTranslate: 1150,
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
  // approximate/unverified: no AMD figure checked; Intel's pre-Skylake ~10 cycles (its optimization
  // manual's Skylake section, which gives 140 for Skylake itself) taken as the estimate.
  pause: 10,
  // approximate/unverified: software-interrupt / exception delivery and IRET on current cores
  // (each on the order of 50-100 cycles, before mitigations).
  trapEntry: 80,
  intEntry: 80,
  iret: 50,
  // approximate: page-walk caches and L1/L2 hits keep a walk level to a few cycles.
  tlbWalkLevel: 8,
  // approximate/unverified: the machine's default geometry (256 entries, 4-way), not yet this core's figures
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
  // AMD's NPT (nested paging, since Barcelona 2007).
  ept: true,
  // AMD's SVM tags TLB entries with an address-space ID (ASID) from its first parts (AMD64
  // Architecture Programmer's Manual vol. 2, the SVM chapter's TLB control).
  vpid: true,
  // estimate: VMCB fields are ordinary memory on AMD (no VMREAD instruction): an L1 hit or two.
  vmcsRead: 4,
  // approximate/unverified, an engineering estimate: the same few hundred instructions of monitor
  // code as p4-2003 at roughly twice the IPC.
  monitorTrap: 200,
  // estimate, as p4-2003's: a quarter of the monitor path; two monitor paths and two CR3 loads.
  deviceModel: 50,
  hostedWorldSwitch: 700,
  // approximate/unverified: p4-2003's estimates at roughly twice the IPC (a mispredicted
  // indirect branch on Zen 2 is ~15-20 cycles, so the lookup falls less).
  btCallout: 50,
  btLookup: 20,
  btTranslate: 150,
};

/** Every profile by name. */
export const PROFILES: Readonly<Record<string, CostProfile>> = {
  [P4_2003.name]: P4_2003,
  [P4_2006_VTX.name]: P4_2006_VTX,
  [CORE2_2006_VTX.name]: CORE2_2006_VTX,
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
  for (const info of INSTRUCTIONS) t[info.op] = classCost(p, info.cost);
  return t;
}

function classCost(p: CostProfile, c: CostClass): number {
  switch (c) {
    case 'alu':
      return p.alu;
    case 'mul':
      return p.mul;
    case 'div':
      return p.div;
    case 'load':
      return p.load;
    case 'store':
      return p.store;
    case 'branch':
      return p.branch;
    case 'branchTaken':
      return p.branchTaken;
    case 'call':
      return p.branchTaken + p.store;
    case 'ret':
      return p.branchTaken + p.load;
    case 'rdtsc':
      return p.rdtsc;
    case 'cpuid':
      return p.cpuid;
    case 'pause':
      return p.pause;
    case 'cliSti':
      return p.cliSti;
    case 'ioPort':
      return p.ioPort;
    case 'crMove':
      return p.crMove;
    case 'descriptorLoad':
      return p.descriptorLoad;
    case 'invlpg':
      return p.invlpg;
    case 'iret':
      return p.iret;
    case 'pushf':
      return p.pushf;
    case 'popf':
      return p.popf;
    default:
      return assertNever(c);
  }
}

/** Convert cycles to seconds at the profile's clock. */
export function cyclesToSeconds(p: CostProfile, cycles: number): number {
  return cycles / (p.clockMHz * 1e6);
}
