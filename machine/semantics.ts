// The one definition of the innocuous instructions' semantics (ALU, loads and stores, the stack,
// compares, direct and indirect control transfer): each opcode is a row of SEMANTICS, a kind and
// the small expressions that are the instruction's meaning. From these rows come the
// interpreter's two paths in machine/cpu.ts, between `@generated` markers: the fast loop's cases
// (runFast: registers in an Int32Array, TLB checks inline, leave the loop before any effect when
// the general path is needed) and the general path's cases (step: complete, faults precise).
// `npm run gen:interp` rewrites them; test/machine/semantics.test.ts keeps them equal to this
// file's output. Privileged, critical and trapping instructions have one path only (step) and
// are written there by hand. How to add an instruction: docs/engine.md.
//
// Expressions are JavaScript over int32 values: $a is register ra, $b register rb, $i the signed
// 16-bit immediate (w >> 16); the result of an ALU row is written to rd as an int32.

import { condHolds } from './isa.ts';

/** What an instruction does, and so which plumbing its paths get around its expressions. */
export type Semantics =
  | { kind: 'nop' }
  /**
   * nothing but its cost (PAUSE, the spin-wait hint) - unless the CPU is in non-root mode with
   * pause-loop exiting on: then the general path alone runs it (Cpu.pauseLoopEnds decides the exit)
   */
  | { kind: 'pause' }
  /** rd = expr (no fault) */
  | { kind: 'alu'; expr: string }
  /** rd = the extension word */
  | { kind: 'li' }
  /** rd = expr, where `b` is the divisor (from the expression b); b = 0 raises #DE */
  | { kind: 'div'; b: string; expr: string }
  /** rd = the size-byte value at ra + imm */
  | { kind: 'load'; size: 1 | 2 | 4; signed: boolean }
  /** the size-byte value at ra + imm = rd */
  | { kind: 'store'; size: 1 | 2 | 4 }
  /**
   * rd = the word at ra and the word at ra = rb, as one access (an instruction is never split by
   * the SMP interleaving, so it is atomic); it needs write permission even for its read
   */
  | { kind: 'xchg' }
  | { kind: 'push' }
  | { kind: 'pop' }
  /** FLAGS' condition bits = compareFlags(a, b) */
  | { kind: 'cmp'; a: string; b: string }
  /** rd = condition ra holds (0 or 1) */
  | { kind: 'setcc' }
  | { kind: 'jmp' }
  | { kind: 'jcc' }
  | { kind: 'call' }
  | { kind: 'jmpr' }
  | { kind: 'callr' }
  | { kind: 'ret' };

