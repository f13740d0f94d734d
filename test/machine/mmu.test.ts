// Paging and the TLB (docs/isa.md "Memory and paging"): translation, accessed and dirty bits,
// page faults with their error codes and CR2, supervisor write-protect, x86 TLB staleness until
// INVLPG or a CR3/CR0 write, open bus, walk costs, the host-side translation helpers, and the MMU
// on its own: what machine/mmu.ts tells its CPU (MmuHost).

import { describe, expect, it } from 'vitest';
import { getProfile, type CostProfile } from '../../machine/costs.ts';
import { ACC_READ, ACC_WRITE, Mmu, tlbGeometry, type MmuHost } from '../../machine/mmu.ts';
import { Ev } from '../../machine/ledger.ts';
import { PhysicalMemory } from '../../machine/memory.ts';
import { EptQual, Vmcs } from '../../machine/vmx.ts';
import { CR0_PG, CR0_WP, Cond, Op, PfErr, Pte, Vector } from '../../machine/isa.ts';
import { Exit } from '../../machine/types.ts';
import { PageTables, Prog, boot, frameAt, runBoth, setGate, type Rig } from './cpu-harness.ts';

const BASE = 0x1000;
const IDT = 0x3000;
const HANDLERS = 0x10000;
const KSTACK = 0x9000;
const PD = 0x20000;
const VA = 0x400000;
const FRAME_A = 0x50000;
const FRAME_B = 0x51000;

const handlerOf = (v: number) => HANDLERS + v * 16;

interface PagedOpts {
  /** map the low 72 KiB (code, IDT, stacks, handlers) user-accessible too */
  lowUser?: boolean;
  wp?: boolean;
  cpl?: number;
  /** extra mappings */
  map?: (pt: PageTables) => void;
  setup?: (rig: Rig, pt: PageTables) => void;
}

/** Paging on: low memory and the page tables identity-mapped, an IDT whose handlers are HLT. */
function paged(prog: Prog, opts: PagedOpts = {}) {
  let tables: PageTables | undefined;
  const rig = runBoth((rig) => {
    const pt = new PageTables(rig.mem, PD, PD + 0x1000);
    tables = pt;
    pt.identity(0, 0x12000, Pte.W | (opts.lowUser ? Pte.U : 0));
    pt.identity(PD, PD + 0x10000, Pte.W);
    opts.map?.(pt);
    for (let v = 0; v < 256; v++) {
      setGate(rig.mem, IDT, v, handlerOf(v), { dpl: 3 });
      rig.mem.write32(handlerOf(v), new Prog(0).op(Op.HLT).build()[0]!);
    }
    rig.cpu.idtBase = IDT;
    rig.cpu.idtLimit = 256;
    rig.cpu.ksp[0] = KSTACK;
    boot(rig, prog, KSTACK);
    rig.cpu.writeCr(3, PD);
    rig.cpu.writeCr(0, CR0_PG | (opts.wp ? CR0_WP : 0));
    rig.cpu.cpl = opts.cpl ?? 0;
    opts.setup?.(rig, pt);
  }, 1e6, { memoryBytes: 4 << 20 });
  return { ...rig, pt: tables! };
}

function expectPageFault(rig: Rig & { exit: number }, error: number, cr2: number, savedPc: number): void {
  expect(rig.exit).toBe(Exit.Halted);
  expect(rig.cpu.pc, 'in the #PF handler').toBe(handlerOf(Vector.PageFault) + 4);
  const f = frameAt(rig.mem, rig.cpu.regs[15]!);
  expect(f.vector).toBe(Vector.PageFault);
  expect(f.error).toBe(error);
  expect(f.pc).toBe(savedPc);
  expect(rig.cpu.cr2).toBe(cr2);
}

