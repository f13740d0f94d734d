// toolchain/asm: the XL32 assembler and disassembler (syntax: docs/asm.md; opcodes: machine/isa.ts).
// The public API the CLI and the compiler use; everything else in this folder is internal.
// Imports only this folder.
export { assemble, type AsmOptions, type AsmResult } from './assemble.ts';
export { disassemble, disassembleOne, type DisasmOptions } from './disasm.ts';
export { AsmError, formatDiagnostic, type Diagnostic } from './errors.ts';
export type { ListingEntry } from './emit.ts';