/** Every instruction with generated paths, by its interpreter handler name (machine/cpu.ts `Handler`), in dispatch order. */
export const SEMANTICS: ReadonlyArray<readonly [string, Semantics]> = [
  ['NOP', { kind: 'nop' }],
  ['MOV', { kind: 'alu', expr: '$a' }],
  ['LI', { kind: 'li' }],
  ['ADD', { kind: 'alu', expr: '($a + $b) | 0' }],
  ['SUB', { kind: 'alu', expr: '($a - $b) | 0' }],
  ['MUL', { kind: 'alu', expr: 'Math.imul($a, $b)' }],
  ['MULHU', { kind: 'alu', expr: 'mulhu($a, $b)' }],
  ['DIV', { kind: 'div', b: '$b', expr: '($a / b) | 0' }],
  ['DIVU', { kind: 'div', b: '$b >>> 0', expr: '(($a >>> 0) / b) | 0' }],
  ['REM', { kind: 'div', b: '$b', expr: '($a % b) | 0' }],
  ['REMU', { kind: 'div', b: '$b >>> 0', expr: '(($a >>> 0) % b) | 0' }],
  ['AND', { kind: 'alu', expr: '$a & $b' }],
  ['OR', { kind: 'alu', expr: '$a | $b' }],
  ['XOR', { kind: 'alu', expr: '$a ^ $b' }],
  ['SHL', { kind: 'alu', expr: '$a << $b' }],
  ['SHR', { kind: 'alu', expr: '($a >>> $b) | 0' }],
  ['SAR', { kind: 'alu', expr: '$a >> $b' }],
  ['NOT', { kind: 'alu', expr: '~$a' }],
  ['NEG', { kind: 'alu', expr: '-$a | 0' }],
  ['ADDI', { kind: 'alu', expr: '($a + $i) | 0' }],
  ['MULI', { kind: 'alu', expr: 'Math.imul($a, $i)' }],
  ['ANDI', { kind: 'alu', expr: '$a & $i' }],
  ['ORI', { kind: 'alu', expr: '$a | $i' }],
  ['XORI', { kind: 'alu', expr: '$a ^ $i' }],
  ['SHLI', { kind: 'alu', expr: '$a << $i' }],
  ['SHRI', { kind: 'alu', expr: '($a >>> $i) | 0' }],
  ['SARI', { kind: 'alu', expr: '$a >> $i' }],
  ['LDW', { kind: 'load', size: 4, signed: true }],
  ['LDH', { kind: 'load', size: 2, signed: true }],
  ['LDHU', { kind: 'load', size: 2, signed: false }],
  ['LDB', { kind: 'load', size: 1, signed: true }],
  ['LDBU', { kind: 'load', size: 1, signed: false }],
  ['STW', { kind: 'store', size: 4 }],
  ['STH', { kind: 'store', size: 2 }],
  ['STB', { kind: 'store', size: 1 }],
  ['XCHG', { kind: 'xchg' }],
  ['PUSH', { kind: 'push' }],
  ['POP', { kind: 'pop' }],
  ['CMP', { kind: 'cmp', a: '$a', b: '$b' }],
  ['CMPI', { kind: 'cmp', a: '$a', b: '$i' }],
  ['TEST', { kind: 'cmp', a: '$a & $b', b: '0' }],
  ['SETCC', { kind: 'setcc' }],
  ['JMP', { kind: 'jmp' }],
  ['JCC', { kind: 'jcc' }],
  ['CALL', { kind: 'call' }],
  ['JMPR', { kind: 'jmpr' }],
  ['CALLR', { kind: 'callr' }],
  ['RET', { kind: 'ret' }],
  ['PAUSE', { kind: 'pause' }],
];

// ------------------------------------------------------------------------------ the fast loop

const F_RD = 'r[(w >>> 8) & 15]';
const F_OPS: Record<string, string> = { $a: 'r[(w >>> 12) & 15]!', $b: 'r[(w >>> 16) & 15]!', $i: '(w >> 16)' };
const S_OPS: Record<string, string> = { $a: 'r[ra]!', $b: 'r[rb]!', $i: 'imm' };

function subst(expr: string, ops: Record<string, string>): string {
  return expr.replace(/\$[abi]/g, (m) => ops[m]!);
}

/** Tag mask of an aligned access of size bytes: a misaligned va never matches (machine/mmu.ts). */
function tagMask(size: number): string {
  return size === 4 ? '0xfffff003' : size === 2 ? '0xfffff001' : 'PAGE_MASK';
}

/** The fast loop's TLB hit check for va in tags t (the MMU's arrays, read inline: machine/mmu.ts), refilling on a miss (refill: a walk by the MMU) or leaving the loop. */
function fastTlb(t: 'tr' | 'tw', size: number, refill: boolean, leave = 'break loop;', self = 'this'): string[] {
  const tag = `va & ${tagMask(size)}`;
  const find = `tlbFind(${t}, ((va >>> 12) & sm) << ws, ways, ${tag})`;
  if (!refill) return [`const e = ${find};`, `if (e < 0) ${leave}`];
  const align = size === 1 ? '' : `(va & ${size - 1}) !== 0 || `;
  const acc = t === 'tw' ? 'ACC_WRITE' : 'ACC_READ';
  return [`let e = ${find};`, 'if (e < 0) {', `  if (${align}(dc = ${self}.refill(va, ${acc}, user)) < 0 || (e = ${find}) < 0) ${leave}`, '  cyc += dc;', `  ${self}.refillCharged(dc);`, '}'];
}

/** The fast loop's view of memory of size bytes at host-physical va + ta[e]. */
function fastMem(size: number, signed: boolean): string {
  if (size === 4) return 'm32[(va + ta[e]!) >> 2]';
  if (size === 2) return `${signed ? 's16' : 'm16'}[(va + ta[e]!) >> 1]`;
  return `${signed ? 's8' : 'm8'}[(va + ta[e]!) | 0]`;
}

