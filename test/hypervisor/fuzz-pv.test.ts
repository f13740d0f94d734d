// Hostile-guest fuzzing of the paravirtual interface: two PV guests issue random hypercalls
// (numbers 0..50, mostly real ones, with argument structs shaped for each) with random arguments -
// pointers into their own memory, machine addresses of their own and the other domains' page
// tables, frames of their own, of the others and of the hypervisor, grants to anyone, domain ids,
// small numbers, anything - then run random code, next to a well-behaved PV domain. Whatever they
// do: run() returns, a hostile domain keeps running or is stopped with a reason, every frame has
// one owner, the frame table's counts are exactly what the page tables, pins, base pointers, grant
// mappings and back ends imply, no page-table frame is mapped writable (in any validated table, or
// in the TLB), everything comes back when the domains are destroyed, and the well-behaved domain
// prints exactly what it prints alone. FUZZ_SEED / FUZZ_RUNS choose other runs; FUZZ_STATS=1
// prints which hypercalls were made and how the hostile domains ended.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { OWNER_HYPERVISOR } from '../../hypervisor/core/frames.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { PvMode } from '../../hypervisor/pv/mode.ts';
import { INSTRUCTIONS, Op, encode } from '../../machine/isa.ts';
import { asmGuest, hc } from './pv-helpers.ts';
import { checkOwnership, checkTlb, checkTypes, consoleFrame } from './pv-invariants.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;
const DOMAIN_MEMORY = 2 * MiB;
const HV_PDE = 1023;

/** The well-behaved domain: console output, console input, a one-shot timer it blocks for, power-off 7. */
const GOOD = asmGuest(`
_start:
  li r0, 18             ; console_io(WRITE, 8, msg1)
  li r1, 0
  li r2, 8
  li r3, msg1
  hypercall
  li r5, 30000
.Lspin:
  addi r5, r5, -1
  cmpi r5, 0
  jne .Lspin
  li r0, 18             ; console_io(READ, 16, buf): the input typed before it started
  li r1, 1
  li r2, 16
  li r3, buf
  hypercall
  mov r2, r0
  li r0, 18             ; echo it
  li r1, 0
  li r3, buf
  hypercall
  li r0, 16             ; event_channel_op(BIND_VIRQ, {TIMER, vcpu 0, port})
  li r1, 2
  li r2, bind
  hypercall
  li r0, 15             ; set_timer_op(1 ms of system time)
  li r1, 1000000
  li r2, 0
  hypercall
  li r0, 6              ; sched_op(BLOCK): woken by the pending timer port
  li r1, 1
  hypercall
  li r0, 18
  li r1, 0
  li r2, 5
  li r3, msg2
  hypercall
  li r0, 6              ; sched_op(SHUTDOWN, POWEROFF, 7)
  li r1, 2
  li r2, 0
  li r3, 7
  hypercall
.Lhang:
  jmp .Lhang
msg1:
  .ascii "good pv\\n"
msg2:
  .ascii "woke\\n"
  .align 4
bind:
  .word 0, 0, 0
buf:
  .space 16`);
const GOOD_INPUT = 'abc';

// ------------------------------------------------------------------------------------------------ the hostile guest

/** Where the hostile image keeps its hypercall records and argument buffer (inside the image: mapped writable). */
const CODE = 0x100000;
const RECORDS = 0x104000;
const MAX_RECORDS = 160;
const BUF = 0x106000;
const BUF_WORDS = 2048;

/*
 * Guest code: set a trap table whose every entry resumes after the trapping word (so a fault does
 * not end the run), then for each record {nr, a1..a5} at RECORDS issue the hypercall, then run the
 * random tail. r11..r13 are the loop's; the stub uses r11 (the loop reloads it).
 */