describe('translation', () => {
  it('a mapped page reaches its frame; the walk sets A in the directory and table entries, D only on write', () => {
    const rig = paged(new Prog(BASE).li(1, VA).op(Op.LDW, 2, 1, 8).op(Op.HLT), {
      map: (pt) => pt.map(VA, FRAME_A, Pte.W),
      setup: (r) => r.mem.write32(FRAME_A + 8, 0xfeed),
    });
    expect(rig.cpu.regs[2]).toBe(0xfeed);
    expect(rig.pt.pde(VA) & Pte.A).toBe(Pte.A);
    expect(rig.pt.pte(VA) & (Pte.A | Pte.D)).toBe(Pte.A);
  });

  it('the first write to a page read through the TLB walks again and sets D', () => {
    const rig = paged(new Prog(BASE).li(1, VA).op(Op.LDW, 2, 1, 0).op(Op.STW, 2, 1, 4).op(Op.STW, 2, 1, 8).op(Op.HLT), {
      map: (pt) => pt.map(VA, FRAME_A, Pte.W),
      setup: (r) => r.mem.write32(FRAME_A, 77),
    });
    expect(rig.pt.pte(VA) & (Pte.A | Pte.D)).toBe(Pte.A | Pte.D);
    expect(rig.mem.read32(FRAME_A + 8)).toBe(77);
    // code page walk + data read walk + write walk (D) = 3; the second store hits
    expect(rig.cpu.stats.tlbMisses).toBe(3);
  });

  it('a TLB miss costs two walk levels (p4-2003: 2 x 18 cycles)', () => {
    const run = (target: number) =>
      paged(new Prog(BASE).li(1, target).op(Op.LDW, 2, 1, 0).op(Op.HLT), { map: (pt) => pt.map(VA, FRAME_A, Pte.W) }).cpu.cycles;
    expect(run(VA) - run(BASE)).toBe(2 * getProfile('p4-2003').tlbWalkLevel);
  });

  it('with paging off, addresses beyond memory are open bus: reads all ones, writes dropped', () => {
    const rig = runBoth((rig) =>
      boot(rig, new Prog(BASE).li(1, 0x200000).li(2, 5).op(Op.STW, 2, 1, 0).op(Op.LDW, 3, 1, 0).op(Op.LDBU, 4, 1, 0).op(Op.LDH, 5, 1, 0).op(Op.HLT)),
    );
    expect(rig.cpu.regs[3]).toBe(-1);
    expect(rig.cpu.regs[4]).toBe(0xff);
    expect(rig.cpu.regs[5]).toBe(-1);
  });

  it('a word straddling the end of memory reads ones from the missing bytes', () => {
    const rig = runBoth((rig) => {
      boot(rig, new Prog(BASE).li(1, 0xffffe).op(Op.LDW, 3, 1, 0).op(Op.HLT));
      rig.mem.write16(0xffffe, 0x1234);
    });
    expect(rig.cpu.regs[3]! >>> 0).toBe(0xffff1234);
  });

  it('code runs from a page mapped at another virtual address', () => {
    const rig = paged(new Prog(BASE).li(1, VA).op(Op.JMPR, 0, 1), {
      map: (pt) => pt.map(VA, FRAME_A, 0),
      setup: (r) => new Prog(FRAME_A).li(5, 42).op(Op.HLT).load(r.mem),
    });
    expect(rig.cpu.regs[5]).toBe(42);
    expect(rig.cpu.pc).toBe(VA + 12);
  });
});