/** After a fast-loop store of size bytes: if it hit a frame holding translated code, drop what it overlaps (the fast loop decodes afresh, so it goes on). */
function fastStored(size: number): string {
  return `if (tbFrame[(va + ta[e]!) >>> 12] !== 0) this.codeStored((va + ta[e]!) | 0, ${size});`;
}

/**
 * The same after a 4-byte instruction that is a store and nothing else (its other effects done
 * first): when the code-store hook asks (Cpu.codeStoreHook), the loop leaves after it, counted.
 */
function fastStoredLeave(size: number): string[] {
  return [
    `if (tbFrame[(va + ta[e]!) >>> 12] !== 0 && this.codeStored((va + ta[e]!) | 0, ${size})) {`,
    '  pc = (pc + 4) | 0;',
    '  cyc += cost[w & 0xff]!;',
    '  n++;',
    '  break loop;',
    '}',
  ];
}

/** A control transfer's end in the fast loop: charge, count, stop at the deadline (unless the boundary probe goes on), go on at pc. */
const FAST_BRANCH_END = [
  'n++;',
  'if (cyc >= dl) {',
  '  // a boundary probe (runToBoundary) may go on, charging cycles that are not base cycles',
  '  if (probe === null || (dc = probe(pc, cyc)) < 0) {',
  '    why = BOUND;',
  '    break loop;',
  '  }',
  '  cyc += dc;',
  '  this.loopWalkCycles += dc;',
  '}',
  'continue;',
];
/**
 * A backward jump (displacement d < 0) within the code page in a cold slice (lh: the
 * translator's loop heads, else null): count it for its target, a loop's head, and stop there
 * once the count reaches loopHot (the dispatcher lands there: a translation, or a head to
 * translate). The stop is at a block boundary, after the jump retired.
 */
function fastLoopHead(indent: string): string[] {
  return [
    'if (d < 0 && lh !== null && (pc & 0xfffff003) === icV && ++lh[((pc + icA) >>> 2) & LOOP_MASK]! >= loopHot) {',
    '  n++;',
    '  this.tx!.stats.loopStops++;',
    '  why = BOUND;',
    '  break loop;',
    '}',
  ].map((l) => indent + l);
}
/** An 8-byte instruction whose extension word is on the next page leaves the loop. */
const FAST_EXT_GUARD = 'if ((pc & 0xffc) === 0xffc) break loop;';
const FAST_EXT = 'm32[(pc + icA + 4) >> 2]!';

