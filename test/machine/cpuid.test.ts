// CPUID is answered in one place (machine/cpuid.ts): the named feature bits of leaf 1 are pinned
// to the bit positions the docs state (docs/hypervisor.md: leaf 1, r1 bits 1 and 2 are hidden from
// hvm guests), and each leaf's answer is exact.
import { describe, expect, it } from 'vitest';
import { CPUID_FEATURES_MACHINE, CpuidFeature, answerCpuid } from '../../machine/cpuid.ts';
import { CPUID_VENDOR } from '../../machine/isa.ts';

function ask(leaf: number, features = CPUID_FEATURES_MACHINE): number[] {
  const r = new Int32Array(4);
  r[0] = leaf;
  answerCpuid(r, 3000, features, 256);
  return [...r];
}

describe('CPUID', () => {
  it('names leaf 1 feature bits 0, 1 and 2; the machine has all three', () => {
    expect([CpuidFeature.Paging, CpuidFeature.NonRoot, CpuidFeature.SecondStage]).toEqual([1, 2, 4]);
    expect(CPUID_FEATURES_MACHINE).toBe(7);
  });

  it('answers leaf 0 with the highest leaf and the vendor, leaf 1 with clock, features and TLB entries, others with zeros', () => {
    expect(ask(0)).toEqual([1, CPUID_VENDOR, CPUID_VENDOR, CPUID_VENDOR]);
    expect(ask(1)).toEqual([3000, 7, 256, 0]);
    expect(ask(1, CpuidFeature.Paging)).toEqual([3000, 1, 256, 0]);
    expect(ask(2)).toEqual([0, 0, 0, 0]);
  });
});
