// Popek & Goldberg's classification of every XL32 opcode, from what it does: each opcode is run,
// one instruction at a time, on a fresh machine in every combination of CPL (0, 1, 3), IOPL (0, 3),
// IF, paging (off, on: an identity map) and IDT base, and in non-root mode under hardware assist's
// controls; what it did (trapped or not, which configuration it changed, what results it gave) says
// whether it is privileged, control- or behaviour-sensitive, critical or innocuous - not the table.
// `xenolith classify` prints it against machine/isa.ts's recorded class. Host code; touches only
// the machine it builds.

import { getProfile } from './costs.ts';
import { Cpu } from './cpu.ts';
import { CR0_PG, CR0_WP, FLAGS_COND, Flag, GATE_BYTES, INSTRUCTIONS, OPS, Op, Pte, encode, gateFlags, type InsnClass } from './isa.ts';
import { PhysicalMemory } from './memory.ts';
import { Exit, type InterruptController, type IoBus } from './types.ts';
import { Vmcs } from './vmx.ts';

/** The observed class (Popek & Goldberg). */
export type ObservedClass = 'privileged' | 'critical' | 'innocuous';

export interface Classification {
  op: number;
  mnemonic: string;
  /** the class machine/isa.ts records */
  recorded: InsnClass;
  /** what the recorded class means in Popek & Goldberg's terms */
  expected: ObservedClass;
  observed: ObservedClass;
  /** traps (faults or exits) at CPL 1 and 3 with IOPL 0 in every configuration, and runs at CPL 0 */
  privileged: boolean;
  /** changed the machine's configuration (control registers, IDTR, kernel stacks, IF, IOPL, CPL, the TLB, a device, HLT) */
  controlSensitive: boolean;
  /** gave other results (registers, memory, pc, condition flags) in configurations differing only in mode or configuration */
  behaviourSensitive: boolean;
  /** sensitive in an execution at CPL 3 (Theorem 3's user-sensitive set) */
  userSensitive: boolean;
  /** the configurations (of 48) in which it trapped */
  trapsIn: number;
  /** in non-root mode under hvm's controls, at CPL 0 / CPL 3: exits to the monitor */
  exitsNonRoot: [boolean, boolean];
}

const MEMORY = 256 * 1024;
const CODE = 0x2000;
const DATA = 0x3000;
const STACK = 0x4000;
const PD = 0x10000;
const PD_OTHER = 0x12000;
const IDT_A = 0x1000;
const IDT_B = 0x1800;
const HANDLER = 0x5000;
const PORT = 0x80;
const F_IF: number = Flag.IF;
const EXIT_EXCEPTION: number = Exit.Exception;
const IOPL_SHIFT: number = Flag.IOPL_SHIFT;
const IOPL_MASK: number = Flag.IOPL_MASK;

interface Config {
  cpl: number;
  iopl: number;
  intr: boolean;
  paging: boolean;
  idt: number;
  nonRoot: boolean;
}

/** One execution's outcome. */
interface Outcome {
  trapped: boolean;
  /** the configuration it changed */
  changed: boolean;
  /** registers, pc, condition flags and the data and stack words it wrote: its visible result */
  result: string;
  /** the configuration after it: IF, IOPL, CPL, CR0 (paging), IDT base, and the rest together */
  intr: number;
  iopl: number;
  cpl: number;
  cr0: number;
  idt: number;
  rest: string;
}

/** The dimensions a configuration varies in, and the state each one is (excluded when comparing along it). */
const DIMENSIONS = ['cpl', 'iopl', 'intr', 'paging', 'idt'] as const;
type Dimension = (typeof DIMENSIONS)[number];
const OWN_STATE: Record<Dimension, keyof Outcome> = { cpl: 'cpl', iopl: 'iopl', intr: 'intr', paging: 'cr0', idt: 'idt' };

/** Two runs in configurations differing only along `d` have the same effect. */
function sameEffect(a: Outcome, b: Outcome, d: Dimension): boolean {
  if (a.result !== b.result || a.rest !== b.rest) return false;
  for (const k of ['intr', 'iopl', 'cpl', 'cr0', 'idt'] as const) if (k !== OWN_STATE[d] && a[k] !== b[k]) return false;
  return true;
}

class CountingBus implements IoBus {
  accesses = 0;
  read(_port: number, size: number): number {
    this.accesses++;
    return size === 1 ? 0x5a : 0x5a5a5a5a;
  }
  write(): void {
    this.accesses++;
  }
}

class QuietPic implements InterruptController {
  pendingVector(): number {
    return -1;
  }
  acknowledge(): number {
    return -1;
  }
}