/** The statements of one fast-loop case (without its label), and whether they need a block. */
function fastBody(s: Semantics): { block: boolean; lines: string[] } {
  switch (s.kind) {
    case 'nop':
      return { block: false, lines: ['break;'] };
    case 'pause':
      return { block: false, lines: ['if (this.nonRoot && this.vmcs!.pauseLoopExiting) break loop;', 'break;'] };
    case 'alu':
      return { block: false, lines: [`${F_RD} = ${subst(s.expr, F_OPS)};`, 'break;'] };
    case 'li':
      return { block: false, lines: [`${FAST_EXT_GUARD} // extension word on the next page`, `${F_RD} = ${FAST_EXT};`, 'pc = (pc + 8) | 0;', 'cyc += cost[w & 0xff]!;', 'n++;', 'continue;'] };
    case 'div':
      return { block: true, lines: [`const b = ${subst(s.b, F_OPS)};`, 'if (b === 0) break loop;', `${F_RD} = ${subst(s.expr, F_OPS)};`, 'break;'] };
    case 'load':
      return {
        block: true,
        lines: [`const va = (${F_OPS.$a} + (w >> 16)) | 0;`, ...fastTlb('tr', s.size, true), `${F_RD} = ${fastMem(s.size, s.signed)}!;`, 'break;'],
      };
    case 'store':
      return {
        block: true,
        lines: [`const va = (${F_OPS.$a} + (w >> 16)) | 0;`, ...fastTlb('tw', s.size, true), `${fastMem(s.size, false)} = ${F_RD}!;`, ...fastStoredLeave(s.size), 'break;'],
      };
    case 'xchg':
      return {
        block: true,
        lines: [
          'const va = r[(w >>> 12) & 15]!;',
          ...fastTlb('tw', 4, true),
          `const old = ${fastMem(4, false)}!;`,
          `${fastMem(4, false)} = r[(w >>> 16) & 15]!;`,
          `${F_RD} = old;`,
          ...fastStoredLeave(4),
          'break;',
        ],
      };
    case 'push':
      return { block: true, lines: ['const va = (r[SP]! - 4) | 0;', ...fastTlb('tw', 4, false), `${fastMem(4, true)} = ${F_OPS.$a};`, 'r[SP] = va;', ...fastStoredLeave(4), 'break;'] };
    case 'pop':
      return { block: true, lines: ['const va = r[SP]!;', ...fastTlb('tr', 4, false), `const v = ${fastMem(4, true)}!;`, 'r[SP] = (va + 4) | 0;', `${F_RD} = v;`, 'break;'] };
    case 'cmp':
      return {
        block: true,
        lines: [
          `const a = ${subst(s.a, F_OPS)};`,
          `const b = ${subst(s.b, F_OPS)};`,
          // compareFlags of isa.ts, inlined (Z = 1, LT = 2, B = 4)
          'fl = (fl & notCond) | (a === b ? 1 : 0) | (a < b ? 2 : 0) | (a >>> 0 < b >>> 0 ? 4 : 0);',
          'break;',
        ],
      };
    case 'setcc':
      return { block: false, lines: [`${F_RD} = condT[((w >>> 9) & 0x78) | (fl & 7)]!;`, 'break;'] };
    case 'jmp':
      return { block: true, lines: [FAST_EXT_GUARD, `const d = ${FAST_EXT};`, 'pc = (pc + 8 + d) | 0;', 'cyc += cost[w & 0xff]!;', ...fastLoopHead(''), ...FAST_BRANCH_END] };
    case 'jcc':
      return {
        block: true,
        lines: [
          FAST_EXT_GUARD,
          'cyc += cost[w & 0xff]!;',
          'if (condT[((w >>> 5) & 0x78) | (fl & 7)] !== 0) {',
          `  const d = ${FAST_EXT};`,
          '  pc = (pc + 8 + d) | 0;',
          '  cyc += taken;',
          ...fastLoopHead('  '),
          '} else {',
          '  pc = (pc + 8) | 0;',
          '}',
          ...FAST_BRANCH_END,
        ],
      };
    case 'call':
      return {
        block: true,
        lines: [
          FAST_EXT_GUARD,
          'const va = (r[SP]! - 4) | 0;',
          ...fastTlb('tw', 4, false),
          'const next = (pc + 8) | 0;',
          // the target from the extension word as fetched, before the push (which may overwrite it)
          `const target = (next + ${FAST_EXT}) | 0;`,
          `${fastMem(4, true)} = next;`,
          fastStored(4),
          'r[SP] = va;',
          'pc = target;',
          'cyc += cost[w & 0xff]!;',
          ...FAST_BRANCH_END,
        ],
      };
    case 'jmpr':
      return { block: true, lines: [`pc = ${F_OPS.$a};`, 'cyc += cost[w & 0xff]!;', ...FAST_BRANCH_END] };
    case 'callr':
      return {
        block: true,
        lines: [
          'const va = (r[SP]! - 4) | 0;',
          ...fastTlb('tw', 4, false),
          `const target = ${F_OPS.$a};`,
          `${fastMem(4, true)} = (pc + 4) | 0;`,
          fastStored(4),
          'r[SP] = va;',
          'pc = target;',
          'cyc += cost[w & 0xff]!;',
          ...FAST_BRANCH_END,
        ],
      };
    case 'ret':
      return { block: true, lines: ['const va = r[SP]!;', ...fastTlb('tr', 4, false), `pc = ${fastMem(4, true)}!;`, 'r[SP] = (va + 4) | 0;', 'cyc += cost[w & 0xff]!;', ...FAST_BRANCH_END] };
  }
}

// ---------------------------------------------------------------------------- the general path

const S_RETIRE = 'return this.retire(next, c);';
const S_FAILED = 'if (this.pend !== PEND_NONE) return this.failed(pc);';

