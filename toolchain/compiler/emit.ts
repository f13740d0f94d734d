// Phase 5, emission: prints allocated machine IR as XL32 assembly (docs/asm.md) with function
// prologues and epilogues, the `_start` entry, trap stubs, the context-switch helper and the
// rodata/data/bss sections; computes every address itself for the pc -> source-line map.
import { OPS, Fmt, Op, COND_NAMES, REG_FP, REG_SP } from '../../machine/isa.ts';
import { assertNever } from './diagnostics.ts';
import { invertCond } from './lower.ts';
import type { LoweredFunction } from './lower.ts';
import type { Allocation } from './regalloc.ts';
import type { MInst, Reg } from './mir.ts';
import { CONTEXT_SWITCH_SYM, type ConstValue, type Statics } from './statics.ts';
import { alignUp, POWEROFF_PORT, SECTION_ALIGN, SYSCALL_VECTOR, SYS_EXIT } from './abi.ts';

export interface EmitInput {
  arch: 'native' | 'pv';
  user: boolean;
  /** text base address */
  base: number;
  /** bytes of the `_start` stack */
  stackBytes: number;
  /** the entry module's main, mangled */
  mainSym: string;
  mainReturnsValue: boolean;
  functions: { f: LoweredFunction; alloc: Allocation }[];
  statics: Statics;
  /** source file names, indexed by MFunction.fileIndex */
  files: readonly string[];
  /** header comment lines */
  banner: readonly string[];
}

/** Where the sections landed; empty sections have size 0. */
export interface SectionLayout {
  /** a user program's stack is a section of its own (above its guard page) */
  name: 'text' | 'rodata' | 'data' | 'stack' | 'bss';
  vaddr: number;
  bytes: number;
}

export interface EmitOutput {
  asm: string;
  /** flat [pc, fileIndex, line, ...] triples, ascending pc */
  lineMap: number[];
  /** addresses the emitter computed for every non-local label, to check against the assembler */
  symbols: Map<string, number>;
  sections: SectionLayout[];
}

const regName = (r: Reg): string => (r === REG_SP ? 'sp' : r === REG_FP ? 'fp' : `r${r}`);

function num(v: number): string {
  return v > -4096 && v < 4096 ? `${v}` : v < 0 ? `${v}` : `0x${(v >>> 0).toString(16)}`;
}

function symExpr(sym: string, off: number): string {
  return off === 0 ? sym : off > 0 ? `${sym} + ${off}` : `${sym} - ${-off}`;
}

function memOperand(base: Reg, off: number): string {
  return off === 0 ? `[${regName(base)}]` : off > 0 ? `[${regName(base)} + ${off}]` : `[${regName(base)} - ${-off}]`;
}

/** One instruction as assembly text; `label` names blocks, `slotOffset` places spill slots. */
export function formatInst(i: MInst, label: (block: number) => string, slotOffset: (slot: number) => number): string {
  const info = OPS[i.op]!;
  const mn = info.mnemonic;
  const off = i.slot >= 0 ? slotOffset(i.slot) + i.imm : i.imm;
  switch (info.fmt) {
    case Fmt.None: return mn;
    case Fmt.D: return `${mn} ${regName(i.rd)}`;
    case Fmt.A: return `${mn} ${regName(i.ra)}`;
    case Fmt.DA: return `${mn} ${regName(i.rd)}, ${regName(i.ra)}`;
    case Fmt.DAB: return `${mn} ${regName(i.rd)}, ${regName(i.ra)}, ${regName(i.rb)}`;
    case Fmt.DAI: return `${mn} ${regName(i.rd)}, ${regName(i.ra)}, ${i.imm}`;
    case Fmt.Load: return `${mn} ${regName(i.rd)}, ${memOperand(i.ra, off)}`;
    case Fmt.Store: return `${mn} ${memOperand(i.ra, off)}, ${regName(i.rd)}`;
    case Fmt.DImm32: return `${mn} ${regName(i.rd)}, ${i.sym ? symExpr(i.sym, i.imm) : num(i.imm)}`;
    case Fmt.Rel: return `${mn} ${i.sym ?? label(i.targets[0]!)}`;
    case Fmt.CondRel: return `j${COND_NAMES[i.cond]} ${label(i.targets[0]!)}`;
    case Fmt.AB: return `${mn} ${regName(i.ra)}, ${regName(i.rb)}`;
    case Fmt.AI: return `${mn} ${regName(i.ra)}, ${i.imm}`;
    case Fmt.DCond: return `set${COND_NAMES[i.cond]} ${regName(i.rd)}`;
    case Fmt.Vec: return `${mn} 0x${i.imm.toString(16)}`;
    case Fmt.DPort: return `${mn} ${regName(i.rd)}, 0x${i.imm.toString(16)}`;
    case Fmt.PortA: return `${mn} 0x${i.imm.toString(16)}, ${regName(i.ra)}`;
    case Fmt.CrA: return `${mn} cr${i.imm}, ${regName(i.ra)}`;
    case Fmt.DCr: return `${mn} ${regName(i.rd)}, cr${i.imm}`;
    case Fmt.AImm: return `${mn} ${regName(i.ra)}, ${i.imm}`;
    case Fmt.RingA: return `${mn} ${i.imm}, ${regName(i.ra)}`;
    case Fmt.DD: return `${mn} ${regName(i.rd)}, ${regName(i.ra)}`;
    default: return assertNever(info.fmt, 'operand format');
  }
}

