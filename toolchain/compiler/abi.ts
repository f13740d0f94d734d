// The guest ABI and memory layout the compiler targets: link addresses, stack sizes, the
// register convention (see mir.ts for the register sets), the user-program exit call, and the
// context-switch frame. docs/guest-subset.md documents every number here.
import { SYS_POWEROFF } from '../../machine/devices/ports.ts';
import { PAGE_SIZE, Vector } from '../../machine/isa.ts';

/** Kernels (native and pv) are linked and loaded at 1 MiB, physical = virtual. */
export const KERNEL_BASE = 0x0010_0000;
/** User programs are linked at 4 MiB (page directory entry 1), leaving the first 4 MiB to the kernel. */
export const USER_BASE = 0x0040_0000;
/** The static stack `_start` switches to. */
export const STACK_BYTES = 16 * 1024;
/** Sections (text, rodata, data, bss) each start on a page boundary so they can be mapped with their own rights. */
export const SECTION_ALIGN = PAGE_SIZE;

/** User programs end with INT SYSCALL_VECTOR, r0 = SYS_EXIT, r1 = main's result. */
export const SYSCALL_VECTOR = Vector.Syscall;
export const SYS_EXIT = 0;
/** Native kernels whose main returns power the machine off with main's result as the status. */
export const POWEROFF_PORT = SYS_POWEROFF;

/** The stack a contextSwitch leaves behind (lowest address first): callee-saved registers, then the return address. */
export const enum ContextFrame {
  R7 = 0, R8 = 4, R9 = 8, R10 = 12, R11 = 16, R12 = 20, R13 = 24, R14 = 28,
  RET = 32,
  BYTES = 36,
}

export const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;