/** The statements of one general-path case (without its label), and whether they need a block. */
function stepBody(s: Semantics): { block: boolean; lines: string[] } {
  switch (s.kind) {
    case 'nop':
      return { block: false, lines: [S_RETIRE] };
    case 'pause':
      return { block: false, lines: ['if (this.nonRoot && this.vmcs!.pauseLoopExiting && this.cpl === 0 && this.pauseLoopEnds()) return this.insnExit(EXIT_PAUSE, pc, next, c);', S_RETIRE] };
    case 'alu':
      return { block: false, lines: [`r[rd] = ${subst(s.expr, S_OPS)};`, S_RETIRE] };
    case 'li':
      return { block: false, lines: ['r[rd] = ext;', S_RETIRE] };
    case 'div':
      return { block: true, lines: [`const b = ${subst(s.b, S_OPS)};`, 'if (b === 0) return this.fault(V_DE, 0, pc);', `r[rd] = ${subst(s.expr, S_OPS)};`, S_RETIRE] };
    case 'load': {
      const read = s.size === 4 ? 'this.read32(va, ACC_READ, user)' : `this.readN(va, ${s.size}, ACC_READ, user)`;
      const shift = 32 - 8 * s.size;
      const value = s.signed && s.size !== 4 ? `(v << ${shift}) >> ${shift}` : 'v';
      return { block: true, lines: [`const va = (r[ra]! + imm) | 0;`, `const v = ${read};`, S_FAILED, `r[rd] = ${value};`, S_RETIRE] };
    }
    case 'store':
      return { block: false, lines: [`this.writeN((r[ra]! + imm) | 0, ${s.size}, r[rd]!, user);`, S_FAILED, S_RETIRE] };
    case 'xchg':
      return {
        block: true,
        lines: ['const va = r[ra]!;', 'const v = this.read32(va, ACC_WRITE, user);', S_FAILED, 'this.writeN(va, 4, r[rb]!, user);', S_FAILED, 'r[rd] = v;', S_RETIRE],
      };
    case 'push':
      return { block: true, lines: ['const va = (r[SP]! - 4) | 0;', 'this.writeN(va, 4, r[ra]!, user);', S_FAILED, 'r[SP] = va;', S_RETIRE] };
    case 'pop':
      return { block: true, lines: ['const va = r[SP]!;', 'const v = this.read32(va, ACC_READ, user);', S_FAILED, 'r[SP] = (va + 4) | 0;', 'r[rd] = v;', S_RETIRE] };
    case 'cmp':
      return { block: false, lines: [`this.flags = (this.flags & ~FLAGS_COND) | compareFlags(${subst(s.a, S_OPS)}, ${subst(s.b, S_OPS)});`, S_RETIRE] };
    case 'setcc':
      return { block: false, lines: ['r[rd] = COND_TABLE[(ra << 3) | (this.flags & 7)]!;', S_RETIRE] };
    case 'jmp':
      return { block: false, lines: ['return this.branch((next + ext) | 0, c);'] };
    case 'jcc':
      return { block: false, lines: ['if (COND_TABLE[(rd << 3) | (this.flags & 7)] !== 0) return this.branch((next + ext) | 0, c + this.takenExtra);', 'return this.branch(next, c);'] };
    case 'call':
      return { block: true, lines: ['const va = (r[SP]! - 4) | 0;', 'this.writeN(va, 4, next, user);', S_FAILED, 'r[SP] = va;', 'return this.branch((next + ext) | 0, c);'] };
    case 'jmpr':
      return { block: false, lines: ['return this.branch(r[ra]!, c);'] };
    case 'callr':
      return { block: true, lines: ['const target = r[ra]!;', 'const va = (r[SP]! - 4) | 0;', 'this.writeN(va, 4, next, user);', S_FAILED, 'r[SP] = va;', 'return this.branch(target, c);'] };
    case 'ret':
      return { block: true, lines: ['const va = r[SP]!;', 'const target = this.read32(va, ACC_READ, user);', S_FAILED, 'r[SP] = (va + 4) | 0;', 'return this.branch(target, c);'] };
  }
}

// ------------------------------------------------------------------------------ the translator

/**
 * One decoded instruction as the translator (machine/translator.ts) sees it when it emits code for
 * it, and the plumbing strings it provides. Registers are locals `r0`..`r15`; FLAGS is `fl`;
 * cycles and instructions since the translated function was entered are `cyc` and `n`.
 */
