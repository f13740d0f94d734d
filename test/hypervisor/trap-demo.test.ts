// The bare-metal demo (examples/bare-metal/demo.s), unmodified, under trap-and-emulate: the same
// console as on bare XL32 (its RDCPL runs in ring 3, where trap mode changes nothing), the same
// power-off status, deterministic cycles, and the counters of what the monitor did.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runImageInMode } from '../../hypervisor/index.ts';
import { runTrapMode } from '../../hypervisor/trap/index.ts';
import { Op } from '../../machine/isa.ts';
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

describe('the bare-metal demo under trap mode', () => {
  it('prints what it prints on bare XL32 and powers off with status 7', () => {
    const native = new Machine();
    native.loadImage(image);
    expect(native.run({ maxCycles: 100_000_000 }).status).toBe(7);
    expect(native.consoleOutput()).toBe(EXPECTED);
    const r = runTrapMode(image, { maxCycles: 100_000_000 });
    expect(r.output).toBe(EXPECTED);
    expect(r.reason).toBe('poweroff');
    expect(r.status).toBe(7);
  });

  it('traps every privileged instruction of its kernel and reflects its system calls and ticks', () => {
    const s = runTrapMode(image, { maxCycles: 100_000_000 }).domain.stats;
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

  it('is deterministic: two runs take the same cycles, retire the same instructions, count the same', () => {
    const a = runTrapMode(image, { maxCycles: 100_000_000 });
    const b = runTrapMode(image, { maxCycles: 100_000_000 });
    expect(b.cycles).toBe(a.cycles);
    expect(b.instructions).toBe(a.instructions);
    expect(b.domain.stats.summary()).toEqual(a.domain.stats.summary());
  });

  it('costs more cycles than bare hardware under both profiles', () => {
    for (const profile of ['p4-2003', 'modern']) {
      const native = new Machine({ profile });
      native.loadImage(image);
      const n = native.run({ maxCycles: 100_000_000 });
      const t = runTrapMode(image, { maxCycles: 100_000_000, profile });
      expect(t.output).toBe(EXPECTED);
      expect(t.cycles).toBeGreaterThan(n.cycles);
      expect(t.domain.stats.monitorCycles).toBeGreaterThan(0);
    }
  });

  it('runImageInMode("trap") is the same run', () => {
    const a = runTrapMode(image, { maxCycles: 100_000_000 });
    const b = runImageInMode('trap', image, { maxCycles: 100_000_000 });
    expect([b.output, b.reason, b.status, b.cycles]).toEqual([a.output, a.reason, a.status, a.cycles]);
  });
});
