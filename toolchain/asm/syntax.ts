// The XL32 assembly vocabulary, derived from machine/isa.ts: register and control-register names,
// every spelled mnemonic (jCC and setCC expanded over COND_NAMES), the operand slots of each
// format, their value ranges, and how slot values go into instruction fields. Shared by the
// assembler and the disassembler so both read and write the same syntax. Imports only the ISA.
import { COND_NAMES, CR, encode, Fmt, IMM16_MAX, IMM16_MIN, INSTRUCTIONS, NUM_REGS, REG_FP, REG_SP, type OpInfo } from '../../machine/isa.ts';
import { assertNever } from '../../machine/never.ts';

/** Register number for a name (`r0`..`r15`, `sp`, `fp`; case-insensitive), or undefined. */
export function registerNumber(name: string): number | undefined {
  const n = name.toLowerCase();
  if (n === 'sp') return REG_SP;
  if (n === 'fp') return REG_FP;
  const m = /^r(\d{1,2})$/.exec(n);
  if (!m) return undefined;
  const k = Number(m[1]);
  return k < NUM_REGS && String(k) === m[1] ? k : undefined;
}

/** The canonical name the disassembler writes for a register. */
export function registerName(reg: number): string {
  if (reg === REG_SP) return 'sp';
  if (reg === REG_FP) return 'fp';
  return `r${reg}`;
}

/** The number in a control-register spelling `crN` (any N; validity is checked separately). */
export function crSpelling(name: string): number | undefined {
  const m = /^cr(\d{1,3})$/i.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Control registers XL32 has. */
export const CONTROL_REGISTERS: readonly number[] = [CR.CR0, CR.CR2, CR.CR3, CR.CR4];

/** True for names that are registers or control registers and so cannot be symbols. */
export function isReservedName(name: string): boolean {
  return registerNumber(name) !== undefined || crSpelling(name) !== undefined;
}

/** A spelled mnemonic: the opcode and, for jCC / setCC, the condition code. */
export interface Mnemonic {
  readonly info: OpInfo;
  readonly cond: number | null;
}

/** Where a format keeps its condition code, if it has one. */
export function condField(fmt: Fmt): 'rd' | 'ra' | null {
  if (fmt === Fmt.CondRel) return 'rd';
  if (fmt === Fmt.DCond) return 'ra';
  return null;
}

/** The spelled mnemonic of an opcode (with its condition suffix for jCC / setCC). */
export function spell(info: OpInfo, cond: number | null): string {
  return cond === null ? info.mnemonic : info.mnemonic + COND_NAMES[cond];
}

/** Every mnemonic a source may use, lower case. */
export const MNEMONICS: ReadonlyMap<string, Mnemonic> = (() => {
  const map = new Map<string, Mnemonic>();
  const add = (name: string, m: Mnemonic) => {
    if (map.has(name)) throw new Error(`mnemonic ${name} is spelled twice`);
    map.set(name, m);
  };
  for (const info of INSTRUCTIONS) {
    if (condField(info.fmt) === null) add(info.mnemonic, { info, cond: null });
    else COND_NAMES.forEach((_, cond) => add(spell(info, cond), { info, cond }));
  }
  return map;
})();

/**
 * What one operand position holds. Registers name the field they go into; `mem` is `[ra + imm16]`;
 * `target` is an absolute address encoded pc-relative in the extension word.
 */
export type Slot =
  | 'rd'
  | 'ra'
  | 'rb'
  | 'imm16'
  | 'mem'
  | 'imm32'
  | 'target'
  | 'vector'
  | 'port'
  | 'crd'
  | 'cra'
  | 'count'
  | 'ring';

/** The operand slots of each format, in source order. */
export function slotsOf(fmt: Fmt): readonly Slot[] {
  switch (fmt) {
    case Fmt.None: return [];
    case Fmt.D: return ['rd'];
    case Fmt.A: return ['ra'];
    case Fmt.DA: return ['rd', 'ra'];
    case Fmt.DAB: return ['rd', 'ra', 'rb'];
    case Fmt.DAI: return ['rd', 'ra', 'imm16'];
    case Fmt.Load: return ['rd', 'mem'];
    case Fmt.Store: return ['mem', 'rd'];
    case Fmt.DImm32: return ['rd', 'imm32'];
    case Fmt.Rel: return ['target'];
    case Fmt.CondRel: return ['target'];
    case Fmt.AB: return ['ra', 'rb'];
    case Fmt.AI: return ['ra', 'imm16'];
    case Fmt.DCond: return ['rd'];
    case Fmt.Vec: return ['vector'];
    case Fmt.DPort: return ['rd', 'port'];
    case Fmt.PortA: return ['port', 'ra'];
    case Fmt.CrA: return ['crd', 'ra'];
    case Fmt.DCr: return ['rd', 'cra'];
    case Fmt.AImm: return ['ra', 'count'];
    case Fmt.RingA: return ['ring', 'ra'];
    case Fmt.DD: return ['rd', 'ra'];
    default: return assertNever(fmt);
  }
}

export { assertNever };

/** Inclusive value range of the numeric slots (imm32 and target accept any 32-bit value). */
export const SLOT_RANGE = {
  imm16: [IMM16_MIN, IMM16_MAX],
  vector: [0, 255],
  port: [0, 0xffff],
  /** LIDT's IDT entry count: vectors are 0..255, so at most 256 entries */
  count: [0, 256],
  /** LKSP: kernel stack pointers exist for rings 0..2 */
  ring: [0, 2],
} as const satisfies Record<string, readonly [number, number]>;

/** Values of 32-bit fields may be written signed or unsigned. */
export const U32_MIN = -0x8000_0000;
export const U32_MAX = 0xffff_ffff;

/** Raw instruction fields; `imm` holds rb for register-register forms. */
export interface Fields {
  rd: number;
  ra: number;
  imm: number;
  ext: number;
}

/** The instruction word(s) for fields: one word, or two for long forms. */
export function encodeFields(info: OpInfo, f: Fields): number[] {
  const word = encode(info.op, f.rd, f.ra, f.imm);
  return info.bytes === 8 ? [word, f.ext | 0] : [word];
}