describe('page faults', () => {
  it('a read of a not-present page: error 0, CR2 = the address, saved pc = the load', () => {
    expectPageFault(paged(new Prog(BASE).li(1, VA).op(Op.LDW, 2, 1, 0x24)), 0, VA + 0x24, BASE + 8);
  });

  it('a write of a not-present page: error W', () => {
    expectPageFault(paged(new Prog(BASE).li(1, VA).op(Op.STB, 2, 1, 3)), PfErr.Write, VA + 3, BASE + 8);
  });

  it('a not-present directory entry faults like a not-present table entry', () => {
    expectPageFault(paged(new Prog(BASE).li(1, 0x40000000).op(Op.LDW, 2, 1, 0)), 0, 0x40000000, BASE + 8);
  });

  it('a user write to a read-only user page: error P|W|U', () => {
    const rig = paged(new Prog(BASE).li(1, VA).op(Op.STW, 2, 1, 0), { lowUser: true, cpl: 3, map: (pt) => pt.map(VA, FRAME_A, Pte.U) });
    expectPageFault(rig, PfErr.Present | PfErr.Write | PfErr.User, VA, BASE + 8);
    expect(frameAt(rig.mem, rig.cpu.regs[15]!).cs).toBe(3);
  });

  it('a user read of a supervisor page: error P|U', () => {
    expectPageFault(paged(new Prog(BASE).li(1, VA).op(Op.LDW, 2, 1, 0), { lowUser: true, cpl: 3, map: (pt) => pt.map(VA, FRAME_A, Pte.W) }), PfErr.Present | PfErr.User, VA, BASE + 8);
  });

  it('user permission needs U in both the directory and the table entry', () => {
    const rig = paged(new Prog(BASE).li(1, VA).op(Op.LDW, 2, 1, 0), {
      lowUser: true,
      cpl: 3,
      map: (pt) => pt.map(VA, FRAME_A, Pte.U | Pte.W),
      setup: (r, pt) => r.mem.write32(PD + (VA >>> 22) * 4, pt.pde(VA) & ~Pte.U),
    });
    expectPageFault(rig, PfErr.Present | PfErr.User, VA, BASE + 8);
  });

  it('a fetch from a not-present page: error Fetch, saved pc = the target', () => {
    expectPageFault(paged(new Prog(BASE).li(1, VA).op(Op.JMPR, 0, 1)), PfErr.Fetch, VA, VA);
  });

  it('a user fetch from a supervisor page: error P|U|Fetch', () => {
    expectPageFault(paged(new Prog(BASE).li(1, VA).op(Op.JMPR, 0, 1), { lowUser: true, cpl: 3, map: (pt) => pt.map(VA, FRAME_A, Pte.W) }), PfErr.Present | PfErr.User | PfErr.Fetch, VA, VA);
  });

  it('a supervisor write to a read-only page succeeds with CR0.WP = 0 (and sets D)', () => {
    const rig = paged(new Prog(BASE).li(1, VA).li(2, 9).op(Op.STW, 2, 1, 0).op(Op.HLT), { map: (pt) => pt.map(VA, FRAME_A, 0) });
    expect(rig.cpu.pc).toBe(BASE + 24);
    expect(rig.mem.read32(FRAME_A)).toBe(9);
    expect(rig.pt.pte(VA) & Pte.D).toBe(Pte.D);
  });

  it('a supervisor write to a read-only page faults with CR0.WP = 1: error P|W', () => {
    const rig = paged(new Prog(BASE).li(1, VA).li(2, 9).op(Op.STW, 2, 1, 0), { wp: true, map: (pt) => pt.map(VA, FRAME_A, 0) });
    expectPageFault(rig, PfErr.Present | PfErr.Write, VA, BASE + 16);
    expect(rig.mem.read32(FRAME_A)).toBe(0);
  });

  it('a store straddling into a not-present page faults with CR2 in that page and writes nothing', () => {
    const rig = paged(new Prog(BASE).li(1, VA + 0xffe).li(2, -1).op(Op.STW, 2, 1, 0), { map: (pt) => pt.map(VA, FRAME_A, Pte.W) });
    expectPageFault(rig, PfErr.Write, VA + 0x1000, BASE + 16);
    expect(rig.mem.read32(FRAME_A + 0xffc)).toBe(0);
  });

  it('push to a read-only stack faults and leaves sp unchanged', () => {
    const rig = paged(new Prog(BASE).li(15, VA + 0x100).op(Op.PUSH, 0, 1), { lowUser: true, cpl: 3, map: (pt) => pt.map(VA, FRAME_A, Pte.U) });
    expectPageFault(rig, PfErr.Present | PfErr.Write | PfErr.User, VA + 0xfc, BASE + 8);
    expect(frameAt(rig.mem, rig.cpu.regs[15]!).sp).toBe(VA + 0x100);
  });

  it('an unmapped kernel stack makes the first trap from user mode a triple fault', () => {
    const rig = paged(new Prog(BASE).op(Op.INT, 0, 0, 0x80), { lowUser: true, cpl: 3, setup: (r) => (r.cpu.ksp[0] = VA + 0x1000) });
    expect(rig.exit).toBe(Exit.TripleFault);
    expect(rig.cpu.cr2).toBe(VA + 0x1000 - 24);
    expect(rig.cpu.cpl).toBe(3);
    expect(rig.cpu.stats.doubleFaults).toBe(1);
  });
});

