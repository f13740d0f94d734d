// Kernel-side nanobenchmarks in the spirit of Adams & Agesen (ASPLOS 2006): the nanobench
// system call runs one kernel primitive n times and returns the cycles, so the same primitive
// can be compared under every virtualization technique. Each primitive goes through pvops (or,
// for the divide fault, through the architecture's trap path), so an arch/pv kernel measures its
// own operation. Also the one kernel exception fixup: the divide benchmark's #DE.
// Guest code (the TypeScript subset).

import { load32, store32, addressOf, TrapFrame } from 'xl32';
import { Err, UserLayout, BenchOp } from './abi.ts';
import { Pte } from './memlayout.ts';
import { myproc, Proc } from './proc.ts';
import { walk } from './vm.ts';
import { Opcode, findInstruction } from './insn.ts';
import {
  PvOp, pvHas, readCycles, irqSave, irqRestore, setPteVa, switchAddressSpace, consoleStatus, readCr4, writeCr4,
} from './pvops.ts';

/** a divisor the compiler cannot fold */
let zero = 0;
/** the address of the divide instruction in faultingDivide (0: not found yet) */
let divideAt = 0;
/** divide faults resumed by divideFixup since boot */
let fixups = 0;

/**
 * a / b. With b = 0 the divide raises #DE at a pc the trap handler knows (divideAt); it sets the
 * result register to 0 and resumes at the next instruction, as a Linux exception-table fixup does.
 */
export function faultingDivide(a: number, b: number): number {
  return a / b;
}

/** Locate faultingDivide's divide for the fixup (once); false if the compiler emitted none. */
export function divideFaultReady(): boolean {
  if (divideAt === 0) divideAt = findInstruction(addressOf(faultingDivide), Opcode.DIV, Opcode.REMU);
  return divideAt !== 0;
}

/**
 * A kernel-mode divide error: if it was the benchmark's own divide, write 0 to its destination
 * register, resume after it and return true. Any other kernel #DE is a bug (the caller panics).
 */
export function divideFixup(frame: number): boolean {
  const pc = load32(frame + TrapFrame.PC);
  if (divideAt === 0 || pc !== divideAt) return false;
  const rd = (load32(pc) >>> 8) & 15;
  // r15 is sp, which the frame keeps elsewhere; the compiler never divides into it
  if (rd < 15) store32(frame + rd * 4, 0);
  store32(frame + TrapFrame.PC, pc + Opcode.SHORT_BYTES);
  fixups = fixups + 1;
  return true;
}

function loopNothing(n: number): void {
  let k = 0;
  while (k < n) k = k + 1;
}

function loopIrqSaveRestore(n: number): void {
  let k = 0;
  while (k < n) {
    irqRestore(irqSave());
    k = k + 1;
  }
}

/** Rewrite the PTE of the ARGS page with its own value and drop its translation (one setPteVa). */
function loopPteUpdate(pte: number, n: number): void {
  let k = 0;
  while (k < n) {
    setPteVa(pte, load32(pte), UserLayout.ARGS);
    k = k + 1;
  }
}

function loopAddressSpaceSwitch(pd: number, n: number): void {
  let k = 0;
  while (k < n) {
    switchAddressSpace(pd);
    k = k + 1;
  }
}

function loopPortRead(n: number): void {
  let k = 0;
  while (k < n) {
    consoleStatus();
    k = k + 1;
  }
}

function loopCr4Write(value: number, n: number): void {
  let k = 0;
  while (k < n) {
    writeCr4(value);
    k = k + 1;
  }
}

/** n divide faults; the OR of the fixed-up results (0 when every one was fixed up). */
function loopDivideFault(n: number): number {
  let k = 0;
  let results = 0;
  while (k < n) {
    results = results | faultingDivide(k + 1, zero);
    k = k + 1;
  }
  return results;
}

/**
 * nanobench(op, n): run kernel primitive `op` (BenchOp) n times; the cycles it took. ENOSYS when
 * the architecture leaves the primitive's optional pvops slot empty, EINVAL for an unknown op,
 * EIO if a divide fault was not fixed up exactly once per iteration.
 */
export function sysNanobench(op: number, n: number): number {
  const pd = load32(myproc() + Proc.PD);
  let start = 0;
  switch (op) {
    case BenchOp.NOTHING:
      // once untimed first: the loop's code page is in the TLB, as each primitive's is after its
      // first iteration, so the baseline holds no page walk (which would cost more under hvm)
      loopNothing(1);
      start = readCycles();
      loopNothing(n);
      break;
    case BenchOp.IRQ_SAVE_RESTORE:
      start = readCycles();
      loopIrqSaveRestore(n);
      break;
    case BenchOp.PTE_UPDATE: {
      const pte = walk(pd, UserLayout.ARGS, false);
      if (pte === 0 || (load32(pte) & Pte.P) === 0) return Err.EFAULT;
      start = readCycles();
      loopPteUpdate(pte, n);
      break;
    }
    case BenchOp.ADDRESS_SPACE_SWITCH:
      start = readCycles();
      loopAddressSpaceSwitch(pd, n);
      break;
    case BenchOp.PORT_READ:
      if (!pvHas(PvOp.CONSOLE_STATUS)) return Err.ENOSYS;
      start = readCycles();
      loopPortRead(n);
      break;
    case BenchOp.CR4_WRITE: {
      if (!pvHas(PvOp.READ_CR4) || !pvHas(PvOp.WRITE_CR4)) return Err.ENOSYS;
      const cr4 = readCr4();
      start = readCycles();
      loopCr4Write(cr4, n);
      break;
    }
    case BenchOp.DIVIDE_FAULT: {
      if (!divideFaultReady()) return Err.ENOSYS;
      const before = fixups;
      start = readCycles();
      const results = loopDivideFault(n);
      const cycles = readCycles() - start;
      if (results !== 0 || fixups - before !== (n < 0 ? 0 : n)) return Err.EIO;
      return cycles;
    }
    default:
      return Err.EINVAL;
  }
  return readCycles() - start;
}
