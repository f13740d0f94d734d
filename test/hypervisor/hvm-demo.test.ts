// The bare-metal demo (examples/bare-metal/demo.s), unmodified, under hardware assist: the same
// console as on bare XL32, the same power-off status, deterministic cycles, and counters showing
// that only its I/O reached the monitor - its LIDT, LKSP, CR writes, IRET to ring 3, system calls
// and page faults all ran in non-root mode without an exit.
// (The tests shared with trap-demo are in fixtures/demo.ts.)
import { describe, expect, it } from 'vitest';
import { formatHvmStats, hvmExitCounts, runHvmMode } from '../../hypervisor/hvm/index.ts';
import type { DomainStats } from '../../hypervisor/core/stats.ts';
import { Exit } from '../../machine/types.ts';
import { DEMO, demoModeTests } from './fixtures/demo.ts';

const run = () => runHvmMode(DEMO, { maxCycles: 100_000_000, hvm: { mmu: 'ept' } });

describe('the bare-metal demo under hvm mode', () => {
  demoModeTests('hvm', runHvmMode);

  it('with a second stage, exits only for I/O and to inject its ticks: no trap, shadow fault or emulated instruction', () => {
    const s = run().domain.stats;
    expect(total(s.traps)).toBe(0);
    expect([s.hiddenFaults, s.trueFaults, s.shadowFlushes]).toEqual([0, 0, 0]);
    expect(total(s.emulated)).toBe(0);
    expect([s.cpuExits[Exit.CrAccess], s.cpuExits[Exit.Exception], s.cpuExits[Exit.Invlpg], s.cpuExits[Exit.EptViolation]]).toEqual([0, 0, 0, 0]);
    // every I/O instruction is one exit, handed to the device model
    expect(s.cpuExits[Exit.Io]).toBe(s.ioExits);
    expect(s.loopExits.io).toBe(s.ioExits);
    expectDemoIo(s);
  });

  it('on shadow page tables (the default of p4-2003, which has no EPT), CR3 loads, CR0 writes and page faults exit too', () => {
    const r = runHvmMode(DEMO, { maxCycles: 100_000_000 });
    const s = r.domain.stats;
    expect(r.output).toBe(run().output);
    expect(total(s.traps)).toBe(0);
    expect(total(s.emulated)).toBe(0);
    expect(s.cpuExits[Exit.EptViolation]).toBe(0);
    // every #PF exit is a hidden fault filled from the guest's tables or a true one injected
    expect(s.cpuExits[Exit.Exception]).toBe(s.hiddenFaults + s.trueFaults);
    expect(s.hiddenFaults).toBeGreaterThan(0);
    expect(s.trueFaults).toBe(s.reflected[14]);
    // each CR write drops the whole shadow (the demo turns paging on once: a CR3 load, a CR0 write)
    expect(s.cpuExits[Exit.CrAccess]).toBe(s.shadowFlushes);
    expect(s.cpuExits[Exit.Invlpg]).toBe(s.shadowInvlpgs);
    expectDemoIo(s);
  });

  it('--stats names its exits by reason: only I/O and the kicks that inject its ticks', () => {
    const d = run().domain;
    const { total, byReason } = hvmExitCounts(d);
    expect(byReason.io).toBe(d.stats.ioExits);
    expect(total).toBe(byReason.io! + byReason['external-interrupt']!);
    expect(formatHvmStats(d).split('\n')).toEqual([
      `vm exits: ${total} (io ${byReason.io}, external-interrupt ${byReason['external-interrupt']})`,
      `injected interrupts: ${d.stats.injectedInterrupts}`,
      `monitor cycles: ${d.stats.monitorCycles}`,
      'second stage: 8 tables + 1 directory',
    ]);
  });
});

/** The demo's device traffic, as any mode's device model sees it. */
function expectDemoIo(s: DomainStats): void {
  const ports = new Map(s.ioByPort().map((p) => [p.port, p]));
  for (const port of [0x21, 0x22, 0x40, 0x41, 0x501]) expect(ports.get(port)).toEqual({ port, reads: 0, writes: 1 });
  // every tick is injected through the VMCS into the guest's IDT, and acknowledged with one EOI
  expect(s.injectedInterrupts).toBe(s.reflected[32]);
  expect(s.injectedInterrupts).toBeGreaterThanOrEqual(3);
  expect(ports.get(0x20)!.writes).toBe(s.injectedInterrupts);
}

function total(table: Float64Array): number {
  return table.reduce((a, b) => a + b, 0);
}