const HOSTILE_ASM = (records: number, tail: number[]) => `
_start:
  li r0, 0              ; set_trap_table(traps)
  li r1, traps
  hypercall
  li r0, 4              ; set_callbacks(skip, skip)
  li r1, skip
  li r2, skip
  hypercall
  li r13, ${RECORDS}
  li r12, ${records}
.Lloop:
  cmpi r12, 0
  jeq tail
  ldw r0, [r13]
  ldw r1, [r13 + 4]
  ldw r2, [r13 + 8]
  ldw r3, [r13 + 12]
  ldw r4, [r13 + 16]
  ldw r5, [r13 + 20]
  hypercall
  addi r13, r13, 24
  addi r12, r12, -1
  jmp .Lloop
skip:                   ; resume after the word that trapped: frame pc + 4
  ldw r11, [sp + 8]
  addi r11, r11, 4
  stw [sp + 8], r11
  addi sp, sp, 8
  iret
  .align 4
traps:
${Array.from({ length: 32 }, (_, v) => `  .word ${v}, 3, 1, skip`).join('\n')}
  .word 0x80, 3, 1, skip
  .word 0, 0, 0, 0
tail:
${tail.map((x) => `  .word ${x | 0}`).join('\n')}
  jmp tail
  .org ${RECORDS}
  .space ${MAX_RECORDS * 24}
  .org ${BUF}
  .space ${BUF_WORDS * 4}
`;

/*
 * Arguments are symbolic, resolved once every domain exists (machine addresses are known only
 * then): [kind, k]. Kinds below 100 draw from pools of interesting values; LIT is k itself, AT a
 * word of the argument buffer, SKIP the guest's resume-after-fault handler.
 */
type Sym = [kind: number, k: number];
const LIT = 100;
const AT = 101;
const MACHPHYS = 102;
const SKIP = 103;
const lit = (n: number): Sym => [LIT, n];
const FOCUS = 4;

interface Ctx {
  me: Domain;
  peer: Domain;
  good: Domain;
  mode: PvMode;
  hv: Hypervisor;
  skip: number;
}

