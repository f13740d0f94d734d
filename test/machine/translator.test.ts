// The translator (machine/translator.ts): hot code compiled to JavaScript must be cycle-exact with
// the interpreter. Each program here runs under the interpreter and under the translator (every
// entry translated the first time it is reached, or with the limits a test sets) and the whole
// outcome must agree: state, cycles, instructions, memory, port traffic; then the mechanism the
// test is about is pinned through the translator's counters.

import { describe, expect, it } from 'vitest';
import { Cond, Flag, Op, Pte, Vector, encode } from '../../machine/isa.ts';
import { parseEngine, type TranslatorLimits } from '../../machine/translator.ts';
import { Exit } from '../../machine/types.ts';
import { PageTables, Prog, boot, frameAt, makeRig, runBoth, setGate, type Rig } from './cpu-harness.ts';

const BASE = 0x1000;
const IDT = 0x3000;
const HANDLERS = 0x10000;
const KSTACK = 0x9000;
const handlerOf = (v: number) => HANDLERS + v * 16;

/** IDT with every vector present; each handler is HLT. */
function withIdt(rig: Rig): void {
  for (let v = 0; v < 256; v++) {
    setGate(rig.mem, IDT, v, handlerOf(v));
    rig.mem.write32(handlerOf(v), encode(Op.HLT, 0, 0, 0));
  }
  rig.cpu.idtBase = IDT;
  rig.cpu.idtLimit = 256;
  rig.cpu.ksp[0] = KSTACK;
}

/** Paging on (tables at 0x20000 and 0x21000, the first `end` bytes identity-mapped), p booted with its stack at KSTACK. */
function bootPaged(r: Rig, p: Prog, end = 0x80000): void {
  const pt = new PageTables(r.mem, 0x20000, 0x21000);
  pt.identity(0, end, Pte.W);
  boot(r, p, KSTACK);
  r.cpu.writeCr(3, 0x20000);
  r.cpu.writeCr(0, 1);
}

/** Run setup under the interpreter and under the translator with `limits`; expect the same outcome; return the translator's rig. */
function agree(setup: (rig: Rig) => void, limits: Partial<TranslatorLimits>, deadline = 1e7): Rig & { exit: number } {
  const out: { exit: number; state: unknown; mem: Buffer; log: string[] }[] = [];
  let tr: (Rig & { exit: number }) | undefined;
  for (const translator of [false, true]) {
    const rig = makeRig({ translator });
    if (translator) rig.cpu.translatorLimits = limits;
    setup(rig);
    const exit = rig.cpu.run(deadline);
    out.push({ exit, state: rig.cpu.saveState(), mem: Buffer.from(rig.mem.u8), log: rig.bus.log });
    if (translator) tr = { ...rig, exit };
  }
  const [i, t] = out as [(typeof out)[0], (typeof out)[0]];
  expect(t.exit).toBe(i.exit);
  expect(t.state).toEqual(i.state);
  expect(t.log).toEqual(i.log);
  expect(Buffer.compare(t.mem, i.mem), 'memory (translator vs interpreter)').toBe(0);
  return tr!;
}

/** r1 counts 0..n-1; each iteration adds r1 to r3 (3 instructions); then OUT r3 and HLT. */
function countLoop(n: number): Prog {
  return new Prog(BASE)
    .li(1, 0)
    .li(2, n)
    .li(3, 0)
    .label('loop')
    .op(Op.ADD, 3, 3, 1)
    .op(Op.ADDI, 1, 1, 1)
    .op(Op.CMP, 0, 1, 2)
    .j(Cond.LT, 'loop')
    .op(Op.OUT, 0, 3, 0x20)
    .op(Op.HLT);
}

describe('translated code agrees with the interpreter', () => {
  it('a hot loop runs inside one translation: same result, cycles and instruction count', () => {
    const rig = agree((r) => boot(r, countLoop(1000)), { threshold: 1, coldSlice: 0 });
    expect(rig.exit).toBe(Exit.Halted);
    expect(rig.cpu.regs[3]).toBe(499500);
    // 3 LI, 1000 x (ADD, ADDI, CMP, JLT), OUT, HLT
    expect(rig.cpu.instructions).toBe(3 + 4000 + 2);
    const s = rig.cpu.translator!.stats;
    // the entry at _start (its block and the loop body it reaches) is the one translation; the
    // OUT after the loop is the general path's
    expect(s.translations).toBe(1);
    expect(s.blocks).toBe(3);
  });

  it('with the default limits (a cold slice of the fast loop between dispatches) a hot loop is still translated, and agrees', () => {
    const rig = agree((r) => boot(r, countLoop(300000)), {});
    expect(rig.cpu.regs[3]).toBe(2050177040);
    expect(rig.cpu.translator!.stats.translations).toBe(1);
  });

  it('code below the hotness threshold runs on the interpreter: nothing translated', () => {
    // coldSlice 0: the dispatcher lands on every block boundary, so heat counts block entries
    const rig = agree((r) => boot(r, countLoop(10)), { threshold: 50, coldSlice: 0 });
    expect(rig.cpu.translator!.stats.translations).toBe(0);
    const hot = agree((r) => boot(r, countLoop(100)), { threshold: 50, coldSlice: 0 });
    expect(hot.cpu.translator!.stats.translations).toBe(1);
  });

  it('stops at the same block boundary for every deadline, and takes an interrupt raised there at the same instruction', () => {
    for (let deadline = 1; deadline < 400; deadline += 47) {
      const rig = agree(
        (r) => {
          withIdt(r);
          boot(r, countLoop(200), KSTACK);
          r.cpu.flags = Flag.IF;
        },
        { threshold: 1, coldSlice: 0 },
        deadline,
      );
      expect(rig.exit).toBe(Exit.Deadline);
      // raise an interrupt at the boundary where the run stopped: both engines deliver it there
      const a = rig.cpu.saveState();
      rig.pic.raise(0x40);
      expect(rig.cpu.run(1e7)).toBe(Exit.Halted);
      expect(rig.cpu.pc).toBe(handlerOf(0x40) + 4);
      expect(frameAt(rig.mem, rig.cpu.regs[15]!).pc).toBe(a.pc);
    }
  });
});