/** Bytes of `.asciz` text for a string, with the assembler's escapes. */
function asciz(text: string): string {
  let out = '';
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k) & 0xff;
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `"${out}"`;
}

function constExpr(c: ConstValue): string {
  return c.kind === 'int' ? num(c.value) : symExpr(c.sym, c.offset);
}

/** Accumulates assembly lines while tracking the address of the next byte. */
class Writer {
  readonly lines: string[] = [];
  pc = 0;
  readonly symbols = new Map<string, number>();
  readonly lineMap: number[] = [];
  private lastFile = -1;
  private lastLine = -1;

  raw(text: string): void {
    this.lines.push(text);
  }
  org(addr: number, comment: string): void {
    this.lines.push('', `.org ${num(addr)}    ; ${comment}`);
    this.pc = addr;
  }
  label(name: string): void {
    this.lines.push(`${name}:`);
    if (!name.startsWith('.L')) this.symbols.set(name, this.pc);
  }
  op(text: string, bytes: number, file = -1, line = 0): void {
    if (line > 0 && (file !== this.lastFile || line !== this.lastLine)) {
      this.lineMap.push(this.pc, file, line);
      this.lastFile = file;
      this.lastLine = line;
    }
    this.lines.push(`    ${text}`);
    this.pc += bytes;
  }
  /** An instruction given by opcode (for sizes) and text. */
  insn(op: Op, text: string): void {
    this.op(text, OPS[op]!.bytes);
  }
  data(text: string, bytes: number): void {
    this.lines.push(`    ${text}`);
    this.pc += bytes;
  }
  align(n: number): void {
    if (this.pc % n === 0) return;
    this.lines.push(`    .align ${n}`);
    this.pc = alignUp(this.pc, n);
  }
  /** Break source-line attribution (code without a source line follows). */
  noLine(): void {
    this.lastFile = -1;
    this.lastLine = -1;
  }
}

