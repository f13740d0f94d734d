// Traps and protection (docs/isa.md "Instruction classes", "Traps and interrupts"): exception
// delivery and the trap frame, privilege and IOPL checks, IRET, the critical instructions' silent
// behaviour at CPL > 0, double and triple faults. Every program runs on both engines.

import { describe, expect, it } from 'vitest';
import { CR4_TSD, Flag, Op, Vector } from '../../machine/isa.ts';
import { Exit } from '../../machine/types.ts';
import { Prog, boot, frameAt, runBoth, setGate, type Rig } from './cpu-harness.ts';

const BASE = 0x1000;
const IDT = 0x3000;
/** handler for vector v at HANDLERS + v * 16: a HLT, so the run stops right after delivery */
const HANDLERS = 0x10000;
const KSTACK = 0x9000;
const USTACK = 0x7000;
const IOPL3 = 3 << Flag.IOPL_SHIFT;

const handlerOf = (v: number) => HANDLERS + v * 16;

/** IDT with every vector present (ring-0 interrupt gates, DPL 0) unless overridden; handlers are HLT. */
function withIdt(rig: Rig, overrides: Record<number, { dpl?: number; ring?: number; trap?: boolean } | null> = {}): void {
  for (let v = 0; v < 256; v++) {
    const o = overrides[v];
    if (o === null) continue;
    setGate(rig.mem, IDT, v, handlerOf(v), o ?? {});
    rig.mem.write32(handlerOf(v), new Prog(0).op(Op.HLT).build()[0]!);
  }
  rig.cpu.idtBase = IDT;
  rig.cpu.idtLimit = 256;
  rig.cpu.ksp[0] = KSTACK;
  rig.cpu.ksp[1] = KSTACK - 0x400;
  rig.cpu.ksp[2] = KSTACK - 0x800;
}

/** Run prog at CPL `cpl` (paging off: every page is user-accessible) with the IDT above. */
function trap(prog: Prog, opts: { cpl?: number; flags?: number; sp?: number; gates?: Parameters<typeof withIdt>[1]; setup?: (rig: Rig) => void } = {}) {
  return runBoth((rig) => {
    withIdt(rig, opts.gates);
    boot(rig, prog, opts.sp ?? USTACK);
    rig.cpu.cpl = opts.cpl ?? 0;
    rig.cpu.flags = opts.flags ?? 0;
    opts.setup?.(rig);
  });
}

/** Expect delivery of `vector` with `error` and saved pc, and return the frame. */
function expectDelivered(rig: Rig & { exit: number }, vector: number, error: number, savedPc: number) {
  expect(rig.exit).toBe(Exit.Halted);
  expect(rig.cpu.pc, 'stopped in the handler of the expected vector').toBe(handlerOf(vector) + 4);
  const f = frameAt(rig.mem, rig.cpu.regs[15]!);
  expect(f.vector).toBe(vector);
  expect(f.error).toBe(error);
  expect(f.pc).toBe(savedPc);
  return f;
}

