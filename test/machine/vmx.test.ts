// Non-root mode (VT-x-like): what exits and with which information, native execution of
// privileged instructions, the second translation stage and its violations, exception bitmap,
// external-interrupt and interrupt-window exiting, event injection, and transition costs.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../machine/costs.ts';
import { CR0_PG, Flag, Op, PfErr, Pte, Vector } from '../../machine/isa.ts';
import { Exit } from '../../machine/types.ts';
import { CrQual, EptQual, EventKind, Vmcs } from '../../machine/vmx.ts';
import { PageTables, Prog, boot, makeRig, runBoth, type Rig } from './cpu-harness.ts';

const P4 = getProfile('p4-2003');
/** guest-physical g lives at host-physical g + GUEST */
const GUEST = 0x100000;
const EPT = 0x300000;
const CODE = 0x1000;
const IDT = 0x3000;
const HANDLERS = 0x10000;
const STACK = 0x9000;
const IRQ = 0x20;
const handlerOf = (v: number) => HANDLERS + v * 16;

interface VmOpts {
  controls?: (vmcs: Vmcs) => void;
  /** second-stage mappings (default: guest-physical 0..1 MiB writable) */
  ept?: (ept: PageTables) => void;
  /** guest IDT with HLT handlers */
  idt?: boolean;
  flags?: number;
  setup?: (rig: Rig) => void;
}

function guestWrite(rig: Rig, gpa: number, words: number[]): void {
  words.forEach((w, k) => rig.mem.write32(GUEST + gpa + 4 * k, w));
}

function prepare(rig: Rig, prog: Prog, opts: VmOpts): void {
  const ept = new PageTables(rig.mem, EPT, EPT + 0x1000);
  if (opts.ept) opts.ept(ept);
  else for (let g = 0; g < 0x100000; g += 4096) ept.map(g, g + GUEST, Pte.W);
  guestWrite(rig, prog.base, prog.build());
  if (opts.idt) {
    for (let v = 0; v < 256; v++) {
      rig.mem.write32(GUEST + IDT + v * 8, handlerOf(v));
      rig.mem.write32(GUEST + IDT + v * 8 + 4, 1 | (3 << 1));
      guestWrite(rig, handlerOf(v), new Prog(0).op(Op.HLT).build());
    }
    rig.cpu.idtBase = IDT;
    rig.cpu.idtLimit = 256;
  }
  rig.cpu.pc = prog.base;
  rig.cpu.regs[15] = STACK;
  rig.cpu.flags = opts.flags ?? 0;
  const vmcs = new Vmcs();
  vmcs.eptRoot = EPT;
  opts.controls?.(vmcs);
  opts.setup?.(rig);
  rig.cpu.vmEntry(vmcs);
}

function guest(prog: Prog, opts: VmOpts = {}) {
  return runBoth((rig) => prepare(rig, prog, opts), 1e6, { memoryBytes: 4 << 20 });
}

