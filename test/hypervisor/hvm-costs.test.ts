// What hardware assist costs, by the kernel's own nanobenchmarks (Adams & Agesen's method): the
// native kernel's `nanobench` on the bare machine and under hvm - on shadow page tables on the
// first-generation VT-x profile (p4-2006-vtx, no EPT) and with a second stage on the modern one.
// Pinned: the mechanism, not which mode wins - a primitive that causes no exit and no TLB miss
// costs exactly what it costs natively; one that exits pays at least the VM exit, the monitor's
// path (its software work and its VMREADs) and the VM entry, plus what the monitor does for it.
import { beforeAll, describe, expect, it } from 'vitest';
import { bootNative } from '../../hypervisor/boot/native.ts';
import { hvmDomain, runHvmMode } from '../../hypervisor/hvm/index.ts';
import { VMCS_READS_PER_EXIT, getProfile, type CostProfile } from '../../machine/costs.ts';
import { Machine } from '../../machine/machine.ts';
import { buildGuestKernel, type GuestKernelBuild } from '../../toolchain/guest-kernel.ts';

type Figures = Record<string, number>;
const CASES = [
  { profile: 'p4-2006-vtx', mmu: 'shadow' },
  { profile: 'modern', mmu: 'ept' },
] as const;

let build: GuestKernelBuild;
const figures: Record<string, { native: Figures; hvm: Figures }> = {};

/** "nanobench NAME: C cycles/op" lines as { NAME: C }. */
function parse(text: string): Figures {
  return Object.fromEntries([...text.matchAll(/^nanobench ([a-z0-9-]+): (\d+) cycles\/op/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** One exit's round trip: the hardware's exit and entry and the monitor's path. */
function roundTrip(p: CostProfile): number {
  return p.vmExit + p.monitorTrap + VMCS_READS_PER_EXIT * p.vmcsRead + p.vmEntry;
}

beforeAll(() => {
  build = buildGuestKernel({ arch: 'native' });
  const boot = { kernel: build.kernel, initrd: build.initrd, cmdline: 'nanobench' };
  for (const { profile, mmu } of CASES) {
    const m = new Machine({ profile });
    bootNative(m, boot);
    m.run({ maxCycles: 4_000_000_000 });
    const hvm = runHvmMode(boot, { profile, maxCycles: 4_000_000_000 });
    expect(hvmDomain(hvm.domain).ept !== null).toBe(mmu === 'ept');
    figures[profile] = { native: parse(m.consoleOutput()), hvm: parse(hvm.output) };
  }
});

describe('nanobench under hvm mode against the bare machine', () => {
  it('the profile decides the MMU: shadow paging without EPT, a second stage with it', () => {
    expect([getProfile('p4-2006-vtx').ept, getProfile('modern').ept]).toEqual([false, true]);
  });

  it('primitives that neither exit nor miss the TLB cost exactly what they cost on bare hardware', () => {
    for (const { profile } of CASES) {
      const { native, hvm } = figures[profile]!;
      // CR4 owns no bit under shadow paging: its write never exits. (A divide fault's delivery
      // touches the IDT, the stack and the handler's pages: whether they are still in the TLB
      // depends on where the timer's exits land - flushing without VPID, walking a second stage
      // with EPT - so it is not compared exactly.)
      for (const op of ['irq-save-restore', 'cr4-write']) expect([profile, op, hvm[op]]).toEqual([profile, op, native[op]]);
    }
  });

  it('a port read pays at least one exit round trip and the device model, in place of the bus access', () => {
    for (const { profile } of CASES) {
      const p = getProfile(profile);
      const { native, hvm } = figures[profile]!;
      expect(hvm['port-read']! - (native['port-read']! - p.ioPort + p.alu)).toBeGreaterThanOrEqual(roundTrip(p) + p.deviceModel);
    }
  });

  it('on shadow page tables, a CR3 load and an INVLPG each exit; the monitor drops the shadow (and reloads CR3) or one entry', () => {
    const p = getProfile('p4-2006-vtx');
    const { native, hvm } = figures['p4-2006-vtx']!;
    expect(hvm['address-space-switch']! - native['address-space-switch']!).toBeGreaterThanOrEqual(roundTrip(p));
    expect(hvm['pte-update']! - native['pte-update']!).toBeGreaterThanOrEqual(roundTrip(p) + p.invlpg);
  });
});