describe('exceptions', () => {
  it('#DE is a fault: the frame holds the div instruction, CPL, FLAGS and the old sp', () => {
    const p = new Prog(BASE).li(1, 5).li(2, 0).op(Op.CMP, 0, 1, 2).op(Op.DIV, 3, 1, 2);
    const rig = trap(p, { sp: KSTACK });
    const f = expectDelivered(rig, Vector.DivideError, 0, BASE + 20);
    expect(f.cs).toBe(0);
    expect(f.flags).toBe(0);
    expect(f.sp).toBe(KSTACK);
    expect(rig.cpu.regs[15]).toBe(KSTACK - 24);
    expect(rig.cpu.regs[3]).toBe(0);
  });

  for (const [what, op] of [['divu', Op.DIVU], ['rem', Op.REM], ['remu', Op.REMU]] as const) {
    it(`${what} by zero raises #DE`, () => {
      expectDelivered(trap(new Prog(BASE).op(op, 3, 1, 2), { sp: KSTACK }), Vector.DivideError, 0, BASE);
    });
  }

  it('opcode 0 (zeroed memory) raises #UD at its address', () => {
    expectDelivered(trap(new Prog(BASE).op(Op.NOP).word(0), { sp: KSTACK }), Vector.InvalidOpcode, 0, BASE + 4);
  });

  it('an undefined opcode raises #UD', () => {
    expectDelivered(trap(new Prog(BASE).word(0xff), { sp: KSTACK }), Vector.InvalidOpcode, 0, BASE);
  });

  it('hypercall on bare hardware raises #UD', () => {
    expectDelivered(trap(new Prog(BASE).op(Op.HYPERCALL), { sp: KSTACK }), Vector.InvalidOpcode, 0, BASE);
  });

  it('brk is a trap: vector 3 with the next instruction saved', () => {
    expectDelivered(trap(new Prog(BASE).op(Op.BRK), { sp: KSTACK }), Vector.Breakpoint, 0, BASE + 4);
  });

  it('a trap delivered without a privilege change keeps the stack and CPL', () => {
    const rig = trap(new Prog(BASE).op(Op.BRK), { sp: KSTACK });
    expect(rig.cpu.cpl).toBe(0);
    expect(rig.cpu.regs[15]).toBe(KSTACK - 24);
  });
});

describe('software interrupts and the kernel stack switch', () => {
  it('int 0x80 from ring 3 through a DPL-3 gate switches to ksp[0] and pushes the six-word frame', () => {
    const rig = trap(new Prog(BASE).li(1, 1).op(Op.INT, 0, 0, 0x80), {
      cpl: 3,
      flags: Flag.IF | Flag.Z,
      gates: { 0x80: { dpl: 3 } },
    });
    const f = expectDelivered(rig, 0x80, 0, BASE + 12);
    expect(f.cs).toBe(3);
    expect(f.flags).toBe(Flag.IF | Flag.Z);
    expect(f.sp).toBe(USTACK);
    expect(rig.cpu.regs[15]).toBe(KSTACK - 24);
    expect(rig.cpu.cpl).toBe(0);
    expect(rig.cpu.flags & Flag.IF).toBe(0); // interrupt gate
  });

  it('a trap gate leaves IF set', () => {
    const rig = trap(new Prog(BASE).op(Op.INT, 0, 0, 0x80), { cpl: 3, flags: Flag.IF, gates: { 0x80: { dpl: 3, trap: true } } });
    expectDelivered(rig, 0x80, 0, BASE + 4);
    // hlt in the handler ran with IF = 1
    expect(rig.cpu.flags & Flag.IF).toBe(Flag.IF);
  });

  it('a ring-1 handler gets ksp[1]', () => {
    const rig = trap(new Prog(BASE).op(Op.INT, 0, 0, 0x80), { cpl: 3, gates: { 0x80: { dpl: 3, ring: 1 } } });
    // the handler's hlt faults at ring 1: #GP delivered on ring 0's stack
    expect(rig.cpu.pc).toBe(handlerOf(Vector.GeneralProtection) + 4);
    const gp = frameAt(rig.mem, rig.cpu.regs[15]!);
    expect(gp.cs).toBe(1);
    expect(gp.sp).toBe(KSTACK - 0x400 - 24);
    const f = frameAt(rig.mem, KSTACK - 0x400 - 24);
    expect([f.vector, f.pc, f.cs, f.sp]).toEqual([0x80, BASE + 4, 3, USTACK]);
  });

  it('int n through a gate whose DPL is below CPL raises #GP(n*8+2) at the int', () => {
    const rig = trap(new Prog(BASE).op(Op.NOP).op(Op.INT, 0, 0, 0x80), { cpl: 3 });
    const f = expectDelivered(rig, Vector.GeneralProtection, 0x80 * 8 + 2, BASE + 4);
    expect(f.cs).toBe(3);
  });

  it('a not-present gate raises #GP(v*8+2), delivered normally (not a double fault)', () => {
    expectDelivered(trap(new Prog(BASE).op(Op.INT, 0, 0, 0x81), { sp: KSTACK, gates: { 0x81: null } }), Vector.GeneralProtection, 0x81 * 8 + 2, BASE);
  });

  it('a vector beyond the IDT entry count raises #GP(v*8+2)', () => {
    const rig = trap(new Prog(BASE).op(Op.INT, 0, 0, 0x40), { sp: KSTACK, setup: (r) => (r.cpu.idtLimit = 0x40) });
    expectDelivered(rig, Vector.GeneralProtection, 0x40 * 8 + 2, BASE);
  });

  it('a handler ring less privileged than CPL raises #GP(v*8+2)', () => {
    expectDelivered(trap(new Prog(BASE).op(Op.INT, 0, 0, 0x80), { sp: KSTACK, gates: { 0x80: { dpl: 3, ring: 3 } } }), Vector.GeneralProtection, 0x80 * 8 + 2, BASE);
  });

  it('int takes the vector from the low 8 bits', () => {
    expectDelivered(trap(new Prog(BASE).op(Op.INT, 0, 0, 0x105), { sp: KSTACK }), 5, 0, BASE + 4);
  });
});

