// Log-dirty tracking (hypervisor/core/log-dirty.ts) in every hypervisor mode: between two peeks,
// every frame whose bytes changed (a memory diff of the whole domain) is reported dirty; a guest
// runs the same instructions and prints the same output with log-dirty on; each fault is in the
// ledger under its own kind. One random workload per mode here; many in log-dirty.deep.test.ts.
import { describe, expect, it } from 'vitest';
import { runPlain, runWithLogDirty, type OracleMode } from './log-dirty-oracle.ts';
import { guestImage, GUEST_MEMORY } from './trap-harness.ts';
import { runTrapMode } from '../../hypervisor/trap/index.ts';
import { runBtMode, runHvmMode } from '../../hypervisor/index.ts';
import type { GuestRunOptions, GuestRunResult } from '../../hypervisor/run.ts';
import { dirtyFrames } from '../../hypervisor/core/log-dirty.ts';
import { Ev } from '../../machine/ledger.ts';

/** the two cheapest here; every mode over many seeds in log-dirty.deep.test.ts */
const MODES: OracleMode[] = ['hvm-ept', 'pv'];

describe('log-dirty: the frames reported dirty include every frame that changed', () => {
  for (const mode of MODES) {
    it(`${mode}: a random shell workload, peeked at random cycles; output as without log-dirty`, () => {
      const seed = 7;
      const run = runWithLogDirty(mode, seed);
      expect(run.stopped).toBe(true);
      expect(run.peeks).toBeGreaterThan(3);
      expect(run.missed).toEqual(run.missed.map(() => []));
      // the log is not everything: some peeks report far fewer frames than the domain has
      expect(Math.min(...run.reported)).toBeLessThan(2048 / 4);
      expect(run.faults).toBeGreaterThan(0);
      expect(run.ledgerFaults).toBe(run.faults);
      const plain = runPlain(mode, seed);
      expect(plain.stopped).toBe(true);
      // the kernel's timer ticks make its instruction count depend on time (log-dirty costs
      // cycles): its output is what must not change; the time-independent guest below pins the
      // instruction count
      expect(run.output).toBe(plain.output);
    });
  }
});

/**
 * A guest whose run does not depend on time (no timer, no input): 6 passes over 48 pages from
 * 2 MiB, each pass storing into every page at an offset of its own, then the words summed and
 * printed. Its instruction count is fixed, so log-dirty may change only its cycles.
 */
const WRITER = guestImage(`
        .func test_main
test_main:
        call    paging_on
        li      r6, 0                   ; pass
.Lpass:
        li      r7, 0                   ; page
.Lpage:
        li      r1, 0x00200000
        shli    r2, r7, 12
        add     r1, r1, r2
        shli    r2, r6, 4
        add     r1, r1, r2
        add     r3, r6, r7
        stw     [r1], r3
        addi    r7, r7, 1
        cmpi    r7, 48
        jlt     .Lpage
        addi    r6, r6, 1
        cmpi    r6, 6
        jlt     .Lpass
        li      r1, 0x00200000          ; sum the first word of every page
        li      r7, 0
        li      r4, 0
.Lsum:
        ldw     r3, [r1]
        add     r4, r4, r3
        addi    r1, r1, 4096
        addi    r7, r7, 1
        cmpi    r7, 48
        jlt     .Lsum
        mov     r1, r4
        call    puthex
        call    putnl
        li      r0, 0
        ret
        .endfunc
`);

describe('log-dirty is invisible to the guest but for its cycles', () => {
  const modes: [string, (o: GuestRunOptions) => GuestRunResult][] = [
    ['trap', (o) => runTrapMode(WRITER, { memoryBytes: GUEST_MEMORY, ...o })],
    ['bt', (o) => runBtMode(WRITER, { memoryBytes: GUEST_MEMORY, ...o })],
    ['hvm-shadow', (o) => runHvmMode(WRITER, { memoryBytes: GUEST_MEMORY, hvm: { mmu: 'shadow' }, profile: 'core2-2006-vtx', ...o })],
    ['hvm-ept', (o) => runHvmMode(WRITER, { memoryBytes: GUEST_MEMORY, hvm: { mmu: 'ept' }, profile: 'core2-2006-vtx', ...o })],
  ];
  for (const [name, run] of modes) {
    it(`${name}: the same output and instructions with log-dirty on and peeked every 20,000 cycles; each first write after a peek is one fault in the ledger`, () => {
      const plain = run({ maxCycles: 50_000_000 });
      const { hypervisor: hv, domain: d } = run({ maxCycles: 0 });
      const t = d.enableLogDirty();
      let instructions = 0;
      let cycles = 0;
      const written = new Set<number>();
      for (;;) {
        const res = hv.run({ maxCycles: 20_000 });
        instructions += res.instructions;
        cycles += res.cycles;
        for (const f of dirtyFrames(d.peekAndClean())) written.add(f);
        if (res.reason !== 'limit') break;
      }
      expect(plain.reason).toBe('poweroff');
      expect(d.consoleOutput()).toBe(plain.output);
      expect(plain.output).toBe('00000468\n');
      expect(instructions).toBe(plain.instructions);
      // the 48 written pages (pseudo-physical 0x200..0x22f) are among the frames reported
      for (let f = 0x200; f < 0x230; f++) expect(written.has(f)).toBe(true);
      expect(hv.cpu.evCount[Ev.LogDirtyFault]).toBe(t.faults);
      expect(t.faults).toBeGreaterThanOrEqual(48);
      expect(cycles).toBeGreaterThan(plain.cycles);
    });
  }
});