function resolve(c: Ctx, [kind, k]: Sym): number {
  const lay = c.mode.layouts.get(c.me.id)!;
  const u = k >>> 0;
  const mfn = (d: Domain, pfn: number) => Math.max(0, d.p2m[pfn % d.p2m.length]!);
  const pt = (d: Domain, j: number) => {
    const l = c.mode.layouts.get(d.id)!;
    return mfn(d, l.ptFirstPfn + (j % l.ptFrames));
  };
  const frameOf = (sel: number): number => {
    const pd = c.mode.pv(c.me);
    const j = sel >>> 4;
    switch (sel % 10) {
      case 0: return mfn(c.me, j);
      case 1: return pt(c.me, j);
      case 2: return mfn(c.peer, j);
      case 3: return pt(c.peer, j);
      case 4: {
        const hvFrames = [pd.sharedInfoMfn, pd.idtMfn, pd.hvL1Mfn, c.mode.pv(c.peer).sharedInfoMfn, c.mode.pv(c.good).sharedInfoMfn, c.mode.host.m2pFrames[0]!,
          ...pd.grants.frames, ...c.mode.pv(c.peer).grants.frames];
        return hvFrames[j % hvFrames.length]!;
      }
      case 5: return [0, c.hv.frames.frames - 1, c.hv.frames.frames, c.hv.frames.frames + 7, 0xfffff][j % 5]!;
      case 6: return mfn(c.me, lay.firstFreePfn + (j % 8));
      case 7: return mfn(c.me, (BUF >>> 12) + (j % 8));
      case 8: return mfn(c.good, j);
      default: return pt(c.good, j);
    }
  };
  switch (kind) {
    case 0: return u % 16;
    case 1: return BUF + ((u % BUF_WORDS) << 2);
    case 2: return BUF + (u % (BUF_WORDS * 4));
    case 3: return (u % c.me.p2m.length) * PAGE;
    case 4: return pt(c.me, 1 + ((u >>> 20) % (lay.ptFrames - 1))) * PAGE + (u % 1024) * 4;
    case 5: return pt(c.me, 0) * PAGE + (u % 1024) * 4;
    case 6: return pt((u & 0x8000) !== 0 ? c.good : c.peer, (u >>> 20) % 2) * PAGE + (u % 1024) * 4;
    case 7: return frameOf(u);
    case 8: return pt(c.me, u);
    case 9: return (frameOf(u >>> 3) * PAGE) | [0x1, 0x3, 0x7, 0x23, 0x63, 0x67, 0x5, 0x0][u & 7]!;
    case 10: return [0, 1, 2, 3, 4, 0x7ff0, -1, c.me.id, c.peer.id, c.good.id][u % 10]!;
    case 11: return [0xffc00000, 0xffc10000, 0xffc01000, 0xffbff000, 0xfffffffc, 0x2000, 0x1000][u % 7]! | 0;
    case 12: return CODE + ((u % 256) << 2);
    case 13: return [0, 1, 2, 3, 4, 5, 6, 13, 14, 0x80, 0xf0, 255, 256, 1024, 64, 65, 4096, 0x10000][u % 18]!;
    // the focus: four pages of its own that nothing else uses, so map/unmap/pin/give-back sequences meet
    case 15: return mfn(c.me, lay.firstFreePfn + (u % FOCUS));
    case 16: return (lay.firstFreePfn + (u % FOCUS)) * PAGE;
    case 17: return (mfn(c.me, lay.firstFreePfn + (u % FOCUS)) * PAGE) | [0x1, 0x3, 0x7, 0x23, 0x63, 0x67, 0x5, 0x0][(u >>> 2) & 7]!;
    case 18: return lay.firstFreePfn + (u % FOCUS);
    case LIT: return k | 0;
    case AT: return BUF + 4 * (u % BUF_WORDS);
    case MACHPHYS: return ((u & 1) === 0 ? mfn(c.me, lay.firstFreePfn + ((u >>> 1) % FOCUS)) : frameOf(u >>> 1)) * PAGE + 1;
    case SKIP: return c.skip;
    default: return k | 0;
  }
}

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const symOf = (...kinds: number[]): fc.Arbitrary<Sym> => fc.tuple(fc.constantFrom(...kinds), int32);
/** any pool value, now and then anything at all */
const sym: fc.Arbitrary<Sym> = fc.oneof(
  { weight: 8, arbitrary: symOf(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18) },
  { weight: 1, arbitrary: symOf(14) },
);
const small = (max: number) => fc.integer({ min: 0, max }).map(lit);
const some = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: sym as unknown as fc.Arbitrary<T> });

/** A hypercall record: the number, five arguments, and words to put in the argument buffer first. */
interface Rec {
  nr: number;
  args: Sym[];
  at: number;
  words: Sym[];
}
const BUF_SLOT = fc.integer({ min: 0, max: BUF_WORDS - 64 });
const rec = (nr: number, args: fc.Arbitrary<Sym[]>, words: fc.Arbitrary<Sym[]> = fc.constant([])) =>
  fc.tuple(BUF_SLOT, args, words).map(([at, a, w]): Rec => ({ nr, args: [...a, ...Array<Sym>(5).fill(lit(0))].slice(0, 5).map((x, k) => (x[0] === AT && k < a.length ? [AT, at + x[1]] : x)), at, words: w }));
const here = (off = 0): Sym => [AT, off];
const pairs = (a: fc.Arbitrary<Sym>, b: fc.Arbitrary<Sym>, max: number) => fc.array(fc.tuple(a, b), { minLength: 1, maxLength: max }).map((ps) => ps.flat());
const HC_NUMBERS = [0, 1, 3, 4, 6, 12, 13, 14, 15, 16, 17, 18, 20, 24, 26];

