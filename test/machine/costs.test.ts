// Cost profiles: lookup, sanity of every figure, the per-opcode table, and that the profile
// (not the engine) decides the cycle count of a program.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DEFAULT_PROFILE, PROFILES, VMCS_READS_PER_EXIT, cyclesToSeconds, getProfile, opcodeCosts, type CostProfile } from '../../machine/costs.ts';
import { Cond, INSTRUCTIONS, Op } from '../../machine/isa.ts';
import { Exit } from '../../machine/types.ts';
import { Prog, boot, makeRig } from './cpu-harness.ts';

describe('cost profiles', () => {
  it('four profiles exist and p4-2003 is the default', () => {
    expect(Object.keys(PROFILES)).toEqual(['p4-2003', 'p4-2006-vtx', 'core2-2006-vtx', 'modern']);
    expect(DEFAULT_PROFILE).toBe('p4-2003');
    expect(getProfile('modern').name).toBe('modern');
  });

  it('an unknown name is an error that lists the known names', () => {
    expect(() => getProfile('pentium-pro')).toThrow("unknown CPU cost profile 'pentium-pro' (known: p4-2003, p4-2006-vtx, core2-2006-vtx, modern)");
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

  it('the published figures (AA06 Table 1 and text; AGE12 Fig. 1; LNX02) are the ones charged', () => {
    const p4 = getProfile('p4-2006-vtx');
    expect([p4.clockMHz, p4.vmEntry, p4.vmExit, p4.vmcsRead, p4.cliSti, p4.ioPort]).toEqual([3800, 2409, 1931, 178, 60, 3209]);
    expect([p4.btTranslate, p4.btLookup, p4.btCallout]).toEqual([2300, 40, 1040]);
    expect(VMCS_READS_PER_EXIT).toBe(10);
    const core2 = getProfile('core2-2006-vtx');
    expect([core2.vmEntry, core2.vmExit]).toEqual([937, 1186]);
    // p4-2003: Prescott's VT-x transitions; INT n + IRET ~1,270 cycles (1,761 - 641 + ~150)
    const old = getProfile('p4-2003');
    expect([old.vmEntry, old.vmExit, old.intEntry + old.iret, old.hypercallEntry + old.hypercallExit]).toEqual([2409, 1931, 1270, 1270]);
    expect(getProfile('modern').vmExit + getProfile('modern').vmEntry).toBe(1376);
  });

  it('only the modern profile has a second translation stage (EPT arrived with Nehalem, 2008)', () => {
    expect(Object.values(PROFILES).map((p) => [p.name, p.ept])).toEqual([
      ['p4-2003', false],
      ['p4-2006-vtx', false],
      ['core2-2006-vtx', false],
      ['modern', true],
    ]);
  });

  it('every figure in machine/costs.ts names its source or says it is an estimate', () => {
    const text = readFileSync(new URL('../../machine/costs.ts', import.meta.url), 'utf8');
    const body = text.slice(text.indexOf('const P4_2003'), text.indexOf('/** Every profile by name. */'));
    const lines = body.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^  ([a-zA-Z0-9]+): /.exec(lines[i]!);
      if (!m || m[1] === 'name' || m[1] === 'description') continue;
      // the comment block above the figure (or above the group it belongs to)
      let j = i - 1;
      while (j >= 0 && /^  [a-zA-Z0-9]+: /.test(lines[j]!)) j--;
      let comment = '';
      while (j >= 0 && /^\s*\/\//.test(lines[j]!)) comment = lines[j--]! + comment;
      if (m[1] === 'alu' || m[1] === 'store' || m[1] === 'branch') continue; // one cycle: the unit charged
      expect(comment, `${m[1]} at line ${i}`).toMatch(/\[[A-Z0-9]+\]|estimate|approximate|unverified|as p4-2003|as intEntry|unused|\(ept: false\)|Fog|Intel|AMD|LKML|e\.g\.|NPT/);
    }
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
