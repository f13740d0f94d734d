// HLT, and the ends of a run, under trap-and-emulate and under hardware assist: the same small
// kernels on the bare machine and in each mode, the same assertions, and the counters that show
// how each mode got there (trap emulates the HLT after its #GP; hvm takes an HLT exit).
import { describe, expect, it } from 'vitest';
import type { GuestRunResult } from '../../hypervisor/run.ts';
import type { Image } from '../../machine/image.ts';
import { Op } from '../../machine/isa.ts';
import { Exit } from '../../machine/types.ts';
import { HLT_INTERRUPTS_OFF, HLT_NOTHING_TO_WAKE, tickHandler, PRINT_TICKS_AND_RETURN } from './fixtures/small-guest.ts';
import { guestImage, runHvm, runNative, runTrap } from './hvm-harness.ts';

interface HaltMode {
  name: 'trap' | 'hvm';
  run: (image: Image) => GuestRunResult;
  /** the counter that shows the one HLT reached the hypervisor */
  hltSeen: (r: GuestRunResult) => number;
  /** the CPU exits a triple fault shows (trap mode sees the faults as traps, not as an exit) */
  tripleFaultExits: number;
}

const MODES: HaltMode[] = [
  { name: 'trap', run: (image) => runTrap(image), hltSeen: (r) => r.domain.stats.emulated[Op.HLT]!, tripleFaultExits: 0 },
  { name: 'hvm', run: (image) => runHvm(image), hltSeen: (r) => r.domain.stats.cpuExits[Exit.Hlt]!, tripleFaultExits: 1 },
];

/** a timer-interrupt handler counting into `ticks`; arm_timer: a one-shot tick after r7 cycles */
const TICK_HANDLER = tickHandler('arm_timer', 'r7');

describe.each(MODES)('$name mode: HLT and the ends of a run, as on the bare machine', (m) => {
  const both = (body: string) => {
    const image = guestImage(body);
    return { native: runNative(image), run: m.run(image) };
  };

  it('HLT with interrupts on blocks the vCPU until the timer interrupt, injected through the guest IDT; the CPU idles meanwhile', () => {
    const { native, run } = both(`
test_main:
        li      r7, 200000
        call    arm_timer
        sti
        hlt
        cli
${PRINT_TICKS_AND_RETURN}
${TICK_HANDLER}`);
    expect(native.output).toBe('00000001\n');
    expect(run.output).toBe(native.output);
    const s = run.domain.stats;
    expect(m.hltSeen(run)).toBe(1);
    expect(s.loopExits.hlt).toBe(1);
    expect(s.injectedInterrupts).toBe(1);
    expect(run.idleCycles).toBeGreaterThan(150_000);
    expect(native.result.idleCycles).toBeGreaterThan(150_000);
  });

  it('HLT with interrupts (virtually) off stops the domain for good, as it stops the bare machine', () => {
    const { native, run } = both(HLT_INTERRUPTS_OFF);
    expect(native.result.reason).toBe('halted');
    expect([run.reason, run.detail]).toEqual(['halted', native.result.detail]);
  });

  it('HLT with nothing left to wake it ends the run as the bare machine ends it', () => {
    const { native, run } = both(HLT_NOTHING_TO_WAKE);
    expect(native.result.reason).toBe('halted');
    expect([run.reason, run.detail]).toEqual(['halted', native.result.detail]);
  });

  it('a triple fault (BRK with an empty IDT) stops the domain as it stops the bare machine', () => {
    const { native, run } = both(`
test_main:
        li      r1, 0
        lidt    r1, 0
        brk
        li      r0, 0
        ret
`);
    expect(native.result.reason).toBe('triple-fault');
    expect([run.reason, run.detail]).toEqual(['triple-fault', native.result.detail]);
    expect(run.domain.stats.cpuExits[Exit.TripleFault]).toBe(m.tripleFaultExits);
  });
});
