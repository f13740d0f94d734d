// External interrupts, HLT, deadlines and stop requests, and the root-mode hooks a hypervisor
// uses (intercepted vectors and external interrupts, hypercall exits, host-injected traps).

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../machine/costs.ts';
import { Cond, Flag, Op, Vector } from '../../machine/isa.ts';
import { Exit } from '../../machine/types.ts';
import { EventKind } from '../../machine/vmx.ts';
import { Prog, boot, frameAt, makeRig, runBoth, setGate, type Rig } from './cpu-harness.ts';

const BASE = 0x1000;
const IDT = 0x3000;
const HANDLERS = 0x10000;
const KSTACK = 0x9000;
const IRQ = 0x20;
const handlerOf = (v: number) => HANDLERS + v * 16;
const P4 = getProfile('p4-2003');

function withIdt(rig: Rig): void {
  for (let v = 0; v < 256; v++) {
    setGate(rig.mem, IDT, v, handlerOf(v), { dpl: 3 });
    rig.mem.write32(handlerOf(v), new Prog(0).op(Op.HLT).build()[0]!);
  }
  rig.cpu.idtBase = IDT;
  rig.cpu.idtLimit = 256;
  rig.cpu.ksp[0] = KSTACK;
}

function irqRun(prog: Prog, opts: { flags?: number; cpl?: number; raise?: boolean; setup?: (rig: Rig) => void } = {}) {
  return runBoth((rig) => {
    withIdt(rig);
    boot(rig, prog, KSTACK);
    rig.cpu.flags = opts.flags ?? 0;
    rig.cpu.cpl = opts.cpl ?? 0;
    if (opts.raise ?? true) rig.pic.raise(IRQ);
    opts.setup?.(rig);
  });
}

function expectIrqAt(rig: Rig & { exit: number }, savedPc: number): void {
  expect(rig.cpu.pc, 'in the IRQ handler').toBe(handlerOf(IRQ) + 4);
  const f = frameAt(rig.mem, rig.cpu.regs[15]!);
  expect(f.vector).toBe(IRQ);
  expect(f.pc).toBe(savedPc);
  expect(rig.pic.acks).toBe(1);
}

describe('external interrupts', () => {
  it('with IF = 1 a pending interrupt is taken at the start of run()', () => {
    const rig = irqRun(new Prog(BASE).op(Op.NOP).op(Op.HLT), { flags: Flag.IF });
    expectIrqAt(rig, BASE);
    expect(rig.cpu.flags & Flag.IF).toBe(0);
  });

  it('IF = 0 holds the interrupt; sti delivers it at the boundary right after the sti', () => {
    const rig = irqRun(new Prog(BASE).op(Op.NOP).op(Op.NOP).op(Op.STI).op(Op.NOP).op(Op.HLT));
    expectIrqAt(rig, BASE + 12);
    expect(frameAt(rig.mem, rig.cpu.regs[15]!).flags).toBe(Flag.IF);
  });

  it('an interrupt that is never enabled is never taken', () => {
    const rig = irqRun(new Prog(BASE).li(1, 0).label('l').op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 100).j(Cond.LT, 'l').op(Op.HLT));
    expect(rig.exit).toBe(Exit.Halted);
    expect(rig.cpu.pc).toBe(BASE + 28);
    expect(rig.pic.acks).toBe(0);
  });

  it('an interrupt raised mid-block waits for the next block boundary', () => {
    // `in` makes the device raise its line; in is not a boundary, the jmp is
    const rig = irqRun(new Prog(BASE).op(Op.IN, 1, 0, 0x60).op(Op.ADDI, 2, 2, 1).op(Op.ADDI, 2, 2, 1).jmp('t').op(Op.NOP).label('t').op(Op.HLT), {
      flags: Flag.IF,
      raise: false,
      setup: (rig) => {
        const read = rig.bus.read.bind(rig.bus);
        rig.bus.read = (port, size) => {
          rig.pic.raise(IRQ);
          return read(port, size);
        };
      },
    });
    expect(rig.cpu.regs[2]).toBe(2);
    expectIrqAt(rig, BASE + 24);
  });

  it('out is a boundary: an interrupt its device raises is taken right after it', () => {
    const rig = irqRun(new Prog(BASE).op(Op.OUT, 0, 1, 0x60).op(Op.NOP).op(Op.HLT), {
      flags: Flag.IF,
      raise: false,
      setup: (rig) => (rig.bus.onWrite = () => rig.pic.raise(IRQ)),
    });
    expectIrqAt(rig, BASE + 4);
  });

  it('cli holds the interrupt; popf restoring IF delivers it right after the popf', () => {
    const rig = irqRun(new Prog(BASE).op(Op.PUSHF).op(Op.CLI).op(Op.OUT, 0, 1, 0x60).jmp('x').label('x').op(Op.POPF).op(Op.NOP).op(Op.HLT), {
      flags: Flag.IF,
      raise: false,
      setup: (r) => (r.bus.onWrite = () => r.pic.raise(IRQ)),
    });
    expectIrqAt(rig, BASE + 24);
  });

  it('iret re-enabling IF delivers a pending interrupt right after the iret', () => {
    const p = new Prog(BASE).op(Op.BRK).op(Op.NOP).op(Op.HLT);
    p.padTo(0x1100).op(Op.OUT, 0, 1, 0x60).op(Op.ADDI, 15, 15, 8).op(Op.IRET);
    const rig = irqRun(p, {
      flags: Flag.IF,
      raise: false,
      setup: (r) => {
        setGate(r.mem, IDT, Vector.Breakpoint, 0x1100);
        r.bus.onWrite = () => r.pic.raise(IRQ);
      },
    });
    expectIrqAt(rig, BASE + 4);
  });

  it('hlt stops with Exit.Halted; the interrupt that wakes it saves the pc after the hlt', () => {
    const rig = makeRig();
    withIdt(rig);
    boot(rig, new Prog(BASE).op(Op.NOP).op(Op.HLT).op(Op.NOP), KSTACK);
    rig.cpu.flags = Flag.IF;
    expect(rig.cpu.run(1e6)).toBe(Exit.Halted);
    expect(rig.cpu.halted).toBe(true);
    expect(rig.cpu.pc).toBe(BASE + 8);
    // nothing pending: still halted
    expect(rig.cpu.run(1e6)).toBe(Exit.Halted);
    rig.pic.raise(IRQ);
    expect(rig.cpu.run(1e6)).toBe(Exit.Halted); // the handler's own hlt
    expect(rig.cpu.pc).toBe(handlerOf(IRQ) + 4);
    expect(frameAt(rig.mem, rig.cpu.regs[15]!).pc).toBe(BASE + 8);
  });

  it('delivery costs trapEntry cycles', () => {
    const a = irqRun(new Prog(BASE).op(Op.HLT), { flags: Flag.IF });
    const b = irqRun(new Prog(BASE).op(Op.HLT), { flags: Flag.IF, raise: false });
    // a: delivery + handler hlt; b: hlt
    expect(a.cpu.cycles - b.cpu.cycles).toBe(P4.trapEntry);
  });
});

