// Differential fuzzing against native, the fixed-seed slice `npm test` runs (the long run is
// differential.deep.test.ts, `npm run test:deep`): random kernel and user programs with
// privileged instructions, paging changes, faults, INT n, IRET frames, I/O to the interrupt
// controller and the UART, and interrupts raised at guest instruction counts, on the bare machine
// and under trap, bt and hvm - every compared case observes exactly what the bare machine
// observes (fixtures/differential.ts). Also the regressions it found.
import { describe, expect, it } from 'vitest';
import { Op, encode } from '../../machine/isa.ts';
import { type DiffCase, runModeDiff, runNativeDiff } from './fixtures/differential.ts';
import { MODES, differentialRun } from './fixtures/differential-suite.ts';

describe('differential fuzzing against the bare machine (fixed seed)', () => {
  it('trap (no critical instructions), bt and hvm observe what the bare machine observes, in every compared case', () => {
    // The seeds that found an IRET to ring 1 under trap (0xd1ff: now counted as a documented
    // critical difference) and user code entered with IF 0 under bt (12: fixed), docs/hypervisor.md
    const { trap, btHvm } = differentialRun({ trap: 0xd1ff, btHvm: 12 }, 40);
    // the slice compares enough cases to mean something (the rest are counted with their reason)
    expect(trap['trap: compared']).toBe(10);
    expect(trap['an IRET entered ring 1 or 2']).toBe(1);
    expect(btHvm['bt: compared']).toBe(9);
    expect(btHvm['hvm: compared']).toBe(btHvm['bt: compared']);
    expect(btHvm['hvm-ept: compared']).toBe(btHvm['bt: compared']);
  });
});

/** A program of `code` words (as instructions), everything else plain: an IDT, paging on, no interrupts raised. */
function plainCase(code: number[][], irqs: number[] = []): DiffCase {
  return {
    program: { regs: new Array(16).fill(0), code, data: new Array(64).fill(0), idt: true, sp: 0x30800, gateSeed: 1, paging: true, timer: undefined },
    irqs,
    line: 8,
  };
}

describe('regressions the differential fuzzer found', () => {
  it('hvm: a HYPERCALL (#UD without a paravirtual interface) retires nothing, as on the bare machine', () => {
    const c = plainCase([[encode(Op.HYPERCALL)], ...Array.from({ length: 20 }, () => [encode(Op.NOP)])]);
    const { cycles: _c, ...native } = runNativeDiff(c);
    const hvm = runModeDiff(MODES.hvm.make(), MODES.hvm.reserve, c);
    expect(hvm).toEqual(native);
  });

  it("hvm on shadow paging: an INT n past the IDT's limit whose #GP takes a hidden page fault on the stack saves the INT's pc, as on the bare machine", () => {
    // found by the deep run (seed 0x2026): the CPU reported the INT, not the #GP whose delivery
    // faulted, as the IDT-vectoring event, so the monitor re-injected the INT past itself and
    // the #GP's frame saved the next instruction's pc
    for (const paging of [false, true]) {
      const c = plainCase([[encode(Op.INT, 0, 0, 0xab)], [encode(Op.HLT)]]);
      // (gates of seed 11: the #GP's frame goes where the guest has not been yet)
      c.program.gateSeed = 11;
      c.program.paging = paging;
      const { cycles: _c, ...native } = runNativeDiff(c);
      expect(native.stop).toBe('halted');
      for (const m of ['trap', 'bt', 'hvm', 'hvm-ept'] as const) expect(runModeDiff(MODES[m].make(), MODES[m].reserve, c), `${m}, paging ${paging}`).toEqual(native);
    }
  });

  it('an interrupt raised at an instruction count is taken at the same instruction in every mode', () => {
    // a counting loop; the line is raised at three instruction counts; the gates' handler resumes
    const loop = [[encode(Op.ADDI, 3, 3, 1)], [encode(Op.CMPI, 0, 3, 0x7fff)], [encode(Op.JCC, 4, 0, 0), -8]];
    const c = plainCase([...loop], [40, 41, 300]);
    const { cycles: _c, ...native } = runNativeDiff(c);
    expect(native.stop).toBe('limit');
    for (const m of ['trap', 'bt', 'hvm', 'hvm-ept'] as const) expect(runModeDiff(MODES[m].make(), MODES[m].reserve, c), m).toEqual(native);
  });
  it('the limit reached at an OUT to the UART: its byte is on the console in every mode, as on the bare machine', () => {
    // a loop printing 'x'; with and without a NOP before it, so one of the two runs ends on the OUT
    // (the harness observes an emulated OUT's device access, which the core makes after the monitor returns)
    const loop = [[encode(Op.OUTB, 1, 1, 0x3f8)], [encode(Op.JMP), -12]];
    for (const pad of [[], [[encode(Op.NOP)]]]) {
      const c = plainCase([[encode(Op.LI, 1), 0x78], ...pad, ...loop]);
      const { cycles: _c, ...native } = runNativeDiff(c);
      expect(native.stop).toBe('limit');
      expect(native.output).toMatch(/^x{1400,1500}$/);
      for (const m of ['trap', 'bt', 'hvm'] as const) expect(runModeDiff(MODES[m].make(), MODES[m].reserve, c), m).toEqual(native);
    }
  });
});