describe('faults in the middle of a translated block leave precise state', () => {
  it('#DE in mid-block: the frame holds the DIV, the registers and cycles are those before it', () => {
    // r2 counts down 3, 2, 1, 0: the DIV in the middle of the loop body faults on the fourth pass
    const p = new Prog(BASE)
      .li(1, 100)
      .li(2, 3)
      .li(4, 0)
      .label('loop')
      .op(Op.ADDI, 4, 4, 1)
      .op(Op.DIV, 3, 1, 2)
      .op(Op.ADDI, 2, 2, -1)
      .op(Op.CMPI, 0, 2, -5)
      .j(Cond.NE, 'loop')
      .op(Op.HLT);
    const rig = agree(
      (r) => {
        withIdt(r);
        boot(r, p, KSTACK);
      },
      { threshold: 1, coldSlice: 0 },
    );
    expect(rig.cpu.pc).toBe(handlerOf(Vector.DivideError) + 4);
    const f = frameAt(rig.mem, rig.cpu.regs[15]!);
    expect(f.vector).toBe(Vector.DivideError);
    expect(f.pc).toBe(BASE + 24 + 4); // the DIV, after the three LIs and the ADDI
    expect(rig.cpu.regs[4]).toBe(4); // the ADDI before it retired on the fourth pass
    expect(rig.cpu.regs[3]).toBe(100); // 100 / 1 from the third pass
    expect(rig.cpu.translator!.stats.translations).toBeGreaterThan(0);
  });

  it('#PF under paging in mid-block (inline TLB check, refill on a miss, fault on an unmapped page)', () => {
    // sweep one word per page upward from 0x400000 over 8 mapped pages; the ninth is unmapped
    const p = new Prog(BASE)
      .li(1, 0x400000)
      .li(5, 0)
      .label('loop')
      .op(Op.LDW, 6, 1, 0)
      .op(Op.ADD, 5, 5, 6)
      .op(Op.STW, 5, 1, 4)
      .op(Op.ADDI, 1, 1, 0x1000)
      .jmp('loop');
    const rig = agree(
      (r) => {
        withIdt(r);
        const pt = new PageTables(r.mem, 0x20000, 0x21000);
        pt.identity(0, 0x80000, Pte.W);
        for (let k = 0; k < 8; k++) {
          pt.map(0x400000 + k * 0x1000, 0x40000 + k * 0x1000, Pte.W);
          r.mem.write32(0x40000 + k * 0x1000, k + 1);
        }
        boot(r, p, KSTACK);
        r.cpu.writeCr(3, 0x20000);
        r.cpu.writeCr(0, 1);
      },
      { threshold: 1, coldSlice: 0 },
    );
    expect(rig.cpu.pc).toBe(handlerOf(Vector.PageFault) + 4);
    const f = frameAt(rig.mem, rig.cpu.regs[15]!);
    expect(f.pc).toBe(BASE + 16); // the LDW
    expect(rig.cpu.cr2).toBe(0x408000);
    expect(rig.cpu.regs[5]).toBe(36); // 1 + 2 + ... + 8
    expect(rig.mem.read32(0x40000 + 7 * 0x1000 + 4)).toBe(36);
  });
});

describe('entries inside another translation (limits.insideEntryHeat)', () => {
  /** 60 pairs of an ADDI (counted in r4) and a DIV by zero; #DE's handler resumes past the DIV; then OUT r4 and HLT. */
  function faultEveryOther(r: Rig): void {
    const p = new Prog(BASE).li(1, 7).li(2, 0).li(4, 0);
    for (let k = 0; k < 60; k++) p.op(Op.ADDI, 4, 4, 1).op(Op.DIV, 3, 1, 2);
    p.op(Op.OUT, 0, 4, 0x20).op(Op.HLT);
    withIdt(r);
    // the handler: the frame's pc past the faulting word, the vector and error dropped, IRET
    const skip = 0x11000;
    [encode(Op.LDW, 13, 15, 8), encode(Op.ADDI, 13, 13, 4), encode(Op.STW, 13, 15, 8), encode(Op.ADDI, 15, 15, 8), encode(Op.IRET)].forEach((w, k) => r.mem.write32(skip + 4 * k, w));
    setGate(r.mem, IDT, Vector.DivideError, skip);
    boot(r, p, KSTACK);
  }

  it('at threshold 1 every resumption past a fault is an entry translated at once; with insideEntryHeat 16 those inside a translation run cold until their 16th landing, with the same outcome', () => {
    const every = agree(faultEveryOther, { threshold: 1, coldSlice: 0 });
    const inside = agree(faultEveryOther, { threshold: 1, coldSlice: 0, insideEntryHeat: 16 });
    expect(every.cpu.regs[4]).toBe(60);
    expect(inside.cpu.regs[4]).toBe(60);
    expect(every.bus.log).toEqual(inside.bus.log);
    // the start's, the handler's, and one at each resumption from 0x1020 to 0x11f0 (59)
    expect(every.cpu.translator!.stats.translations).toBe(61);
    // the start's and the handler's: each resumption lies inside the first, landed once
    expect(inside.cpu.translator!.stats.translations).toBe(2);
  });
});

