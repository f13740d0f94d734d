// Emulation of the privileged instructions of a deprivileged guest: each #GP(0) exit is decoded
// from the word the CPU fetched (read through the shadow, as an IRET's frame is: TrapVcpu.readAsCpu,
// docs/hypervisor.md "What the emulator reads") and, if it is a privileged instruction the guest
// was entitled to at its *virtual* CPL, carried out on the virtual CPU (virtual IF/IOPL, control
// registers, IDTR, kernel stack pointers, the shadow MMU) or turned into an I/O or HLT exit for the
// outer loop. The critical instructions (PUSHF, POPF, RDCPL, SIDT) never get here: they do not trap.
// Touches the real CPU's registers and the vCPU's virtual state.

import { CR0_PG, CR0_WP, CR4_TSD, FLAGS_COND, Flag, Op, REG_SP, Vector, isControlRegister } from '../../machine/isa.ts';
import type { VcpuExit } from '../core/vcpu.ts';
import { WALK_BAD_GPA } from './guest-mmu.ts';
import { realRing } from './state.ts';
import { KIND_FAULT, type TrapVcpu } from './virtual-cpu.ts';
import { hex } from '../../machine/hex.ts';
import { Ev } from '../../machine/ledger.ts';

/** emulatePrivileged() results */
export const EMU_CONTINUE = 0;
/** `exit` holds an I/O exit for the outer loop */
export const EMU_IO = 1;
/** HLT with virtual interrupts on: the vCPU waits */
export const EMU_HLT = 2;
/** the domain stopped */
export const EMU_DEAD = 3;
/** not a privileged instruction the guest may run here: reflect the #GP(0) */
export const EMU_REFLECT_GP = 4;

// opcodes (isa.ts) as local numbers for the dispatch switch
const OP_HLT: number = Op.HLT;
const OP_CLI: number = Op.CLI;
const OP_STI: number = Op.STI;
const OP_IN: number = Op.IN;
const OP_INB: number = Op.INB;
const OP_INR: number = Op.INR;
const OP_OUT: number = Op.OUT;
const OP_OUTB: number = Op.OUTB;
const OP_OUTR: number = Op.OUTR;
const OP_MOVTOCR: number = Op.MOVTOCR;
const OP_MOVFROMCR: number = Op.MOVFROMCR;
const OP_LIDT: number = Op.LIDT;
const OP_INVLPG: number = Op.INVLPG;
const OP_LKSP: number = Op.LKSP;
const OP_IRET: number = Op.IRET;
const OP_RDTSC: number = Op.RDTSC;
const SP = REG_SP;
const F_IF: number = Flag.IF;
const F_IOPL: number = Flag.IOPL_MASK;
const IOPL_SHIFT: number = Flag.IOPL_SHIFT;
const COND: number = FLAGS_COND;
const V_UD: number = Vector.InvalidOpcode;
const V_PF: number = Vector.PageFault;
const PAGE_MASK = -4096;

/**
 * The guest took #GP(0) at cpu.pc (nothing of the instruction happened): emulate it if it is a
 * privileged instruction allowed at the virtual CPL. On success the instruction retires (pc past
 * it, its base cost and one instruction counted).
 */
