// The multiprocessor machine: CPUs started through the local APIC, an XCHG spinlock that holds
// under every interleaving, a plain counter that loses updates when the schedule splits its
// read-modify-write, IPIs that wake a halted CPU, and the seeded schedule (same seed, same run;
// same run on both engines). The uniprocessor keeps today's platform: no local APIC.

import { describe, expect, it } from 'vitest';
import { Machine, type MachineOptions } from '../../machine/machine.ts';
import { LAPIC_CPUS } from '../../machine/devices/ports.ts';
import { smpProgram, selfModifyingProgram, ROUNDS } from './smp-fixture.ts';

const { image, addr } = smpProgram();

function run(opts: MachineOptions) {
  const m = new Machine({ memoryBytes: 1 << 20, ...opts });
  m.loadImage(image);
  const r = m.run({ maxCycles: 10_000_000 });
  const word = (n: 'locked' | 'racy' | 'done' | 'ipis'): number => m.mem.i32[addr(n) >> 2]!;
  return { m, r, locked: word('locked'), racy: word('racy'), ipis: word('ipis') };
}

describe('multiprocessor machine', () => {
  it('two CPUs: the secondary starts, both count under the spinlock, one IPI wakes the halted secondary', () => {
    const { m, r, locked, racy, ipis } = run({ cpus: 2, schedule: { seed: 1 } });
    expect([r.reason, r.status]).toEqual(['poweroff', 0x5a]);
    expect(locked).toBe(2 * ROUNDS);
    expect(racy).toBe(2 * ROUNDS); // cycle slices never split this loop's load and store
    expect(ipis).toBe(1);
    expect(m.started).toEqual([true, true]);
    expect(m.apics.map((a) => a.ipisReceived)).toEqual([0, 1]);
    expect(m.lapicPorts!.ipisSent).toBe(1);
    expect([r.cycles, r.instructions, m.slices]).toEqual([21472, 3694, 13]);
  });

  it('is exactly reproducible for a seed, differs between seeds, and the engines agree', () => {
    const a = run({ cpus: 2, schedule: { seed: 2 }, engine: 'interpreter' });
    const b = run({ cpus: 2, schedule: { seed: 2 }, engine: 'translator' });
    const c = run({ cpus: 2, schedule: { seed: 1 }, engine: 'translator' });
    expect([a.r.cycles, a.r.instructions, a.r.idleCycles]).toEqual([20776, 3686, 14248]);
    expect([b.r.cycles, b.r.instructions, b.r.idleCycles]).toEqual([20776, 3686, 14248]);
    expect(a.m.cpus.map((x) => x.cycles)).toEqual(b.m.cpus.map((x) => x.cycles));
    expect(c.r.cycles).toBe(21472);
  });

  it('stopping a run anywhere changes nothing: run in slices of 1..97 cycles it ends as the run in one go (cycle and instruction quanta)', () => {
    for (const [schedule, engine] of [[{ seed: 2 }, 'interpreter'], [{ seed: 5, quantumInstructions: 3 }, 'translator']] as const) {
      {
        const whole = run({ cpus: 2, schedule, engine });
        const m = new Machine({ memoryBytes: 1 << 20, cpus: 2, schedule, engine });
        m.loadImage(image);
        let r;
        let k = 0;
        let cycles = 0;
        let instructions = 0;
        do {
          // slice lengths that fall anywhere in the CPUs' slices (a cut one goes on first at the next run)
          r = m.run({ maxCycles: 1 + ((k++ * 37) % 97) });
          cycles += r.cycles;
          instructions += r.instructions;
        } while (r.reason === 'limit');
        expect([r.reason, r.status, cycles, instructions, m.slices, m.idleCycles]).toEqual([whole.r.reason, whole.r.status, whole.r.cycles, whole.r.instructions, whole.m.slices, whole.m.idleCycles]);
        expect(m.cpus.map((c) => [c.cycles, c.instructions])).toEqual(whole.m.cpus.map((c) => [c.cycles, c.instructions]));
        expect(m.mem.i32[addr('racy') >> 2]).toBe(whole.racy);
      }
    }
  });

  it('instruction quanta split the unlocked read-modify-write (lost updates) but never the XCHG lock', () => {
    const one = run({ cpus: 2, schedule: { seed: 1, quantumInstructions: 1 } });
    expect([one.locked, one.racy, one.ipis, one.r.status]).toEqual([2 * ROUNDS, 55, 1, 0x5a]);
    expect(one.m.slices).toBe(one.r.instructions); // a switch after every instruction
    const four = run({ cpus: 4, schedule: { seed: 9, quantumInstructions: 3 } });
    expect([four.locked, four.racy, four.ipis, four.r.status]).toEqual([4 * ROUNDS, 157, 3, 0x5a]);
    expect(four.m.apics.map((a) => a.ipisReceived)).toEqual([0, 1, 1, 1]);
  });

  it('code one CPU rewrites is never run stale from another CPU\'s translation cache', () => {
    for (const engine of ['interpreter', 'translator'] as const) {
      const m = new Machine({ cpus: 2, memoryBytes: 1 << 20, engine, schedule: { seed: 3 } });
      m.loadImage(selfModifyingProgram());
      for (const c of m.cpus) c.translatorLimits = { threshold: 1 };
      const r = m.run({ maxCycles: 20_000_000 });
      expect([engine, r.reason, r.status, r.cycles]).toEqual([engine, 'poweroff', 2, 48238]);
      if (engine === 'translator') {
        expect(m.cpus.map((c) => c.translator!.stats.translations)).toEqual([6, 5]);
        expect(m.cpus[1]!.translator!.stats.invalidations).toBe(4); // CPU 0's store dropped CPU 1's f
      }
    }
  });

  it('a uniprocessor has no local APIC: its ports read all ones, as unmapped ports do', () => {
    const m = new Machine({ memoryBytes: 1 << 20 });
    expect(m.apics).toEqual([]);
    expect(m.lapicPorts).toBeNull();
    expect(m.bus.read(LAPIC_CPUS, 4)).toBe(0xffffffff);
    expect(new Machine({ memoryBytes: 1 << 20, cpus: 3 }).bus.read(LAPIC_CPUS, 4)).toBe(3);
  });

  it('rejects a CPU count or quantum out of range with a clear error', () => {
    expect(() => new Machine({ cpus: 0 })).toThrow('cpus must be a whole number 1..8, not 0');
    expect(() => new Machine({ cpus: 9 })).toThrow('cpus must be a whole number 1..8, not 9');
    expect(() => new Machine({ cpus: 2, schedule: { quantumInstructions: 0 } })).toThrow('schedule.quantumInstructions must be a whole number');
  });
});
