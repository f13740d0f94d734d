// CPUID, answered in one place: the leaves the XL32 machine reports and the named feature bits
// of leaf 1. The CPU answers its own CPUID with the machine's features (machine/cpu.ts); hvm mode
// answers its guests' CPUID exits with the same leaves and a masked feature word
// (hypervisor/hvm/mode.ts). Imports only the ISA's vendor word.

import { CPUID_VENDOR } from './isa.ts';

/** CPUID leaf 1, r1: what the processor has. */
export const enum CpuidFeature {
  /** paging (CR0.PG, two-level tables, the TLB) */
  Paging = 1 << 0,
  /** non-root mode: VM entry and exits (VT-x's VMX) */
  NonRoot = 1 << 1,
  /** second-stage translation (EPT) */
  SecondStage = 1 << 2,
}

/** The machine's leaf-1 feature word: every XL32 has paging, non-root mode and a second stage. */
export const CPUID_FEATURES_MACHINE: number = CpuidFeature.Paging | CpuidFeature.NonRoot | CpuidFeature.SecondStage;

/**
 * Answer CPUID for the leaf in r0, into r0..r3. Leaf 0: the highest leaf (1) and the vendor
 * "XL32XL32XL32" in r1..r3; leaf 1: r0 the clock in MHz, r1 the feature word, r2 the TLB entries,
 * r3 reserved; any other leaf: zeros.
 */
export function answerCpuid(r: Int32Array, clockMHz: number, features: number, tlbEntries: number): void {
  const leaf = r[0]!;
  if (leaf === 0) {
    r[0] = 1;
    r[1] = r[2] = r[3] = CPUID_VENDOR;
  } else if (leaf === 1) {
    r[0] = clockMHz;
    r[1] = features;
    r[2] = tlbEntries;
    r[3] = 0;
  } else {
    r[0] = r[1] = r[2] = r[3] = 0;
  }
}