describe('privileged instructions', () => {
  const priv: [string, (p: Prog) => Prog][] = [
    ['hlt', (p) => p.op(Op.HLT)],
    ['movcr', (p) => p.op(Op.MOVTOCR, 3, 1)],
    ['movfcr', (p) => p.op(Op.MOVFROMCR, 1, 3)],
    ['lidt', (p) => p.op(Op.LIDT, 0, 1, 16)],
    ['invlpg', (p) => p.op(Op.INVLPG, 0, 1)],
    ['lksp', (p) => p.op(Op.LKSP, 0, 1, 0)],
  ];
  for (const [name, emit] of priv) {
    for (const cpl of [1, 3]) {
      it(`${name} at CPL ${cpl} raises #GP(0) and changes nothing`, () => {
        const rig = trap(emit(new Prog(BASE)), { cpl, flags: IOPL3 });
        const f = expectDelivered(rig, Vector.GeneralProtection, 0, BASE);
        expect(f.cs).toBe(cpl);
        expect(rig.cpu.idtBase).toBe(IDT);
        expect(rig.cpu.ksp[0]).toBe(KSTACK);
        expect(rig.cpu.cr3).toBe(0);
      });
    }
  }

  it('movcr to a control register that does not exist raises #UD', () => {
    expectDelivered(trap(new Prog(BASE).op(Op.MOVTOCR, 1, 2), { sp: KSTACK }), Vector.InvalidOpcode, 0, BASE);
    expectDelivered(trap(new Prog(BASE).op(Op.MOVFROMCR, 2, 7), { sp: KSTACK }), Vector.InvalidOpcode, 0, BASE);
  });

  it('lksp of ring 3 raises #GP(0)', () => {
    expectDelivered(trap(new Prog(BASE).op(Op.LKSP, 0, 1, 3), { sp: KSTACK }), Vector.GeneralProtection, 0, BASE);
  });

  it('at CPL 0 they work: lidt, lksp, movcr/movfcr round trip', () => {
    const rig = runBoth((rig) =>
      boot(rig, new Prog(BASE).li(1, 0x5000).op(Op.LIDT, 0, 1, 64).li(2, 0x7777).op(Op.LKSP, 0, 2, 2).op(Op.MOVTOCR, 2, 2).op(Op.MOVFROMCR, 3, 2).op(Op.HLT)),
    );
    expect([rig.cpu.idtBase, rig.cpu.idtLimit, rig.cpu.ksp[2], rig.cpu.cr2, rig.cpu.regs[3]]).toEqual([0x5000, 64, 0x7777, 0x7777, 0x7777]);
  });

  it('rdtsc with CR4.TSD raises #GP(0) at CPL 3 but works at CPL 0', () => {
    expectDelivered(trap(new Prog(BASE).op(Op.RDTSC, 1, 2), { cpl: 3, setup: (r) => (r.cpu.cr4 = CR4_TSD) }), Vector.GeneralProtection, 0, BASE);
    const rig = trap(new Prog(BASE).op(Op.RDTSC, 1, 2).op(Op.HLT), { setup: (r) => (r.cpu.cr4 = CR4_TSD) });
    expect(rig.cpu.pc).toBe(BASE + 8);
  });
});