const recordArb: fc.Arbitrary<Rec> = fc.oneof(
  // mmu_update(reqs, count, doneOut): page-table entries of its own, of the others, m2p updates
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 6 }).chain((n) => rec(1,
    fc.tuple(fc.constant(here()), some(fc.constant(lit(n))), fc.oneof(fc.constant(lit(0)), symOf(1))).map((a) => a as Sym[]),
    pairs(fc.oneof(symOf(4, 4, 5, 6), fc.tuple(fc.constant(MACHPHYS), int32), sym), fc.oneof(symOf(9, 9, 17, 17, 18, 0, 13), sym), n))) },
  // mmuext_op(ops, count, doneOut): pin, unpin, new base pointer, flushes
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 6 }).chain((n) => rec(26,
    fc.tuple(fc.constant(here()), some(fc.constant(lit(n))), fc.oneof(fc.constant(lit(0)), symOf(1))).map((a) => a as Sym[]),
    pairs(some(small(6)), fc.oneof(symOf(7, 8, 8, 3, 15, 15, 16), sym), n))) },
  // update_va_mapping(va, pte, flags)
  { weight: 4, arbitrary: rec(14, fc.tuple(fc.oneof(symOf(3, 3, 12, 11, 16, 16), fc.integer({ min: 0, max: 7 }).map((k): Sym => [LIT, BUF + k * PAGE]), sym), fc.oneof(symOf(9, 17, 17), fc.constant(lit(0)), sym), some(small(3)))) },
  // set_trap_table(table): mostly keeps the resume handler for what it registers
  { weight: 1, arbitrary: rec(0, fc.constant([here()]),
    fc.array(fc.tuple(some(small(257)), some(small(7)), some(small(3)), fc.oneof({ weight: 3, arbitrary: fc.constant<Sym>([SKIP, 0]) }, { weight: 1, arbitrary: symOf(12, 11, 14) })), { maxLength: 6 })
      .map((es) => [...es.flat(), lit(0), lit(0), lit(0), lit(0)])) },
  { weight: 1, arbitrary: rec(4, fc.tuple(fc.oneof(fc.constant<Sym>([SKIP, 0]), symOf(11, 12, 14)), fc.oneof(fc.constant<Sym>([SKIP, 0]), symOf(11, 12, 14))).map((a) => a as Sym[])) },
  { weight: 1, arbitrary: rec(3, fc.tuple(fc.oneof(symOf(1, 2, 3, 11), sym)).map((a) => a as Sym[])) },
  // sched_op: mostly yield (block and shutdown end its run)
  { weight: 1, arbitrary: rec(6, fc.tuple(fc.oneof({ weight: 6, arbitrary: fc.constant(lit(0)) }, { weight: 1, arbitrary: small(3) }), small(4), sym).map((a) => a as Sym[])) },
  // memory_op(cmd, reservation): the extent list follows the reservation in the buffer
  { weight: 3, arbitrary: rec(12, fc.tuple(some(small(4)), fc.constant(here())).map((a) => a as Sym[]),
    fc.tuple(some(small(4)), some(small(1)), fc.oneof(fc.constant(lit(0x7ff0)), symOf(10)), fc.array(fc.oneof(symOf(7, 8, 15, 15), sym), { minLength: 4, maxLength: 4 }))
      .map(([nr, order, dom, list]) => [here(4), nr, order, dom, ...list])) },
  // multicall(entries, count)
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 4 }).chain((n) => rec(13, fc.tuple(fc.constant(here()), some(fc.constant(lit(n)))).map((a) => a as Sym[]),
    fc.array(fc.tuple(fc.constantFrom(...HC_NUMBERS).map(lit), fc.array(sym, { minLength: 6, maxLength: 6 })).map(([op, a]) => [op, ...a]), { minLength: n, maxLength: n }).map((es) => es.flat()))) },
  { weight: 1, arbitrary: rec(15, fc.tuple(fc.oneof(small(3_000_000), sym), fc.oneof(fc.constant(lit(0)), sym)).map((a) => a as Sym[])) },
  // event_channel_op(cmd, op)
  { weight: 3, arbitrary: rec(16, fc.tuple(some(small(7)), fc.constant(here())).map((a) => a as Sym[]), fc.array(fc.oneof(symOf(10, 0, 0, 13), sym), { minLength: 6, maxLength: 6 })) },
  { weight: 1, arbitrary: rec(17, fc.tuple(some(small(3)), fc.oneof(symOf(1, 2, 11, 12), sym)).map((a) => a as Sym[])) },
  { weight: 2, arbitrary: rec(18, fc.tuple(some(small(2)), fc.oneof(small(64), sym), fc.oneof(symOf(1, 2, 3, 11, 12), sym)).map((a) => a as Sym[])) },
  // grant_table_op(cmd, ops, count): map, unmap, setup, query
  { weight: 4, arbitrary: rec(20, fc.tuple(some(small(4)), fc.constant(here()), some(small(3))).map((a) => a as Sym[]),
    fc.array(fc.tuple(fc.oneof(symOf(3, 11, 16), fc.integer({ min: 0, max: 7 }).map((k): Sym => [LIT, BUF + k * PAGE]), small(5)), some(small(7)), some(small(16)), fc.oneof(symOf(10), sym), sym, some(small(8)), sym)
      .map((e) => e as Sym[]), { minLength: 3, maxLength: 3 }).map((es) => es.flat())) },
  { weight: 1, arbitrary: rec(24, fc.tuple(some(small(4)), some(small(1)), fc.oneof(symOf(1), fc.constantFrom(0, 100, 1_000_000, 1_000_000_000).map(lit), sym)).map((a) => a as Sym[])) },
  // anything else, anything
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 50 }), fc.array(sym, { minLength: 5, maxLength: 5 })).map(([nr, args]): Rec => ({ nr, args, at: 0, words: [] })) },
);