export function emulatePrivileged(t: TrapVcpu, exit: VcpuExit): number {
  const cpu = t.cpu;
  const pc = cpu.pc | 0;
  const w = t.readAsCpu(pc, cpu.cpl === 3);
  if (t.accessFail !== 0) {
    if (t.accessFail === WALK_BAD_GPA) {
      t.crashBadGpa();
      return EMU_DEAD;
    }
    return EMU_REFLECT_GP;
  }
  const op = w & 0xff;
  const rd = (w >>> 8) & 15;
  const ra = (w >>> 12) & 15;
  const rb = (w >>> 16) & 15;
  const imm = w >> 16;
  const v = t.v;
  const r = cpu.regs;
  const vcpl = t.vcpl;

  switch (op) {
    case OP_HLT:
      if (vcpl !== 0) return EMU_REFLECT_GP;
      retire(t, op, pc);
      if (!v.vIF) {
        // as on bare hardware: nothing can ever wake it
        t.domain.shutdown('halted', 0, `hlt with interrupts disabled at pc ${hex(cpu.pc)}`);
        return EMU_DEAD;
      }
      return EMU_HLT;
    case OP_CLI:
    case OP_STI:
      if (vcpl > v.vIOPL) return EMU_REFLECT_GP;
      v.vIF = op === OP_STI;
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_IN:
    case OP_INB:
    case OP_INR:
      if (vcpl > v.vIOPL) return EMU_REFLECT_GP;
      exit.reason = 'io';
      exit.port = op === OP_INR ? r[ra]! & 0xffff : imm & 0xffff;
      exit.size = op === OP_INB ? 1 : 4;
      exit.isWrite = false;
      exit.data = 0;
      exit.reg = rd;
      retireIo(t, op, pc);
      return EMU_IO;
    case OP_OUT:
    case OP_OUTB:
    case OP_OUTR: {
      if (vcpl > v.vIOPL) return EMU_REFLECT_GP;
      const size = op === OP_OUTB ? 1 : 4;
      const value = op === OP_OUTR ? r[rb]! : r[ra]!;
      exit.reason = 'io';
      exit.port = op === OP_OUTR ? r[ra]! & 0xffff : imm & 0xffff;
      exit.size = size;
      exit.isWrite = true;
      exit.data = size === 1 ? value & 0xff : value >>> 0;
      exit.reg = op === OP_OUTR ? rb : ra;
      retireIo(t, op, pc);
      return EMU_IO;
    }
    case OP_MOVTOCR:
      if (vcpl !== 0) return EMU_REFLECT_GP;
      if (!isControlRegister(rd)) return reflectUd(t, pc);
      writeCr(t, rd, r[ra]!);
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_MOVFROMCR:
      if (vcpl !== 0) return EMU_REFLECT_GP;
      if (!isControlRegister(ra)) return reflectUd(t, pc);
      r[rd] = readCr(t, ra);
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_LIDT:
      if (vcpl !== 0) return EMU_REFLECT_GP;
      v.idtBase = r[ra]! >>> 0;
      v.idtLimit = imm & 0xffff;
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_INVLPG:
      if (vcpl !== 0) return EMU_REFLECT_GP;
      t.shadow.invlpg(r[ra]!);
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_LKSP:
      if (vcpl !== 0 || imm < 0 || imm > 2) return EMU_REFLECT_GP;
      v.ksp[imm] = r[ra]!;
      retire(t, op, pc);
      return EMU_CONTINUE;
    case OP_IRET:
      return emulateIret(t, pc);
    case OP_RDTSC: {
      if ((v.cr4 & CR4_TSD) !== 0 && vcpl > 0) return EMU_REFLECT_GP;
      // the real TSD mirrors the guest's, so a kernel's RDTSC traps too: answer it
      retire(t, op, pc);
      const tsc = cpu.cycles;
      r[rd] = tsc >>> 0;
      r[ra] = Math.floor(tsc / 0x1_0000_0000) | 0;
      return EMU_CONTINUE;
    }
    default:
      return EMU_REFLECT_GP;
  }
}

/** emulated instructions after which the hardware is at a block boundary (machine/cpu.ts) */
const ENDS_BLOCK: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const op of [OP_STI, OP_OUT, OP_OUTB, OP_OUTR]) t[op] = 1; // and IRET (emulateIret)
  return t;
})();

/**
 * The instruction completed: pc past it, its base cost, one instruction retired, counted; after
 * one that ends a block, the CPU's instruction-count hook gets its boundary.
 */
function retire(t: TrapVcpu, op: number, pc: number): void {
  const cpu = t.cpu;
  cpu.pc = (pc + 4) >>> 0;
  cpu.chargeInstruction(cpu.costs[op]!);
  cpu.instructions++;
  t.domain.stats.emulated[op]!++;
  if (ENDS_BLOCK[op] !== 0) cpu.instructionBoundary();
}

/**
 * An emulated IN/OUT completed: as retire(), but at an ALU operation's cost - the access never
 * crosses the physical bus (ioPort); the device model's work is charged where it answers.
 */
