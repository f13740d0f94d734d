// Several hvm domains on the one real CPU: the round-robin scheduler time-slices them (a vCPU
// taken off the CPU in non-root mode leaves it through an exit), a domain blocked in HLT gives the
// CPU to the others, an hvm domain shares the CPU with a trap-mode one, and the interleaving is
// deterministic.
import { describe, expect, it } from 'vitest';
import { HvmMode } from '../../hypervisor/hvm/index.ts';
import { TrapMode } from '../../hypervisor/trap/index.ts';
import type { Mode } from '../../hypervisor/core/mode.ts';
import { Exit } from '../../machine/types.ts';
import { sleeperAndPrinter, switches, twoPrinters as twoPrintersUnder } from './fixtures/printers.ts';

/** Two printers, each under its own HvmMode unless `modes` says otherwise. */
function twoPrinters(slice: number, modes: [Mode, Mode] = [new HvmMode({ mmu: 'ept' }), new HvmMode({ mmu: 'ept' })]) {
  return twoPrintersUnder(slice, modes);
}

describe('hvm mode: several domains on one CPU', () => {
  it('two domains are time-sliced round robin and both finish with their own consoles', () => {
    const { a, b, log, res, hv } = twoPrinters(100_000);
    expect(res.reason).toBe('all-stopped');
    expect(a.consoleOutput()).toBe('AAAAAAAAAA');
    expect(b.consoleOutput()).toBe('BBBBBBBBBB');
    expect(switches(log)).toBeGreaterThanOrEqual(8);
    expect(Math.abs(a.stats.runCycles - b.stats.runCycles) / Math.max(a.stats.runCycles, b.stats.runCycles)).toBeLessThan(0.1);
    // a vCPU preempted at the end of its slice leaves non-root mode through an exit
    for (const d of [a, b]) {
      expect(d.stats.worldSwitches).toBeGreaterThan(5);
      expect(d.stats.cpuExits[Exit.ExternalInterrupt]).toBeGreaterThanOrEqual(d.stats.worldSwitches - 1);
    }
    expect(hv.idleCycles).toBe(0);
  });

  it('a longer slice interleaves more coarsely', () => {
    const fine = twoPrinters(100_000);
    const coarse = twoPrinters(400_000);
    expect(coarse.log).not.toBe(fine.log);
    expect(coarse.a.stats.worldSwitches).toBeLessThan(fine.a.stats.worldSwitches);
  });

  it('is deterministic: the same interleaving, cycle for cycle', () => {
    const x = twoPrinters(100_000);
    const y = twoPrinters(100_000);
    expect(y.log).toBe(x.log);
    expect(y.res.cycles).toBe(x.res.cycles);
    expect(y.a.stats.summary()).toEqual(x.a.stats.summary());
    expect(y.b.stats.summary()).toEqual(x.b.stats.summary());
  });

  it('shares the CPU with a trap-mode domain: each mode sets its own CPU hooks at every switch', () => {
    const { a, b, log, res } = twoPrinters(100_000, [new HvmMode(), new TrapMode()]);
    expect(res.reason).toBe('all-stopped');
    expect([a.consoleOutput(), b.consoleOutput()]).toEqual(['AAAAAAAAAA', 'BBBBBBBBBB']);
    expect(switches(log)).toBeGreaterThanOrEqual(8);
    // the hvm domain never trapped; the trap domain never took a VM exit
    expect(a.stats.traps.reduce((s, n) => s + n, 0)).toBe(0);
    expect(b.stats.cpuExits[Exit.Io]).toBe(0);
    expect(b.stats.traps[13]).toBeGreaterThan(0);
  });

  it('a domain blocked in HLT gives the CPU away; the CPU idles only when both wait', () => {
    const { hv, z, p, log, res } = sleeperAndPrinter(new HvmMode());
    expect(res.reason).toBe('all-stopped');
    expect(log).toBe('PPPPPPPPPPZ');
    expect(z.stats.loopExits.hlt).toBe(1);
    expect(z.stats.injectedInterrupts).toBe(1);
    expect(z.stats.runCycles).toBeLessThan(p.stats.runCycles);
    expect(hv.idleCycles).toBeGreaterThan(0);
  });
});