export function emitProgram(input: EmitInput): EmitOutput {
  const w = new Writer();
  for (const b of input.banner) w.raw(`; ${b}`);
  w.raw(`.arch ${input.user ? 'user' : input.arch}`);
  w.raw('.entry _start');

  // ---- text ----
  const textBase = input.base;
  w.org(textBase, 'text');
  emitStart(w, input);
  input.functions.forEach(({ f, alloc }, k) => emitFunction(w, f, alloc, k));
  for (const [handler, stub] of input.statics.trapStubs) emitTrapStub(w, handler, stub);
  if (input.statics.needContextSwitch) emitContextSwitch(w);
  const sections: SectionLayout[] = [{ name: 'text', vaddr: textBase, bytes: w.pc - textBase }];

  // ---- rodata: strings and jump tables ----
  let next = alignUp(w.pc, SECTION_ALIGN);
  const tables = input.functions.flatMap(({ f }, k) => f.jumpTables.map((t) => ({ t, k })));
  if (input.statics.strings.size > 0 || tables.length > 0) {
    w.org(next, 'rodata');
    const start = w.pc;
    for (const { t, k } of tables) {
      w.align(4);
      w.label(t.label);
      for (const target of t.targets) w.data(`.word ${blockLabel(k, target)}`, 4);
    }
    for (const [text, label] of input.statics.strings) {
      w.label(label);
      w.data(`.asciz ${asciz(text)}`, text.length + 1);
    }
    sections.push({ name: 'rodata', vaddr: start, bytes: w.pc - start });
    next = alignUp(w.pc, SECTION_ALIGN);
  }

  // ---- data: module variables with a non-zero initial value ----
  const isZero = (c: ConstValue): boolean => c.kind === 'int' && c.value === 0;
  const initialized = input.statics.words.filter((x) => !isZero(x.init));
  if (initialized.length > 0) {
    w.org(next, 'data');
    const start = w.pc;
    for (const x of initialized) {
      w.label(x.sym);
      w.raw(`.object ${x.sym}, 4`);
      w.data(`.word ${constExpr(x.init)}`, 4);
    }
    sections.push({ name: 'data', vaddr: start, bytes: w.pc - start });
    next = alignUp(w.pc, SECTION_ALIGN);
  }

  // ---- a user program's stack: its own pages, above an unmapped guard page ----
  // No segment covers the page below the stack, so a stack that overflows faults there instead
  // of running into the data below it (the kernel's demand-zero region starts above the stack).
  if (input.user) {
    w.label('__stack_guard');
    w.org(next + SECTION_ALIGN, 'stack');
    w.label('__stack');
    w.raw(`.object __stack, ${input.stackBytes}`);
    w.data(`.space ${input.stackBytes}`, input.stackBytes);
    w.label('__stack_top');
    sections.push({ name: 'stack', vaddr: next + SECTION_ALIGN, bytes: input.stackBytes });
    next = alignUp(w.pc, SECTION_ALIGN);
  }

  // ---- bss: zeroed module variables, static buffers, a kernel's boot stack ----
  w.org(next, 'bss');
  const bssStart = w.pc;
  for (const x of input.statics.words.filter((y) => isZero(y.init))) {
    w.label(x.sym);
    w.raw(`.object ${x.sym}, 4`);
    w.data('.space 4', 4);
  }
  for (const b of input.statics.buffers.values()) {
    w.align(b.align);
    w.label(b.sym);
    w.raw(`.object ${b.sym}, ${b.bytes}`);
    w.data(`.space ${b.bytes}`, b.bytes);
  }
  if (!input.user) {
    w.align(16);
    w.label('__stack');
    w.raw(`.object __stack, ${input.stackBytes}`);
    w.data(`.space ${input.stackBytes}`, input.stackBytes);
    w.label('__stack_top');
  }
  if (w.pc > bssStart) sections.push({ name: 'bss', vaddr: bssStart, bytes: w.pc - bssStart });

  return { asm: w.lines.join('\n') + '\n', lineMap: w.lineMap, symbols: w.symbols, sections };
}

function blockLabel(fnIndex: number, block: number): string {
  return `.L${fnIndex}.${block}`;
}

/*
 * _start: switch to the static stack and call main. A user program then exits through the
 * system call (r0 = SYS_EXIT, r1 = status); a native kernel powers the machine off with
 * main's result; a pv kernel's main should never return, and if it does it halts (hlt faults
 * at ring 1, so the hypervisor sees the crash).
 */
function emitStart(w: Writer, input: EmitInput): void {
  w.raw('.func _start');
  w.label('_start');
  w.insn(Op.LI, 'li sp, __stack_top');
  w.insn(Op.CALL, `call ${input.mainSym}`);
  if (input.user) {
    w.insn(input.mainReturnsValue ? Op.MOV : Op.LI, input.mainReturnsValue ? 'mov r1, r0' : 'li r1, 0');
    w.insn(Op.LI, `li r0, ${SYS_EXIT}`);
    w.insn(Op.INT, `int 0x${SYSCALL_VECTOR.toString(16)}`);
    w.label('.Lexit');
    w.insn(Op.JMP, 'jmp .Lexit');
  } else if (input.arch === 'native') {
    if (!input.mainReturnsValue) w.insn(Op.LI, 'li r0, 0');
    w.insn(Op.OUT, `out 0x${POWEROFF_PORT.toString(16)}, r0`);
    w.label('.Lhalt');
    w.insn(Op.CLI, 'cli');
    w.insn(Op.HLT, 'hlt');
    w.insn(Op.JMP, 'jmp .Lhalt');
  } else {
    w.label('.Lhalt');
    w.insn(Op.HLT, 'hlt');
    w.insn(Op.JMP, 'jmp .Lhalt');
  }
  w.raw('.endfunc');
}

