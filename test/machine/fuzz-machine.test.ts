// Hostile-program fuzzing of the bare machine with its real devices (cpu-properties.test.ts covers
// the CPU alone, on a fake bus): random code biased toward port I/O - registers of the interrupt
// controller, timer, UART, block device (DMA anywhere), NIC (DMA anywhere), system control - with
// random values, interrupts on, HLT, and the usual loads, stores and jumps. Whatever it does,
// Machine.run() returns with one of its stop reasons, never throws, and the same program gives the
// same run twice.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImageArch, type Image } from '../../machine/image.ts';
import { INSTRUCTIONS, Op, encode } from '../../machine/isa.ts';
import type { Engine } from '../../machine/translator.ts';
import { Machine } from '../../machine/machine.ts';

const MEM = 256 * 1024;
const CODE = 0x1000;
const CODE_WORDS = 1024;
const IDT = 0x8000;
const STACK = 0x20000;

const DEVICE_PORTS = [
  0x20, 0x21, 0x22, 0x23, // PIC
  0x40, 0x41, 0x42, 0x43, // timer
  0x3f8, 0x3f9, 0x3fa, 0x3fd, // UART
  0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, // block device
  0x300, 0x301, 0x302, 0x303, 0x304, 0x305, 0x306, 0x307, 0x308, 0x309, 0x30a, 0x30b, 0x30c, 0x30d, 0x30e, // NIC
  0x501, // system control (power off)
];

const reg = fc.integer({ min: 0, max: 12 });
/** values worth writing to a device: small numbers, commands, addresses in memory, near its end, beyond, anything */
const value = fc.oneof(
  fc.integer({ min: 0, max: 16 }),
  fc.constantFrom(0x101, 0x202, 0x3, 0xfffe, 0xffff, 1514, 1515, 64, 65),
  fc.integer({ min: 0, max: MEM - 1 }),
  fc.integer({ min: MEM - 2048, max: MEM + 4096 }),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
);
const port = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...DEVICE_PORTS) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) });

const insn: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(reg, value, fc.constantFrom(Op.OUT, Op.OUTB), port).map(([r, v, op, p]) => [encode(Op.LI, r), v | 0, encode(op, 0, r, p)]) },
  { weight: 3, arbitrary: fc.tuple(reg, fc.constantFrom(Op.IN, Op.INB), port).map(([r, op, p]) => [encode(op, r, 0, p)]) },
  { weight: 1, arbitrary: fc.tuple(reg, reg, reg, fc.constantFrom(Op.INR, Op.OUTR)).map(([a, b, c, op]) => [encode(op, a, b, c)]) },
  { weight: 2, arbitrary: fc.constantFrom(Op.STI, Op.STI, Op.CLI, Op.NOP, Op.BRK).map((op) => [encode(op)]) },
  { weight: 1, arbitrary: fc.constant(Op.HLT).map((op) => [encode(op)]) },
  // a whole device request with random parameters: block (sector, count, address, command) and a
  // NIC ring (base, size, enable, then the tail: descriptors read from wherever the base points)
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(0x1f0, 0x301, 0x305), fc.array(value, { minLength: 4, maxLength: 4 }), fc.constantFrom(1, 2, 0x101, 0x302, 7))
    .map(([base, vs, cmd]) => {
      const regs = base === 0x1f0 ? [0x1f0, 0x1f1, 0x1f2] : base === 0x301 ? [0x301, 0x302, 0x300] : [0x305, 0x306, 0x300];
      const go = base === 0x1f0 ? 0x1f3 : base === 0x301 ? 0x303 : 0x307;
      const out = regs.flatMap((p, k) => [encode(Op.LI, 12), (k === 1 ? vs[k]! & 0x1ff : k === 2 && base !== 0x1f0 ? 1 : vs[k]!) | 0, encode(Op.OUT, 0, 12, p)]);
      return [...out, encode(Op.LI, 12), base === 0x1f0 ? cmd : vs[3]! & 0xff, encode(Op.OUT, 0, 12, go)];
    }) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...INSTRUCTIONS.map((i) => i.op)), reg, reg, fc.integer({ min: -64, max: 64 })).map(([op, rd, ra, i]) => (op === Op.LI || op === Op.JMP || op === Op.JCC || op === Op.CALL ? [encode(op, rd, ra, i), i * 4] : [encode(op, rd, ra, i)])) },
);

const programArb = fc.record({
  code: fc.array(insn, { minLength: 8, maxLength: 300, size: 'max' }),
  disk: fc.boolean(),
  input: fc.string({ maxLength: 8 }),
});

/** A prologue (IDT on a handler that EOIs and resumes after the interrupted word, stack, registers 0) and the random code. */
function image(code: number[][]): Image {
  const words: number[] = [];
  const li = (r: number, v: number): void => void words.push(encode(Op.LI, r), v | 0);
  li(15, STACK);
  li(1, IDT);
  words.push(encode(Op.LIDT, 0, 1, 256));
  const handlerAt = CODE + 4 * (words.length + 2);
  // handler: EOI, frame pc + 4, drop vector and error, IRET
  const handler = [encode(Op.LI, 13), 0x20, encode(Op.OUT, 0, 13, 0x20), encode(Op.LDW, 13, 15, 8), encode(Op.ADDI, 13, 13, 4), encode(Op.STW, 13, 15, 8), encode(Op.ADDI, 15, 15, 8), encode(Op.IRET)];
  words.push(encode(Op.JMP), 4 * handler.length, ...handler);
  words.push(...code.flat());
  const bytes = new Uint8Array(4 * CODE_WORDS);
  const v = new DataView(bytes.buffer);
  words.slice(0, CODE_WORDS).forEach((w, k) => v.setInt32(4 * k, w, true));
  const idt = new Uint8Array(256 * 8);
  const iv = new DataView(idt.buffer);
  for (let k = 0; k < 256; k++) {
    iv.setUint32(8 * k, handlerAt, true);
    iv.setUint32(8 * k + 4, 1 | (3 << 1), true); // present, DPL 3, ring 0, interrupt gate
  }
  const seg = (paddr: number, data: Uint8Array) => ({ vaddr: paddr, paddr, memBytes: data.length, flags: 7, data });
  return { entry: CODE, arch: ImageArch.Bare, segments: [seg(CODE, bytes), seg(IDT, idt)], symbols: [], notes: {} };
}

function run(p: typeof programArb extends fc.Arbitrary<infer T> ? T : never, engine: Engine = 'interpreter') {
  const disk = p.disk ? new Uint8Array(32 * 512).map((_, k) => k * 13) : undefined;
  const sent: number[] = [];
  const m = new Machine({ memoryBytes: MEM, disk, input: p.input, onTransmit: (f) => sent.push(f.length), engine });
  m.cpu.translatorLimits = { threshold: 1, coldSlice: 0 };
  m.loadImage(image(p.code));
  const r = m.run({ maxCycles: 3_000_000 });
  return { r, out: m.consoleOutput(), sent, state: m.cpu.saveState(), disk: disk ? Array.from(disk.subarray(0, 64)).join() : '' };
}

describe('the bare machine and its devices, driven by random port I/O', () => {
  it('never throws out of run(), stops for one of its reasons, and runs the same way twice (interpreter, then translator)', () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const a = run(p);
        expect(['poweroff', 'halted', 'triple-fault', 'limit']).toContain(a.r.reason);
        expect(run(p, 'translator')).toEqual(a);
      }),
      { seed: Number(process.env.FUZZ_SEED ?? 0x3a57), numRuns: Number(process.env.FUZZ_RUNS ?? 150) },
    );
  });
});