describe('loop heads (limits.loopHeat: backward jumps counted in cold slices)', () => {
  /** `calls` calls of f, whose loop adds 0..iters-1 to r3 (4 instructions a pass); then OUT r3 and HLT. */
  const callLoop = (calls: number, iters: number) =>
    new Prog(BASE)
      .li(5, 0)
      .li(6, calls)
      .li(3, 0)
      .label('outer')
      .call('f')
      .op(Op.ADDI, 5, 5, 1)
      .op(Op.CMP, 0, 5, 6)
      .j(Cond.LT, 'outer')
      .op(Op.OUT, 0, 3, 0x20)
      .op(Op.HLT)
      .label('f')
      .li(1, 0)
      .li(2, iters)
      .label('loop')
      .op(Op.ADD, 3, 3, 1)
      .op(Op.ADDI, 1, 1, 1)
      .op(Op.CMP, 0, 1, 2)
      .j(Cond.LT, 'loop')
      .op(Op.RET);

  it("a loop's head is translated at its loopHeat-th backward jump, and later cold slices stop at the first backward jump to it", () => {
    // (a landing threshold out of reach: only the loop's count makes code hot here)
    const rig = agree((r) => boot(r, callLoop(20, 300), KSTACK), { threshold: 60000, loopHeat: 100 });
    expect(rig.cpu.regs[3]).toBe(20 * ((300 * 299) / 2));
    const s = rig.cpu.translator!.stats;
    expect(s.translations).toBe(1);
    expect(s.loopHeads).toBe(1);
    // cold: the first call up to its 100th backward jump (3 LI, 2 LI, 100 passes of 4; the first
    // CALL is the general path's, its stack page not yet in the TLB); every later call its way in
    // and one pass (ADDI, CMP, JLT, CALL, 2 LI, 4); the last return's ADDI, CMP and JLT (OUT and
    // HLT are the general path's)
    expect(s.coldInstructions).toBe(3 + 2 + 100 * 4 + 19 * 10 + 3);
    expect(s.loopStops).toBe(20);
    expect(s.entries).toBe(20);
    const off = agree((r) => boot(r, callLoop(20, 300), KSTACK), { threshold: 60001, loopHeat: 0 }).cpu.translator!.stats;
    expect([off.translations, off.loopHeads, off.loopStops]).toEqual([0, 0, 0]);
  });

  it('a cold slice stops at a backward jump to an entry translated before its count reached the limit', () => {
    // the loop's head translated before the run (as the dispatcher does when it lands on a hot
    // entry); its count could not reach loopHeat in this run
    const rig = agree(
      (r) => {
        boot(r, countLoop(300));
        if (r.cpu.engine === 'translator') {
          const at = countLoop(300).addr('loop');
          r.cpu.useTranslator().translate(at, at, r.cpu.mmu.tlbRS);
        }
      },
      { threshold: 60002, loopHeat: 1_000_000 },
    );
    expect(rig.cpu.regs[3]).toBe((300 * 299) / 2);
    const s = rig.cpu.translator!.stats;
    // the 3 LI and the first pass cold, then the loop's second pass on in its translation
    expect(s.coldInstructions).toBe(3 + 4);
    expect([s.loopStops, s.entries, s.loopHeads]).toEqual([1, 1, 0]);
  });

  it('a dropped translation counts its loop again: a loop rewriting its own code each pass is translated once every loopHeat passes', () => {
    // each pass stores its own STW back over itself: a write into the translation, which drops it
    const p = new Prog(BASE)
      .li(1, 0)
      .li(2, 1000)
      .la(4, 'loop')
      .op(Op.LDW, 5, 4, 0)
      .label('loop')
      .op(Op.STW, 5, 4, 0)
      .op(Op.ADDI, 1, 1, 1)
      .op(Op.CMP, 0, 1, 2)
      .j(Cond.LT, 'loop')
      .op(Op.HLT);
    const rig = agree((r) => boot(r, p), { threshold: 60003, loopHeat: 100 });
    const s = rig.cpu.translator!.stats;
    // passes 101, 201, ..., 901 start translated; each drops its translation at its store
    expect(s.translations).toBe(9);
    expect(s.invalidations).toBe(9);
    expect(s.loopHeads).toBe(9);
  });

  it('a loop head that cannot be translated (its first instruction the general path\'s) is tried once', () => {
    const p = new Prog(BASE).li(1, 0).li(2, 1000).label('loop').op(Op.IN, 3, 0, 0x20).op(Op.ADDI, 1, 1, 1).op(Op.CMP, 0, 1, 2).j(Cond.LT, 'loop').op(Op.HLT);
    const rig = agree((r) => boot(r, p), { threshold: 60004, loopHeat: 100 });
    const s = rig.cpu.translator!.stats;
    expect([s.translations, s.loopHeads, s.loopStops]).toEqual([0, 1, 1]);
  });
});

