// Hostile-guest fuzzing of binary translation (a copy of fuzz-trap.test.ts with BtMode): random code words, biased toward what reaches the
// monitor (privileged instructions, I/O to random ports, MOVCR, LIDT with random bases, IRET with
// random frames, INT n, HYPERCALL, loads and stores anywhere, jumps anywhere), run as the kernel of
// a trap-mode domain next to a well-behaved domain. Whatever the hostile guest does: run() returns,
// the hostile domain keeps running or is stopped with a reason, every machine frame has exactly
// one owner, no shadow entry maps anything but the domain's own frames, everything is given back
// when the domains are destroyed, and the other domain prints exactly what it prints alone.
// Under bt every word of the hostile kernel is translated before it runs (units at random and
// unaligned addresses, units overwritten by the guest's own stores, IRET and callouts with
// random frames and operands). The well-behaved domain's reference is its run alone under trap
// mode: its console has no timing in it, so it is the same under every mode.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { OWNER_FREE, OWNER_HYPERVISOR } from '../../hypervisor/core/frames.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { TrapVcpu } from '../../hypervisor/trap/index.ts';
import { BtMode } from '../../hypervisor/bt/index.ts';
import { ImageArch, type Image } from '../../machine/image.ts';
import { INSTRUCTIONS, Op, encode } from '../../machine/isa.ts';
import { guestImage, runTrap } from './trap-harness.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const GOOD_MEMORY = 1 * MiB;
const HOSTILE_MEMORY = 512 * KiB;

/** The well-behaved domain: paging on, a computation, a timer-driven HLT wait, then power-off 0x42. */
const GOOD = guestImage(`
test_main:
        call    paging_on
        li      r1, msg_hello
        call    puts
        li      r3, 0
        li      r4, 7
.Lsum:
        muli    r4, r4, 31
        add     r4, r4, r3
        addi    r3, r3, 1
        cmpi    r3, 3000
        jlt     .Lsum
        mov     r1, r4
        call    puthex
        call    putnl
        li      r2, tick_handler
        li      r10, trap_hook
        stw     [r10], r2
        li      r2, 0xfffe
        out     PIC_MASK, r2
        li      r2, 40000
        out     TIMER_PERIOD, r2
        li      r2, 3
        out     TIMER_CONTROL, r2
        sti
.Lwait:
        hlt
        li      r10, ticks
        ldw     r11, [r10]
        cmpi    r11, 3
        jlt     .Lwait
        cli
        li      r1, msg_ticks
        call    puts
        li      r0, 0x42
        ret

; trap_entry has clobbered r9 and left sp at the frame
tick_handler:
        push    r2
        li      r9, ticks
        ldw     r2, [r9]
        addi    r2, r2, 1
        stw     [r9], r2
        li      r2, PIC_EOI
        out     PIC_CMD, r2
        pop     r2
        addi    sp, sp, 8
        iret

msg_hello: .asciz "good domain\\n"
msg_ticks: .asciz "three ticks\\n"
        .align 4
ticks:  .word 0
`);

const alone = runTrap(GOOD, { memoryBytes: GOOD_MEMORY });

// ------------------------------------------------------------------------------------------------ the hostile guest

const CODE = 0x1000;
const CODE_WORDS = 1536;
const IDT = 0x10000;
const PDIR = 0x20000;
const PTAB = 0x21000;
/** a page of random words: stacks, IRET frames, gates and pointers land here */
const DATA = 0x30000;
const DATA_WORDS = 1024;

const PORTS = [0x20, 0x21, 0x22, 0x23, 0x40, 0x41, 0x42, 0x43, 0x3f8, 0x3f9, 0x3fa, 0x3fd, 0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6,
  0x300, 0x301, 0x302, 0x303, 0x304, 0x305, 0x306, 0x307, 0x308, 0x501];