/** What to emit at the end of a block, given the next block in layout order. */
function emitFunction(w: Writer, f: LoweredFunction, alloc: Allocation, fnIndex: number): void {
  const hasCall = f.blocks.some((b) => b.insts.some((i) => i.op === Op.CALL || i.op === Op.CALLR));
  const frame = hasCall || f.slots > 0 || f.needsFrame;
  const saved = alloc.calleeSaved;
  const slotOffset = (slot: number): number => -4 * saved.length - 4 * (slot + 1);
  const label = (block: number): string => blockLabel(fnIndex, block);
  const byId = new Map(f.blocks.map((b) => [b.id, b]));
  /** Where a jump to `id` really goes: through blocks that only jump on. */
  const finalTarget = (id: number): number => {
    for (let hops = 0; hops < 8; hops++) {
      const b = byId.get(id);
      if (!b || b.insts.length !== 1 || b.insts[0]!.op !== Op.JMP) return id;
      id = b.insts[0]!.targets[0]!;
    }
    return id;
  };
  const isRetBlock = (id: number): boolean => {
    const b = byId.get(finalTarget(id));
    return !!b && b.insts.length === 1 && b.insts[0]!.op === Op.RET;
  };
  /*
   * A jump to a short block that ends the function (at most TAIL_COPY instructions, then a
   * return) is replaced by a copy of that block: the copy costs no more space than the jump
   * saves in time on every path through it.
   */
  const TAIL_COPY = 2;
  const tailCopy = (id: number): MInst[] | null => {
    const b = byId.get(finalTarget(id));
    if (!b || b.insts.length > TAIL_COPY + 1) return null;
    const body = b.insts.slice(0, -1);
    const last = b.insts[b.insts.length - 1]!;
    if (body.some((i) => i.op === Op.JCC || i.op === Op.JMP || i.op === Op.JMPR || i.op === Op.RET)) return null;
    if (last.op === Op.RET) return body;
    if (last.op === Op.JMP && isRetBlock(last.targets[0]!)) return body;
    return null;
  };

  type Item = { kind: 'inst'; i: MInst } | { kind: 'return'; line: number };
  /** An unconditional jump to block t: an inline return, a copied tail, or a jmp. */
  const jumpTo = (t: number, jmp: MInst, items: Item[]): void => {
    const copy = tailCopy(t);
    if (isRetBlock(t)) items.push({ kind: 'return', line: jmp.line });
    else if (copy) {
      for (const c of copy) items.push({ kind: 'inst', i: c });
      items.push({ kind: 'return', line: jmp.line });
    } else items.push({ kind: 'inst', i: { ...jmp, targets: [t] } });
  };
  const plans: Item[][] = f.blocks.map((b, k) => {
    const next = f.blocks[k + 1]?.id;
    const items: Item[] = [];
    const n = b.insts.length;
    for (let j = 0; j < n; j++) {
      const i = b.insts[j]!;
      if (i.op === Op.RET) {
        items.push({ kind: 'return', line: i.line });
      } else if (i.op === Op.JCC && j + 1 < n && b.insts[j + 1]!.op === Op.JMP) {
        const t = finalTarget(i.targets[0]!);
        const fl = finalTarget(b.insts[j + 1]!.targets[0]!);
        j++;
        if (fl === next) items.push({ kind: 'inst', i: { ...i, targets: [t] } });
        else if (t === next) items.push({ kind: 'inst', i: { ...i, cond: invertCond(i.cond), targets: [fl] } });
        else {
          items.push({ kind: 'inst', i: { ...i, targets: [t] } });
          jumpTo(fl, b.insts[j]!, items);
        }
      } else if (i.op === Op.JMP) {
        const t = finalTarget(i.targets[0]!);
        if (t === next) continue;
        jumpTo(t, i, items);
      } else {
        items.push({ kind: 'inst', i });
      }
    }
    return items;
  });
  const referenced = new Set<number>();
  for (const items of plans) for (const it of items) if (it.kind === 'inst' && (it.i.op === Op.JMP || it.i.op === Op.JCC || it.i.op === Op.JMPR)) for (const t of it.i.targets) referenced.add(t);
  for (const t of f.jumpTables) for (const id of t.targets) referenced.add(id);
  const endsFlow = (items: Item[]): boolean => {
    const last = items[items.length - 1];
    return !!last && (last.kind === 'return' || last.i.op === Op.JMP || last.i.op === Op.JMPR || last.i.op === Op.IRET);
  };

  const declLine = f.blocks[0]?.insts[0]?.line ?? 0;
  w.raw('');
  w.raw(`.func ${f.name}`);
  w.label(f.name);
  const at = (op: Op, text: string, line: number): void => w.op(text, OPS[op]!.bytes, f.fileIndex, line);
  if (frame) {
    at(Op.PUSH, 'push fp', declLine);
    at(Op.MOV, 'mov fp, sp', declLine);
  }
  for (const r of saved) at(Op.PUSH, `push ${regName(r)}`, declLine);
  if (f.slots > 0) at(Op.ADDI, `addi sp, sp, ${-4 * f.slots}`, declLine);

  let fallsIn = true;
  f.blocks.forEach((b, k) => {
    const items = plans[k]!;
    if (!(k === 0 || referenced.has(b.id) || fallsIn)) return;
    if (referenced.has(b.id)) w.label(label(b.id));
    for (const it of items) {
      if (it.kind === 'return') {
        if (f.slots > 0) at(Op.ADDI, `addi sp, sp, ${4 * f.slots}`, it.line);
        for (const r of [...saved].reverse()) at(Op.POP, `pop ${regName(r)}`, it.line);
        if (frame) at(Op.POP, 'pop fp', it.line);
        at(Op.RET, 'ret', it.line);
      } else {
        at(it.i.op, formatInst(it.i, label, slotOffset), it.i.line);
      }
    }
    fallsIn = !endsFlow(items);
  });
  w.raw('.endfunc');
  w.noLine();
}

