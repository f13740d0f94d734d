// Cost profiles: lookup, sanity of every figure, the per-opcode table, and that the profile
// (not the engine) decides the cycle count of a program.

import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE, PROFILES, cyclesToSeconds, getProfile, opcodeCosts, type CostProfile } from '../../machine/costs.ts';
import { Cond, INSTRUCTIONS, Op } from '../../machine/isa.ts';
import { Exit } from '../../machine/types.ts';
import { Prog, boot, makeRig } from './cpu-harness.ts';

describe('cost profiles', () => {
  it('p4-2003 and modern exist and p4-2003 is the default', () => {
    expect(Object.keys(PROFILES).sort()).toEqual(['modern', 'p4-2003']);
    expect(DEFAULT_PROFILE).toBe('p4-2003');
    expect(getProfile('modern').name).toBe('modern');
  });

  it('an unknown name is an error that lists the known names', () => {
    expect(() => getProfile('pentium-pro')).toThrow("unknown CPU cost profile 'pentium-pro' (known: p4-2003, modern)");
    expect(() => getProfile('toString')).toThrow(/unknown CPU cost profile/);
  });

  for (const p of Object.values(PROFILES)) {
    it(`${p.name}: every figure is a positive integer that fits the per-opcode table`, () => {
      for (const [key, value] of Object.entries(p)) {
        if (typeof value !== 'number') continue;
        expect(Number.isInteger(value), key).toBe(true);
        expect(value, key).toBeGreaterThan(0);
        if (key !== 'clockMHz') expect(value, key).toBeLessThan(65536);
      }
      expect(p.alu).toBe(1);
      expect(p.branchTaken).toBeGreaterThanOrEqual(p.branch);
    });
  }

  it('VM transitions got cheaper from the Pentium 4 to a current core', () => {
    const p4 = getProfile('p4-2003');
    const now = getProfile('modern');
    expect(p4.vmExit + p4.vmEntry).toBe(2400);
    expect(now.vmExit + now.vmEntry).toBe(1376);
  });

  it('cyclesToSeconds uses the profile clock', () => {
    expect(cyclesToSeconds(getProfile('p4-2003'), 3e9)).toBe(1);
  });
});

describe('per-opcode cost table', () => {
  const p: CostProfile = getProfile('p4-2003');
  const t = opcodeCosts(p);

  it('charges each instruction class its profile figure', () => {
    expect([t[Op.ADD], t[Op.MUL], t[Op.DIV], t[Op.REMU], t[Op.LDW], t[Op.POP], t[Op.STB], t[Op.PUSH]]).toEqual([p.alu, p.mul, p.div, p.div, p.load, p.load, p.store, p.store]);
    expect([t[Op.JCC], t[Op.JMP], t[Op.CALL], t[Op.RET]]).toEqual([p.branch, p.branchTaken, p.branchTaken + p.store, p.branchTaken + p.load]);
    expect([t[Op.OUTB], t[Op.INR], t[Op.CLI], t[Op.POPF], t[Op.PUSHF], t[Op.INVLPG], t[Op.IRET], t[Op.RDTSC], t[Op.CPUID]]).toEqual([
      p.ioPort,
      p.ioPort,
      p.cliSti,
      p.popf,
      p.pushf,
      p.invlpg,
      p.iret,
      p.rdtsc,
      p.cpuid,
    ]);
  });

  it('every defined opcode costs at least a cycle; undefined opcodes cost nothing (their fault is charged)', () => {
    for (const info of INSTRUCTIONS) expect(t[info.op], info.mnemonic).toBeGreaterThan(0);
    expect(t[0]).toBe(0);
    expect(t[0xff]).toBe(0);
  });
});

describe('cycle accounting', () => {
  function run(profile: string, fast: boolean) {
    const rig = makeRig({ profile, fast });
    const p = new Prog(0x1000).li(1, 1).li(2, 1).label('l').op(Op.MUL, 2, 2, 1).op(Op.ADDI, 2, 2, 3).op(Op.DIVU, 3, 2, 1).op(Op.STW, 3, 15, -4).op(Op.LDW, 4, 15, -4);
    p.op(Op.ADDI, 1, 1, 1).op(Op.CMPI, 0, 1, 51).j(Cond.LT, 'l').op(Op.OUTB, 0, 1, 0x80).op(Op.HLT);
    boot(rig, p);
    expect(rig.cpu.run(1e9)).toBe(Exit.Halted);
    return { cycles: rig.cpu.cycles, instructions: rig.cpu.instructions };
  }

  it('the same program retires the same instructions but costs different cycles under different profiles', () => {
    const p4 = run('p4-2003', true);
    const modern = run('modern', true);
    expect(p4.instructions).toBe(modern.instructions);
    expect(p4.cycles).not.toBe(modern.cycles);
  });

  it('the cycle count is exactly the sum of the profile figures', () => {
    const p = getProfile('p4-2003');
    // li, li; 50 x (mul addi divu stw ldw addi cmpi jlt); 49 taken; outb; hlt
    const perIter = p.mul + p.alu + p.div + p.store + p.load + p.alu + p.alu + p.branch;
    expect(run('p4-2003', true).cycles).toBe(2 * p.alu + 50 * perIter + 49 * (p.branchTaken - p.branch) + p.ioPort + p.alu);
  });

  it('both engines charge identically', () => {
    for (const profile of Object.keys(PROFILES)) expect(run(profile, true)).toEqual(run(profile, false));
  });
});