describe('transitions', () => {
  it('vmEntry enters non-root mode; CPUID always exits with pc past it, and both transitions are charged', () => {
    const rig = guest(new Prog(CODE).op(Op.CPUID).op(Op.HLT));
    expect(rig.exit).toBe(Exit.Cpuid);
    expect(rig.cpu.nonRoot).toBe(false);
    expect(rig.cpu.pc).toBe(CODE + 4);
    expect([rig.cpu.exitInsnPc, rig.cpu.exitInsnLength]).toEqual([CODE, 4]);
    expect(rig.cpu.vmcs!.exitReason).toBe(Exit.Cpuid);
    expect(rig.cpu.vmcs!.exitCounts[Exit.Cpuid]).toBe(1);
    // the code fetch misses the TLB: with guest paging off only the second stage is walked (2 levels)
    expect(rig.cpu.cycles).toBe(P4.vmEntry + 2 * P4.eptWalkLevel + P4.cpuid + P4.vmExit);
    expect([rig.cpu.stats.vmEntries, rig.cpu.stats.vmExits]).toEqual([1, 1]);
  });

  it('HYPERCALL always exits in non-root mode, pc past it', () => {
    const rig = guest(new Prog(CODE).li(0, 3).op(Op.HYPERCALL).op(Op.HLT));
    expect([rig.exit, rig.cpu.pc, rig.cpu.regs[0]]).toEqual([Exit.Hypercall, CODE + 12, 3]);
  });

  it('the host resumes the guest with vmEntry after handling an exit', () => {
    const rig = makeRig({ memoryBytes: 4 << 20 });
    prepare(rig, new Prog(CODE).op(Op.CPUID).op(Op.MOV, 5, 1).op(Op.HLT), {});
    expect(rig.cpu.run(1e6)).toBe(Exit.Cpuid);
    rig.cpu.regs[1] = 1234; // the host emulates CPUID
    rig.cpu.vmEntry();
    expect(rig.cpu.run(1e6)).toBe(Exit.Halted);
    expect(rig.cpu.regs[5]).toBe(1234);
    expect(rig.cpu.nonRoot).toBe(true);
    expect(() => rig.cpu.vmEntry()).toThrow(/already in non-root/);
  });

  it('HLT exits with exitOnHlt; without it the guest halts in non-root mode', () => {
    const a = guest(new Prog(CODE).op(Op.HLT), { controls: (v) => (v.exitOnHlt = true) });
    expect([a.exit, a.cpu.pc, a.cpu.nonRoot]).toEqual([Exit.Hlt, CODE + 4, false]);
    const b = guest(new Prog(CODE).op(Op.HLT));
    expect([b.exit, b.cpu.halted, b.cpu.nonRoot]).toEqual([Exit.Halted, true, true]);
  });

  it('a triple fault in non-root mode is a VM exit', () => {
    const rig = guest(new Prog(CODE).word(0));
    expect([rig.exit, rig.cpu.nonRoot, rig.cpu.pc]).toEqual([Exit.TripleFault, false, CODE]);
  });

  it('root-mode hooks do not apply in non-root mode', () => {
    const rig = guest(new Prog(CODE).op(Op.BRK), {
      idt: true,
      setup: (r) => {
        r.cpu.interceptVector[3] = 1;
        r.cpu.hypercallExits = true;
      },
    });
    expect([rig.exit, rig.cpu.pc]).toEqual([Exit.Halted, handlerOf(3) + 4]);
  });
});

