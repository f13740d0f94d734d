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
import { Exit } from '../../machine/types.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';

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
      // hvm with EPT takes each fault as an EPT violation on a read-only second-stage entry (the
      // plain run has none); the other modes at the MMU fill, with no exit of their own
      const eptExits = (r: Domain) => (name.startsWith('hvm') ? (r.stats.cpuExits[Exit.EptViolation] ?? 0) : 0);
      expect({ plainEpt: eptExits(plain.domain), ept: eptExits(d) }).toEqual(name === 'hvm-ept' ? { plainEpt: 0, ept: t.faults } : { plainEpt: 0, ept: 0 });
    });
  }
});

describe('hvm with EPT: a log-dirty fault in the middle of an INT n delivery', () => {
  // 30 INT 0x40s in ring 0 with a spin of registers only between them, each pushing its frame
  // onto a stack page that a peek every 5,000 cycles write-protects again: the delivery is the
  // first write after the peek and takes the EPT violation, the monitor retries it
  // with the INT's length (machine/cpu.ts: the exit carries it), and each INT runs once
  const INTS = guestImage(`
        .func test_main
test_main:
        call    paging_on
        li      r1, 0x40
        li      r2, on_int
        li      r3, GATE_KTRAP
        call    set_gate
        li      r6, 0
.Lloop:
        li      r7, 0                   ; a spin between INTs: each in a slice of its own
.Lspin:
        addi    r7, r7, 1
        cmpi    r7, 2000
        jlt     .Lspin
        int     0x40
        addi    r6, r6, 1
        cmpi    r6, 30
        jlt     .Lloop
        li      r1, count
        ldw     r1, [r1]
        call    puthex
        call    putnl
        li      r0, 0
        ret
on_int:
        push    r1
        push    r2
        li      r1, count
        ldw     r2, [r1]
        addi    r2, r2, 1
        stw     [r1], r2
        pop     r2
        pop     r1
        addi    sp, sp, 8
        iret
        .endfunc
        .align 4
count:
        .word 0
`);

  it('each INT is delivered once; the output and instructions are the plain run\'s', () => {
    const opts = { memoryBytes: GUEST_MEMORY, hvm: { mmu: 'ept' as const }, profile: 'core2-2006-vtx' };
    const plain = runHvmMode(INTS, { ...opts, maxCycles: 50_000_000 });
    expect(plain.output).toBe('0000001e\n');
    const { hypervisor: hv, domain: d } = runHvmMode(INTS, { ...opts, maxCycles: 0 });
    const t = d.enableLogDirty();
    let instructions = 0;
    // bounded: an INT delivered twice per retry would never end
    for (let k = 0; k < 1000; k++) {
      const res = hv.run({ maxCycles: 5_000 });
      instructions += res.instructions;
      d.peekAndClean();
      if (res.reason !== 'limit') break;
    }
    expect(d.consoleOutput()).toBe(plain.output);
    expect(instructions).toBe(plain.instructions);
    expect(t.faults).toBeGreaterThan(30);
  });
});