describe('the TLB keeps x86 semantics', () => {
  /** read VA into r2, switch the PTE to FRAME_B (by a store), read into r3, then `after`, read into r4 */
  function remap(after: (p: Prog) => Prog) {
    return paged(
      after(
        new Prog(BASE)
          .li(1, VA)
          .op(Op.LDW, 2, 1, 0)
          .li(5, 0 /* patched below */)
          .li(6, (FRAME_B | Pte.P | Pte.W) >>> 0)
          .op(Op.STW, 6, 5, 0)
          .op(Op.LDW, 3, 1, 0),
      )
        .op(Op.LDW, 4, 1, 0)
        .op(Op.HLT),
      {
        map: (pt) => pt.map(VA, FRAME_A, Pte.W),
        setup: (r, pt) => {
          r.mem.write32(BASE + 16, pt.pteAddr(VA)); // the li r5 extension word
          r.mem.write32(FRAME_A, 0xaaaa);
          r.mem.write32(FRAME_B, 0xbbbb);
        },
      },
    );
  }

  it('a changed PTE is not seen while the old translation is in the TLB', () => {
    const rig = remap((p) => p);
    expect([rig.cpu.regs[2], rig.cpu.regs[3], rig.cpu.regs[4]]).toEqual([0xaaaa, 0xaaaa, 0xaaaa]);
  });

  it('invlpg of that address makes the change visible', () => {
    const rig = remap((p) => p.op(Op.INVLPG, 0, 1));
    expect([rig.cpu.regs[3], rig.cpu.regs[4]]).toEqual([0xaaaa, 0xbbbb]);
  });

  it('invlpg of another page does not', () => {
    const rig = remap((p) => p.li(7, VA + 0x1000).op(Op.INVLPG, 0, 7));
    expect(rig.cpu.regs[4]).toBe(0xaaaa);
  });

  it('a CR3 write (even of the same value) flushes the TLB', () => {
    const rig = remap((p) => p.op(Op.MOVFROMCR, 7, 3).op(Op.MOVTOCR, 3, 7));
    expect(rig.cpu.regs[4]).toBe(0xbbbb);
    expect(rig.cpu.stats.tlbFlushes).toBeGreaterThan(0);
  });

  it('a CR0 write flushes the TLB', () => {
    const rig = remap((p) => p.op(Op.MOVFROMCR, 7, 0).op(Op.MOVTOCR, 0, 7));
    expect(rig.cpu.regs[4]).toBe(0xbbbb);
  });

  it('a PTE made not-present is still used until invlpg, then faults', () => {
    const rig = paged(
      new Prog(BASE).li(1, VA).op(Op.LDW, 2, 1, 0).li(5, 0).li(6, 0).op(Op.STW, 6, 5, 0).op(Op.LDW, 3, 1, 0).op(Op.INVLPG, 0, 1).op(Op.LDW, 4, 1, 0),
      {
        map: (pt) => pt.map(VA, FRAME_A, Pte.W),
        setup: (r, pt) => {
          r.mem.write32(BASE + 16, pt.pteAddr(VA));
          r.mem.write32(FRAME_A, 0xaaaa);
        },
      },
    );
    expect(rig.cpu.regs[3]).toBe(0xaaaa);
    expectPageFault(rig, 0, VA, BASE + 40);
  });

  it('turning paging off returns to identity translation', () => {
    const rig = paged(new Prog(BASE).li(1, 0).op(Op.MOVTOCR, 0, 1).li(2, FRAME_A).op(Op.LDW, 3, 2, 0).op(Op.HLT), {
      map: (pt) => pt.map(FRAME_A, FRAME_B, Pte.W),
      setup: (r) => {
        r.mem.write32(FRAME_A, 1);
        r.mem.write32(FRAME_B, 2);
      },
    });
    expect(rig.cpu.regs[3]).toBe(1);
  });

  it('a loop over more pages than the TLB holds gives the same sums on both engines', () => {
    const pages = 600;
    const rig = paged(
      new Prog(BASE)
        .li(1, VA)
        .li(2, VA + pages * 4096)
        .li(4, 0)
        .label('top')
        .op(Op.LDW, 3, 1, 0)
        .op(Op.ADD, 4, 4, 3)
        .op(Op.STW, 4, 1, 4)
        .op(Op.ADDI, 1, 1, 4096)
        .op(Op.CMP, 0, 1, 2)
        .j(Cond.B, 'top')
        .op(Op.HLT),
      {
        map: (pt) => {
          for (let k = 0; k < pages; k++) pt.map(VA + k * 4096, 0x100000 + k * 4096, Pte.W);
        },
        setup: (r) => {
          for (let k = 0; k < pages; k++) r.mem.write32(0x100000 + k * 4096, k);
        },
      },
    );
    expect(rig.cpu.regs[4]).toBe((pages * (pages - 1)) / 2);
  });
});