describe('the page memo (the last page each kind of access hit, kept in locals of the translated function)', () => {
  /** Paging on: identity below 1 MiB, and pages 0x108000 and 0x148000 of TLB set 8 (as 0x48000, 0x88000, 0xc8000) mapped above. */
  const paged = (r: Rig, p: Prog): void => {
    const pt = new PageTables(r.mem, 0x20000, 0x21000);
    pt.identity(0, 0x100000, Pte.W);
    pt.map(0x108000, 0x58000, Pte.W);
    pt.map(0x148000, 0x5c000, Pte.W);
    boot(r, p, KSTACK);
    r.cpu.writeCr(3, 0x20000);
    r.cpu.writeCr(0, 1);
  };
  /** Count the translated code's TLB hit checks (the context's `find`, taken by each function at its entry). */
  const countFinds = (r: Rig, into: { finds: number }): void => {
    if (r.cpu.engine !== 'translator') return;
    const ctx = r.cpu.useTranslator().ctx;
    const find = ctx.find as (t: Int32Array, s: number, g: number) => number;
    ctx.find = (t: Int32Array, s: number, g: number) => {
      into.finds++;
      return find(t, s, g);
    };
  };
  /** Run p paged under both engines (agreeing), translating every entry at once; the translator's TLB hit checks counted. */
  const memoRun = (p: Prog): { rig: ReturnType<typeof agree>; finds: number } => {
    const seen = { finds: 0 };
    const rig = agree(
      (r) => {
        paged(r, p);
        countFinds(r, seen);
      },
      { threshold: 1, coldSlice: 0 },
    );
    return { rig, finds: seen.finds };
  };

  it('a loop storing, loading, pushing and popping in two pages reads the TLB once per kind of access, not once per access', () => {
    const p = new Prog(BASE)
      .li(1, 0)
      .li(6, 0x48000)
      .label('loop')
      .op(Op.STW, 1, 6, 0)
      .op(Op.LDW, 5, 6, 0)
      .op(Op.PUSH, 0, 5, 0)
      .op(Op.POP, 7, 0, 0)
      .op(Op.ADDI, 1, 1, 1)
      .op(Op.CMPI, 0, 1, 100)
      .j(Cond.LT, 'loop')
      .op(Op.HLT);
    const { rig, finds } = memoRun(p);
    // the first pass's PUSH misses (a push has no refill: it leaves for the general path), so a
    // second translation is entered at the POP and runs the rest of the loop
    expect([rig.exit, rig.cpu.regs[7], rig.cpu.translator!.stats.translations]).toEqual([Exit.Halted, 99, 2]);
    // the first translation's store, load and push look their page up once each, the second's
    // pop, store, load and push once each: 7 hit checks for 100 passes (3 + 4 x 99 = 399 without the memo)
    expect(finds).toBe(7);
  });

  it('an access at a constant address (a global: its base loaded by LI in the block) has a memo of its own', () => {
    // each pass loads a global in 0x48000 and a word through a pointer into 0x88000: with one memo
    // for both, each load would look its page up on every pass (100 hit checks)
    const p = new Prog(BASE).li(1, 0).li(8, 0x88000).label('loop').li(6, 0x48000).op(Op.LDW, 5, 6, 0).op(Op.LDW, 7, 8, 0).op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 50).j(Cond.LT, 'loop').op(Op.HLT);
    const { rig, finds } = memoRun(p);
    expect([rig.exit, rig.cpu.regs[1], rig.cpu.translator!.stats.translations]).toEqual([Exit.Halted, 50, 1]);
    // a few on the first passes (each load's first access refills, and a refill empties every
    // memo), none after: 4 for 50 passes
    expect(finds).toBe(4);
  });

  it('a refill empties every memo: a store after loads that evicted its page from the TLB walks again, as in the interpreter', () => {
    // each pass stores to 0x48000 (the write memo keeps its page), then loads from four other
    // pages of the same TLB set (refills that evict it), then stores there again: the TLB misses
    // and the walk is charged; a memo kept across the refills would hit, and every count differ
    const p = new Prog(BASE).li(1, 0).li(6, 0x48000).li(7, 0x88000).li(8, 0xc8000).li(9, 0x108000).li(10, 0x148000).label('loop').op(Op.STW, 1, 6, 0);
    for (const r of [7, 8, 9, 10]) p.op(Op.LDW, 5, r, 0);
    p.op(Op.STW, 1, 6, 4).op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 10).j(Cond.LT, 'loop').op(Op.HLT);
    const rig = agree((r) => paged(r, p), { threshold: 1, coldSlice: 0 });
    expect([rig.exit, rig.cpu.regs[1], rig.cpu.translator!.stats.translations]).toEqual([Exit.Halted, 10, 1]);
    expect(rig.mem.read32(0x48004)).toBe(9);
  });
});

describe('invalidation', () => {
  it('self-modifying code: a store into a translated block drops it and the new instruction runs', () => {
    // the loop rewrites its own ADDI r3 immediate from 1 to 2 on the 5th pass (same page)
    const p = new Prog(BASE)
      .li(1, 0)
      .li(3, 0)
      .li(7, encode(Op.ADDI, 3, 3, 2))
      .label('loop')
      .label('patched')
      .op(Op.ADDI, 3, 3, 1)
      .op(Op.ADDI, 1, 1, 1)
      .op(Op.CMPI, 0, 1, 5)
      .j(Cond.NE, 'skip')
      .la(8, 'patched')
      .op(Op.STW, 7, 8, 0)
      .label('skip')
      .op(Op.CMPI, 0, 1, 10)
      .j(Cond.LT, 'loop')
      .op(Op.HLT);
    const rig = agree((r) => boot(r, p), { threshold: 1, coldSlice: 0 });
    // 5 passes add 1, 5 add 2
    expect(rig.cpu.regs[3]).toBe(15);
    const s = rig.cpu.translator!.stats;
    expect(s.invalidations).toBeGreaterThan(0);
    expect(s.translations).toBeGreaterThan(1);
  });

  it('a host write into a frame holding translations drops them (PhysicalMemory code marks)', () => {
    const rig = makeRig({ translator: true });
    rig.cpu.translatorLimits = { threshold: 1, coldSlice: 0 };
    boot(rig, countLoop(10));
    expect(rig.cpu.run(1e7)).toBe(Exit.Halted);
    const tx = rig.cpu.translator!;
    expect(tx.size.translations).toBe(1);
    rig.mem.write32(0x1f00, 0); // same frame, outside the code: the frame's translations go
    expect(tx.size.translations).toBe(0);
    expect(tx.stats.invalidations).toBe(1);
  });

  it('a bounded cache: past maxTranslations the whole cache is flushed (tb_flush) and results stay exact', () => {
    // four hot functions called in turn: four entries (plus the caller's) for a cache of two
    const p = new Prog(BASE).li(1, 0).li(3, 0).label('loop');
    for (const f of ['f0', 'f1', 'f2', 'f3']) p.call(f);
    p.op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 20).j(Cond.LT, 'loop').op(Op.HLT);
    for (const [k, f] of ['f0', 'f1', 'f2', 'f3'].entries()) p.label(f).op(Op.ADDI, 3, 3, k + 1).op(Op.RET);
    const rig = agree((r) => boot(r, p, KSTACK), { threshold: 1, coldSlice: 0, maxTranslations: 2 });
    expect(rig.cpu.regs[3]).toBe(20 * 10);
    const s = rig.cpu.translator!.stats;
    expect(s.flushes).toBeGreaterThan(0);
    expect(rig.cpu.translator!.size.translations).toBeLessThanOrEqual(2);
  });
});

