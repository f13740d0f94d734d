// Hostile-guest fuzzing of hvm mode: random code words, biased toward what exits or reaches for
// what is not the guest's (I/O to random ports, HLT, CPUID, HYPERCALL, MOVCR with random page
// directories, LIDT with random bases, INT n, loads, stores and jumps anywhere), run as the kernel
// of an hvm domain next to a well-behaved one. Whatever it does: run() returns, the hostile domain
// keeps running or stops with a reason, every machine frame has exactly one owner, the second-stage
// tables are exactly as built, everything is given back on destroy, and the other domain prints
// exactly what it prints alone.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { OWNER_FREE, OWNER_HYPERVISOR } from '../../hypervisor/core/frames.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { HvmMode, hvmReserveBytes, hvmDomain, type HvmMmu, hvmVcpu } from '../../hypervisor/hvm/index.ts';
import { ImageArch, type Image } from '../../machine/image.ts';
import { INSTRUCTIONS, Op, encode } from '../../machine/isa.ts';
import { GOOD_MEMORY, goodGuestSource, HOSTILE_MEMORY, hvmPairSlices, SKIP_STUB, STOP_REASONS } from './fixtures/hostile.ts';
import { guestImage, runHvm } from './hvm-harness.ts';

/** The well-behaved domain (fixtures/hostile.ts), without its messages. */
const GOOD = guestImage(goodGuestSource(false));

const alone = runHvm(GOOD, { memoryBytes: GOOD_MEMORY });

const CODE = 0x1000;
const CODE_WORDS = 1024;
const IDT = 0x10000;
/** stacks land here */
const DATA = 0x30000;
const PORTS = [0x20, 0x21, 0x22, 0x40, 0x41, 0x3f8, 0x3fd, 0x1f0, 0x1f2, 0x1f6, 0x300, 0x308, 0x501];

const reg = fc.integer({ min: 0, max: 15 });
const imm16 = fc.integer({ min: -0x8000, max: 0x7fff });
/** an address in the domain, just beyond it, or anything */
const value = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: HOSTILE_MEMORY - 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: HOSTILE_MEMORY - 64, max: HOSTILE_MEMORY + 8192 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 3, 0x200, DATA, 0x80000000 | 0, -1) },
  { weight: 1, arbitrary: fc.integer({ min: -0x80000000, max: 0x7fffffff }) },
);
const w = (op: number, rd: number, ra: number, imm: number): number[] => [encode(op, rd, ra, imm)];

const insn: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(Op.HLT, Op.CLI, Op.STI, Op.IRET, Op.POPF, Op.HYPERCALL, Op.CPUID, Op.BRK), reg).map(([op, r]) => w(op, r, r, 0)) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(Op.IN, Op.INB, Op.OUT, Op.OUTB), reg, fc.constantFrom(...PORTS)).map(([op, r, p]) => w(op, r, r, p)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(0, 3), reg).map(([cr, r]) => w(Op.MOVTOCR, cr, r, 0)) },
  { weight: 2, arbitrary: fc.tuple(reg, fc.integer({ min: 0, max: 0xffff })).map(([r, n]) => w(Op.LIDT, 0, r, n)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }).map((v) => w(Op.INT, 0, 0, v)) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(Op.LDW, Op.LDBU, Op.STW, Op.STB, Op.PUSH, Op.POP), reg, reg, imm16).map(([op, rd, ra, i]) => w(op, rd, ra, i)) },
  { weight: 4, arbitrary: fc.tuple(reg, value).map(([r, v]) => [encode(Op.LI, r, 0, 0), v | 0]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(Op.JMPR, Op.CALLR, Op.RET), reg).map(([op, r]) => w(op, 0, r, 0)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...INSTRUCTIONS.map((i) => i.op)), reg, reg, imm16).map(([op, rd, ra, i]) => w(op, rd, ra, i)) },
  { weight: 1, arbitrary: fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((x) => [x]) },
);

const hostileArb = fc.record({
  regs: fc.array(value, { minLength: 16, maxLength: 16 }),
  code: fc.array(insn, { minLength: 16, maxLength: 300 }),
  /** an IDT whose gates all lead to a stub that skips the faulting word (else none: the first fault triple-faults) */
  idt: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  sp: fc.oneof(fc.integer({ min: DATA + 0x400, max: DATA + 0xc00 }), value),
  /** a fast timer and interrupts on */
  timer: fc.option(fc.integer({ min: 1, max: 50000 }), { nil: undefined }),
});
type Hostile = typeof hostileArb extends fc.Arbitrary<infer T> ? T : never;

