// Finding one instruction inside a compiled kernel function, for the two places the kernel must
// know an exact pc: the nanobench divide that the #DE fixup resumes after, and arch/native's idle
// HLT that an interrupt may be taken just before. Decodes only instruction lengths.
// Guest code (the TypeScript subset); imports only 'xl32'.

import { load8 } from 'xl32';

/** XL32 opcodes (machine/isa.ts Op; pinned by test/guest-kernel/abi.test.ts). */
export const enum Opcode {
  LI = 0x03,
  DIV = 0x14,
  DIVU = 0x15,
  REM = 0x16,
  REMU = 0x17,
  JMP = 0x48,
  JCC = 0x49,
  CALL = 0x4a,
  RET = 0x4d,
  HLT = 0x60,
  /** instruction bytes: short forms one word, long forms (LI, JMP, Jcc, CALL) two */
  SHORT_BYTES = 4,
  LONG_BYTES = 8,
  /** bytes of code searched at most */
  SCAN_LIMIT = 256,
}

/**
 * The address of the first instruction with an opcode in [lo, hi] in the function at `fn`
 * (its address from addressOf), searching up to its first RET; 0 if there is none.
 */
export function findInstruction(fn: number, lo: number, hi: number): number {
  let pc = fn;
  const end = fn + Opcode.SCAN_LIMIT;
  while (pc < end) {
    const opcode = load8(pc);
    if (opcode >= lo && opcode <= hi) return pc;
    if (opcode === Opcode.RET) return 0;
    const long = opcode === Opcode.LI || opcode === Opcode.JMP || opcode === Opcode.JCC || opcode === Opcode.CALL;
    pc = pc + (long ? Opcode.LONG_BYTES : Opcode.SHORT_BYTES);
  }
  return 0;
}