describe('I/O privilege', () => {
  const io: [string, (p: Prog) => Prog][] = [
    ['cli', (p) => p.op(Op.CLI)],
    ['sti', (p) => p.op(Op.STI)],
    ['in', (p) => p.op(Op.IN, 1, 0, 0x60)],
    ['inb', (p) => p.op(Op.INB, 1, 0, 0x60)],
    ['out', (p) => p.op(Op.OUT, 0, 1, 0x60)],
    ['outb', (p) => p.op(Op.OUTB, 0, 1, 0x60)],
    ['inr', (p) => p.op(Op.INR, 1, 2)],
    ['outr', (p) => p.op(Op.OUTR, 0, 2, 1)],
  ];
  for (const [name, emit] of io) {
    it(`${name} at CPL 3 with IOPL 0 raises #GP(0) without touching the bus`, () => {
      const rig = trap(emit(new Prog(BASE)), { cpl: 3 });
      expectDelivered(rig, Vector.GeneralProtection, 0, BASE);
      expect(rig.bus.log).toEqual([]);
    });
    it(`${name} at CPL 3 with IOPL 3 executes`, () => {
      const rig = trap(emit(new Prog(BASE).li(2, 0x60)).op(Op.RDCPL, 5).op(Op.INT, 0, 0, 0x80), { cpl: 3, flags: IOPL3, gates: { 0x80: { dpl: 3 } } });
      expect(rig.cpu.pc).toBe(handlerOf(0x80) + 4);
      expect(rig.cpu.regs[5]).toBe(3);
    });
  }

  it('cli at CPL 1 with IOPL 1 clears IF', () => {
    const rig = trap(new Prog(BASE).op(Op.CLI).op(Op.INT, 0, 0, 0x80), { cpl: 1, flags: Flag.IF | (1 << Flag.IOPL_SHIFT), gates: { 0x80: { dpl: 3 } } });
    expect(frameAt(rig.mem, rig.cpu.regs[15]!).flags).toBe(1 << Flag.IOPL_SHIFT);
  });

  it('in/out move data with the right sizes', () => {
    const rig = runBoth((rig) => {
      rig.bus.values.set(0x60, 0xaabbccdd);
      boot(rig, new Prog(BASE).op(Op.IN, 1, 0, 0x60).op(Op.INB, 2, 0, 0x60).li(3, 0x60).op(Op.INR, 4, 3).li(5, 0x12345678).op(Op.OUT, 0, 5, 0x61).op(Op.OUTB, 0, 5, 0x62).op(Op.OUTR, 0, 3, 5).op(Op.HLT));
    });
    expect(rig.cpu.regs[1]! >>> 0).toBe(0xaabbccdd);
    expect(rig.cpu.regs[2]).toBe(0xdd);
    expect(rig.cpu.regs[4]! >>> 0).toBe(0xaabbccdd);
    expect(rig.bus.log).toEqual(['in 60/4', 'in 60/1', 'in 60/4', 'out 61/4=12345678', 'out 62/1=78', 'out 60/4=12345678']);
  });
});