/** The hostile image: a prologue (IDT, timer, random registers), a skip stub, the random code; an IDT. */
function hostileImage(h: Hostile): Image {
  const pro: number[] = [];
  const li = (r: number, v: number): void => void pro.push(encode(Op.LI, r), v | 0);
  if (h.idt) {
    li(1, IDT);
    pro.push(encode(Op.LIDT, 0, 1, 256));
    li(1, DATA + 0x800);
    pro.push(encode(Op.LKSP, 0, 1, 0));
  }
  if (h.timer !== undefined) {
    li(1, 0xfff0);
    pro.push(encode(Op.OUT, 0, 1, 0x21));
    li(1, h.timer);
    pro.push(encode(Op.OUT, 0, 1, 0x40));
    li(1, 3);
    pro.push(encode(Op.OUT, 0, 1, 0x41));
    pro.push(encode(Op.STI));
  }
  h.regs.forEach((v, r) => li(r, r === 15 ? h.sp : v));
  const stub = CODE + 4 * (pro.length + 2);
  pro.push(encode(Op.JMP), 4 * SKIP_STUB.length);
  pro.push(...SKIP_STUB);
  const words = [...pro, ...h.code.flat()].slice(0, CODE_WORDS);
  const code = new Uint8Array(4 * CODE_WORDS);
  const cv = new DataView(code.buffer);
  words.forEach((x, k) => cv.setInt32(4 * k, x, true));
  // present interrupt gates to ring 0, reachable by INT n from ring 3 too (DPL 3)
  const idt = new Uint8Array(256 * 8);
  const iv = new DataView(idt.buffer);
  for (let v = 0; v < 256; v++) {
    iv.setUint32(8 * v, stub, true);
    iv.setUint32(8 * v + 4, 1 | (3 << 1), true);
  }
  const seg = (paddr: number, data: Uint8Array) => ({ vaddr: paddr, paddr, memBytes: data.length, flags: 7, data });
  return {
    entry: CODE,
    arch: ImageArch.Bare,
    segments: [seg(CODE, code), seg(IDT, idt)],
    symbols: [],
    notes: {},
  };
}

/** Every frame has one owner; each domain owns exactly its p2m; the hypervisor frame 0 and the second stages (or shadows). */
function checkFrames(hv: Hypervisor, doms: Domain[]): void {
  const owner = hv.frames.owner;
  for (const d of doms) {
    for (const f of d.p2m) expect(owner[f]).toBe(d.id);
    expect(hv.frames.countOwned(d.id)).toBe(d.quotaFrames);
  }
  const held = (d: Domain) => hvmDomain(d).ept?.frames.length ?? hvmVcpu(d.vcpus[0]!).shadow!.shadow.framesHeld;
  const mmuFrames = doms.reduce((n, d) => n + held(d), 0);
  expect(hv.frames.countOwned(OWNER_HYPERVISOR)).toBe(1 + mmuFrames);
  expect(hv.frames.countOwned(OWNER_FREE)).toBe(hv.frames.freeFrames);
}

/** The bytes of a domain's second-stage frames. */
function eptBytes(hv: Hypervisor, d: Domain): Uint8Array[] {
  return hvmDomain(d).ept!.frames.map((f) => hv.mem.u8.slice(f * 4096, f * 4096 + 4096));
}

function runPair(h: Hostile, slice: number, mmu: HvmMmu = 'ept'): void {
  const hv = new Hypervisor({
    memoryBytes: GOOD_MEMORY + HOSTILE_MEMORY + hvmReserveBytes(GOOD_MEMORY) + hvmReserveBytes(HOSTILE_MEMORY),
    scheduler: new RoundRobinScheduler(slice),
  });
  const mode = new HvmMode({ mmu });
  const hostile = hv.createDomain(mode, { name: 'hostile', memoryBytes: HOSTILE_MEMORY }, { image: hostileImage(h) });
  const good = hv.createDomain(mode, { name: 'good', memoryBytes: GOOD_MEMORY }, { image: GOOD });
  const ept = mmu === 'ept';
  const built = ept ? [eptBytes(hv, hostile), eptBytes(hv, good)] : [];
  for (let k = 0; k < 40 && !good.stopped; k++) {
    hv.run({ maxCycles: 250_000 });
    checkFrames(hv, [hostile, good]);
  }
  if (ept) expect([eptBytes(hv, hostile), eptBytes(hv, good)]).toEqual(built);
  expect([good.stopReason, good.stopStatus, good.consoleOutput()]).toEqual(['poweroff', alone.status, alone.output]);
  if (hostile.stopped) {
    expect(STOP_REASONS).toContain(hostile.stopReason);
    if (hostile.stopReason !== 'poweroff') expect(hostile.stopDetail).not.toBe('');
  }
  hv.destroyDomain(hostile);
  hv.destroyDomain(good);
  expect(hv.frames.countOwned(OWNER_HYPERVISOR)).toBe(1);
  expect(hv.frames.freeFrames).toBe(hv.frames.frames - 1);
}

describe('hvm mode: a hostile guest next to a well-behaved one', () => {
  it('the well-behaved guest alone powers off with its output', () => {
    expect([alone.reason, alone.status]).toEqual(['poweroff', 0x42]);
    expect(alone.output).toMatch(/^[0-9a-f]{8}\n$/);
  });

  it('random code never crashes the hypervisor, breaks frame ownership, changes a second stage or touches the other domain', () => {
    fc.assert(
      fc.property(hostileArb, fc.constantFrom(...hvmPairSlices()), (h, slice) => runPair(h, slice)),
      { seed: Number(process.env.FUZZ_SEED ?? 0x4a17), numRuns: Number(process.env.FUZZ_RUNS ?? 100) },
    );
  });

  it('on shadow page tables too: the shadow maps only the domain\'s frames, whatever its tables say (a slice; FUZZ_RUNS for more)', () => {
    fc.assert(
      fc.property(hostileArb, fc.constantFrom(...hvmPairSlices()), (h, slice) => runPair(h, slice, 'shadow')),
      { seed: Number(process.env.FUZZ_SEED ?? 0x5bad), numRuns: Number(process.env.FUZZ_RUNS ?? 20) },
    );
  });
});