const tailWord = fc.oneof(
  fc.tuple(fc.constantFrom(...INSTRUCTIONS.map((i) => i.op)), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 15 }), fc.integer({ min: -0x8000, max: 0x7fff }))
    .map(([op, rd, ra, imm]) => encode(op, rd, ra, imm)),
  fc.constantFrom(encode(Op.HYPERCALL), encode(Op.IRET), encode(Op.CLI), encode(Op.INT, 0, 0, 0x80), encode(Op.POPF), encode(Op.LIDT, 0, 1, 256)),
  int32,
);

/** One hostile domain's program, and what the host sets up for it first. */
const programArb = fc.record({
  records: fc.array(recordArb, { minLength: 1, maxLength: MAX_RECORDS, size: 'max' }),
  buffer: fc.array(sym, { minLength: 64, maxLength: 256, size: 'max' }),
  tail: fc.array(tailWord, { maxLength: 48 }),
  garbleConsole: fc.boolean(),
  /** a grant table with entries granting its frames (its page tables among them) to anyone */
  grants: fc.option(fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.oneof(symOf(10), sym), fc.oneof(symOf(7, 8, 15, 15), sym)), { minLength: 1, maxLength: 12 }), { nil: undefined }),
});

const hostileArb = fc.record({
  a: programArb,
  b: programArb,
  order: fc.constantFrom(0, 1, 2),
  slice: fc.constantFrom(20_000, 200_000, 3_000_000),
});

type Program = typeof programArb extends fc.Arbitrary<infer T> ? T : never;
type Hostile = typeof hostileArb extends fc.Arbitrary<infer T> ? T : never;

// ------------------------------------------------------------------------------------------------ invariants

const STOP_REASONS = ['poweroff', 'halted', 'triple-fault', 'crashed'];

function alone(): Domain {
  const hv = new Hypervisor({ memoryBytes: 16 * MiB });
  const mode = new PvMode();
  const d = hv.createDomain(mode, { name: 'good', memoryBytes: DOMAIN_MEMORY, devices: false, input: GOOD_INPUT }, { kernel: GOOD });
  hv.run({ maxCycles: 50_000_000 });
  return d;
}
const reference = alone();

const GRANT_FLAGS = [1, 1, 5, 0, 2, 0x19, 7];