const reg = fc.integer({ min: 0, max: 15 });
const imm16 = fc.integer({ min: -0x8000, max: 0x7fff });
/** a value a register may hold: an address in the domain (often the data page), just beyond it, or anything */
const value = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: DATA, max: DATA + 4 * DATA_WORDS - 1 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: HOSTILE_MEMORY - 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: HOSTILE_MEMORY - 64, max: HOSTILE_MEMORY + 8192 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 2, 3, 0x200, 0x3200, 0xffc00000 | 0, 0x80000000 | 0, -1) },
  { weight: 1, arbitrary: fc.integer({ min: -0x80000000, max: 0x7fffffff }) },
);

const w = (op: number, rd: number, ra: number, imm: number): number[] => [encode(op, rd, ra, imm)];
const long = (op: number, rd: number, ext: number): number[] => [encode(op, rd, 0, 0), ext | 0];

/** One instruction (one or two words), biased toward what traps to the monitor. */
const insn: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(Op.HLT, Op.CLI, Op.STI, Op.IRET, Op.PUSHF, Op.POPF, Op.HYPERCALL, Op.BRK, Op.CPUID, Op.NOP), reg).map(([op, r]) => w(op, r, r, 0)) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(Op.IN, Op.INB, Op.OUT, Op.OUTB), reg, fc.oneof(fc.constantFrom(...PORTS), fc.integer({ min: 0, max: 0xffff }))).map(([op, r, p]) => w(op, r, r, p)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(Op.INR, Op.OUTR), reg, reg, reg).map(([op, rd, ra, rb]) => w(op, rd, ra, rb)) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(Op.MOVTOCR, Op.MOVFROMCR), fc.integer({ min: 0, max: 7 }), reg).map(([op, cr, r]) => (op === Op.MOVTOCR ? w(op, cr, r, 0) : w(op, r, cr, 0))) },
  { weight: 2, arbitrary: fc.tuple(reg, fc.oneof(fc.constant(256), fc.integer({ min: 0, max: 0xffff }))).map(([r, n]) => w(Op.LIDT, 0, r, n)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(Op.INVLPG, Op.LKSP), reg, fc.integer({ min: -1, max: 4 })).map(([op, r, n]) => w(op, 0, r, n)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }).map((v) => w(Op.INT, 0, 0, v)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(Op.RDCPL, Op.SIDT, Op.RDTSC), reg, reg).map(([op, rd, ra]) => w(op, rd, ra, 0)) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(Op.LDW, Op.LDH, Op.LDBU, Op.STW, Op.STH, Op.STB, Op.PUSH, Op.POP), reg, reg, imm16).map(([op, rd, ra, i]) => w(op, rd, ra, i)) },
  { weight: 4, arbitrary: fc.tuple(reg, value).map(([r, v]) => long(Op.LI, r, v)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(Op.JMP, Op.CALL), fc.integer({ min: -4 * CODE_WORDS, max: 4 * CODE_WORDS })).map(([op, rel]) => long(op, 0, rel & ~3)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: -64, max: 64 })).map(([c, rel]) => long(Op.JCC, c, rel * 4)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(Op.JMPR, Op.CALLR, Op.RET), reg).map(([op, r]) => w(op, 0, r, 0)) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...INSTRUCTIONS.map((i) => i.op)), reg, reg, imm16).map(([op, rd, ra, i]) => w(op, rd, ra, i)) },
  { weight: 1, arbitrary: fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((x) => [x]) },
);

const hostileArb = fc.record({
  regs: fc.array(value, { minLength: 16, maxLength: 16 }),
  code: fc.array(insn, { minLength: 16, maxLength: 400, size: 'max' }),
  data: fc.array(fc.oneof(value, fc.integer({ min: 0, max: 3 }), fc.constant(0x200)), { minLength: 64, maxLength: 64 }),
  /** a usable IDT whose gates lead back into the random code or to a stub that skips the faulting word */
  idt: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  sp: fc.oneof(fc.integer({ min: DATA + 0x400, max: DATA + 0xc00 }), value),
  gateSeed: fc.integer({ min: 0, max: 0x7fffffff }),
  /** paging on, through an identity map of the domain (and a little beyond) */
  paging: fc.boolean(),
  /** a fast timer and interrupts on */
  timer: fc.option(fc.integer({ min: 1, max: 50000 }), { nil: undefined }),
});