describe('privileged instructions in non-root mode', () => {
  it('run natively at guest CPL 0 when their exit controls are clear', () => {
    const rig = guest(new Prog(CODE).li(1, 0x7000).op(Op.LIDT, 0, 1, 8).op(Op.LKSP, 0, 1, 0).op(Op.MOVTOCR, 2, 1).op(Op.STI).op(Op.CLI).op(Op.INVLPG, 0, 1).op(Op.OUTB, 0, 1, 0x70).op(Op.RDCPL, 4).op(Op.HLT));
    expect(rig.exit).toBe(Exit.Halted);
    expect([rig.cpu.idtBase, rig.cpu.ksp[0], rig.cpu.cr2, rig.cpu.regs[4]]).toEqual([0x7000, 0x7000, 0x7000, 0]);
    expect(rig.bus.log).toEqual(['out 70/1=0']);
  });

  it('keep their guest privilege checks: at guest CPL 3 hlt raises #GP inside the guest', () => {
    const rig = guest(new Prog(CODE).op(Op.HLT), { idt: true, controls: (v) => (v.exitOnHlt = true), setup: (r) => ((r.cpu.cpl = 3), (r.cpu.ksp[0] = STACK)) });
    expect([rig.exit, rig.cpu.pc]).toEqual([Exit.Hlt, handlerOf(13) + 4]);
  });

  it('exitOnIo: OUT exits with port, size, direction and data, without touching the bus', () => {
    const rig = guest(new Prog(CODE).li(3, 0x1234).op(Op.OUTB, 0, 3, 0x3f8).op(Op.HLT), { controls: (v) => (v.exitOnIo = true) });
    expect(rig.exit).toBe(Exit.Io);
    expect([rig.cpu.exitPort, rig.cpu.exitSize, rig.cpu.exitIsWrite, rig.cpu.exitData, rig.cpu.exitReg]).toEqual([0x3f8, 1, true, 0x34, 3]);
    expect(rig.cpu.pc).toBe(CODE + 12);
    expect(rig.bus.log).toEqual([]);
  });

  it('exitOnIo: IN exits naming the destination register; the host completes it', () => {
    const rig = makeRig({ memoryBytes: 4 << 20 });
    prepare(rig, new Prog(CODE).li(6, 0x60).op(Op.INR, 5, 6).op(Op.ADDI, 5, 5, 1).op(Op.HLT), { controls: (v) => (v.exitOnIo = true) });
    expect(rig.cpu.run(1e6)).toBe(Exit.Io);
    expect([rig.cpu.exitPort, rig.cpu.exitSize, rig.cpu.exitIsWrite, rig.cpu.exitReg]).toEqual([0x60, 4, false, 5]);
    rig.cpu.regs[rig.cpu.exitReg] = 41;
    rig.cpu.vmEntry();
    expect(rig.cpu.run(1e6)).toBe(Exit.Halted);
    expect(rig.cpu.regs[5]).toBe(42);
  });

  it('CR access exits carry the CR number, the direction and the register', () => {
    const w = guest(new Prog(CODE).op(Op.MOVTOCR, 3, 5), { controls: (v) => (v.crWriteExits = 1 << 3) });
    expect([w.exit, w.cpu.exitQualification, w.cpu.cr3]).toEqual([Exit.CrAccess, 3 | (5 << CrQual.REG_SHIFT), 0]);
    const r = guest(new Prog(CODE).op(Op.MOVFROMCR, 7, 0), { controls: (v) => (v.crReadExits = 1 << 0) });
    expect([r.exit, r.cpu.exitQualification]).toEqual([Exit.CrAccess, 0 | CrQual.READ | (7 << CrQual.REG_SHIFT)]);
    // a write to another CR is not intercepted
    const other = guest(new Prog(CODE).li(5, 1234).op(Op.MOVTOCR, 2, 5).op(Op.HLT), { controls: (v) => (v.crWriteExits = 1 << 3) });
    expect([other.exit, other.cpu.cr2]).toEqual([Exit.Halted, 1234]);
  });

  it('INVLPG and RDTSC exit when asked; RDTSC otherwise adds the TSC offset', () => {
    const i = guest(new Prog(CODE).li(1, 0x4321).op(Op.INVLPG, 0, 1), { controls: (v) => (v.exitOnInvlpg = true) });
    expect([i.exit, i.cpu.exitGuestLinear]).toEqual([Exit.Invlpg, 0x4321]);
    const t = guest(new Prog(CODE).op(Op.RDTSC, 1, 2), { controls: (v) => (v.exitOnRdtsc = true) });
    expect(t.exit).toBe(Exit.Rdtsc);
    const o = guest(new Prog(CODE).op(Op.RDTSC, 1, 2).op(Op.HLT), { controls: (v) => (v.tscOffset = 1_000_000) });
    expect(o.cpu.regs[1]).toBe(1_000_000 + P4.vmEntry + 2 * P4.eptWalkLevel);
  });
});