/** Put a hostile program's records and argument buffer in its memory, and set up its grant table. */
function prepare(c: Ctx, p: Program): void {
  const { me, hv, mode } = c;
  if (p.grants) {
    // setup_table(1 frame) as the guest would, then entries written in the table frame
    const op = BUF + 4 * (BUF_WORDS - 8);
    [0x7ff0, 1, -1, op + 16].forEach((v, k) => me.memory.write32(op + 4 * k, v >>> 0));
    expect(hc(hv, mode, me, 20, 2, op, 1)).toBe(0);
    const table = mode.pv(me).grants.frames[0]!;
    p.grants.forEach(([ref, dom, frame], k) => {
      hv.mem.write32(table * PAGE + ref * 8 + 4, resolve(c, frame));
      hv.mem.write16(table * PAGE + ref * 8 + 2, resolve(c, dom));
      hv.mem.write16(table * PAGE + ref * 8, GRANT_FLAGS[k % GRANT_FLAGS.length]!);
    });
  }
  const buf = new DataView(new ArrayBuffer(BUF_WORDS * 4));
  for (let k = 0; k < BUF_WORDS; k++) buf.setInt32(k * 4, resolve(c, p.buffer[k % p.buffer.length]!), true);
  // its console page (shared with the console back end) holds garbage: indices, events, bytes
  const cons = consoleFrame(mode.pv(me));
  if (p.garbleConsole && cons >= 0) {
    for (let k = 0; k < 1024; k++) hv.mem.write32(cons * PAGE + 4 * k, (k & 1) === 0 ? resolve(c, p.buffer[k % p.buffer.length]!) : k % 97);
  }
  const recs = new DataView(new ArrayBuffer(MAX_RECORDS * 24));
  p.records.forEach((r, k) => {
    r.words.forEach((w, j) => {
      if (r.at + j < BUF_WORDS) buf.setInt32(4 * (r.at + j), resolve(c, w[0] === AT ? [AT, r.at + w[1]] : w), true);
    });
    recs.setInt32(k * 24, r.nr, true);
    r.args.forEach((a, j) => recs.setInt32(k * 24 + 4 + 4 * j, resolve(c, a), true));
  });
  expect(me.memory.writeBytes(BUF, new Uint8Array(buf.buffer))).toBe(true);
  expect(me.memory.writeBytes(RECORDS, new Uint8Array(recs.buffer))).toBe(true);
}