describe('iret', () => {
  it('returns from a ring-3 system call: pc, CPL, FLAGS and sp come back', () => {
    const p = new Prog(BASE).li(1, 1).op(Op.INT, 0, 0, 0x80).op(Op.RDCPL, 2).op(Op.MOV, 3, 15).op(Op.BRK);
    p.padTo(0x1100).label('h').op(Op.ADDI, 15, 15, 8).op(Op.IRET);
    const rig = trap(p, {
      cpl: 3,
      flags: Flag.IF,
      gates: { 0x80: { dpl: 3 }, 3: { dpl: 3 } },
      setup: (r) => setGate(r.mem, IDT, 0x80, 0x1100, { dpl: 3 }),
    });
    expect(rig.cpu.regs[2]).toBe(3);
    expect(rig.cpu.regs[3]).toBe(USTACK);
    // the brk frame shows IF restored
    const f = expectDelivered(rig, Vector.Breakpoint, 0, BASE + 24);
    expect(f.flags).toBe(Flag.IF);
    expect(f.cs).toBe(3);
  });

  /** iret at `cpl` from a hand-built frame {pc, cs, flags, sp}; the code at 0x2000 does int 0x80 */
  function iretFrom(cpl: number, flags: number, frame: [number, number, number, number]) {
    return trap(new Prog(BASE).op(Op.IRET), {
      cpl,
      flags,
      sp: 0x6000,
      gates: { 0x80: { dpl: 3 } },
      setup: (r) => {
        frame.forEach((w, k) => r.mem.write32(0x6000 + 4 * k, w));
        new Prog(0x2000).op(Op.INT, 0, 0, 0x80).load(r.mem);
      },
    });
  }

  it('iret to a more privileged ring raises #GP(0)', () => {
    const rig = iretFrom(3, 0, [0x2000, 0, 0, 0x5000]);
    const f = expectDelivered(rig, Vector.GeneralProtection, 0, BASE);
    expect(f.cs).toBe(3);
  });

  it('iret with a cs that is not a ring raises #GP(0)', () => {
    expectDelivered(iretFrom(0, 0, [0x2000, 4, 0, 0x5000]), Vector.GeneralProtection, 0, BASE);
  });

  it('iret at CPL 0 restores pc, ring, sp, IF and IOPL from the frame and drops undefined bits', () => {
    const f = expectDelivered(iretFrom(0, 0, [0x2000, 1, 0xffffffff, 0x5000]), 0x80, 0, 0x2004);
    expect([f.cs, f.sp, f.flags]).toEqual([1, 0x5000, Flag.Z | Flag.LT | Flag.B | Flag.IF | Flag.IOPL_MASK]);
  });

  it('iret at CPL 1 with IOPL 0 silently keeps IF and IOPL', () => {
    const f = expectDelivered(iretFrom(1, Flag.IF, [0x2000, 3, Flag.IOPL_MASK | Flag.Z, 0x5000]), 0x80, 0, 0x2004);
    expect([f.cs, f.flags]).toEqual([3, Flag.IF | Flag.Z]);
  });

  it('iret is allowed at CPL 3 to return to ring 3 (and cannot set IF there)', () => {
    const f = expectDelivered(iretFrom(3, 0, [0x2000, 3, Flag.IF, 0x5000]), 0x80, 0, 0x2004);
    expect([f.cs, f.sp, f.flags]).toEqual([3, 0x5000, 0]);
  });
});