describe('deadlines and stop requests', () => {
  const spin = () => new Prog(BASE).li(1, 0).label('l').op(Op.ADDI, 1, 1, 1).jmp('l');

  it('run(deadline) returns Exit.Deadline at the first block boundary at or past the deadline', () => {
    const rig = runBoth((rig) => boot(rig, spin()), 1000);
    expect(rig.exit).toBe(Exit.Deadline);
    expect(rig.cpu.cycles).toBeGreaterThanOrEqual(1000);
    expect(rig.cpu.cycles).toBeLessThan(1000 + 3);
  });

  it('slicing a run at arbitrary deadlines gives exactly the same state as one long run', () => {
    const prog = () => new Prog(BASE).li(1, 0).li(3, 7).label('l').op(Op.ADDI, 1, 1, 1).op(Op.MUL, 3, 3, 1).op(Op.DIVU, 4, 3, 1).op(Op.CMPI, 0, 1, 500).j(Cond.LT, 'l').op(Op.HLT);
    const one = makeRig();
    boot(one, prog());
    expect(one.cpu.run(1e9)).toBe(Exit.Halted);
    const sliced = makeRig();
    boot(sliced, prog());
    let exit: number;
    let deadline = 0;
    do {
      deadline += 37;
      exit = sliced.cpu.run(deadline);
    } while (exit === Exit.Deadline);
    expect(exit).toBe(Exit.Halted);
    expect(sliced.cpu.saveState()).toEqual(one.cpu.saveState());
  });

  it('shortenDeadline from a device callback (an event scheduled mid-run) ends the run on time', () => {
    const rig = runBoth((rig) => {
      boot(rig, new Prog(BASE).op(Op.OUT, 0, 1, 0x40).label('l').op(Op.ADDI, 1, 1, 1).jmp('l'));
      rig.bus.onWrite = () => rig.cpu.shortenDeadline(rig.cpu.cycles + 5000);
    }, 1e9);
    expect(rig.exit).toBe(Exit.Deadline);
    expect(rig.cpu.cycles).toBeGreaterThanOrEqual(P4.ioPort + 5000);
    expect(rig.cpu.cycles).toBeLessThan(P4.ioPort + 5003);
  });

  it('requestStop makes run() return Exit.Stopped at the next boundary', () => {
    const rig = runBoth((rig) => {
      boot(rig, new Prog(BASE).op(Op.OUT, 0, 1, 0x501).op(Op.NOP).op(Op.HLT));
      rig.bus.onWrite = () => rig.cpu.requestStop();
    });
    expect(rig.exit).toBe(Exit.Stopped);
    expect(rig.cpu.pc).toBe(BASE + 4);
  });
});