export interface TransInsn {
  rd: number;
  ra: number;
  rb: number;
  /** the signed 16-bit immediate */
  imm: number;
  /** the extension word (8-byte instructions) */
  ext: number;
  /** virtual address of the next instruction (int32) */
  next: number;
  /** leave the function before the instruction: nothing of it done, pc = the instruction */
  exit: string;
  /** leave after the instruction retired (it and the block's earlier ones charged), at pc expression `pc`; bound: a block boundary */
  after: (pc: string, bound: boolean) => string;
  /** charge the block so far and this instruction (a control transfer, which ends the block) */
  retire: string;
  /** after retire: the block boundary at pc expression `pc` (deadline check, then on to the next block) */
  go: (pc: string) => string;
  /**
   * Whether the function keeps the last page each kind of access hit in locals (TLB_MEMO_LOCALS,
   * declared by the caller): only where nothing but Cpu.txMiss can change the TLB while it runs.
   */
  tlbMemo?: boolean;
  /** code run after each refill besides emptying the page memo: the caller's own memos of TLB answers (compileStraight's StraightFrame.refilled) */
  refilled?: string;
  /** the base register holds a constant (loaded by LI earlier in the block): the access takes the memo of such accesses */
  constBase?: boolean;
  /** an expression in place of the first operand register (r<ra>), and a variable in place of the destination (r<rd>): a caller's rewrite (compileStraight's StraightRewrite.define) */
  a?: string;
  d?: string;
}

/**
 * The locals of the translator's page memo (txTlb): for reads (tr) and writes (tw), one page for
 * accesses through the stack pointer, one for those at a constant address (a global variable:
 * the base register loaded by LI in the same block) and one for the rest, each its tag (a page
 * address; -1, which no access's masked address equals, when empty) and its TLB entry's
 * host-physical delta.
 */
export const TLB_MEMO_LOCALS = 'let sRp = -1, sRd = 0, sWp = -1, sWd = 0, gRp = -1, gRd = 0, gWp = -1, gWd = 0, dRp = -1, dRd = 0, dWp = -1, dWd = 0;';

/**
 * The translator's condition test: condition `cond`'s row of the condition table (isa.ts
 * condHolds, as the interpreter's COND_TABLE) as a literal bit mask over FLAGS & 7, so translated
 * code tests a bit of a constant instead of loading from the table.
 */
export function condMask(cond: number): number {
  let m = 0;
  for (let f = 0; f < 8; f++) if (condHolds(cond, f)) m |= 1 << f;
  return m;
}

/**
 * A store of size bytes to host-physical `pa` done: if it hit translated code, or a frame marked
 * for the code-store hook (binary translation's units: Cpu.txStored), leave after the instruction.
 */
function txStored(size: number, x: TransInsn, pcAfter: string, bound: boolean): string {
  return `if (tbFrame[pa >>> 12] !== 0 && cpu.txStored(pa, ${size})) ${x.after(pcAfter, bound)}`;
}

/**
 * The translator's TLB check: the fast loop's inline hit check (a compare per way, with the
 * geometry as literals), and on a miss the refill out of line (Cpu.txMiss: the fast loop's refill
 * sequence, its walk cycles in cpu.txDc and whether the walk dropped translations in cpu.txSmc),
 * so a memory access costs the generated function a few lines; `leave` when the access needs the
 * general path. Without refill (push, pop, call, ret), a miss leaves as the fast loop's does.
 */
function txTlb(t: 'tr' | 'tw', size: number, refill: boolean, leave: string, refilled: string): string[] {
  return [`${refill ? 'let' : 'const'} e = ${txFind(t, size)};`, txMissed(t, size, refill, leave, refilled), `const pa = (va + ta[e]) | 0;`];
}

/** machine/translator.ts's hit check for this TLB's ways (tlbFind, unrolled) at va. */
function txFind(t: 'tr' | 'tw', size: number): string {
  return `find(${t}, ((va >>> 12) & sm) << ws, va & ${tagMask(size)})`;
}

/** After a TLB miss (e < 0): leave, or (refill) walk through Cpu.txMiss and run `refilled` after a refill. */
function txMissed(t: 'tr' | 'tw', size: number, refill: boolean, leave: string, refilled: string): string {
  if (!refill) return `if (e < 0) ${leave}`;
  return `if (e < 0) { if ((e = cpu.txMiss(va, ${t === 'tw' ? 'ACC_WRITE' : 'ACC_READ'}, ${size - 1}, user, ${t})) < 0) ${leave} cyc += cpu.txDc; smc = cpu.txSmc; ${refilled}}`;
}