type Hostile = typeof hostileArb extends fc.Arbitrary<infer T> ? T : never;

/** A handler that resumes after the word that trapped (the frame's pc + 4): keeps a random guest going. */
const SKIP_STUB = [
  encode(Op.LDW, 13, 15, 8),
  encode(Op.ADDI, 13, 13, 4),
  encode(Op.STW, 13, 15, 8),
  encode(Op.ADDI, 15, 15, 8),
  encode(Op.IRET),
];

/** The hostile image: a prologue that sets up state, then the random code; an IDT, tables and data. */
function hostileImage(h: Hostile): Image {
  const pro: number[] = [];
  const li = (r: number, v: number): void => void pro.push(encode(Op.LI, r), v | 0);
  if (h.idt) {
    li(1, IDT);
    pro.push(encode(Op.LIDT, 0, 1, 256));
    li(1, DATA + 0x800);
    pro.push(encode(Op.LKSP, 0, 1, 0));
  }
  if (h.paging) {
    li(1, PDIR);
    pro.push(encode(Op.MOVTOCR, 3, 1));
    li(1, 3);
    pro.push(encode(Op.MOVTOCR, 0, 1));
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
  const start = pro.length + 2;
  pro.push(encode(Op.JMP), 4 * SKIP_STUB.length);
  pro.push(...SKIP_STUB);
  const words = [...pro, ...h.code.flat()].slice(0, CODE_WORDS);
  const codeBytes = new Uint8Array(4 * CODE_WORDS);
  const cv = new DataView(codeBytes.buffer);
  words.forEach((x, k) => cv.setInt32(4 * k, x, true));

  const idt = new Uint8Array(256 * 8);
  const iv = new DataView(idt.buffer);
  let s = h.gateSeed;
  for (let v = 0; v < 256; v++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const target = (s & 1) === 0 ? CODE + 4 * start : CODE + 4 * (pro.length + (s % Math.max(1, words.length - pro.length)));
    iv.setUint32(8 * v, target, true);
    // mostly present ring-0 gates, DPL 0 or 3, interrupt or trap; some absent or for other rings
    const flags = (s >>> 8) % 8 === 0 ? (s >>> 12) & 0x3f : 1 | (((s >>> 16) & 1) * 6) | (((s >>> 17) & 1) << 5);
    iv.setUint32(8 * v + 4, flags, true);
  }

  const tables = new Uint8Array(8192);
  const tv = new DataView(tables.buffer);
  tv.setUint32(0, PTAB | 7, true);
  for (let k = 0; k < 1024; k++) tv.setUint32(4096 + 4 * k, (k * 4096) | 7, true);

  const data = new Uint8Array(4 * DATA_WORDS);
  const dv = new DataView(data.buffer);
  for (let k = 0; k < DATA_WORDS; k++) dv.setInt32(4 * k, h.data[k % h.data.length]! + (k >= h.data.length ? k : 0), true);

  const seg = (paddr: number, bytes: Uint8Array) => ({ vaddr: paddr, paddr, memBytes: bytes.length, flags: 7, data: bytes });
  return {
    entry: CODE,
    arch: ImageArch.Bare,
    segments: [seg(CODE, codeBytes), seg(IDT, idt), seg(PDIR, tables), seg(DATA, data)],
    symbols: [],
    notes: {},
  };
}

// ------------------------------------------------------------------------------------------------ invariants

/** Every frame has one owner; each domain owns exactly its p2m; the hypervisor exactly frame 0 and the shadows. */
function checkFrames(hv: Hypervisor, doms: Domain[]): void {
  const owner = hv.frames.owner;
  const seen = new Int32Array(owner.length);
  for (const d of doms) {
    for (const f of d.p2m) {
      expect(owner[f]).toBe(d.id);
      seen[f]!++;
    }
    expect(hv.frames.countOwned(d.id)).toBe(d.quotaFrames);
  }
  for (let f = 0; f < owner.length; f++) expect(seen[f]!).toBeLessThanOrEqual(1);
  const shadowFrames = doms.reduce((n, d) => n + (d.vcpus[0]!.modeState as TrapVcpu).shadow.framesHeld, 0);
  expect(hv.frames.countOwned(OWNER_HYPERVISOR)).toBe(1 + shadowFrames);
  expect(hv.frames.countOwned(OWNER_FREE)).toBe(hv.frames.freeFrames);
}

/** The shadow directory names only hypervisor frames, and every shadow entry only the domain's own frames. */
function checkShadow(hv: Hypervisor, d: Domain): void {
  const t = d.vcpus[0]!.modeState as TrapVcpu;
  const m32 = hv.mem.i32;
  const owner = hv.frames.owner;
  const root = t.shadow.root >>> 2;
  for (let k = 0; k < 1024; k++) {
    const pde = m32[root + k]!;
    if ((pde & 1) === 0) continue;
    const table = pde >>> 12;
    expect(owner[table]).toBe(OWNER_HYPERVISOR);
    for (let j = 0; j < 1024; j++) {
      const pte = m32[table * 1024 + j]!;
      if ((pte & 1) !== 0 && owner[pte >>> 12] !== d.id) {
        throw new Error(`shadow entry 0x${(pte >>> 0).toString(16)} of domain ${d.id} (va 0x${((k << 22) | (j << 12)).toString(16)}) maps a frame it does not own`);
      }
    }
  }
}

const STOP_REASONS = ['poweroff', 'halted', 'triple-fault', 'crashed'];

function runPair(h: Hostile, slice: number): void {
  const image = hostileImage(h);
  // room for both domains and a few shadow tables only: the hostile one must not take the rest
  const hv = new Hypervisor({ memoryBytes: GOOD_MEMORY + HOSTILE_MEMORY + 64 * 4096, scheduler: new RoundRobinScheduler(slice) });
  const mode = new BtMode();
  const hostile = hv.createDomain(mode, { name: 'hostile', memoryBytes: HOSTILE_MEMORY }, { image });
  const good = hv.createDomain(mode, { name: 'good', memoryBytes: GOOD_MEMORY }, { image: GOOD });
  // the good domain needs ~1.5M cycles; the hostile one may spin forever
  for (let k = 0; k < 40 && !good.stopped; k++) {
    hv.run({ maxCycles: 250_000 });
    checkFrames(hv, [hostile, good]);
    checkShadow(hv, hostile);
    checkShadow(hv, good);
  }
  expect([good.stopReason, good.stopStatus, good.consoleOutput()]).toEqual(['poweroff', alone.status, alone.output]);
  if (hostile.stopped) {
    expect(STOP_REASONS).toContain(hostile.stopReason);
    if (hostile.stopReason !== 'poweroff') expect(hostile.stopDetail).not.toBe('');
  } else {
    expect(hostile.vcpus[0]!.runState).not.toBe('stopped');
  }
  hv.destroyDomain(hostile);
  hv.destroyDomain(good);
  expect(hv.frames.countOwned(OWNER_HYPERVISOR)).toBe(1);
  expect(hv.frames.freeFrames).toBe(hv.frames.frames - 1);
}

describe('bt mode: a hostile kernel, translated, next to a well-behaved one', () => {
  it('the well-behaved guest alone powers off with its output', () => {
    expect(alone.reason).toBe('poweroff');
    expect(alone.status).toBe(0x42);
    expect(alone.output).toMatch(/^good domain\n[0-9a-f]{8}\nthree ticks\n$/);
  });

  it('random privileged code never crashes the hypervisor, breaks frame ownership or touches the other domain', () => {
    fc.assert(
      fc.property(hostileArb, fc.constantFrom(5_000, 30_000, 200_000), (h, slice) => runPair(h, slice)),
      { seed: Number(process.env.FUZZ_SEED ?? 0x7e57), numRuns: Number(process.env.FUZZ_RUNS ?? 150) },
    );
  });
});