describe('second-stage translation', () => {
  it('guest-physical addresses are relocated by the second stage', () => {
    const rig = guest(new Prog(CODE).li(1, 0x5000).li(2, 99).op(Op.STW, 2, 1, 0).op(Op.HLT));
    expect(rig.mem.read32(GUEST + 0x5000)).toBe(99);
    expect(rig.mem.read32(0x5000)).toBe(0);
  });

  it('an unmapped guest-physical page exits with EptViolation; after the host maps it the instruction retries', () => {
    const rig = makeRig({ memoryBytes: 4 << 20 });
    let ept: PageTables | undefined;
    prepare(rig, new Prog(CODE).li(1, 0x80000).li(2, 7).op(Op.STW, 2, 1, 4).op(Op.HLT), {
      ept: (pt) => {
        ept = pt;
        pt.map(CODE, CODE + GUEST, Pte.W);
      },
    });
    expect(rig.cpu.run(1e6)).toBe(Exit.EptViolation);
    expect([rig.cpu.pc, rig.cpu.exitGuestPhys, rig.cpu.exitGuestLinear]).toEqual([CODE + 16, 0x80004, 0x80004]);
    expect(rig.cpu.exitQualification).toBe(EptQual.Write | EptQual.LinearValid | EptQual.FinalPage);
    ept!.map(0x80000, 0x280000, Pte.W);
    rig.cpu.vmEntry();
    expect(rig.cpu.run(1e6)).toBe(Exit.Halted);
    expect(rig.mem.read32(0x280004)).toBe(7);
  });

  it('a write through a read-only second-stage entry is an EPT violation (Write | Readable)', () => {
    const rig = guest(new Prog(CODE).li(1, 0x6000).op(Op.LDW, 3, 1, 0).op(Op.STW, 3, 1, 0), {
      ept: (pt) => {
        pt.map(CODE, CODE + GUEST, Pte.W);
        pt.map(0x6000, 0x6000 + GUEST, 0);
      },
      setup: (r) => r.mem.write32(GUEST + 0x6000, 5),
    });
    expect([rig.exit, rig.cpu.regs[3], rig.cpu.pc]).toEqual([Exit.EptViolation, 5, CODE + 12]);
    expect(rig.cpu.exitQualification).toBe(EptQual.Write | EptQual.Readable | EptQual.LinearValid | EptQual.FinalPage);
  });

  it('a fetch from an unmapped guest-physical page reports Fetch', () => {
    const rig = guest(new Prog(CODE).li(1, 0x7000).op(Op.JMPR, 0, 1), { ept: (pt) => pt.map(CODE, CODE + GUEST, Pte.W) });
    expect([rig.exit, rig.cpu.pc, rig.cpu.exitGuestPhys]).toEqual([Exit.EptViolation, 0x7000, 0x7000]);
    expect(rig.cpu.exitQualification & 7).toBe(EptQual.Fetch);
  });

  /** guest paging on: directory at guest-physical 0x20000, tables from 0x21000, low 72 KiB identity-mapped */
  function pagedGuest(prog: Prog, opts: VmOpts & { guestPt?: (map: (va: number, gpa: number, flags: number) => void) => void } = {}) {
    return guest(prog, {
      ...opts,
      setup: (r) => {
        const dir = 0x20000;
        let next = 0x21000;
        r.mem.fill(GUEST + dir, 4096, 0);
        const map = (va: number, gpa: number, flags: number) => {
          const pdeAddr = GUEST + dir + (va >>> 22) * 4;
          let pde = r.mem.read32(pdeAddr);
          if ((pde & Pte.P) === 0) {
            r.mem.fill(GUEST + next, 4096, 0);
            pde = next | Pte.P | Pte.W | Pte.U;
            next += 4096;
            r.mem.write32(pdeAddr, pde);
          }
          r.mem.write32(GUEST + ((pde & Pte.FRAME_MASK) >>> 0) + ((va >>> 12) & 0x3ff) * 4, ((gpa & Pte.FRAME_MASK) | flags | Pte.P) >>> 0);
        };
        for (let a = 0; a < 0x12000; a += 4096) map(a, a, Pte.W);
        opts.guestPt?.(map);
        r.cpu.cr3 = dir;
        r.cpu.cr0 = CR0_PG;
        opts.setup?.(r);
      },
    });
  }

  it('with guest paging on, a TLB miss costs 2 guest levels and 6 second-stage levels', () => {
    const run = (va: number) => pagedGuest(new Prog(CODE).li(1, va).op(Op.LDW, 2, 1, 0).op(Op.HLT), { guestPt: (map) => map(0x400000, 0x50000, Pte.W) }).cpu.cycles;
    expect(run(0x400000) - run(CODE)).toBe(2 * P4.tlbWalkLevel + 6 * P4.eptWalkLevel);
  });

  it('guest page walks go through the second stage: a guest page table outside it exits (FinalPage clear)', () => {
    const rig = pagedGuest(new Prog(CODE).li(1, 0x400000).op(Op.LDW, 2, 1, 0), {
      guestPt: (map) => map(0x400000, 0x50000, Pte.W),
      ept: (e) => {
        for (let g = 0; g < 0x12000; g += 4096) e.map(g, g + GUEST, Pte.W);
        e.map(0x20000, 0x20000 + GUEST, Pte.W);
        // the page table for 0x400000 (the second one allocated, at guest-physical 0x22000) is not mapped
        e.map(0x21000, 0x21000 + GUEST, Pte.W);
        e.map(0x50000, 0x50000 + GUEST, Pte.W);
      },
    });
    expect([rig.exit, rig.cpu.exitGuestPhys, rig.cpu.exitGuestLinear]).toEqual([Exit.EptViolation, 0x22000 + 4 * 0, 0x400000]);
    expect(rig.cpu.exitQualification).toBe(EptQual.Read | EptQual.LinearValid);
  });

  it('a guest page fault is delivered inside the guest without an exit', () => {
    const rig = pagedGuest(new Prog(CODE).li(1, 0x800000).op(Op.LDW, 2, 1, 0), { idt: true, setup: (r) => (r.cpu.regs[15] = STACK) });
    expect([rig.exit, rig.cpu.pc, rig.cpu.cr2]).toEqual([Exit.Halted, handlerOf(14) + 4, 0x800000]);
  });

  it('a #PF in the exception bitmap exits with the address as qualification and leaves CR2 alone', () => {
    const rig = pagedGuest(new Prog(CODE).li(1, 0x800000).op(Op.STW, 2, 1, 0), { controls: (v) => (v.exceptionBitmap = 1 << Vector.PageFault) });
    expect([rig.exit, rig.cpu.exitVector, rig.cpu.exitError, rig.cpu.exitQualification, rig.cpu.cr2, rig.cpu.pc]).toEqual([
      Exit.Exception,
      Vector.PageFault,
      PfErr.Write,
      0x800000,
      0,
      CODE + 8,
    ]);
  });
});