describe('first translations (firstBlocks) and their promotion', () => {
  /** A loop calling a function each pass: its entry, the function and the call's return address are three blocks. */
  const caller = (k: number) =>
    new Prog(BASE).li(1, 0).li(3, 0).li(4, 0).label('loop').op(Op.ADDI, 3, 3, k).call('f').op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 100).j(Cond.LT, 'loop').op(Op.HLT).label('f').op(Op.ADDI, 4, 4, 1).op(Op.RET);

  it('a first translation holds at most firstBlocks blocks; entered promoteAt times it is retranslated whole and the loop stays inside', () => {
    const limits = { threshold: 1, coldSlice: 0, firstBlocks: 2, maxBlocks: 32, promoteAt: 10 };
    const rig = agree((r) => boot(r, caller(4241), KSTACK), limits);
    expect(rig.cpu.regs[3]).toBe(100 * 4241);
    expect(rig.cpu.regs[4]).toBe(100);
    const s = rig.cpu.translator!.stats;
    // first translations of 2 blocks: the start's (its LIs, the loop's block), the function's,
    // and the call's return address's (its block and the loop's, up to the call): each pass
    // leaves at the call and at the return. The return address's, entered 10 times, is
    // retranslated whole: the loop, the call and the return inside, so the loop stays in it
    expect(s.promotions).toBe(1);
    expect(s.translations).toBe(4);
    expect(s.entries).toBe(23);
    // a second machine of the process running the same code takes the whole translation from the
    // memo (machine/translator.ts MEMO) at its first translation of that entry: no promotion
    const again = agree((r) => boot(r, caller(4241), KSTACK), limits).cpu.translator!.stats;
    expect(again.promotions).toBe(0);
    expect(again.recalled).toBe(again.translations);
    expect(again.entries).toBe(3);
    // never promoted: two dispatcher entries a pass
    const flat = agree((r) => boot(r, caller(4243), KSTACK), { ...limits, promoteAt: 1e9 });
    expect(flat.cpu.translator!.stats.promotions).toBe(0);
    expect(flat.cpu.translator!.stats.translations).toBe(3);
    expect(flat.cpu.translator!.stats.entries).toBe(201);
  });

  it('firstBlocks at maxBlocks: every translation is whole, none is promoted', () => {
    const rig = agree((r) => boot(r, caller(4245), KSTACK), { threshold: 1, coldSlice: 0, firstBlocks: 32, maxBlocks: 32, promoteAt: 10 });
    const s = rig.cpu.translator!.stats;
    expect(s.promotions).toBe(0);
    expect(s.translations).toBe(3);
    expect(s.entries).toBe(3);
  });
});

describe('the translation memo (translations shared by every translator in the process)', () => {
  /** A loop adding k each pass (k makes the code this test's own), run with every entry translated. */
  const adder = (k: number) => new Prog(BASE).li(1, 0).li(3, 0).label('loop').op(Op.ADDI, 3, 3, k).op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 40).j(Cond.LT, 'loop').op(Op.HLT);

  it('a second machine translating the same code takes it from the memo; a changed word is generated again', () => {
    const first = agree((r) => boot(r, adder(1237)), { threshold: 1, coldSlice: 0 });
    expect(first.cpu.regs[3]).toBe(40 * 1237);
    const again = agree((r) => boot(r, adder(1237)), { threshold: 1, coldSlice: 0 });
    const s = again.cpu.translator!.stats;
    expect(s.translations).toBeGreaterThan(0);
    expect(s.recalled).toBe(s.translations);
    // the same program with another immediate: the loop's translation read that word, so it is
    // generated afresh (and runs the new code)
    const changed = agree((r) => boot(r, adder(1239)), { threshold: 1, coldSlice: 0 });
    expect(changed.cpu.regs[3]).toBe(40 * 1239);
    const c = changed.cpu.translator!.stats;
    expect(c.recalled).toBeLessThan(c.translations);
  });

  it('a page remapped to another frame with the same code: exact, and entry for entry the run before it', () => {
    const V = 0x400000;
    const run = (frame: number) =>
      agree(
        (r) => {
          const p = new Prog(BASE).li(1, 0).li(3, 0).label('loop');
          p.op(Op.CALL).word(V - (p.here + 4)).op(Op.ADDI, 1, 1, 1); // call V (direct: V's blocks join the loop's translation)
          p.op(Op.CMPI, 0, 1, 30).j(Cond.LT, 'loop').op(Op.HLT);
          const pt = new PageTables(r.mem, 0x20000, 0x21000);
          pt.identity(0, 0x80000, Pte.W);
          pt.map(V, frame, 0);
          r.mem.write32(frame, encode(Op.ADDI, 3, 3, 1241));
          r.mem.write32(frame + 4, encode(Op.RET));
          boot(r, p, KSTACK);
          r.cpu.writeCr(3, 0x20000);
          r.cpu.writeCr(0, 1);
        },
        { threshold: 1, coldSlice: 0 },
      );
    const first = run(0x40000).cpu.translator!.stats;
    const again = run(0x40000).cpu.translator!.stats;
    expect(again.recalled).toBe(again.translations);
    // V on another frame with the same code: the translations made while the TLB mapped V looked
    // its page up, so they are generated again (recalled, their check of V's frame would fail at
    // every pass and leave for the dispatcher); the run is the first one's, entry for entry
    const moved = run(0x50000);
    expect(moved.cpu.regs[3]).toBe(30 * 1241);
    const m = moved.cpu.translator!.stats;
    expect(m.recalled).toBeLessThan(m.translations);
    expect([m.translations, m.blocks, m.entries]).toEqual([first.translations, first.blocks, first.entries]);
  });
});

