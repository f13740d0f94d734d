import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INSTRUCTIONS, OPS, INSN_BYTES, encode, decode, Op, Fmt } from '../../machine/isa.ts';
import { isaTableMarkdown, TABLE_BEGIN, TABLE_END } from '../../machine/isa-doc.ts';

describe('ISA definition', () => {
  it('docs/isa.md carries exactly the generated instruction table', () => {
    const doc = readFileSync(new URL('../../docs/isa.md', import.meta.url), 'utf8');
    const start = doc.indexOf(TABLE_BEGIN);
    const end = doc.indexOf(TABLE_END);
    expect(start).toBeGreaterThan(0);
    expect(doc.slice(start + TABLE_BEGIN.length + 1, end - 1)).toBe(isaTableMarkdown());
  });

  it('opcode 0 is undefined so zeroed memory raises #UD', () => {
    expect(OPS[0]).toBeUndefined();
  });

  it('only li, jmp, jCC and call are long (8-byte) forms', () => {
    const long = INSTRUCTIONS.filter((x) => x.bytes === 8).map((x) => x.mnemonic);
    expect(long).toEqual(['li', 'jmp', 'j', 'call']);
    expect(INSN_BYTES[Op.LI]).toBe(8);
    expect(INSN_BYTES[Op.ADD]).toBe(4);
  });

  it('encode and decode agree on every field, with imm16 sign-extended', () => {
    const w = encode(Op.ADDI, 3, 15, -8);
    const d = decode(w, 0);
    expect(d).toMatchObject({ op: Op.ADDI, rd: 3, ra: 15, imm: -8, bytes: 4 });
    expect(d.info?.fmt).toBe(Fmt.DAI);
    const r = decode(encode(Op.ADD, 1, 2, 7), 0);
    expect([r.rd, r.ra, r.rb]).toEqual([1, 2, 7]);
    expect(decode(encode(Op.LI, 4), 0x12345678).ext).toBe(0x12345678);
  });

  it('the four critical instructions and HYPERCALL are classed as DESIGN.md requires', () => {
    const cls = (m: string) => INSTRUCTIONS.find((x) => x.mnemonic === m)!.cls;
    expect(['pushf', 'popf', 'rdcpl', 'sidt'].map(cls)).toEqual(['critical', 'critical', 'critical', 'critical']);
    expect(['hlt', 'movcr', 'movfcr', 'lidt', 'invlpg', 'lksp', 'iret'].map(cls).every((c) => c === 'privileged')).toBe(true);
    expect(['cli', 'sti', 'in', 'inb', 'out', 'outb', 'inr', 'outr'].map(cls).every((c) => c === 'io-privileged')).toBe(true);
    expect(cls('hypercall')).toBe('hypercall');
  });
});