/**
 * txTlb with the page memo (TLB_MEMO_LOCALS): an access whose page is the one the last access of
 * its kind (read or write, through the stack pointer or not) hit takes the remembered delta
 * without reading the TLB. Exact, because while a translated function runs only a refill
 * (Cpu.txMiss) changes the TLB (a hit changes nothing: no replacement state), and after one
 * every memo is emptied; a hit in the TLB itself is remembered.
 */
function txTlbMemo(t: 'tr' | 'tw', size: number, refill: boolean, leave: string, memo: 's' | 'g' | 'd', refilled: string): string[] {
  const p = `${memo}${t === 'tw' ? 'W' : 'R'}`;
  const miss = txMissed(t, size, refill, leave, `sRp = sWp = gRp = gWp = dRp = dWp = -1; ${refilled}`);
  return [`let pa = 0;`, `if ((va & ${tagMask(size)}) === ${p}p) pa = (va + ${p}d) | 0;`, `else { ${refill ? 'let' : 'const'} e = ${txFind(t, size)};`, miss, `${p}p = va & PAGE_MASK; ${p}d = ta[e]; pa = (va + ${p}d) | 0; }`];
}

/** The translator's view of memory of size bytes at host-physical pa. */
function txMem(size: number, signed: boolean): string {
  if (size === 4) return 'm32[pa >> 2]';
  if (size === 2) return `${signed ? 's16' : 'm16'}[pa >> 1]`;
  return `${signed ? 's8' : 'm8'}[pa]`;
}

/**
 * The JavaScript of one instruction in a translated block (machine/translator.ts): the same
 * expressions as the interpreter's paths, over locals, with the fast loop's TLB check inline and
 * the translator's exits where the fast loop would leave for the general path.
 */
export function transBody(s: Semantics, x: TransInsn): string[] {
  const ops: Record<string, string> = { $a: x.a ?? `r${x.ra}`, $b: `r${x.rb}`, $i: `(${x.imm})` };
  const rd = x.d ?? `r${x.rd}`;
  // the access's kind for the page memo: through the stack pointer (push, pop, call, ret, or a
  // base of r15), at a constant address, or another
  const tlb = (t: 'tr' | 'tw', size: number, refill: boolean, stack = x.ra === 15): string[] =>
    x.tlbMemo === true ? txTlbMemo(t, size, refill, x.exit, stack ? 's' : x.constBase === true ? 'g' : 'd', x.refilled ?? '') : txTlb(t, size, refill, x.exit, x.refilled ?? '');
  // a refill's walk may set accessed/dirty bits in a frame holding translated code (this
  // function's own, even): it drops what it overlaps (tx.epoch moves), and the function leaves
  // right after the instruction, so it never runs stale code
  const walked = `if (smc !== 0) ${x.after(`${x.next}`, false)}`;
  switch (s.kind) {
    case 'nop':
      return [];
    case 'pause':
      return [`if (cpu.nonRoot && cpu.vmcs.pauseLoopExiting) ${x.exit}`];
    case 'alu':
      return [`${rd} = ${subst(s.expr, ops)};`];
    case 'li':
      return [`${rd} = ${x.ext | 0};`];
    case 'div':
      return ['{', `const b = ${subst(s.b, ops)};`, `if (b === 0) ${x.exit}`, `${rd} = ${subst(s.expr, ops)};`, '}'];
    case 'load':
      return ['{', `const va = (${ops.$a} + ${ops.$i}) | 0;`, ...tlb('tr', s.size, true), `${rd} = ${txMem(s.size, s.signed)};`, walked, '}'];
    case 'store':
      return ['{', `const va = (${ops.$a} + ${ops.$i}) | 0;`, ...tlb('tw', s.size, true), `${txMem(s.size, false)} = ${rd};`, txStored(s.size, x, `${x.next}`, false), walked, '}'];
    case 'xchg':
      return ['{', `const va = ${ops.$a};`, ...tlb('tw', 4, true), 'const v = m32[pa >> 2];', `m32[pa >> 2] = ${ops.$b};`, `${rd} = v;`, txStored(4, x, `${x.next}`, false), walked, '}'];
    case 'push':
      return ['{', 'const va = (r15 - 4) | 0;', ...tlb('tw', 4, false, true), `m32[pa >> 2] = ${ops.$a};`, 'r15 = va;', txStored(4, x, `${x.next}`, false), '}'];
    case 'pop':
      return ['{', 'const va = r15;', ...tlb('tr', 4, false, true), 'const v = m32[pa >> 2];', 'r15 = (va + 4) | 0;', `${rd} = v;`, '}'];
    case 'cmp':
      return [
        '{',
        `const a = ${subst(s.a, ops)};`,
        `const b = ${subst(s.b, ops)};`,
        'fl = (fl & notCond) | (a === b ? 1 : 0) | (a < b ? 2 : 0) | (a >>> 0 < b >>> 0 ? 4 : 0);',
        '}',
      ];
    case 'setcc':
      return [`${rd} = (${condMask(x.ra)} >>> (fl & 7)) & 1;`];
    case 'jmp':
      return [x.retire, x.go(`${(x.next + x.ext) | 0}`)];
    case 'jcc':
      return [x.retire, `if (((${condMask(x.rd)} >>> (fl & 7)) & 1) !== 0) {`, 'cyc += taken;', x.go(`${(x.next + x.ext) | 0}`), '}', x.go(`${x.next}`)];
    case 'call': {
      const target = `${(x.next + x.ext) | 0}`;
      return ['{', 'const va = (r15 - 4) | 0;', ...tlb('tw', 4, false, true), `m32[pa >> 2] = ${x.next};`, 'r15 = va;', txStored(4, x, target, true), x.retire, x.go(target), '}'];
    }
    case 'jmpr':
      return [x.retire, x.go(ops.$a)];
    case 'callr':
      return ['{', 'const va = (r15 - 4) | 0;', ...tlb('tw', 4, false, true), `const target = ${ops.$a};`, `m32[pa >> 2] = ${x.next};`, 'r15 = va;', txStored(4, x, 'target', true), x.retire, x.go('target'), '}'];
    case 'ret':
      return ['{', 'const va = r15;', ...tlb('tr', 4, false, true), 'const target = m32[pa >> 2];', 'r15 = (va + 4) | 0;', x.retire, x.go('target'), '}'];
  }
}