describe('kept heat (a later machine of the process knows what was hot)', () => {
  /** A loop of `passes` passes adding k each (k makes the code this test's own). */
  const loop = (k: number, passes: number) =>
    new Prog(BASE).li(1, 0).li(3, 0).label('loop').op(Op.ADDI, 3, 3, k).op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, passes).j(Cond.LT, 'loop').op(Op.HLT);

  it('an entry hot on an earlier machine is translated at its first landing; changed code counts its heat again', () => {
    // limits of this test alone: heat is kept per configuration and heat limits
    const limits = { threshold: 37, coldSlice: 0 };
    const first = agree((r) => boot(r, loop(1249, 60)), limits).cpu.translator!;
    // cold: the two LIs and the first pass (6 instructions to the first boundary; the dispatcher's
    // fetch walk fills the TLB for the first LI), then 36 passes landing on `loop` (4 instructions
    // each) before its 37th landing translates it
    expect([first.warm, first.stats.landedHot, first.stats.coldInstructions, first.stats.translations, first.stats.entries]).toEqual([false, 0, 6 + 36 * 4, 1, 1]);
    const again = agree((r) => boot(r, loop(1249, 60)), limits);
    expect(again.cpu.regs[3]).toBe(60 * 1249);
    const a = again.cpu.translator!;
    // the first landing on `loop` takes the first machine's translation
    expect([a.warm, a.stats.landedHot, a.stats.recalled, a.stats.coldInstructions, a.stats.translations]).toEqual([true, 1, 1, 6, 1]);
    // another immediate in the loop: the memo's translation read that word, so it is not taken;
    // the entry becomes hot after as many landings as on the first machine
    const changed = agree((r) => boot(r, loop(1251, 60)), limits);
    expect(changed.cpu.regs[3]).toBe(60 * 1251);
    const c = changed.cpu.translator!;
    expect([c.warm, c.stats.landedHot, c.stats.recalled, c.stats.coldInstructions, c.stats.translations]).toEqual([false, 0, 0, 6 + 36 * 4, 1]);
  });

  /** Loop A (`a` passes), an OUT (no translation reads past it), then loop B adding kb (`b` passes). */
  const twoLoops = (a: number, kb: number, b: number) =>
    new Prog(BASE)
      .li(1, 0)
      .li(3, 0)
      .label('a')
      .op(Op.ADDI, 3, 3, 1263)
      .op(Op.ADDI, 1, 1, 1)
      .op(Op.CMPI, 0, 1, a)
      .j(Cond.LT, 'a')
      .op(Op.OUT, 0, 3, 0x20)
      .li(1, 0)
      .label('b')
      .op(Op.ADDI, 3, 3, kb)
      .op(Op.ADDI, 1, 1, 1)
      .op(Op.CMPI, 0, 1, b)
      .j(Cond.LT, 'b')
      .op(Op.HLT);

  it('from its first landing on a known hot entry a machine is warm: shorter cold slices, and new code becomes hot after the same cold work as on a first machine', () => {
    const limits = { threshold: 5, coldSlice: 40, warmColdSlice: 10 };
    const first = agree((r) => boot(r, twoLoops(400, 1257, 400)), limits).cpu.translator!;
    expect([first.keptHeat, first.warm, first.coldCycles, first.stats.translations, first.stats.coldInstructions]).toEqual([false, false, 40, 2, 162 + 161]);
    // loop A is the first machine's, taken at its first landing (after the first slice from the
    // start: 40 cycles); loop B is new code (another immediate): 4 times as many landings, each a
    // quarter of the cold cycles, before it is hot (5 x 40 / 10 = 20 landings), so about as many
    // cold instructions as loop B's 161 on the first machine (with the threshold unscaled: 74 in all)
    const warm = agree((r) => boot(r, twoLoops(400, 1259, 400)), limits).cpu.translator!;
    expect([warm.keptHeat, warm.warm, warm.coldCycles, warm.stats.landedHot, warm.stats.translations, warm.stats.coldInstructions]).toEqual([true, true, 10, 1, 2, 195]);
  });

  it('a later machine that lands on no known hot entry stays as a first machine', () => {
    const limits = { threshold: 5, coldSlice: 40, warmColdSlice: 10 };
    agree((r) => boot(r, loop(1267, 400)), limits);
    const other = agree((r) => boot(r, loop(1269, 400)), limits).cpu.translator!;
    expect([other.keptHeat, other.warm, other.coldCycles, other.stats.landedHot, other.stats.coldInstructions]).toEqual([true, false, 40, 0, 162]);
  });
});

describe('the fetch after a TLB flush', () => {
  it('the dispatcher walks for it as step() would and goes on in translated code: step() runs only the CR3 writes and the HLT', () => {
    // paging on; each pass writes CR3 (a flush, on the general path), so the next fetch misses
    const p = new Prog(BASE).li(1, 0).li(4, 0x20000).label('loop').op(Op.MOVTOCR, 3, 4, 0).op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 40).j(Cond.LT, 'loop').op(Op.HLT);
    const steps = (fetchWalk: boolean): { interpreter: number; translator: number } => {
      const n = { interpreter: 0, translator: 0 };
      const rig = agree(
        (r) => {
          bootPaged(r, p);
          r.cpu.fetchWalk = fetchWalk;
          const step = r.cpu.step.bind(r.cpu);
          const engine = r.cpu.engine;
          r.cpu.step = () => {
            n[engine]++;
            return step();
          };
        },
        { threshold: 1, coldSlice: 0 },
      );
      expect(rig.exit).toBe(Exit.Halted);
      expect(rig.cpu.regs[1]).toBe(40);
      expect(rig.cpu.stats.tlbFlushes).toBeGreaterThanOrEqual(40);
      return n;
    };
    // the interpreter's fast loop leaves at a fetch that misses the TLB, and step() walks and runs
    // the instruction: the first LI and each ADDI after a CR3 write, besides the 40 writes and HLT;
    // the translator's dispatcher makes that walk itself (same cycles, counts and TLB: agree())
    expect(steps(true)).toEqual({ interpreter: 1 + 40 * 2 + 1, translator: 40 + 1 });
    // without it (Cpu.fetchWalk false) the translator leaves those instructions to step() too
    expect(steps(false)).toEqual({ interpreter: 1 + 40 * 2 + 1, translator: 1 + 40 * 2 + 1 });
  });
});