/** Operands for `op` that exercise it (documented in docs/hypervisor.md "Classification"). */
function instruction(op: number): [number, number] {
  switch (op) {
    case Op.MOVTOCR:
      return [encode(op, 3, 4, 0), 0]; // CR3 = r4 (another directory)
    case Op.MOVFROMCR:
      return [encode(op, 1, 0, 0), 0]; // r1 = CR0
    case Op.LIDT:
      return [encode(op, 0, 4, 256), 0];
    case Op.LKSP:
      return [encode(op, 0, 4, 0), 0];
    case Op.IN:
    case Op.INB:
      return [encode(op, 1, 0, PORT), 0];
    case Op.OUT:
    case Op.OUTB:
      return [encode(op, 0, 1, PORT), 0];
    case Op.INR:
      return [encode(op, 1, 5, 0), 0];
    case Op.OUTR:
      return [encode(op, 0, 5, 1), 0];
    case Op.INT:
      return [encode(op, 0, 0, 0x30), 0];
    default:
      return [encode(op, 1, 2, 3), 0x40];
  }
}

/** Every configuration the probe runs in, root mode first. */
function configs(): Config[] {
  const out: Config[] = [];
  for (const cpl of [0, 1, 3])
    for (const iopl of [0, 3])
      for (const intr of [false, true])
        for (const paging of [false, true])
          for (const idt of [IDT_A, IDT_B]) out.push({ cpl, iopl, intr, paging, idt, nonRoot: false });
  return out;
}

/** Probes opcodes on one reused machine. */
export class Prober {
  private readonly mem = new PhysicalMemory(MEMORY);
  private readonly bus = new CountingBus();
  private readonly cpu = new Cpu(this.mem, this.bus, new QuietPic(), getProfile('p4-2003'));
  private readonly image: Uint8Array;
  private readonly vmcs = new Vmcs();

  constructor() {
    const m = this.mem;
    this.cpu.fastPath = false;
    // gates of both IDTs: present, ring 0, callable from ring 3
    for (const base of [IDT_A, IDT_B]) {
      for (let v = 0; v < 256; v++) {
        m.write32(base + v * GATE_BYTES, HANDLER);
        m.write32(base + v * GATE_BYTES + 4, gateFlags(3, 0, false));
      }
    }
    // an identity map of all memory, user and writable, in two directories
    for (const pd of [PD, PD_OTHER]) {
      const pt = pd + 0x1000;
      m.write32(pd, (pt | Pte.P | Pte.W | Pte.U) >>> 0);
      for (let a = 0; a < MEMORY; a += 4096) m.write32(pt + (a >>> 12) * 4, (a | Pte.P | Pte.W | Pte.U) >>> 0);
    }
    this.image = m.u8.slice();
    // hardware assist's controls as hvm sets them (hypervisor/hvm/state.ts), every exception exiting
    const vm = this.vmcs;
    vm.exitOnHlt = true;
    vm.exitOnIo = true;
    vm.exitOnExternalInterrupt = true;
    vm.exceptionBitmap = -1;
    vm.eptRoot = -1;
  }

  /** Run `op` once in configuration `c`. */
  run(op: number, c: Config): Outcome {
    const cpu = this.cpu;
    const m = this.mem;
    m.u8.set(this.image);
    const [w, ext] = instruction(op);
    m.write32(CODE, w);
    m.write32(CODE + 4, ext);
    const flags = (c.intr ? F_IF : 0) | (c.iopl << IOPL_SHIFT);
    // the stack: a FLAGS word for POPF and a frame for IRET to ring 0, with IF = 1 and IOPL = 3
    const sp = STACK - 64;
    m.write32(sp, op === Op.IRET ? CODE + 0x100 : F_IF | IOPL_MASK);
    m.write32(sp + 4, 0);
    m.write32(sp + 8, F_IF | IOPL_MASK);
    m.write32(sp + 12, STACK);
    m.write32(DATA, 0x1234);
    const initial: number[] = [];
    for (let a = sp - 32; a < sp + 32; a += 4) initial.push(m.read32(a));
    initial.push(m.read32(DATA));
    cpu.loadState({
      regs: [0, 0x11, DATA, 5, PD_OTHER, PORT, 0, 0, 0, 0, 0, 0, 0, 0, 0, sp],
      pc: CODE,
      flags,
      cpl: c.cpl,
      cr0: c.paging ? CR0_PG | CR0_WP : 0,
      cr2: 0,
      cr3: PD,
      cr4: 0,
      idtBase: c.idt,
      idtLimit: 256,
      ksp: [STACK + 0x800, STACK + 0x800, STACK + 0x800],
      cycles: 0,
      instructions: 0,
      halted: false,
      nonRoot: false,
    });
    cpu.interceptVector.fill(1);
    cpu.interceptExternalInterrupts = true;
    cpu.hypercallExits = false;
    if (c.nonRoot) cpu.vmEntry(this.vmcs);
    const before = cpu.saveState();
    const stats = cpu.stats;
    const flushes = stats.tlbFlushes;
    const invlpgs = stats.invlpgs;
    const io = this.bus.accesses;
    const x = cpu.step();
    // a fault or trap intercepted in root mode, or a VM exit (the CPU is back in root mode)
    const trapped = c.nonRoot ? !cpu.nonRoot : x === EXIT_EXCEPTION;
    const after = cpu.saveState();
    const changed =
      after.cr0 !== before.cr0 ||
      after.cr3 !== before.cr3 ||
      after.cr4 !== before.cr4 ||
      after.idtBase !== before.idtBase ||
      after.idtLimit !== before.idtLimit ||
      after.ksp.some((v, k) => v !== before.ksp[k]) ||
      ((after.flags ^ before.flags) & (F_IF | IOPL_MASK)) !== 0 ||
      after.cpl !== before.cpl ||
      after.halted !== before.halted ||
      stats.tlbFlushes !== flushes + (c.nonRoot && !cpu.nonRoot ? 1 : 0) ||
      stats.invlpgs !== invlpgs ||
      this.bus.accesses !== io;
    // the words it wrote (the same initial contents in every configuration)
    const words: string[] = [];
    let k = 0;
    for (let a = sp - 32; a < sp + 32; a += 4, k++) if (m.read32(a) !== initial[k]) words.push(`${a}=${m.read32(a)}`);
    if (m.read32(DATA) !== initial[k]) words.push(`${DATA}=${m.read32(DATA)}`);
    // time is no part of equivalence (Popek & Goldberg): RDTSC's reading is left out
    const regs = after.regs.slice();
    if (op === Op.RDTSC) regs[1] = regs[2] = 0;
    const result = `${regs.join(',')}|${after.pc}|${after.flags & FLAGS_COND}|${words.join(',')}`;
    if (cpu.nonRoot) cpu.nonRoot = false;
    return {
      trapped,
      changed,
      result,
      intr: after.flags & F_IF,
      iopl: after.flags & IOPL_MASK,
      cpl: after.cpl,
      cr0: after.cr0,
      idt: after.idtBase,
      rest: `${after.cr3},${after.cr4},${after.idtLimit},${after.ksp.join(',')},${after.halted}`,
    };
  }

