// The bare-metal demo (examples/bare-metal/demo.s), unmodified, under trap-and-emulate: the same
// console as on bare XL32 (its RDCPL runs in ring 3, where trap mode changes nothing), the same
// power-off status, deterministic cycles (the tests shared with hvm-demo, fixtures/demo.ts), and
// the counters of what the monitor did.
import { describe, expect, it } from 'vitest';
import { runTrapMode } from '../../hypervisor/trap/index.ts';
import { Op } from '../../machine/isa.ts';
import { DEMO, demoModeTests } from './fixtures/demo.ts';

describe('the bare-metal demo under trap mode', () => {
  demoModeTests('trap', runTrapMode);

  it('traps every privileged instruction of its kernel and reflects its system calls and ticks', () => {
    const s = runTrapMode(DEMO, { maxCycles: 100_000_000 }).domain.stats;
    // LIDT, LKSP, CR3 and CR0 writes: once each; the ring-3 entry is a native IRET (not trapped)
    expect([s.emulated[Op.LIDT], s.emulated[Op.LKSP], s.emulated[Op.MOVTOCR]]).toEqual([1, 1, 2]);
    expect(s.shadowFlushes).toBe(2);
    expect(s.trueFaults).toBe(0);
    expect(s.hiddenFaults).toBeGreaterThan(0);
    expect(s.injectedInterrupts).toBe(s.reflected[32]);
    expect(s.reflected[32]).toBeGreaterThanOrEqual(3);
    expect(s.reflected[0x80]).toBe(s.traps[0x80]);
    // the PIC and timer setup: exactly the demo's OUTs
    const ports = new Map(s.ioByPort().map((p) => [p.port, p]));
    expect(ports.get(0x22)).toEqual({ port: 0x22, reads: 0, writes: 1 });
    expect(ports.get(0x21)).toEqual({ port: 0x21, reads: 0, writes: 1 });
    expect(ports.get(0x40)).toEqual({ port: 0x40, reads: 0, writes: 1 });
    expect(ports.get(0x41)).toEqual({ port: 0x41, reads: 0, writes: 1 });
    expect(ports.get(0x501)).toEqual({ port: 0x501, reads: 0, writes: 1 });
    expect(ports.get(0x20)!.writes).toBe(s.reflected[32]); // one EOI per tick
  });
});
