// bt's instruction kinds come from the ISA table's Popek & Goldberg classes (hypervisor/bt/cache.ts
// KIND), and every opcode's own cost from its cost class (machine/costs.ts opcodeCosts): a new
// opcode gets both from its row in machine/isa.ts, never a silent default.
import { describe, expect, it } from 'vitest';
import { KIND, K_CALLOUT, K_IDENT, K_INLINE } from '../../hypervisor/bt/cache.ts';
import { getProfile, opcodeCosts } from '../../machine/costs.ts';
import { INSTRUCTIONS, Op } from '../../machine/isa.ts';

const named = (k: number) => INSTRUCTIONS.filter((x) => KIND[x.op] === k).map((x) => x.mnemonic).sort();

describe("bt's instruction kinds", () => {
  it('callouts for the privileged and I/O instructions, in line for the critical ones and CLI/STI, the rest as is', () => {
    expect(named(K_CALLOUT)).toEqual(['hlt', 'in', 'inb', 'inr', 'invlpg', 'iret', 'lidt', 'lksp', 'movcr', 'movfcr', 'out', 'outb', 'outr']);
    expect(named(K_INLINE)).toEqual(['cli', 'popf', 'pushf', 'rdcpl', 'sidt', 'sti']);
    for (const x of INSTRUCTIONS) if (x.cls !== 'innocuous' && x.cls !== 'hypercall') expect(KIND[x.op], x.mnemonic).not.toBe(K_IDENT);
  });
});

describe('opcode costs from the cost classes', () => {
  it('charge each opcode its class figure (p4-2003)', () => {
    const p = getProfile('p4-2003');
    const c = opcodeCosts(p);
    expect([c[Op.ADD], c[Op.MUL], c[Op.DIV], c[Op.LDW], c[Op.STW], c[Op.JCC], c[Op.JMP]]).toEqual([p.alu, p.mul, p.div, p.load, p.store, p.branch, p.branchTaken]);
    expect([c[Op.CALL], c[Op.RET], c[Op.IN], c[Op.MOVTOCR], c[Op.LIDT], c[Op.INVLPG], c[Op.IRET], c[Op.PUSHF], c[Op.POPF]]).toEqual([
      p.branchTaken + p.store, p.branchTaken + p.load, p.ioPort, p.crMove, p.descriptorLoad, p.invlpg, p.iret, p.pushf, p.popf,
    ]);
    expect(c[0]).toBe(0); // undefined: the fault's delivery is what it costs
  });
});