describe('exceptions and interrupts in non-root mode', () => {
  it('an exception in the bitmap exits; one not in it is delivered through the guest IDT', () => {
    const a = guest(new Prog(CODE).word(0), { idt: true, controls: (v) => (v.exceptionBitmap = 1 << Vector.InvalidOpcode) });
    expect([a.exit, a.cpu.exitVector, a.cpu.exitKind, a.cpu.pc]).toEqual([Exit.Exception, Vector.InvalidOpcode, EventKind.Fault, CODE]);
    const b = guest(new Prog(CODE).word(0), { idt: true });
    expect([b.exit, b.cpu.pc]).toEqual([Exit.Halted, handlerOf(6) + 4]);
    expect(b.mem.read32(GUEST + b.cpu.regs[15]! + 8), 'saved pc in the guest frame').toBe(CODE);
  });

  it('external-interrupt exiting exits even with guest IF = 0, without acknowledging', () => {
    const rig = guest(new Prog(CODE).op(Op.NOP).op(Op.HLT), { controls: (v) => (v.exitOnExternalInterrupt = true), setup: (r) => r.pic.raise(IRQ) });
    expect([rig.exit, rig.cpu.exitVector, rig.pic.acks, rig.cpu.pc]).toEqual([Exit.ExternalInterrupt, IRQ, 0, CODE]);
  });

  it('without it an interrupt is delivered to the guest when its IF = 1', () => {
    const rig = guest(new Prog(CODE).op(Op.STI).op(Op.NOP).op(Op.HLT), { idt: true, setup: (r) => r.pic.raise(IRQ) });
    expect([rig.exit, rig.cpu.pc, rig.pic.acks]).toEqual([Exit.Halted, handlerOf(IRQ) + 4, 1]);
  });

  it('interrupt-window exiting exits at the first boundary where the guest has IF = 1', () => {
    const rig = guest(new Prog(CODE).op(Op.NOP).op(Op.STI).op(Op.NOP).op(Op.HLT), { controls: (v) => (v.interruptWindowExiting = true) });
    expect([rig.exit, rig.cpu.pc]).toEqual([Exit.InterruptWindow, CODE + 8]);
  });

  it('an event set for injection is delivered through the guest IDT on entry', () => {
    const rig = guest(new Prog(CODE).op(Op.NOP).op(Op.HLT), {
      idt: true,
      controls: (v) => {
        v.injectVector = 0x41;
        v.injectKind = EventKind.External;
      },
    });
    expect([rig.exit, rig.cpu.pc, rig.cpu.vmcs!.injectVector]).toEqual([Exit.Halted, handlerOf(0x41) + 4, -1]);
  });

  it('an EPT violation while delivering an event reports it as IDT vectoring', () => {
    const rig = guest(new Prog(CODE).op(Op.BRK), {
      idt: true,
      ept: (e) => {
        for (let g = 0; g < 0x12000; g += 4096) if (g !== 0x8000) e.map(g, g + GUEST, Pte.W);
      },
    });
    expect([rig.exit, rig.cpu.exitGuestPhys, rig.cpu.exitIdtVectoring, rig.cpu.exitIdtVectoringKind]).toEqual([Exit.EptViolation, STACK - 24, 3, EventKind.Trap]);
    expect(rig.cpu.vmcs!.idtVectoring).toBe(3);
  });

  it("the IDT vectoring is the event whose delivery faulted last: the #GP an INT n past the IDT's limit raised, not the INT", () => {
    const rig = guest(new Prog(CODE).op(Op.INT, 0, 0, 0x41), {
      idt: true,
      setup: (r) => (r.cpu.idtLimit = 0x20),
      ept: (e) => {
        for (let g = 0; g < 0x12000; g += 4096) if (g !== 0x8000) e.map(g, g + GUEST, Pte.W);
      },
    });
    expect([rig.exit, rig.cpu.exitGuestPhys, rig.cpu.exitIdtVectoring, rig.cpu.exitIdtVectoringKind]).toEqual([Exit.EptViolation, STACK - 24, Vector.GeneralProtection, EventKind.Fault]);
    expect([rig.cpu.exitIdtVectoringError, rig.cpu.exitInsnPc, rig.cpu.pc]).toEqual([0x41 * 8 + 2, CODE, CODE]);
  });

  it('a software interrupt injected with its instruction length saves the next pc; a fault in its delivery saves its own', () => {
    const inject = (v: Vmcs): void => {
      v.injectVector = 0x41;
      v.injectKind = EventKind.Software;
      v.injectInsnLength = 4;
    };
    const ok = guest(new Prog(CODE).op(Op.INT, 0, 0, 0x41).op(Op.HLT), { idt: true, controls: inject });
    expect([ok.exit, ok.cpu.pc, ok.cpu.vmcs!.injectInsnLength]).toEqual([Exit.Halted, handlerOf(0x41) + 4, 0]);
    expect(ok.mem.read32(GUEST + ok.cpu.regs[15]! + 8), 'saved pc in the guest frame').toBe(CODE + 4);
    // past the IDT's limit: the #GP's frame saves the INT's own pc
    const gp = guest(new Prog(CODE).op(Op.INT, 0, 0, 0x41).op(Op.HLT), { idt: true, controls: inject, setup: (r) => (r.cpu.idtLimit = 0x20) });
    expect([gp.exit, gp.cpu.pc]).toEqual([Exit.Halted, handlerOf(Vector.GeneralProtection) + 4]);
    expect(gp.mem.read32(GUEST + gp.cpu.regs[15]! + 8), 'saved pc in the guest frame').toBe(CODE);
  });

  it('VM entry and exit flush the TLB', () => {
    const rig = guest(new Prog(CODE).op(Op.CPUID));
    expect(rig.cpu.stats.tlbFlushes).toBe(2);
  });
});