describe('monitor stops (exact breakpoints and single steps)', () => {
  // a straight run of code: one block from BASE to the jump
  const prog = () => new Prog(BASE).li(1, 0).label('l').op(Op.ADDI, 1, 1, 1).op(Op.ADDI, 2, 2, 3).op(Op.ADDI, 3, 3, 5).op(Op.CMPI, 0, 1, 4).j(Cond.LT, 'l').op(Op.HLT);

  it('stops before the instruction at a breakpoint inside a block, passes it once armed past, and steps one instruction', () => {
    const plain = makeRig();
    boot(plain, prog());
    expect(plain.cpu.run(1e9)).toBe(Exit.Halted);
    const rig = makeRig();
    boot(rig, prog());
    const bp = prog().addr('l') + 8; // the third ADDI of the loop body, mid-block
    rig.cpu.monitorStop = true;
    rig.cpu.breakPcs = new Set([bp]);
    expect(rig.cpu.run(1e9)).toBe(Exit.Stopped);
    expect([rig.cpu.monitorStopped, rig.cpu.pc, rig.cpu.instructions, rig.cpu.regs[1], rig.cpu.regs[3]]).toEqual([true, bp, 3, 1, 0]);
    // one instruction: stopAtInstruction, with the breakpoint left
    rig.cpu.monitorStopped = false;
    rig.cpu.breakArmedAt = rig.cpu.instructions + 1;
    rig.cpu.stopAtInstruction = rig.cpu.instructions + 1;
    expect(rig.cpu.run(1e9)).toBe(Exit.Stopped);
    expect([rig.cpu.pc, rig.cpu.instructions, rig.cpu.regs[3]]).toEqual([bp + 4, 4, 5]);
    // on: the loop comes round to the breakpoint again
    rig.cpu.stopAtInstruction = Infinity;
    expect(rig.cpu.run(1e9)).toBe(Exit.Stopped);
    expect([rig.cpu.pc, rig.cpu.instructions, rig.cpu.regs[1]]).toEqual([bp, 8, 2]);
    // disarmed: the rest runs to the same state (cycles included) as the run that never stopped
    rig.cpu.monitorStop = false;
    rig.cpu.breakPcs = null;
    expect(rig.cpu.run(1e9)).toBe(Exit.Halted);
    expect(rig.cpu.saveState()).toEqual(plain.cpu.saveState());
  });
});