/*
 * A trap entry stub, exactly the TrapFrame layout of toolchain/lib/xl32.ts: r14 is pushed
 * first and r0 last, so r0 sits at the lowest address, directly below the CPU's six-word
 * frame. The handler gets the frame address in r0 and may edit it; everything is reloaded
 * from the frame, vector and error code are dropped, and IRET resumes.
 */
function emitTrapStub(w: Writer, handler: string, stub: string): void {
  w.raw('');
  w.raw(`.func ${stub}`);
  w.label(stub);
  for (let r = 14; r >= 0; r--) w.insn(Op.PUSH, `push ${regName(r)}`);
  w.insn(Op.MOV, 'mov r0, sp');
  w.insn(Op.CALL, `call ${handler}`);
  for (let r = 0; r <= 14; r++) w.insn(Op.POP, `pop ${regName(r)}`);
  w.insn(Op.ADDI, 'addi sp, sp, 8');
  w.insn(Op.IRET, 'iret');
  w.raw('.endfunc');
}

/*
 * contextSwitch(saveSpAt, newSp): the call already pushed the return address; push the
 * callee-saved registers (r7 ends lowest: the ContextFrame layout in abi.ts), store sp,
 * switch, and pop the other context's registers and return address.
 */
function emitContextSwitch(w: Writer): void {
  w.raw('');
  w.raw(`.func ${CONTEXT_SWITCH_SYM}`);
  w.label(CONTEXT_SWITCH_SYM);
  for (let r = 14; r >= 7; r--) w.insn(Op.PUSH, `push ${regName(r)}`);
  w.insn(Op.STW, 'stw [r0], sp');
  w.insn(Op.MOV, 'mov sp, r1');
  for (let r = 7; r <= 14; r++) w.insn(Op.POP, `pop ${regName(r)}`);
  w.insn(Op.RET, 'ret');
  w.raw('.endfunc');
}