  /**
   * Some two executions that did not trap, in configurations (both accepted by `within`)
   * differing in one dimension only, had different effects: behaviour-sensitive.
   */
  private dependsOnConfiguration(all: Config[], outs: Outcome[], within: (c: Config) => boolean): boolean {
    for (let i = 0; i < all.length; i++) {
      const a = all[i]!;
      if (outs[i]!.trapped || !within(a)) continue;
      for (let j = i + 1; j < all.length; j++) {
        const b = all[j]!;
        if (outs[j]!.trapped || !within(b)) continue;
        const differ = DIMENSIONS.filter((d) => a[d] !== b[d]);
        if (differ.length === 1 && !sameEffect(outs[i]!, outs[j]!, differ[0]!)) return true;
      }
    }
    return false;
  }

  /** Classify one opcode from its executions. */
  classify(op: number): Classification {
    const info = OPS[op];
    const all = configs();
    const outs = all.map((c) => this.run(op, c));
    const atCpl = (cpl: number, iopl0: boolean) => outs.filter((_, k) => all[k]!.cpl === cpl && (!iopl0 || all[k]!.iopl === 0));
    const runsAt0 = atCpl(0, false).some((o) => !o.trapped);
    const trapsAbove0 = [...atCpl(1, true), ...atCpl(3, true)].every((o) => o.trapped);
    const privileged = runsAt0 && trapsAbove0;
    const controlSensitive = outs.some((o) => !o.trapped && o.changed);
    const behaviourSensitive = this.dependsOnConfiguration(all, outs, () => true);
    const userSensitive = outs.some((o, k) => all[k]!.cpl === 3 && !o.trapped && o.changed) || this.dependsOnConfiguration(all, outs, (c) => c.cpl === 3);
    const sensitive = controlSensitive || behaviourSensitive;
    const observed: ObservedClass = privileged ? 'privileged' : sensitive ? 'critical' : 'innocuous';
    const nr = (cpl: number) => this.run(op, { cpl, iopl: 0, intr: true, paging: true, idt: IDT_A, nonRoot: true }).trapped;
    const recorded: InsnClass = info ? info.cls : 'innocuous';
    return {
      op,
      mnemonic: info ? info.mnemonic : `(0x${op.toString(16).padStart(2, '0')})`,
      recorded,
      expected: expectedClass(recorded),
      observed,
      privileged,
      controlSensitive,
      behaviourSensitive,
      userSensitive,
      trapsIn: outs.filter((o) => o.trapped).length,
      exitsNonRoot: [nr(0), nr(3)],
    };
  }
}

/** The recorded class in Popek & Goldberg's three (io-privileged is privileged at IOPL 0; HYPERCALL traps at every CPL, as INT does). */
export function expectedClass(c: InsnClass): ObservedClass {
  return c === 'privileged' || c === 'io-privileged' ? 'privileged' : c === 'critical' ? 'critical' : 'innocuous';
}

/** Every defined opcode, classified from its executions. */
export function classifyAll(): Classification[] {
  const p = new Prober();
  return INSTRUCTIONS.map((info) => p.classify(info.op));
}

/** Undefined opcodes: how many, and whether each faults in every configuration (an innocuous #UD). */
export function probeUndefined(): { count: number; allTrapEverywhere: boolean } {
  const p = new Prober();
  let count = 0;
  let all = true;
  for (let op = 0; op < 256; op++) {
    if (OPS[op]) continue;
    count++;
    const c = p.classify(op);
    if (c.trapsIn !== configs().length || c.observed !== 'innocuous') all = false;
  }
  return { count, allTrapEverywhere: all };
}
