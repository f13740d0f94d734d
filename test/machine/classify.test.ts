// The Popek & Goldberg classification of every XL32 opcode, observed by running it (machine/
// classify.ts) - pinned opcode by opcode, and checked against machine/isa.ts's recorded class.
import { describe, expect, it } from 'vitest';
import { classifyReport } from '../../cli/commands/classify.ts';
import { classifyAll, expectedClass, probeUndefined, type Classification } from '../../machine/classify.ts';

const rows = classifyAll();
const by = new Map(rows.map((c) => [c.mnemonic, c]));
const flags = (c: Classification) =>
  `${c.observed} ${c.privileged ? 'P' : '-'}${c.controlSensitive ? 'C' : '-'}${c.behaviourSensitive ? 'B' : '-'}${c.userSensitive ? 'U' : '-'} ${c.trapsIn} ${c.exitsNonRoot.map((x) => (x ? 'x' : '-')).join('')}`;

describe('xenolith classify', () => {
  it('observes every defined opcode in the class machine/isa.ts records', () => {
    for (const c of rows) expect([c.mnemonic, c.observed]).toEqual([c.mnemonic, expectedClass(c.recorded)]);
    expect(rows.length).toBe(73);
  });

  it('the privileged and sensitive ones, with what made them so (P privileged, C control-, B behaviour-, U user-sensitive; traps in N of 48; exits in non-root at CPL 0, 3)', () => {
    const pinned: Record<string, string> = {
      hlt: 'privileged PC-- 32 xx',
      cli: 'privileged PC-U 16 -x',
      sti: 'privileged PC-U 16 -x',
      in: 'privileged PC-U 16 xx',
      inb: 'privileged PC-U 16 xx',
      out: 'privileged PC-U 16 xx',
      outb: 'privileged PC-U 16 xx',
      inr: 'privileged PC-U 16 xx',
      outr: 'privileged PC-U 16 xx',
      movcr: 'privileged PC-- 32 -x',
      movfcr: 'privileged P-B- 32 -x',
      lidt: 'privileged PC-- 32 -x',
      invlpg: 'privileged PC-- 32 -x',
      lksp: 'privileged PC-- 32 -x',
      iret: 'privileged PC-- 32 -x',
      pushf: 'critical --BU 0 --',
      popf: 'critical -CBU 0 --',
      rdcpl: 'critical --B- 0 --',
      sidt: 'critical --BU 0 --',
      int: 'innocuous ---- 48 --',
      brk: 'innocuous ---- 48 xx',
      cpuid: 'innocuous ---- 0 xx',
      rdtsc: 'innocuous ---- 0 --',
      hypercall: 'innocuous ---- 48 xx',
    };
    for (const [m, f] of Object.entries(pinned)) expect([m, flags(by.get(m)!)]).toEqual([m, f]);
    // everything else runs everywhere, changes nothing and gives the same result in every configuration
    for (const c of rows) if (!(c.mnemonic in pinned)) expect([c.mnemonic, flags(c)]).toEqual([c.mnemonic, 'innocuous ---- 0 --']);
  });

  it('every undefined opcode is #UD in every configuration', () => {
    expect(probeUndefined()).toEqual({ count: 183, allTrapEverywhere: true });
  });

  it("prints the verdict: not classically virtualizable, the critical and user-sensitive sets, each mode's condition", () => {
    const { text, agree } = classifyReport();
    expect(agree).toBe(true);
    expect(text).toContain('sensitive but not privileged (critical): pushf, popf, rdcpl, sidt.');
    expect(text).toContain('does NOT hold - XL32 is not classically virtualizable.');
    expect(text).toContain('user-sensitive (sensitive when run at CPL 3) and not privileged: pushf, popf, sidt.');
    expect(text).toContain('natively (0 of them exit)');
  });
});
