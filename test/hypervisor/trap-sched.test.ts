// Several trap-mode domains on the one real CPU: the round-robin scheduler time-slices them, a
// domain blocked in HLT gives the CPU to the others, the CPU idles only when every vCPU waits, and
// the interleaving is deterministic.
import { describe, expect, it } from 'vitest';
import { TrapMode } from '../../hypervisor/trap/index.ts';
import { sleeperAndPrinter, switches, twoPrinters as twoPrintersUnder } from './fixtures/printers.ts';
import { HLT_NOTHING_TO_WAKE } from './fixtures/small-guest.ts';
import { both } from './trap-harness.ts';

/** Two printers, both under one TrapMode. */
function twoPrinters(slice: number) {
  const mode = new TrapMode();
  return twoPrintersUnder(slice, [mode, mode]);
}

describe('trap mode: several domains on one CPU', () => {
  it('two domains are time-sliced round robin and both finish with their own consoles', () => {
    const { a, b, log, res, hv } = twoPrinters(100_000);
    expect(res.reason).toBe('all-stopped');
    expect(a.consoleOutput()).toBe('AAAAAAAAAA');
    expect(b.consoleOutput()).toBe('BBBBBBBBBB');
    // interleaved on the one console stream, not one after the other
    expect(switches(log)).toBeGreaterThanOrEqual(8);
    // each got about the same CPU time
    expect(Math.abs(a.stats.runCycles - b.stats.runCycles) / Math.max(a.stats.runCycles, b.stats.runCycles)).toBeLessThan(0.1);
    expect(a.stats.worldSwitches).toBeGreaterThan(5);
    expect(b.stats.worldSwitches).toBeGreaterThan(5);
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
  });

  it('a domain blocked in HLT gives the CPU away; the CPU idles only when both wait', () => {
    const { hv, z, p, log, res } = sleeperAndPrinter(new TrapMode());
    expect(res.reason).toBe('all-stopped');
    // ~800,000 cycles of printing happen while Z sleeps; Z's tick comes 2,000,000 cycles in
    expect(log).toBe('PPPPPPPPPPZ');
    expect(z.stats.loopExits.hlt).toBe(1);
    expect(z.stats.runCycles).toBeLessThan(p.stats.runCycles);
    // after P finished, nothing was runnable until Z's tick
    expect(hv.idleCycles).toBeGreaterThan(0);
    expect(res.idleCycles).toBe(hv.idleCycles);
  });

  it('HLT with nothing left to wake it ends the run as the bare machine ends it', () => {
    const { native, trap } = both(HLT_NOTHING_TO_WAKE);
    expect(native.result.reason).toBe('halted');
    expect(trap.reason).toBe('halted');
    expect(trap.detail).toBe(native.result.detail);
  });
});