describe('translations across pages', () => {
  /** A loop that runs on over a page end and calls a function two pages further; 50 passes. */
  function spanning(): Prog {
    const p = new Prog(BASE).li(1, 0).li(3, 0).jmp('loop').padTo(0x1ff0).label('loop');
    // 0x1ff0..: four ADDIs, the last two in the next page
    p.op(Op.ADDI, 3, 3, 1).op(Op.ADDI, 3, 3, 1).op(Op.ADDI, 3, 3, 1).op(Op.ADDI, 3, 3, 1);
    p.call('f').op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 50).j(Cond.LT, 'loop').op(Op.HLT);
    p.padTo(0x4000).label('f').op(Op.ADDI, 3, 3, 10).op(Op.RET);
    return p;
  }

  it('a loop that runs on into the next page and calls into a third one stays inside one translation, returns included', () => {
    const rig = agree((r) => boot(r, spanning(), KSTACK), { threshold: 1, coldSlice: 0 });
    expect(rig.cpu.regs[3]).toBe(50 * 14);
    const s = rig.cpu.translator!.stats;
    expect(s.multiPage).toBeGreaterThan(0);
    // once the pages are in the TLB, the loop's translation holds the call, the callee and the
    // return: the dispatcher enters translated code only a few times, not once per pass
    expect(s.entries).toBeLessThan(10);
  });

  it('a page the translation reaches is remapped (PTE write + INVLPG): the next call runs the code of the new frame', () => {
    // the loop calls V = 0x400000 each pass (a direct call: V's blocks join the loop's
    // translation); after pass 5 it points V's PTE at another frame
    const V = 0x400000;
    const p = new Prog(BASE).li(1, 0).li(3, 0).li(9, 0x41000 | Pte.P).label('loop').li(4, V);
    p.op(Op.CALL).word(V - (p.here + 4)).op(Op.ADDI, 1, 1, 1); // call V (direct)
    p.op(Op.CMPI, 0, 1, 5).j(Cond.NE, 'skip').la(8, 'pte').op(Op.LDW, 8, 8, 0).op(Op.STW, 9, 8, 0).op(Op.INVLPG, 0, 4).label('skip');
    p.op(Op.CMPI, 0, 1, 10).j(Cond.LT, 'loop').op(Op.HLT).label('pte').word(0);
    const rig = agree(
      (r) => {
        withIdt(r);
        const pt = new PageTables(r.mem, 0x20000, 0x21000);
        pt.identity(0, 0x80000, Pte.W);
        pt.map(V, 0x40000, 0);
        r.mem.write32(0x40000, encode(Op.ADDI, 3, 3, 1));
        r.mem.write32(0x40004, encode(Op.RET));
        r.mem.write32(0x41000, encode(Op.ADDI, 3, 3, 100));
        r.mem.write32(0x41004, encode(Op.RET));
        boot(r, p, KSTACK);
        r.mem.write32(p.addr('pte'), pt.pteAddr(V));
        r.cpu.writeCr(3, 0x20000);
        r.cpu.writeCr(0, 1);
      },
      { threshold: 1, coldSlice: 0 },
    );
    expect(rig.cpu.regs[3]).toBe(5 * 1 + 5 * 100);
    expect(rig.cpu.translator!.stats.multiPage).toBeGreaterThan(0);
  });

  it('the instruction TLB is left as the fast loop leaves it: on the page of the last block run', () => {
    // the loop (page 0x1000) calls F (page 0x4000, TLB set 4) inside one translation; on the last
    // pass F loads from four other pages of set 4, evicting its own page from the TLB, then runs
    // OUT (the general path's). The fast loop's instruction TLB still holds F's page, so fetching
    // OUT walks nothing; a translation that left the instruction TLB on the loop's page would
    // walk there (and every cycle count after it would differ)
    const p = new Prog(BASE).li(1, 0).li(3, 0).label('loop').call('f').op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 10).j(Cond.LT, 'loop').op(Op.HLT);
    p.padTo(0x4000).label('f').op(Op.CMPI, 0, 1, 9).j(Cond.NE, 'skip');
    for (const va of [0x44000, 0x84000, 0xc4000, 0x104000]) p.li(6, va).op(Op.LDW, 5, 6, 0);
    p.label('skip').op(Op.ADDI, 3, 3, 1).op(Op.OUT, 0, 3, 0x20).op(Op.RET);
    const rig = agree(
      (r) => {
        const pt = new PageTables(r.mem, 0x20000, 0x21000);
        pt.identity(0, 0x100000, Pte.W);
        pt.map(0x104000, 0x50000, Pte.W);
        boot(r, p, KSTACK);
        r.cpu.writeCr(3, 0x20000);
        r.cpu.writeCr(0, 1);
      },
      { threshold: 1, coldSlice: 0 },
    );
    expect(rig.cpu.regs[3]).toBe(10);
    expect(rig.cpu.translator!.stats.multiPage).toBeGreaterThan(0);
  });

  it('a store into the second page of a translation drops it (both frames are marked)', () => {
    // the loop (page 0x1000) calls g (page 0x4000), then rewrites g's ADDI immediate on pass 5
    const p = new Prog(BASE).li(1, 0).li(3, 0).li(7, encode(Op.ADDI, 3, 3, 2)).label('loop').call('g').op(Op.ADDI, 1, 1, 1);
    p.op(Op.CMPI, 0, 1, 5).j(Cond.NE, 'skip').la(8, 'g').op(Op.STW, 7, 8, 0).label('skip');
    p.op(Op.CMPI, 0, 1, 10).j(Cond.LT, 'loop').op(Op.HLT).padTo(0x4000).label('g').op(Op.ADDI, 3, 3, 1).op(Op.RET);
    const rig = agree((r) => boot(r, p, KSTACK), { threshold: 1, coldSlice: 0 });
    expect(rig.cpu.regs[3]).toBe(5 * 1 + 5 * 2);
    expect(rig.cpu.translator!.stats.multiPage).toBeGreaterThan(0);
    expect(rig.cpu.translator!.stats.invalidations).toBeGreaterThan(0);
  });
});