describe('root-mode hooks', () => {
  function hooked(prog: Prog, opts: { cpl?: number; flags?: number; setup?: (rig: Rig) => void } = {}) {
    return runBoth((rig) => {
      withIdt(rig);
      boot(rig, prog, 0x7000);
      rig.cpu.cpl = opts.cpl ?? 0;
      rig.cpu.flags = opts.flags ?? 0;
      opts.setup?.(rig);
    });
  }

  it('an intercepted #GP returns Exit.Exception with vector, error and the faulting pc, pushing nothing', () => {
    const rig = hooked(new Prog(BASE).op(Op.NOP).op(Op.HLT), { cpl: 1, setup: (r) => (r.cpu.interceptVector[Vector.GeneralProtection] = 1) });
    expect(rig.exit).toBe(Exit.Exception);
    expect([rig.cpu.exitVector, rig.cpu.exitError, rig.cpu.exitKind]).toEqual([Vector.GeneralProtection, 0, EventKind.Fault]);
    expect(rig.cpu.pc).toBe(BASE + 4);
    expect(rig.cpu.cpl).toBe(1);
    expect(rig.cpu.regs[15]).toBe(0x7000);
    expect(rig.cpu.stats.intercepts).toBe(1);
  });

  it('an intercepted int n leaves pc past it (kind Software), before any DPL check', () => {
    const rig = hooked(new Prog(BASE).op(Op.INT, 0, 0, 0x82), {
      cpl: 3,
      setup: (r) => {
        r.cpu.interceptVector[0x82] = 1;
        setGate(r.mem, IDT, 0x82, 0, { dpl: 0 });
      },
    });
    expect(rig.exit).toBe(Exit.Exception);
    expect([rig.cpu.exitVector, rig.cpu.exitKind, rig.cpu.pc]).toEqual([0x82, EventKind.Software, BASE + 4]);
  });

  it('an intercepted brk leaves pc past it (kind Trap)', () => {
    const rig = hooked(new Prog(BASE).op(Op.BRK), { setup: (r) => (r.cpu.interceptVector[3] = 1) });
    expect([rig.exit, rig.cpu.exitVector, rig.cpu.exitKind, rig.cpu.pc]).toEqual([Exit.Exception, 3, EventKind.Trap, BASE + 4]);
  });

  it('a fault intercepted while delivering another event reports that event (IDT vectoring)', () => {
    const rig = hooked(new Prog(BASE).op(Op.INT, 0, 0, 0x80), {
      cpl: 3,
      setup: (r) => {
        r.cpu.interceptVector[Vector.GeneralProtection] = 1;
        r.mem.write32(IDT + 0x80 * 8 + 4, 0);
      },
    });
    expect([rig.exit, rig.cpu.exitVector, rig.cpu.exitError, rig.cpu.pc]).toEqual([Exit.Exception, 13, 0x80 * 8 + 2, BASE]);
    expect([rig.cpu.exitIdtVectoring, rig.cpu.exitIdtVectoringKind]).toEqual([0x80, EventKind.Software]);
  });

  it('an intercept costs trapEntry; returnFromIntercept charges an iret', () => {
    const rig = hooked(new Prog(BASE).op(Op.BRK), { setup: (r) => (r.cpu.interceptVector[3] = 1) });
    expect(rig.cpu.cycles).toBe(P4.alu + P4.trapEntry);
    rig.cpu.returnFromIntercept();
    expect(rig.cpu.cycles).toBe(P4.alu + P4.trapEntry + P4.iret);
  });

  it('interceptExternalInterrupts returns Exit.ExternalInterrupt without acknowledging', () => {
    const rig = hooked(new Prog(BASE).op(Op.HLT), {
      flags: Flag.IF,
      setup: (r) => {
        r.cpu.interceptExternalInterrupts = true;
        r.pic.raise(IRQ);
      },
    });
    expect([rig.exit, rig.cpu.exitVector, rig.cpu.exitKind, rig.pic.acks, rig.pic.requested.length]).toEqual([Exit.ExternalInterrupt, IRQ, EventKind.External, 0, 1]);
    expect(rig.cpu.pc).toBe(BASE);
  });

  it('interceptVector on an interrupt vector also exits unacknowledged; other vectors are delivered', () => {
    const rig = hooked(new Prog(BASE).op(Op.HLT), {
      flags: Flag.IF,
      setup: (r) => {
        r.cpu.interceptVector[IRQ] = 1;
        r.pic.raise(IRQ);
      },
    });
    expect([rig.exit, rig.pic.acks]).toEqual([Exit.ExternalInterrupt, 0]);
    const rig2 = hooked(new Prog(BASE).op(Op.HLT), {
      flags: Flag.IF,
      setup: (r) => {
        r.cpu.interceptVector[IRQ + 1] = 1;
        r.pic.raise(IRQ);
      },
    });
    expect(rig2.pic.acks).toBe(1);
  });

  it('hypercallExits: Exit.Hypercall with pc past it; hypercallReturn sets r0 and charges the return', () => {
    const rig = hooked(new Prog(BASE).li(0, 17).op(Op.HYPERCALL).op(Op.HLT), { cpl: 1, setup: (r) => (r.cpu.hypercallExits = true) });
    expect([rig.exit, rig.cpu.pc, rig.cpu.regs[0], rig.cpu.stats.hypercalls]).toEqual([Exit.Hypercall, BASE + 12, 17, 1]);
    expect(rig.cpu.cycles).toBe(2 * P4.alu + P4.hypercallEntry);
    rig.cpu.hypercallReturn(-22);
    expect(rig.cpu.regs[0]).toBe(-22);
    expect(rig.cpu.cycles).toBe(2 * P4.alu + P4.hypercallEntry + P4.hypercallExit);
  });

  it('deliverTrap injects an event through the IDT with the current pc saved', () => {
    const rig = makeRig();
    withIdt(rig);
    boot(rig, new Prog(BASE).op(Op.NOP), 0x7000);
    rig.cpu.cpl = 3;
    rig.cpu.flags = Flag.IF;
    expect(rig.cpu.deliverTrap(Vector.PageFault, 6)).toBe(-1);
    expect([rig.cpu.cpl, rig.cpu.pc, rig.cpu.regs[15], rig.cpu.flags]).toEqual([0, handlerOf(14), KSTACK - 24, 0]);
    expect(frameAt(rig.mem, KSTACK - 24)).toEqual({ vector: 14, error: 6, pc: BASE, cs: 3, flags: Flag.IF, sp: 0x7000 });
  });

  it('deliverTrap through a missing gate escalates like hardware (here to a triple fault)', () => {
    const rig = makeRig();
    boot(rig, new Prog(BASE).op(Op.NOP));
    expect(rig.cpu.deliverTrap(Vector.PageFault, 0)).toBe(Exit.TripleFault);
  });
});