describe('state snapshots', () => {
  it('saveState / loadState round-trips the architectural state', () => {
    const rig = makeRig();
    rig.cpu.regs[3] = -5;
    rig.cpu.pc = 0x1234;
    rig.cpu.flags = Flag.IF | Flag.Z;
    rig.cpu.cpl = 1;
    rig.cpu.cr3 = 0x5000;
    rig.cpu.ksp[1] = 0x7000;
    rig.cpu.cycles = 99;
    const s = rig.cpu.saveState();
    const other = makeRig();
    other.cpu.loadState(s);
    expect(other.cpu.saveState()).toEqual(s);
  });
});


describe('VPID (a tagged TLB, on a profile whose CPU has one)', () => {
  /** a load from guest page 0x5000, CPUID (an exit), then the same load again after re-entry */
  function loadExitLoad(vpid: number, rootFill: boolean): { misses: number; flushes: number } {
    const rig = makeRig({ profile: 'modern', memoryBytes: 4 << 20 });
    const prog = new Prog(CODE).li(1, 0x5000).op(Op.LDW, 2, 1, 0).op(Op.CPUID).op(Op.LDW, 2, 1, 0).op(Op.CPUID);
    prepare(rig, prog, { controls: (v) => (v.vpid = vpid) });
    expect(rig.cpu.run(1e6)).toBe(Exit.Cpuid);
    const misses0 = rig.cpu.stats.tlbMisses;
    const flushes0 = rig.cpu.stats.tlbFlushes;
    // root mode fills a translation of its own (paging off: identity) before the next entry
    if (rootFill) {
      const root = new Prog(0x2000).op(Op.LDW, 3, 0, 0x40).op(Op.HLT);
      root.load(rig.mem);
      const pc = rig.cpu.pc;
      rig.cpu.pc = 0x2000;
      expect(rig.cpu.run(1e6)).toBe(Exit.Halted);
      rig.cpu.halted = false;
      rig.cpu.pc = pc;
    }
    rig.cpu.vmEntry();
    expect(rig.cpu.run(1e6)).toBe(Exit.Cpuid);
    return { misses: rig.cpu.stats.tlbMisses - misses0, flushes: rig.cpu.stats.tlbFlushes - flushes0 };
  }

  it('a tagged guest keeps its code and data translations across an exit and an entry', () => {
    expect(getProfile('modern').vpid).toBe(true);
    expect(loadExitLoad(1, false)).toEqual({ misses: 0, flushes: 0 });
  });

  it('untagged (vpid 0), the exit and the entry flush: the code and data pages are walked again', () => {
    expect(loadExitLoad(0, false)).toEqual({ misses: 2, flushes: 2 });
  });

  it("a root-mode fill is tagged root's: the tagged guest's entries stay (hidden), and the guest walks nothing again", () => {
    const r = loadExitLoad(1, true);
    // root: its code page and its data page, under tag 0 (the guest's entries hidden, not
    // dropped); the entry hides root's and brings the guest's back: no flush, no guest walk
    expect(r).toEqual({ misses: 2, flushes: 0 });
  });
});