describe('writes that are not guest stores', () => {
  it('the walk setting an accessed bit in a page table that shares a frame with translated code: the changed instruction runs', () => {
    // V's page table is the code frame itself (PDE 1 -> 0x1000): V's PTE is the word at 0x1018,
    // which the loop executes. As an instruction it is a NOP (opcode 0x01, the PTE's P bit); the
    // first load from V sets the PTE's A bit (0x20), making it MULI r3, r3, 2 (opcode 0x21)
    const V = 0x406000;
    const x = encode(Op.NOP, 3, 3, 2);
    expect(((x >>> 12) & 0xfffff) * 4096).toBe(0x23000); // the frame V maps to, in memory
    const p = new Prog(BASE).li(1, 0).li(3, 1).li(4, V).label('loop');
    expect(p.here).toBe(0x1018);
    p.word(x).op(Op.ADDI, 3, 3, 1).op(Op.LDW, 6, 4, 0).op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 4).j(Cond.LT, 'loop').op(Op.HLT);
    const rig = agree(
      (r) => {
        withIdt(r);
        const pt = new PageTables(r.mem, 0x20000, 0x21000);
        pt.identity(0, 0x80000, Pte.W);
        boot(r, p, KSTACK);
        r.mem.write32(0x20004, 0x1000 | Pte.P | Pte.W);
        r.cpu.writeCr(3, 0x20000);
        r.cpu.writeCr(0, 1);
      },
      { threshold: 1, coldSlice: 0 },
    );
    // pass 1 as a NOP: 1 + 1 = 2; then (r3 * 2) + 1 three times: 5, 11, 23
    expect(rig.cpu.regs[3]).toBe(23);
    expect(rig.mem.read32(0x1018)).toBe(x | Pte.A);
    expect(rig.cpu.translator!.stats.invalidations).toBeGreaterThan(0);
  });
});

describe("a refill's walk writing into a frame marked for the code-store hook (binary translation's units: Cpu.markCodeFrame)", () => {
  it('the translated function leaves right after the access, as after a walk that dropped translations', () => {
    // 8 passes, each loading from a page not yet in the TLB: its walk sets the accessed bit of the
    // page's PTE, in the page table's frame (0x21000), which the hook's mark makes a code frame
    const p = new Prog(BASE).li(1, 0).li(4, 0x40000).label('loop').op(Op.LDW, 6, 4, 0).op(Op.ADDI, 4, 4, 0x1000);
    p.op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 8).j(Cond.LT, 'loop').op(Op.HLT);
    const run = (marked: boolean) => {
      const seen: number[] = [];
      const rig = agree(
        (r) => {
          bootPaged(r, p);
          if (marked) {
            r.cpu.markCodeFrame(0x21);
            r.cpu.codeStoreHook = (pa) => {
              if (r.cpu.engine === 'translator') seen.push(pa);
              return false;
            };
          }
        },
        { threshold: 1, coldSlice: 0 },
      );
      return { entries: rig.cpu.translator!.stats.entries, seen, regs: [rig.cpu.regs[1], rig.cpu.regs[4]] };
    };
    const plain = run(false);
    const marked = run(true);
    expect(marked.regs).toEqual([8, 0x48000]);
    expect(marked.regs).toEqual(plain.regs);
    // the hook saw the 8 accessed-bit writes of the loop's loads (and those of the code's and the stack's pages)
    for (let k = 0; k < 8; k++) expect(marked.seen).toContain(0x21000 + (0x40 + k) * 4);
    // one dispatcher entry more per pass: the function left right after each of those walks
    // (it fails without the check of the hook's stores in Cpu.txMiss: the same entries)
    expect(marked.entries - plain.entries).toBe(8);
  });
});

describe('engine names', () => {
  it('parseEngine accepts the two engines and refuses anything else in one line', () => {
    expect(parseEngine('translator')).toBe('translator');
    expect(parseEngine('interpreter')).toBe('interpreter');
    expect(() => parseEngine('jit')).toThrow("unknown engine 'jit' (expected interpreter or translator)");
  });
});

describe('every runBoth program also runs under the translator', () => {
  it('runBoth compares the translator too (a loop with stores, calls and returns)', () => {
    const p = new Prog(BASE).li(1, 0).label('loop').call('f').op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 30).j(Cond.LT, 'loop').op(Op.HLT);
    p.label('f').op(Op.PUSH, 0, 1).op(Op.POP, 4).op(Op.STW, 4, 0, 0x6000).op(Op.RET);
    const rig = runBoth((r) => boot(r, p, KSTACK));
    expect(rig.mem.read32(0x6000)).toBe(29);
  });
});

describe('straight runs (compileStraight: the blocks binary translation compiles)', () => {
  it('a first block of one control transfer alone compiles, and runs as the general path runs it', () => {
    // a unit that is a lone JMP (or CALL, RET): its only instruction ends the block
    const p = new Prog(BASE).label('top').jmp('there').op(Op.HLT).label('there').op(Op.HLT);
    const interp = makeRig();
    boot(interp, p, KSTACK);
    interp.cpu.step();
    const rig = makeRig({ translator: true });
    boot(rig, p, KSTACK);
    const tx = rig.cpu.useTranslator();
    const insn = { at: BASE, w: rig.mem.read32(BASE), ext: rig.mem.read32(BASE + 4), pa: BASE };
    const fn = tx.compileStraight([[insn]]);
    expect(fn).not.toBeNull();
    const mmu = rig.cpu.mmu;
    // the control transfer ending block 0 retired
    expect(fn!(tx.ctx, mmu.tlbRS, mmu.tlbWS, false, -1, null)).toBe(~0);
    expect([rig.cpu.pc, rig.cpu.cycles, rig.cpu.instructions]).toEqual([interp.cpu.pc, interp.cpu.cycles, interp.cpu.instructions]);
    expect(rig.cpu.pc).toBe(BASE + 12);
  });
});