/** Does this kind end a block (a control transfer)? */
export function endsBlock(s: Semantics): boolean {
  return s.kind === 'jmp' || s.kind === 'jcc' || s.kind === 'call' || s.kind === 'jmpr' || s.kind === 'callr' || s.kind === 'ret';
}

// ------------------------------------------------------------------------------------ output

function cases(body: (s: Semantics) => { block: boolean; lines: string[] }, indent: string): string {
  const out: string[] = [];
  for (const [name, s] of SEMANTICS) {
    const { block, lines } = body(s);
    out.push(`${indent}case Handler.${name}:${block ? ' {' : ''}`);
    for (const l of lines) out.push(`${indent}  ${l}`);
    if (block) out.push(`${indent}}`);
  }
  return out.join('\n') + '\n';
}

/** The generated regions of machine/cpu.ts, by marker name. */
export function generatedRegions(): Record<string, string> {
  return {
    'fast-cases': cases(fastBody, ' '.repeat(8)),
    'step-cases': cases(stepBody, ' '.repeat(6)),
    'semantics-handlers': `${SEMANTICS.map(([name]) => `  Handler.${name},`).join('\n')}\n`,
  };
}

const BEGIN = (name: string) => `// @generated ${name} begin (machine/semantics.ts, npm run gen:interp)\n`;
const END = (name: string) => `// @generated ${name} end\n`;

/** source with every generated region replaced by the generator's output; throws on a missing marker. */
export function applyRegions(source: string): string {
  let out = source;
  for (const [name, text] of Object.entries(generatedRegions())) {
    const b = out.indexOf(BEGIN(name));
    const e = out.indexOf(END(name));
    if (b < 0 || e < b) throw new Error(`machine/cpu.ts: no '@generated ${name}' region`);
    const start = b + BEGIN(name).length;
    const endLine = out.lastIndexOf('\n', e) + 1;
    out = out.slice(0, start) + text + out.slice(endLine);
  }
  return out;
}