describe('the TLB geometry: 4-way set-associative, round-robin replacement on fills', () => {
  // p4-2003 and modern: 256 entries, 4 ways, so 64 sets; pages 0x40000 apart share a set (set 0
  // here: VA = 0x400000), and the code page (0x1000) and stack (0x9000) are in other sets.
  const STRIDE = 0x40000;
  const P = (k: number) => VA + k * STRIDE;
  const mapAll = (pt: PageTables) => {
    for (let k = 0; k < 5; k++) pt.map(P(k), FRAME_A + k * 0x1000, Pte.W);
  };
  /** loads from pages P(k) for each k in order, into r2; returns the misses (the code page's included) */
  const misses = (ks: number[], write?: number) => {
    const prog = new Prog(BASE);
    ks.forEach((k, i) => {
      prog.li(1, P(k)).op(i === write ? Op.STW : Op.LDW, 2, 1, 0);
    });
    return paged(prog.op(Op.HLT), { map: mapAll }).cpu.stats.tlbMisses;
  };

  it('a set holds four pages: a fifth replaces the first filled (round robin), not the least recently used', () => {
    // 1 (code) + 4 fills; the second pass hits
    expect(misses([0, 1, 2, 3, 0, 1, 2, 3])).toBe(5);
    // P(4) replaces P(0) although P(0) was used last: hits leave the replacement state alone
    expect(misses([0, 1, 2, 3, 0, 4, 1, 2, 3])).toBe(6);
    expect(misses([0, 1, 2, 3, 0, 4, 0])).toBe(7);
    // the next fill (P(0) again) replaces way 1, P(1)
    expect(misses([0, 1, 2, 3, 4, 0, 2, 3, 1])).toBe(8);
  });

  it("a write to a page held for reads refills the page's own way: no page is in two ways", () => {
    // reads fill 4 ways, the first write to P(0) walks (D) into P(0)'s way; P(4) then replaces P(0)
    expect(misses([0, 1, 2, 3, 0, 1, 2, 3, 4, 1, 2, 3], 4)).toBe(7);
    expect(misses([0, 1, 2, 3, 0, 4, 0], 4)).toBe(8);
  });

  it('INVLPG drops the page from whichever way holds it; a flush restarts round robin at way 0', () => {
    const prog = new Prog(BASE);
    for (const k of [0, 1, 2]) prog.li(1, P(k)).op(Op.LDW, 2, 1, 0);
    prog.li(1, P(1)).op(Op.INVLPG, 0, 1).op(Op.LDW, 2, 1, 0).op(Op.LDW, 2, 1, 0);
    // a CR3 write flushes; then P(0..3) fill ways 0..3 and P(4) replaces P(0)
    prog.li(3, PD).op(Op.MOVTOCR, 3, 3);
    for (const k of [0, 1, 2, 3, 4, 1]) prog.li(1, P(k)).op(Op.LDW, 2, 1, 0);
    const rig = paged(prog.op(Op.HLT), { map: mapAll });
    // 1 code + 3 + 1 (after INVLPG) ; after the flush 1 code + 5
    expect(rig.cpu.stats.tlbMisses).toBe(11);
    expect(rig.cpu.stats.invlpgs).toBe(1);
  });

  it('CPUID leaf 1 reports the entries; a profile with a geometry that is not powers of two is refused', () => {
    const rig = runBoth((rig) => boot(rig, new Prog(BASE).li(0, 1).op(Op.CPUID).op(Op.HLT)));
    expect(rig.cpu.regs[2]).toBe(256);
    expect(tlbGeometry(getProfile('p4-2003'))).toEqual({ entries: 256, ways: 4 });
    const bad = (tlbEntries: number, tlbWays: number): CostProfile => ({ ...getProfile('p4-2003'), tlbEntries, tlbWays });
    expect(() => tlbGeometry(bad(96, 4))).toThrow('profile p4-2003: TLB geometry 96 entries x 4 ways (both powers of two, ways <= entries and <= 256)');
    expect(() => tlbGeometry(bad(4, 8))).toThrow('TLB geometry 4 entries x 8 ways');
    expect(tlbGeometry(bad(64, 64))).toEqual({ entries: 64, ways: 64 });
  });
});

