// Test harness for the XL32 CPU: a tiny label-resolving program builder over isa.ts's encode(),
// fake I/O bus and interrupt controller, IDT and page-table builders, and a runner that executes
// every program on both engines (fast path and general path) and checks they agree exactly.

import { expect } from 'vitest';
import { getProfile } from '../../machine/costs.ts';
import { Cpu, type CpuState } from '../../machine/cpu.ts';
import { Cond, GATE_BYTES, Op, Pte, encode, gateFlags } from '../../machine/isa.ts';
import { PhysicalMemory } from '../../machine/memory.ts';
import type { InterruptController, IoBus } from '../../machine/types.ts';

/** A program under construction: instructions, data words and labels, resolved by build(). */
export class Prog {
  private readonly words: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: { index: number; label: string; from: number }[] = [];

  constructor(readonly base: number) {}

  /** address of the next word */
  get here(): number {
    return this.base + this.words.length * 4;
  }

  label(name: string): this {
    this.labels.set(name, this.here);
    return this;
  }

  addr(name: string): number {
    const a = this.labels.get(name);
    if (a === undefined) throw new Error(`no label ${name}`);
    return a;
  }

  /** one instruction word: op rd, ra, imm (rb for register forms) */
  op(op: Op, rd = 0, ra = 0, imm = 0): this {
    this.words.push(encode(op, rd, ra, imm));
    return this;
  }

  word(...values: number[]): this {
    for (const v of values) this.words.push(v | 0);
    return this;
  }

  li(rd: number, value: number): this {
    return this.op(Op.LI, rd).word(value);
  }

  /** li rd, address of label */
  la(rd: number, label: string): this {
    this.op(Op.LI, rd);
    this.fixups.push({ index: this.words.length, label, from: -1 });
    this.words.push(0);
    return this;
  }

  private rel(op: Op, rd: number, label: string): this {
    const at = this.here;
    this.op(op, rd);
    this.fixups.push({ index: this.words.length, label, from: at + 8 });
    this.words.push(0);
    return this;
  }

  jmp(label: string): this {
    return this.rel(Op.JMP, 0, label);
  }

  j(cond: Cond, label: string): this {
    return this.rel(Op.JCC, cond, label);
  }

  call(label: string): this {
    return this.rel(Op.CALL, 0, label);
  }

  /** pad with NOPs up to an address */
  padTo(addr: number): this {
    while (this.here < addr) this.op(Op.NOP);
    return this;
  }

  build(): number[] {
    const out = this.words.slice();
    for (const f of this.fixups) {
      const target = this.addr(f.label);
      out[f.index] = f.from < 0 ? target | 0 : (target - f.from) | 0;
    }
    return out;
  }

  load(mem: PhysicalMemory): this {
    this.build().forEach((w, k) => mem.write32(this.base + 4 * k, w));
    return this;
  }
}

/** An I/O bus that records accesses and answers reads from a table (default 0xffffffff). */
export class FakeBus implements IoBus {
  readonly log: string[] = [];
  readonly values = new Map<number, number>();
  onWrite: ((port: number, size: number, value: number) => void) | null = null;

  read(port: number, size: number): number {
    this.log.push(`in ${port.toString(16)}/${size}`);
    const v = this.values.get(port) ?? 0xffffffff;
    return size === 1 ? v & 0xff : v >>> 0;
  }

  write(port: number, size: number, value: number): void {
    this.log.push(`out ${port.toString(16)}/${size}=${(value >>> 0).toString(16)}`);
    this.onWrite?.(port, size, value);
  }
}

/** An interrupt controller holding a queue of requested vectors. */
export class FakePic implements InterruptController {
  readonly requested: number[] = [];
  acks = 0;
  cpu: Cpu | null = null;

  pendingVector(): number {
    return this.requested.length > 0 ? this.requested[0]! : -1;
  }

  acknowledge(): number {
    const v = this.requested.shift();
    if (v === undefined) return -1;
    this.acks++;
    this.cpu?.interruptLineChanged();
    return v;
  }

  raise(vector: number): void {
    this.requested.push(vector);
    this.cpu?.interruptLineChanged();
  }
}

export interface Rig {
  cpu: Cpu;
  mem: PhysicalMemory;
  bus: FakeBus;
  pic: FakePic;
}

export function makeRig(opts: { memoryBytes?: number; profile?: string; fast?: boolean; translator?: boolean } = {}): Rig {
  const mem = new PhysicalMemory(opts.memoryBytes ?? 1 << 20);
  const bus = new FakeBus();
  const pic = new FakePic();
  const cpu = new Cpu(mem, bus, pic, getProfile(opts.profile ?? 'p4-2003'));
  cpu.fastPath = opts.fast ?? true;
  // the interpreter unless asked for the translator: the CPU's default engine is the translator
  // (machine/translator.ts DEFAULT_ENGINE), and the interpreter is the oracle the translator is
  // compared with (agree, runBoth)
  cpu.engine = 'interpreter';
  if (opts.translator) {
    // translate every entry the first time it is reached: the translator runs nearly all the code
    cpu.engine = 'translator';
    cpu.translatorLimits = { threshold: 1, coldSlice: 0 };
  }
  pic.cpu = cpu;
  return { cpu, mem, bus, pic };
}

/** Write an IDT gate. */
export function setGate(mem: PhysicalMemory, idtBase: number, vector: number, handler: number, opts: { dpl?: number; ring?: number; trap?: boolean } = {}): void {
  mem.write32(idtBase + vector * GATE_BYTES, handler);
  mem.write32(idtBase + vector * GATE_BYTES + 4, gateFlags(opts.dpl ?? 0, opts.ring ?? 0, opts.trap ?? false));
}