describe('critical instructions misbehave silently at CPL > 0', () => {
  it('popf at CPL 1 (IOPL 0) loses the change to IF: the "restore interrupts" is lost, nothing traps', () => {
    const rig = trap(new Prog(BASE).li(1, Flag.IF).op(Op.PUSH, 0, 1).op(Op.POPF).op(Op.PUSHF).op(Op.POP, 2).op(Op.INT, 0, 0, 0x80), { cpl: 1, gates: { 0x80: { dpl: 3 } } });
    expect(rig.cpu.regs[2]).toBe(0);
  });

  it('popf at CPL 1 cannot clear IF either', () => {
    const rig = trap(new Prog(BASE).li(1, 0).op(Op.PUSH, 0, 1).op(Op.POPF).op(Op.PUSHF).op(Op.POP, 2).op(Op.INT, 0, 0, 0x80), { cpl: 1, flags: Flag.IF, gates: { 0x80: { dpl: 3 } } });
    expect(rig.cpu.regs[2]).toBe(Flag.IF);
  });

  it('popf at CPL 3 with IOPL 3 changes IF but silently keeps IOPL', () => {
    const rig = trap(new Prog(BASE).li(1, Flag.IF | Flag.Z).op(Op.PUSH, 0, 1).op(Op.POPF).op(Op.PUSHF).op(Op.POP, 2).op(Op.INT, 0, 0, 0x80), { cpl: 3, flags: IOPL3, gates: { 0x80: { dpl: 3 } } });
    expect(rig.cpu.regs[2]).toBe(Flag.IF | Flag.Z | IOPL3);
  });

  it('popf at CPL 0 changes IF and IOPL', () => {
    const rig = runBoth((rig) => boot(rig, new Prog(BASE).li(1, Flag.IF | Flag.IOPL_MASK | 0x100).op(Op.PUSH, 0, 1).op(Op.POPF).op(Op.CLI).op(Op.HLT)));
    expect(rig.cpu.flags).toBe(Flag.IOPL_MASK);
  });

  it('pushf at CPL 3 shows the real IF and IOPL', () => {
    const rig = trap(new Prog(BASE).op(Op.PUSHF).op(Op.POP, 2).op(Op.INT, 0, 0, 0x80), { cpl: 3, flags: Flag.IF | (2 << Flag.IOPL_SHIFT), gates: { 0x80: { dpl: 3 } } });
    expect(rig.cpu.regs[2]).toBe(Flag.IF | (2 << Flag.IOPL_SHIFT));
  });

  it('rdcpl shows the real ring: a kernel at ring 1 sees 1', () => {
    const rig = trap(new Prog(BASE).op(Op.RDCPL, 2).op(Op.INT, 0, 0, 0x80), { cpl: 1, gates: { 0x80: { dpl: 3 } } });
    expect(rig.cpu.regs[2]).toBe(1);
  });

  it('sidt shows the real IDT base at ring 3', () => {
    const rig = trap(new Prog(BASE).op(Op.SIDT, 2).op(Op.INT, 0, 0, 0x80), { cpl: 3, gates: { 0x80: { dpl: 3 } } });
    expect(rig.cpu.regs[2]).toBe(IDT);
  });
});

describe('double and triple faults', () => {
  it('a fault while delivering a fault becomes #DF (vector 8, error 0) at the faulting instruction', () => {
    const rig = trap(new Prog(BASE).op(Op.NOP).word(0), { sp: KSTACK, gates: { [Vector.InvalidOpcode]: null } });
    const f = expectDelivered(rig, Vector.DoubleFault, 0, BASE + 4);
    expect(rig.cpu.stats.doubleFaults).toBe(1);
    expect(f.sp).toBe(KSTACK);
  });

  it('a fault while delivering #DF is a triple fault: run() returns Exit.TripleFault', () => {
    const rig = trap(new Prog(BASE).word(0), { sp: KSTACK, gates: { [Vector.InvalidOpcode]: null, [Vector.DoubleFault]: null } });
    expect(rig.exit).toBe(Exit.TripleFault);
    expect(rig.cpu.pc).toBe(BASE);
    expect(rig.cpu.regs[15]).toBe(KSTACK);
  });

  it('with no IDT at all, the first fault is a triple fault', () => {
    const rig = runBoth((rig) => boot(rig, new Prog(BASE).word(0)));
    expect(rig.exit).toBe(Exit.TripleFault);
  });

  it('a #GP while delivering int n is delivered as #GP, and a fault delivering that #GP is #DF', () => {
    const rig = trap(new Prog(BASE).op(Op.INT, 0, 0, 0x90), { sp: KSTACK, gates: { 0x90: null, [Vector.GeneralProtection]: null } });
    expectDelivered(rig, Vector.DoubleFault, 0, BASE);
  });
});
