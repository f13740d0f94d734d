// Property tests of the CPU: arbitrary memory contents and machine state never make run() throw a
// host exception, the fast path and the general path agree exactly on every outcome (state,
// cycles, memory, port traffic), and runs are deterministic. Root and non-root mode. A fixed seed,
// as the fuzzers have, so a run of the suite is repeatable; FUZZ_SEED chooses other cases.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INSTRUCTIONS, encode, gateFlags } from '../../machine/isa.ts';
import { Vmcs } from '../../machine/vmx.ts';
import { makeRig, runBoth, type Rig } from './cpu-harness.ts';

const MEM = 64 * 1024;
const seed = Number(process.env.FUZZ_SEED ?? 0xc0de);
const CODE_WORDS = 2048;

/** a word: a random value, or a defined instruction with random fields (and sometimes small immediates) */
const wordArb = fc.oneof(
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  fc
    .tuple(
      fc.constantFrom(...INSTRUCTIONS.map((i) => i.op)),
      fc.integer({ min: 0, max: 15 }),
      fc.integer({ min: 0, max: 15 }),
      fc.oneof(fc.integer({ min: -64, max: 64 }), fc.integer({ min: -0x8000, max: 0x7fff })),
    )
    .map(([op, rd, ra, imm]) => encode(op, rd, ra, imm)),
);

const stateArb = fc.record({
  code: fc.array(wordArb, { minLength: CODE_WORDS, maxLength: CODE_WORDS }),
  regs: fc.array(fc.oneof(fc.integer({ min: 0, max: MEM - 4 }), fc.integer({ min: -0x80000000, max: 0x7fffffff })), { minLength: 16, maxLength: 16 }),
  cpl: fc.integer({ min: 0, max: 3 }),
  flags: fc.integer({ min: 0, max: 0xffff }),
  paging: fc.boolean(),
  cr3: fc.integer({ min: 0, max: MEM / 4096 - 1 }),
  wp: fc.boolean(),
  idtEntries: fc.oneof(fc.constant(256), fc.integer({ min: 0, max: 256 })),
  kspBase: fc.oneof(fc.integer({ min: 0x9000, max: MEM }), fc.integer({ min: -0x80000000, max: 0x7fffffff })),
  pcWord: fc.integer({ min: 0, max: CODE_WORDS - 1 }),
});

type State = typeof stateArb extends fc.Arbitrary<infer T> ? T : never;

/** Lay the random state out: code at 0, an IDT at 0x8000 whose handlers point back into the code. */
function apply(rig: Rig, s: State): void {
  s.code.forEach((w, k) => rig.mem.write32(k * 4, w));
  for (let v = 0; v < 256; v++) {
    rig.mem.write32(0x8000 + v * 8, ((s.code[v]! >>> 0) % CODE_WORDS) * 4);
    // mostly usable gates (ring 0, DPL 3), some with other rings and DPLs to provoke #GP and #DF
    const odd = (v & 0x18) === 0x18;
    rig.mem.write32(0x8000 + v * 8 + 4, gateFlags(odd ? v & 3 : 3, odd ? (v >> 5) & 3 : 0, (v & 4) !== 0));
  }
  // a page directory/table at cr3 mapping the low 64 KiB identity, user-writable, when paging
  if (s.paging) {
    const dir = s.cr3 * 4096;
    const table = ((s.cr3 + 1) % (MEM / 4096)) * 4096;
    rig.mem.write32(dir, table | 7);
    for (let k = 0; k < 16; k++) if (table + k * 4 !== dir) rig.mem.write32(table + k * 4, (k * 4096) | 7);
  }
  s.regs.forEach((v, k) => (rig.cpu.regs[k] = v));
  rig.cpu.pc = s.pcWord * 4;
  rig.cpu.cpl = s.cpl;
  rig.cpu.flags = s.flags & 0x3207;
  rig.cpu.idtBase = 0x8000;
  rig.cpu.idtLimit = s.idtEntries;
  rig.cpu.ksp[0] = s.kspBase;
  rig.cpu.ksp[1] = s.kspBase - 0x100;
  rig.cpu.ksp[2] = s.kspBase - 0x200;
  rig.cpu.writeCr(3, s.cr3 * 4096);
  rig.cpu.writeCr(0, (s.paging ? 1 : 0) | (s.wp ? 2 : 0));
}

describe('robustness and engine equivalence', () => {
  it('arbitrary memory and state never throw out of run(), and both engines agree exactly (root mode)', () => {
    fc.assert(
      fc.property(stateArb, fc.boolean(), (s, hooks) => {
        runBoth(
          (rig) => {
            apply(rig, s);
            if (hooks) {
              rig.cpu.hypercallExits = true;
              for (let v = 0; v < 256; v += 7) rig.cpu.interceptVector[v] = 1;
            }
            rig.pic.requested.push(0x20 + (s.cr3 & 7));
          },
          100_000,
          { memoryBytes: MEM },
        );
      }),
      { seed, numRuns: 200 },
    );
  });

  it('arbitrary memory and state never throw out of run(), and both engines agree exactly (non-root mode)', () => {
    fc.assert(
      fc.property(stateArb, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -1, max: MEM / 4096 - 1 }), (s, controls, eptPage) => {
        runBoth(
          (rig) => {
            apply(rig, s);
            const vm = new Vmcs();
            vm.exitOnHlt = (controls & 1) !== 0;
            vm.exitOnIo = (controls & 2) !== 0;
            vm.crReadExits = (controls >> 2) & 0x1d;
            vm.crWriteExits = (controls >> 3) & 0x1d;
            vm.exitOnInvlpg = (controls & 0x100) !== 0;
            vm.exitOnRdtsc = (controls & 0x200) !== 0;
            vm.exceptionBitmap = Math.imul(controls, 0x9e3779b1);
            vm.exitOnExternalInterrupt = (controls & 0x400) !== 0;
            vm.interruptWindowExiting = (controls & 0x800) !== 0;
            vm.eptRoot = eptPage < 0 ? -1 : eptPage * 4096;
            rig.pic.requested.push(0x20);
            rig.cpu.vmEntry(vm);
          },
          100_000,
          { memoryBytes: MEM },
        );
      }),
      { seed, numRuns: 100 },
    );
  });

  it('a run is deterministic: the same start gives the same state and cycle count', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        const results = [0, 1].map(() => {
          const rig = makeRig({ memoryBytes: MEM });
          apply(rig, s);
          const exit = rig.cpu.run(20_000);
          return { exit, state: rig.cpu.saveState(), mem: Buffer.from(rig.mem.u8) };
        });
        expect(results[0]!.exit).toBe(results[1]!.exit);
        expect(results[0]!.state).toEqual(results[1]!.state);
        expect(results[0]!.mem.equals(results[1]!.mem)).toBe(true);
      }),
      { seed, numRuns: 30 },
    );
  });
});