describe('pause-loop exiting', () => {
  // `top: pause; jmp top` - a spin loop's turn is PAUSE + a taken jump
  const spin = () => new Prog(CODE).label('top').op(Op.PAUSE).jmp('top');
  const turn = P4.pause + P4.branchTaken;
  const ple = (v: Vmcs) => {
    v.pauseLoopExiting = true;
    v.pleGap = 128;
    v.pleWindow = 4096;
  };
  /** the first PAUSE runs after the entry and the code fetch's second-stage walk */
  const t0 = P4.vmEntry + 2 * P4.eptWalkLevel;

  it('a PAUSE more than PLE_Window cycles into its loop exits with reason 40, pc past it; the loop began at the first PAUSE', () => {
    const rig = guest(spin(), { controls: ple });
    // PAUSE k runs at t0 + k * turn; the first with k * turn > 4096 exits
    const k = Math.floor(4096 / turn) + 1;
    expect(k).toBe(342);
    expect(rig.exit).toBe(Exit.Pause);
    expect([rig.cpu.pc, rig.cpu.exitInsnPc, rig.cpu.exitInsnLength]).toEqual([CODE + 4, CODE, 4]);
    expect(rig.cpu.instructions).toBe(2 * k + 1);
    expect(rig.cpu.cycles).toBe(t0 + k * turn + P4.pause + P4.vmExit);
    expect(rig.cpu.vmcs!.exitCounts[Exit.Pause]).toBe(1);
  });

  it('the first PAUSE after the next entry begins a new loop: the same spin exits again a window later', () => {
    const rig = guest(spin(), { controls: ple });
    const first = rig.cpu.instructions;
    rig.cpu.vmEntry();
    expect(rig.cpu.run(1e6)).toBe(Exit.Pause);
    // it resumes at the JMP: one turn more than from the loop's top
    expect(rig.cpu.instructions - first).toBe(2 * 342 + 1 + 1);
    expect(rig.cpu.vmcs!.exitCounts[Exit.Pause]).toBe(2);
  });

  it('PAUSEs farther apart than PLE_Gap each begin a loop: never an exit', () => {
    // three divides between PAUSEs: 3 x 56 cycles > 128
    const slow = new Prog(CODE).li(1, 7).li(2, 3).label('top').op(Op.PAUSE).op(Op.DIV, 3, 1, 2).op(Op.DIV, 3, 1, 2).op(Op.DIV, 3, 1, 2).jmp('top');
    const rig = guest(slow, { controls: ple });
    expect(rig.exit).toBe(Exit.Deadline);
    expect(rig.cpu.vmcs!.exitCounts[Exit.Pause]).toBe(0);
  });

  it('without the control, or at CPL 3, the spin never exits: PAUSE is a delay of the profile pause cycles', () => {
    const off = guest(spin());
    expect(off.exit).toBe(Exit.Deadline);
    expect(off.cpu.vmcs!.exitCounts[Exit.Pause]).toBe(0);
    const user = guest(spin(), { controls: ple, setup: (rig) => (rig.cpu.cpl = 3) });
    expect(user.exit).toBe(Exit.Deadline);
    // root mode, paging off: the bare machine's PAUSE, 84 turns of exactly PAUSE + JMP to the deadline's block boundary
    const bare = runBoth((rig) => boot(rig, spin()), 1000);
    expect([bare.exit, bare.cpu.instructions, bare.cpu.cycles]).toEqual([Exit.Deadline, 2 * 84, 84 * turn]);
  });
});
