// Several domains on the one real CPU, under trap-and-emulate and under hardware assist (the same
// guests and the same assertions for each mode, plus what only one mode shows): the round-robin
// scheduler time-slices them, a domain blocked in HLT gives the CPU to the others, the CPU idles
// only when every vCPU waits, and the interleaving is deterministic. An hvm domain also shares the
// CPU with a trap-mode one.
import { describe, expect, it } from 'vitest';
import { HvmMode } from '../../hypervisor/hvm/index.ts';
import { TrapMode } from '../../hypervisor/trap/index.ts';
import type { Mode } from '../../hypervisor/core/mode.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { Exit } from '../../machine/types.ts';
import { sleeperAndPrinter, switches, twoPrinters } from './fixtures/printers.ts';

interface SchedMode {
  name: 'trap' | 'hvm';
  /** the modes of the two printers: trap shares one TrapMode, hvm gives each domain its own */
  printers: () => [Mode, Mode];
  make: () => Mode;
  /** what only this mode shows of a time-sliced domain */
  sliced: (d: Domain) => void;
}

const MODES: SchedMode[] = [
  {
    name: 'trap',
    printers: () => {
      const mode = new TrapMode();
      return [mode, mode];
    },
    make: () => new TrapMode(),
    sliced: () => {},
  },
  {
    name: 'hvm',
    printers: () => [new HvmMode({ mmu: 'ept' }), new HvmMode({ mmu: 'ept' })],
    make: () => new HvmMode({ mmu: 'ept' }),
    // a vCPU preempted at the end of its slice leaves non-root mode through an exit
    sliced: (d) => expect(d.stats.cpuExits[Exit.ExternalInterrupt]).toBeGreaterThanOrEqual(d.stats.worldSwitches - 1),
  },
];

describe.each(MODES)('$name mode: several domains on one CPU', (m) => {
  it('two domains are time-sliced round robin and both finish with their own consoles', () => {
    const { a, b, log, res, hv } = twoPrinters(80_000, m.printers());
    expect(res.reason).toBe('all-stopped');
    expect(a.consoleOutput()).toBe('AAAAAAAAAA');
    expect(b.consoleOutput()).toBe('BBBBBBBBBB');
    // interleaved on the one console stream, not one after the other
    expect(switches(log)).toBeGreaterThanOrEqual(8);
    // each got about the same CPU time
    expect(Math.abs(a.stats.runCycles - b.stats.runCycles) / Math.max(a.stats.runCycles, b.stats.runCycles)).toBeLessThan(0.1);
    for (const d of [a, b]) {
      expect(d.stats.worldSwitches).toBeGreaterThan(5);
      m.sliced(d);
    }
    expect(hv.idleCycles).toBe(0);
  });

  it('a longer slice interleaves more coarsely', () => {
    const fine = twoPrinters(100_000, m.printers());
    const coarse = twoPrinters(400_000, m.printers());
    expect(coarse.log).not.toBe(fine.log);
    expect(coarse.a.stats.worldSwitches).toBeLessThan(fine.a.stats.worldSwitches);
  });

  it('is deterministic: the same interleaving, cycle for cycle', () => {
    const x = twoPrinters(100_000, m.printers());
    const y = twoPrinters(100_000, m.printers());
    expect(y.log).toBe(x.log);
    expect(y.res.cycles).toBe(x.res.cycles);
    expect(y.a.stats.summary()).toEqual(x.a.stats.summary());
    expect(y.b.stats.summary()).toEqual(x.b.stats.summary());
  });

  it('a domain blocked in HLT gives the CPU away; the CPU idles only when both wait', () => {
    const { hv, z, p, log, res } = sleeperAndPrinter(m.make());
    expect(res.reason).toBe('all-stopped');
    // ~800,000 cycles of printing happen while Z sleeps; Z's tick comes 2,000,000 cycles in
    expect(log).toBe('PPPPPPPPPPZ');
    expect(z.stats.loopExits.hlt).toBe(1);
    expect(z.stats.injectedInterrupts).toBe(1);
    expect(z.stats.runCycles).toBeLessThan(p.stats.runCycles);
    // after P finished, nothing was runnable until Z's tick
    expect(hv.idleCycles).toBeGreaterThan(0);
    expect(res.idleCycles).toBe(hv.idleCycles);
  });
});

describe('hvm and trap domains on one CPU', () => {
  it('each mode sets its own CPU hooks at every switch', () => {
    const { a, b, log, res } = twoPrinters(100_000, [new HvmMode(), new TrapMode()]);
    expect(res.reason).toBe('all-stopped');
    expect([a.consoleOutput(), b.consoleOutput()]).toEqual(['AAAAAAAAAA', 'BBBBBBBBBB']);
    expect(switches(log)).toBeGreaterThanOrEqual(8);
    // the hvm domain never trapped; the trap domain never took a VM exit
    expect(a.stats.traps.reduce((s, n) => s + n, 0)).toBe(0);
    expect(b.stats.cpuExits[Exit.Io]).toBe(0);
    expect(b.stats.traps[13]).toBeGreaterThan(0);
  });
});
