// arch/native trap handling: the interrupt descriptor table (every vector enters through one
// toolchain-generated stub that saves the registers as a TrapFrame and calls nativeTrap), the
// kernel stack for ring switches (LKSP), and the way into user mode for a new process.
// Guest code (the TypeScript subset); runs at ring 0.

import { load32, store32, staticBuffer, trapEntry, addressOf, lidt, lksp, softInt, sidt, TrapFrame } from 'xl32';
import { trap, Vec } from '../../kernel/trap.ts';
import { memcpy } from '../../kernel/string.ts';
import { Opcode, findInstruction } from '../../kernel/insn.ts';
import { nativeIdle } from './devices.ts';
import { unlockKernelForUser } from '../../kernel/smp.ts';

/** The IDT (machine/isa.ts GATE_BYTES and Gate, pinned by test/guest-kernel/contract.test.ts). */
export const enum Idt {
  VECTORS = 256,
  GATE_BYTES = 8,
  /** gate word 1 (machine/isa.ts Gate): present, DPL in bits 1..2, handler ring in bits 3..4, bit 5 trap gate */
  PRESENT = 1,
  DPL_SHIFT = 1,
}

const idt = staticBuffer(Idt.VECTORS * Idt.GATE_BYTES, 8);
/** the frame nativeUserReturn wants to leave with */
let returnFrame = 0;
/** the address of nativeIdle's HLT (found when the trap table is loaded) */
let idleHlt = 0;

/**
 * Every trap lands here. Interrupt gates cleared IF on entry, so the kernel runs with
 * interrupts off until it returns (or idles).
 */
function nativeTrap(frame: number): void {
  // XL32 has no STI shadow: an interrupt pending when idle's STI executes is taken at once, with
  // the HLT as its return pc, and the HLT would then sleep until the *next* interrupt although
  // this one may have woken a process. Return past the HLT instead (the rollback trick of Linux's
  // MIPS idle loop), so the scheduler looks again. (A user fetch of that address is not idle.)
  const pc = load32(frame + TrapFrame.PC);
  if (pc === idleHlt && idleHlt !== 0 && (load32(frame + TrapFrame.CS) & 3) === 0) {
    store32(frame + TrapFrame.PC, pc + Opcode.SHORT_BYTES);
  }
  if (load32(frame + TrapFrame.VECTOR) === Vec.USER_RETURN) {
    // replace the live frame: the stub then restores these registers and IRETs to user mode
    memcpy(frame, returnFrame, TrapFrame.BYTES);
    // a new process's first return (forkret) holds the kernel lock; the frame is now on its own stack
    unlockKernelForUser();
    return;
  }
  trap(frame);
}

export function nativeTrapTableLoad(): void {
  idleHlt = findInstruction(addressOf(nativeIdle), Opcode.HLT, Opcode.HLT);
  const stub = trapEntry(nativeTrap);
  let v = 0;
  while (v < Idt.VECTORS) {
    // INT 0x80 and BRK may be raised from ring 3
    const dpl = v === Vec.SYSCALL || v === Vec.BREAKPOINT ? 3 : 0;
    store32(idt + v * Idt.GATE_BYTES, stub);
    // an interrupt gate (IF cleared on entry) whose handler runs at ring 0
    store32(idt + v * Idt.GATE_BYTES + 4, Idt.PRESENT | (dpl << Idt.DPL_SHIFT));
    v = v + 1;
  }
  lidt(idt, Idt.VECTORS);
}

/** SIDT: does the CPU's IDT register name this kernel's table? (a critical instruction) */
export function nativeTrapTableCheck(): number {
  return sidt() === idt ? 1 : 0;
}

export function nativeSetKernelStack(sp: number): void {
  lksp(0, sp);
}

/**
 * Enter user mode with every register from the TrapFrame at `frame`. A kernel-only software
 * interrupt makes the stub build a frame; nativeTrap swaps in this one; the stub's IRET leaves.
 */
export function nativeUserReturn(frame: number): void {
  returnFrame = frame;
  softInt(Vec.USER_RETURN);
}