describe('host-side translation helpers', () => {
  function setup() {
    return paged(new Prog(BASE).op(Op.HLT), {
      map: (pt) => {
        pt.map(VA, FRAME_A, Pte.W | Pte.U);
        pt.map(VA + 0x1000, FRAME_B, 0);
      },
    });
  }

  it('translate gives the physical address, or -1 for unmapped, read-only (write) and supervisor (user) pages', () => {
    const rig = setup();
    expect(rig.cpu.mmu.translate(VA + 0x123)).toBe(FRAME_A + 0x123);
    expect(rig.cpu.mmu.translate(VA + 0x1123, false)).toBe(FRAME_B + 0x123);
    expect(rig.cpu.mmu.translate(VA + 0x1123, true, true)).toBe(-1);
    expect(rig.cpu.mmu.translate(VA + 0x1123, false, true)).toBe(-1);
    expect(rig.cpu.mmu.translate(VA + 0x2000)).toBe(-1);
  });

  it('translate does not set accessed bits, fault, or charge cycles', () => {
    const rig = setup();
    const cycles = rig.cpu.cycles;
    rig.cpu.mmu.translate(VA);
    rig.cpu.mmu.translate(VA + 0x5000);
    expect(rig.pt.pte(VA) & Pte.A).toBe(0);
    expect(rig.cpu.cycles).toBe(cycles);
    expect(rig.cpu.cr2).toBe(0);
  });

  it('peek and poke read and write through the page tables', () => {
    const rig = setup();
    // a user-mode poke straddling into the supervisor page writes nothing
    expect(rig.cpu.poke32(VA + 0xffe, 0x11223344, true)).toBe(false);
    expect(rig.mem.read16(FRAME_A + 0xffe)).toBe(0);
    expect(rig.cpu.poke32(VA + 4, 0x11223344)).toBe(true);
    expect(rig.mem.read32(FRAME_A + 4)).toBe(0x11223344);
    expect(rig.cpu.peek32(VA + 4)).toBe(0x11223344);
    expect(rig.cpu.peek8(VA + 7)).toBe(0x11);
    expect(rig.cpu.peek32(VA + 0x2000)).toBeUndefined();
    expect(rig.cpu.peekBytes(VA + 4, 2)).toEqual(new Uint8Array([0x44, 0x33]));
  });
});