function runPair(h: Hostile): void {
  const hv = new Hypervisor({ memoryBytes: 24 * MiB, scheduler: new RoundRobinScheduler(h.slice) });
  const mode = new PvMode();
  const images = [h.a, h.b].map((p) => asmGuest(HOSTILE_ASM(p.records.length, p.tail)));
  const makeGood = () => hv.createDomain(mode, { name: 'good', memoryBytes: DOMAIN_MEMORY, devices: false, input: GOOD_INPUT }, { kernel: GOOD });
  const makeHostile = (k: number) => hv.createDomain(mode, { name: `hostile${k}`, memoryBytes: DOMAIN_MEMORY, devices: false }, { kernel: images[k]! });
  let good: Domain;
  let a: Domain;
  let b: Domain;
  if (h.order === 0) [good, a, b] = [makeGood(), makeHostile(0), makeHostile(1)];
  else if (h.order === 1) [a, good, b] = [makeHostile(0), makeGood(), makeHostile(1)];
  else [a, b, good] = [makeHostile(0), makeHostile(1), makeGood()];
  const skip = images[0]!.symbols.find((s) => s.name === 'skip')!.addr;
  prepare({ me: a, peer: b, good, mode, hv, skip }, h.a);
  prepare({ me: b, peer: a, good, mode, hv, skip }, h.b);

  // the good domain's code and page tables (but for accessed/dirty bits), which nothing it does changes
  const glay = mode.layouts.get(good.id)!;
  const codeBytes = GOOD.symbols.find((s) => s.name === 'msg1')!.addr - CODE;
  const codeMa = good.p2m[CODE >>> 12]! * PAGE;
  const tables = Array.from({ length: glay.ptFrames }, (_, k) => good.p2m[glay.ptFirstPfn + k]!);
  const snapshot = (): string =>
    [Array.from(hv.mem.u8.subarray(codeMa, codeMa + codeBytes)), ...tables.map((f) => Array.from(hv.mem.i32.subarray(f * 1024, f * 1024 + 1024), (e) => e & ~0x60))]
      .map((x) => x.join())
      .join('|');
  const before = snapshot();

  const doms = [good, a, b];
  for (let k = 0; k < 60 && !good.stopped; k++) {
    hv.run({ maxCycles: 300_000 });
    checkOwnership(hv, doms);
    checkTypes(hv, mode);
    checkTlb(hv, mode);
  }
  expect([good.stopReason, good.stopStatus, good.consoleOutput()]).toEqual(['poweroff', 7, reference.consoleOutput()]);
  if (snapshot() !== before) throw new Error("the good domain's code or page tables changed");
  for (const x of [a, b]) {
    if (process.env.FUZZ_STATS) tally(mode, x);
    if (!x.stopped) continue;
    expect(STOP_REASONS).toContain(x.stopReason);
    if (x.stopReason !== 'poweroff') expect(x.stopDetail).not.toBe('');
  }
  // everything comes back: the hypervisor keeps only frame 0 and the published m2p table
  hv.destroyDomain(a);
  checkTypes(hv, mode);
  hv.destroyDomain(good);
  checkTypes(hv, mode);
  hv.destroyDomain(b);
  expect(mode.host.zombies.size).toBe(0);
  expect(hv.frames.countOwned(OWNER_HYPERVISOR)).toBe(1 + mode.host.m2pFrames.length);
  expect(hv.frames.freeFrames).toBe(hv.frames.frames - 1 - mode.host.m2pFrames.length);
}

/** FUZZ_STATS=1: how often each hypercall was made and succeeded, and how the hostile domains ended. */
const stats = { ok: new Float64Array(64), all: new Float64Array(64), stop: new Map<string, number>() };
function tally(mode: PvMode, d: Domain): void {
  // failures are counted for multicall entries too (PvStats.failed), so the calls made are the
  // hypercalls plus the entries of multicalls: counting only the former gave mmu_update fewer
  // successes than zero
  const { failed, multicalled } = mode.pv(d).stats;
  d.stats.hypercalls.forEach((n, k) => {
    const made = n + multicalled[k]!;
    if (failed[k]! > made) throw new Error(`hypercall ${k}: ${failed[k]} failures of ${made} calls`);
    stats.all[k] += made;
    stats.ok[k] += made - failed[k]!;
  });
  const key = `${d.stopReason ?? 'running'} ${d.stopDetail.replace(/0x[0-9a-f]+/g, 'X').slice(0, 50)}`;
  stats.stop.set(key, (stats.stop.get(key) ?? 0) + 1);
}

describe('pv mode: hostile guests making random hypercalls next to a well-behaved one', () => {
  it('the well-behaved guest alone prints, echoes its input, wakes from its timer and powers off', () => {
    expect([reference.stopReason, reference.stopStatus, reference.consoleOutput()]).toEqual(['poweroff', 7, 'good pv\nabcwoke\n']);
  });

  it('random hypercalls never crash the hypervisor, break frame ownership or typing, or touch the other domain', () => {
    fc.assert(fc.property(hostileArb, (h) => runPair(h)), {
      seed: Number(process.env.FUZZ_SEED ?? 0x9e57),
      numRuns: Number(process.env.FUZZ_RUNS ?? 60),
    });
    if (process.env.FUZZ_STATS) {
      console.log([...stats.all].map((n, k) => (n ? `${k}:${stats.ok[k]}/${n}` : '')).filter(Boolean).join(' '), [...stats.stop]);
    }
  });
});