function retireIo(t: TrapVcpu, op: number, pc: number): void {
  const cpu = t.cpu;
  cpu.pc = (pc + 4) >>> 0;
  cpu.chargeInstruction(cpu.profile.alu);
  cpu.instructions++;
  t.domain.stats.emulated[op]!++;
  if (ENDS_BLOCK[op] !== 0) cpu.instructionBoundary();
}

function reflectUd(t: TrapVcpu, pc: number): number {
  return t.reflect(V_UD, 0, pc, KIND_FAULT, pc, -1) ? EMU_CONTINUE : EMU_DEAD;
}

/**
 * Control-register writes. CR0 and CR3 change the guest's translation: the whole shadow goes (the
 * hardware flushes its TLB on both), and the CR3 load's own cost is charged as natively. The real
 * CR0 stays PG|WP and the real CR3 the shadow root; the real CR4.TSD follows the guest's.
 */
function writeCr(t: TrapVcpu, n: number, value: number): void {
  const v = t.v;
  switch (n) {
    case 0:
      v.cr0 = value & (CR0_PG | CR0_WP);
      t.shadow.flush();
      t.cpu.charge(Ev.CrFlush, 1);
      return;
    case 2:
      v.cr2 = value >>> 0;
      return;
    case 3:
      v.cr3 = (value & PAGE_MASK) >>> 0;
      t.shadow.loadCr3();
      t.cpu.cr3 = t.shadow.root;
      t.cpu.charge(Ev.CrFlush, 1);
      return;
    case 4:
      v.cr4 = value & CR4_TSD;
      t.cpu.cr4 = v.cr4;
      return;
  }
}

function readCr(t: TrapVcpu, n: number): number {
  const v = t.v;
  return n === 0 ? v.cr0 : n === 2 ? v.cr2 | 0 : n === 3 ? v.cr3 | 0 : v.cr4;
}

/**
 * IRET at virtual ring 0 (to a kernel frame: its cs, the virtual CPL 0, is more privileged than
 * the real ring 1, so the CPU refused it with #GP(0)). Pop pc, cs, FLAGS and sp as the hardware
 * does at the virtual CPL - IF and IOPL go to the virtual CPU - and return to the ring that runs
 * the popped one. (An IRET to ring 3 never traps: the CPU does it natively, see docs/hypervisor.md.)
 */
function emulateIret(t: TrapVcpu, pc: number): number {
  const cpu = t.cpu;
  const r = cpu.regs;
  const v = t.v;
  const vcpl = t.vcpl;
  const user = cpu.cpl === 3;
  const sp = r[SP]!;
  const npc = t.readAsCpu(sp, user);
  if (t.accessFail !== 0) return frameFault(t, pc);
  const ncs = t.readAsCpu((sp + 4) | 0, user);
  if (t.accessFail !== 0) return frameFault(t, pc);
  const nfl = t.readAsCpu((sp + 8) | 0, user);
  if (t.accessFail !== 0) return frameFault(t, pc);
  const nsp = t.readAsCpu((sp + 12) | 0, user);
  if (t.accessFail !== 0) return frameFault(t, pc);
  if (ncs >>> 0 > 3 || ncs < vcpl) return EMU_REFLECT_GP;
  // FLAGS under POPF's rules at the virtual CPL: IOPL only at 0, IF only at CPL <= IOPL
  if (vcpl <= v.vIOPL) v.vIF = (nfl & F_IF) !== 0;
  if (vcpl === 0) v.vIOPL = (nfl & F_IOPL) >>> IOPL_SHIFT;
  cpu.flags = (cpu.flags & ~COND) | (nfl & COND);
  cpu.cpl = realRing(ncs);
  if (ncs === 1 || ncs === 2) v.midRing = ncs;
  r[SP] = nsp;
  retire(t, OP_IRET, pc);
  cpu.pc = npc >>> 0;
  cpu.instructionBoundary();
  return EMU_CONTINUE;
}

/** Reading the IRET frame faulted: the guest gets the #PF (or dies if its tables point outside). */
function frameFault(t: TrapVcpu, pc: number): number {
  if (t.accessFail === WALK_BAD_GPA) {
    t.crashBadGpa();
    return EMU_DEAD;
  }
  const w = t.walker;
  return t.reflect(V_PF, w.faultError, pc, KIND_FAULT, pc, w.faultAddr) ? EMU_CONTINUE : EMU_DEAD;
}