describe('the MMU on its own (machine/mmu.ts): what it tells its CPU through MmuHost', () => {
  const PDIR = 0x10000;
  const PTAB = 0x11000;
  /** A recording host: CR0.PG|WP, CR3 = PDIR, root mode unless nonRoot is set; every call noted. */
  function rig() {
    const mem = new PhysicalMemory(1 << 20);
    mem.write32(PDIR + (VA >>> 22) * 4, PTAB | Pte.P | Pte.W | Pte.U);
    mem.write32(PTAB, FRAME_A | Pte.P | Pte.W | Pte.U);
    mem.write32(PTAB + 4, FRAME_B | Pte.P | Pte.U);
    const calls: string[] = [];
    const host: MmuHost = {
      cr0: CR0_PG | CR0_WP,
      cr3: PDIR,
      nonRoot: false,
      vmcs: null,
      stats: { tlbMisses: 0, tlbFlushes: 0, invlpgs: 0 },
      charge: (ev, n) => calls.push(`charge ${ev === Ev.TlbWalk ? 'tlb-walk' : ev === Ev.EptWalk ? 'ept-walk' : ev} x${n}`),
      pendPageFault: (error, addr) => calls.push(`#PF error ${error} at 0x${addr.toString(16)}`),
      pendEptViolation: (gpa, va, q) => calls.push(`EPT violation gpa 0x${gpa.toString(16)} va 0x${va.toString(16)} qualification ${q}`),
      tablesWritten: (pa) => calls.push(`A/D written at 0x${pa.toString(16)}`),
    };
    return { mem, calls, host, mmu: new Mmu(host, mem, getProfile('p4-2003')) };
  }

  it('a write walk charges two levels, writes A then A|D through tablesWritten, fills the TLB; the next access hits silently', () => {
    const { mem, calls, host, mmu } = rig();
    expect(mmu.xlate(VA + 0x124, ACC_WRITE, true)).toBe(FRAME_A + 0x124);
    expect(calls).toEqual(['charge tlb-walk x1', 'charge tlb-walk x1', `A/D written at 0x${(PDIR + 4).toString(16)}`, `A/D written at 0x${PTAB.toString(16)}`]);
    expect(mem.read32(PTAB) & (Pte.A | Pte.D)).toBe(Pte.A | Pte.D);
    expect(host.stats.tlbMisses).toBe(1);
    calls.length = 0;
    expect(mmu.xlate(VA + 0x128, ACC_READ, true)).toBe(FRAME_A + 0x128);
    expect(mmu.xlate(VA + 0x12c, ACC_WRITE, false)).toBe(FRAME_A + 0x12c);
    expect(calls).toEqual([]);
    mmu.invlpg(VA);
    expect(mmu.xlate(VA, ACC_READ, false)).toBe(FRAME_A);
    expect(calls).toEqual(['charge tlb-walk x1', 'charge tlb-walk x1']);
    expect([host.stats.tlbMisses, host.stats.invlpgs]).toEqual([2, 1]);
  });

  it('a user write to a read-only page reports #PF P|W|U with the address (walk charged, no A/D write); look-only translate reports nothing', () => {
    const { calls, mmu } = rig();
    expect(mmu.translate(VA + 0x1008, true, true)).toBe(-1);
    expect(calls).toEqual([]);
    expect(mmu.xlate(VA + 0x1008, ACC_WRITE, true)).toBe(-1);
    expect(calls).toEqual(['charge tlb-walk x1', 'charge tlb-walk x1', `#PF error ${PfErr.Present | PfErr.Write | PfErr.User} at 0x${(VA + 0x1008).toString(16)}`]);
  });

  it('a flush leaves the TLB as a new one, whether fills since the last flush took a few entries, many, or more than it holds', () => {
    for (const pages of [3, 40, 300]) {
      const a = rig();
      const fresh = rig();
      for (let k = 0; k < 512; k++) a.mem.write32(PTAB + 4 * k, (FRAME_A + (k % 16) * 0x1000) | Pte.P | Pte.W | Pte.U);
      for (let k = 0; k < 512; k++) fresh.mem.write32(PTAB + 4 * k, (FRAME_A + (k % 16) * 0x1000) | Pte.P | Pte.W | Pte.U);
      const touch = (m: Mmu, n: number, from: number) => {
        for (let k = 0; k < n; k++) m.xlate(VA + ((from + k * 5) % 512) * 0x1000, k % 3 === 0 ? ACC_WRITE : ACC_READ, k % 2 === 0);
      };
      touch(a.mmu, pages, 0);
      a.mmu.invlpg(VA);
      a.mmu.flushTlb();
      const empty = fresh.mmu.tlbSnapshot();
      expect(a.mmu.tlbSnapshot()).toEqual(empty);
      // and it fills as a new one does: the same ways, in the same round-robin order
      touch(a.mmu, 37, 7);
      touch(fresh.mmu, 37, 7);
      expect(a.mmu.tlbSnapshot()).toEqual(fresh.mmu.tlbSnapshot());
    }
  });

  it('in non-root mode a directory outside the second stage reports an EPT violation on the directory entry read', () => {
    const { calls, host, mmu } = rig();
    const vmcs = new Vmcs();
    vmcs.eptRoot = 0x20000; // an empty second-stage directory: nothing is mapped
    Object.assign(host, { nonRoot: true, vmcs });
    expect(mmu.xlate(VA, ACC_READ, false)).toBe(-1);
    expect(calls).toEqual([
      'charge tlb-walk x1',
      'charge ept-walk x2',
      `EPT violation gpa 0x${(PDIR + 4).toString(16)} va 0x${VA.toString(16)} qualification ${EptQual.Read | EptQual.LinearValid}`,
    ]);
  });
});
