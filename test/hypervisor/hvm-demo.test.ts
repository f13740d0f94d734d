// The bare-metal demo (examples/bare-metal/demo.s), unmodified, under hardware assist: the same
// console as on bare XL32, the same power-off status, deterministic cycles, and counters showing
// that only its I/O reached the monitor - its LIDT, LKSP, CR writes, IRET to ring 3, system calls
// and page faults all ran in non-root mode without an exit.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatHvmStats, hvmExitCounts, runHvmMode } from '../../hypervisor/hvm/index.ts';
import { runImageInMode } from '../../hypervisor/index.ts';
import { Exit } from '../../machine/types.ts';
import { Machine } from '../../machine/machine.ts';
import { assemble } from '../../toolchain/asm/index.ts';

const image = assemble(readFileSync(new URL('../../examples/bare-metal/demo.s', import.meta.url), 'utf8'), 'demo.s').image;
const EXPECTED = [
  'XL32 bare-metal demo: IDT loaded, paging on, entering ring 3',
  '[user] hello from ring 3 through a system call',
  '[user] rdcpl says ring 3',
  '[user] timer tick 1',
  '[user] timer tick 2',
  '[user] timer tick 3',
  '[kernel] user program exited, powering off',
  '',
].join('\n');

const run = (profile?: string) => runHvmMode(image, { maxCycles: 100_000_000, ...(profile ? { profile } : {}) });

describe('the bare-metal demo under hvm mode', () => {
  it('prints what it prints on bare XL32 and powers off with status 7', () => {
    const native = new Machine();
    native.loadImage(image);
    expect(native.run({ maxCycles: 100_000_000 }).status).toBe(7);
    expect(native.consoleOutput()).toBe(EXPECTED);
    const r = run();
    expect(r.output).toBe(EXPECTED);
    expect([r.reason, r.status]).toEqual(['poweroff', 7]);
  });

  it('exits only for I/O and to inject its ticks: no trap, shadow fault or emulated instruction', () => {
    const s = run().domain.stats;
    expect(total(s.traps)).toBe(0);
    expect([s.hiddenFaults, s.trueFaults, s.shadowFlushes]).toEqual([0, 0, 0]);
    expect(total(s.emulated)).toBe(0);
    expect([s.cpuExits[Exit.CrAccess], s.cpuExits[Exit.Exception], s.cpuExits[Exit.Invlpg], s.cpuExits[Exit.EptViolation]]).toEqual([0, 0, 0, 0]);
    // every I/O instruction is one exit, handed to the device model
    expect(s.cpuExits[Exit.Io]).toBe(s.ioExits);
    expect(s.loopExits.io).toBe(s.ioExits);
    const ports = new Map(s.ioByPort().map((p) => [p.port, p]));
    for (const port of [0x21, 0x22, 0x40, 0x41, 0x501]) expect(ports.get(port)).toEqual({ port, reads: 0, writes: 1 });
    // every tick is injected through the VMCS into the guest's IDT, and acknowledged with one EOI
    expect(s.injectedInterrupts).toBe(s.reflected[32]);
    expect(s.injectedInterrupts).toBeGreaterThanOrEqual(3);
    expect(ports.get(0x20)!.writes).toBe(s.injectedInterrupts);
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

  it('is deterministic: two runs take the same cycles, retire the same instructions, count the same', () => {
    const a = run();
    const b = run();
    expect(b.cycles).toBe(a.cycles);
    expect(b.instructions).toBe(a.instructions);
    expect(b.domain.stats.summary()).toEqual(a.domain.stats.summary());
  });

  it('costs more cycles than bare hardware under both profiles', () => {
    for (const profile of ['p4-2003', 'modern']) {
      const native = new Machine({ profile });
      native.loadImage(image);
      const n = native.run({ maxCycles: 100_000_000 });
      const h = run(profile);
      expect(h.output).toBe(EXPECTED);
      expect(h.cycles).toBeGreaterThan(n.cycles);
      expect(h.domain.stats.monitorCycles).toBeGreaterThan(0);
    }
  });

  it('runImageInMode("hvm") is the same run', () => {
    const a = run();
    const b = runImageInMode('hvm', image, { maxCycles: 100_000_000 });
    expect([b.output, b.reason, b.status, b.cycles]).toEqual([a.output, a.reason, a.status, a.cycles]);
  });
});

function total(table: Float64Array): number {
  return table.reduce((a, b) => a + b, 0);
}