/** Two-level page tables built in physical memory, frames allocated from `next` upward. */
export class PageTables {
  constructor(
    readonly mem: PhysicalMemory,
    readonly dir: number,
    private next: number,
  ) {
    mem.fill(dir, 4096, 0);
  }

  /** map the page of va to the frame of pa with flags (P added) */
  map(va: number, pa: number, flags: number): void {
    const di = va >>> 22;
    let pde = this.mem.read32(this.dir + di * 4);
    if ((pde & Pte.P) === 0) {
      const t = this.next;
      this.next += 4096;
      this.mem.fill(t, 4096, 0);
      pde = t | Pte.P | Pte.W | Pte.U;
      this.mem.write32(this.dir + di * 4, pde);
    }
    this.mem.write32(((pde & Pte.FRAME_MASK) >>> 0) + ((va >>> 12) & 0x3ff) * 4, ((pa & Pte.FRAME_MASK) | flags | Pte.P) >>> 0);
  }

  /** identity-map [start, end) */
  identity(start: number, end: number, flags: number): void {
    for (let a = start; a < end; a += 4096) this.map(a, a, flags);
  }

  /** the PTE address for va */
  pteAddr(va: number): number {
    const pde = this.mem.read32(this.dir + (va >>> 22) * 4);
    return ((pde & Pte.FRAME_MASK) >>> 0) + ((va >>> 12) & 0x3ff) * 4;
  }

  pte(va: number): number {
    return this.mem.read32(this.pteAddr(va));
  }

  setPte(va: number, value: number): void {
    this.mem.write32(this.pteAddr(va), value);
  }

  pde(va: number): number {
    return this.mem.read32(this.dir + (va >>> 22) * 4);
  }
}

export interface RunOutcome {
  exit: number;
  state: CpuState;
  memory: Uint8Array;
  busLog: string[];
  acks: number;
  /** the cost ledger: base cycles and events by kind */
  ledger: { base: number; events: number[] };
}

/**
 * The CPU's cost ledger adds up since `start` (cycles and base then; the events were all zero):
 * cycles - start.cycles = base + sum of events x unit costs, exactly. (Tests may set the cycle
 * counter by hand before a run; that is outside the ledger.)
 */
export function expectLedgerBalanced(cpu: Cpu, start = { cycles: 0, base: 0 }): void {
  let t = cpu.baseCycles - start.base;
  for (let k = 0; k < cpu.evCount.length; k++) t += cpu.evCount[k]! * cpu.evUnit[k]!;
  expect(t, 'base + events x costs (the cost ledger)').toBe(cpu.cycles - start.cycles);
}

/**
 * Run the same setup on the fast-path engine, on the general path alone and under the translator
 * (translating every entry at once), up to `deadline`, expect identical outcomes (state, cycles,
 * memory, port traffic) and return the fast rig and its exit.
 */
export function runBoth(setup: (rig: Rig) => void, deadline = 1e6, opts: { memoryBytes?: number; profile?: string } = {}): Rig & { exit: number } {
  const outcomes: RunOutcome[] = [];
  let fastRig: Rig | undefined;
  let fastExit = 0;
  for (const [fast, translator] of [[true, false], [false, false], [true, true]] as const) {
    const rig = makeRig({ ...opts, fast, translator });
    setup(rig);
    rig.cpu.evCount.fill(0);
    const start = { cycles: rig.cpu.cycles, base: rig.cpu.baseCycles };
    const exit = rig.cpu.run(deadline);
    expectLedgerBalanced(rig.cpu, start);
    const ledger = { base: rig.cpu.baseCycles, events: Array.from(rig.cpu.evCount) };
    outcomes.push({ exit, state: rig.cpu.saveState(), memory: rig.mem.u8.slice(), busLog: rig.bus.log, acks: rig.pic.acks, ledger });
    if (fast && !translator) {
      fastRig = rig;
      fastExit = exit;
    }
  }
  const [a, b, t] = outcomes as [RunOutcome, RunOutcome, RunOutcome];
  expect(a.exit, 'exit reason (fast vs general path)').toBe(b.exit);
  expect(a.state, 'CPU state (fast vs general path)').toEqual(b.state);
  expect(a.busLog, 'port traffic (fast vs general path)').toEqual(b.busLog);
  expect(a.acks).toBe(b.acks);
  expect(a.ledger, 'cost ledger (fast vs general path)').toEqual(b.ledger);
  expect(Buffer.compare(Buffer.from(a.memory), Buffer.from(b.memory)), 'memory (fast vs general path)').toBe(0);
  expect(t.exit, 'exit reason (translator vs interpreter)').toBe(a.exit);
  expect(t.state, 'CPU state (translator vs interpreter)').toEqual(a.state);
  expect(t.busLog, 'port traffic (translator vs interpreter)').toEqual(a.busLog);
  expect(t.acks).toBe(a.acks);
  expect(t.ledger, 'cost ledger (translator vs interpreter)').toEqual(a.ledger);
  expect(Buffer.compare(Buffer.from(t.memory), Buffer.from(a.memory)), 'memory (translator vs interpreter)').toBe(0);
  return { ...fastRig!, exit: fastExit };
}

/** Load a program at `base` and point pc at it. */
export function boot(rig: Rig, prog: Prog, sp = 0x8000): void {
  prog.load(rig.mem);
  rig.cpu.pc = prog.base;
  rig.cpu.regs[15] = sp;
}

/** Read the six-word trap frame at sp. */
export function frameAt(mem: PhysicalMemory, sp: number): { vector: number; error: number; pc: number; cs: number; flags: number; sp: number } {
  return {
    vector: mem.read32(sp),
    error: mem.read32(sp + 4),
    pc: mem.read32(sp + 8),
    cs: mem.read32(sp + 12),
    flags: mem.read32(sp + 16),
    sp: mem.read32(sp + 20),
  };
}
