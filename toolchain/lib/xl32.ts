// The XL32 intrinsics module ("xl32"): what guest sources import to reach memory and the CPU.
// The compiler recognizes every export below by name and emits XL32 instructions for it; the
// bodies here are the *Node shim*, so the same guest source also runs directly in Node for
// differential testing (memory is a host buffer; the UART's data port is captured as output).

/*
 * Number semantics. On XL32 a guest `number` is a 32-bit integer and arithmetic wraps. Node
 * computes in doubles, so a guest that wants the two runs to agree keeps values in int32 range
 * the JavaScript way: `(a + b) | 0`, `Math.imul(a, b)`, `(a / b) | 0`, `(x >>> n) | 0`, and the
 * unsigned helpers below. The compiler treats `| 0` as free and `Math.imul` as `mul`.
 */

import { UART_DATA, UART_LSR, UART_LSR_THRE, UART_LSR_TEMT, UART_LSR_DR, SYS_POWEROFF } from '../../machine/devices/ports.ts';

/** Node-shim state: memory, console output and input, the fake cycle counter. Not used on XL32. */
export const shim = {
  memory: new Uint8Array(1 << 20),
  view: null as DataView | null,
  /** next free byte for staticBuffer / cstr in the shim's memory */
  bump: 0x1000,
  output: [] as number[],
  input: [] as number[],
  cycles: 0,
  functions: [] as Function[],
  poweredOff: null as number | null,
  reset(memoryBytes = 1 << 20): void {
    this.memory = new Uint8Array(memoryBytes);
    this.view = new DataView(this.memory.buffer);
    this.bump = 0x1000;
    this.output = [];
    this.input = [];
    this.cycles = 0;
    this.functions = [];
    this.poweredOff = null;
  },
  outputText(): string {
    let s = '';
    for (const b of this.output) s += String.fromCharCode(b); // latin1: one char per byte
    return s;
  },
};
shim.reset();
const dv = (): DataView => shim.view!;
const unavailable = (what: string): never => {
  throw new Error(`xl32 intrinsic ${what} has no meaning when a guest runs in Node`);
};

// ---- memory -------------------------------------------------------------------------------

/** Zero-extended byte at addr. */
export function load8(addr: number): number { return dv().getUint8(addr >>> 0); }
/** Sign-extended byte at addr. */
export function load8s(addr: number): number { return dv().getInt8(addr >>> 0); }
/** Zero-extended 16-bit halfword at addr. */
export function load16(addr: number): number { return dv().getUint16(addr >>> 0, true); }
/** Sign-extended 16-bit halfword at addr. */
export function load16s(addr: number): number { return dv().getInt16(addr >>> 0, true); }
/** 32-bit word at addr. */
export function load32(addr: number): number { return dv().getInt32(addr >>> 0, true); }
export function store8(addr: number, value: number): void { dv().setUint8(addr >>> 0, value & 0xff); }
export function store16(addr: number, value: number): void { dv().setUint16(addr >>> 0, value & 0xffff, true); }
export function store32(addr: number, value: number): void { dv().setInt32(addr >>> 0, value | 0, true); }
/** Atomically swap the 32-bit word at addr with value; returns the old word (XCHG: the SMP spinlock primitive). */
export function xchg32(addr: number, value: number): number { const old = dv().getInt32(addr >>> 0, true); dv().setInt32(addr >>> 0, value | 0, true); return old; }

// ---- unsigned arithmetic ------------------------------------------------------------------

export function ltu(a: number, b: number): boolean { return a >>> 0 < b >>> 0; }
export function leu(a: number, b: number): boolean { return a >>> 0 <= b >>> 0; }
export function gtu(a: number, b: number): boolean { return a >>> 0 > b >>> 0; }
export function geu(a: number, b: number): boolean { return a >>> 0 >= b >>> 0; }
/** Unsigned division; the guest faults (#DE) on a zero divisor, the shim throws. */
export function divu(a: number, b: number): number {
  if ((b | 0) === 0) throw new RangeError('divide error');
  return ((a >>> 0) / (b >>> 0)) | 0;
}
export function remu(a: number, b: number): number {
  if ((b | 0) === 0) throw new RangeError('divide error');
  return ((a >>> 0) % (b >>> 0)) | 0;
}
/** High 32 bits of the unsigned 64-bit product. */
export function mulhu(a: number, b: number): number {
  return Number((BigInt(a >>> 0) * BigInt(b >>> 0)) >> 32n) | 0;
}

// ---- static data and functions ------------------------------------------------------------

/**
 * A zeroed static buffer of `bytes` bytes, 4-byte aligned (or `align`, a power of two);
 * allowed only as the initializer of a module-level `const`. Returns its address.
 */
export function staticBuffer(bytes: number, align = 4): number {
  shim.bump = (shim.bump + align - 1) & ~(align - 1);
  const addr = shim.bump;
  shim.bump += bytes;
  return addr;
}

/** The address of a string literal's bytes (Latin-1), NUL-terminated, in static data. */
export function cstr(literal: string): number {
  const addr = staticBuffer(literal.length + 1, 1);
  for (let k = 0; k < literal.length; k++) shim.memory[addr + k] = literal.charCodeAt(k) & 0xff;
  shim.memory[addr + literal.length] = 0;
  return addr;
}

/** The address of a guest function (for trap tables and indirect calls). */
export function addressOf(fn: (...args: number[]) => unknown): number {
  let k = shim.functions.indexOf(fn);
  if (k < 0) k = shim.functions.push(fn) - 1;
  return 0x40000000 + k * 16;
}

/** Call the function at addr with up to 6 arguments; returns its result (0 for void). */
export function callIndirect(addr: number, ...args: number[]): number {
  const fn = shim.functions[((addr | 0) - 0x40000000) / 16];
  if (!fn) throw new Error(`callIndirect: no function at 0x${(addr >>> 0).toString(16)}`);
  const r = fn(...args);
  return typeof r === 'number' ? r | 0 : typeof r === 'boolean' ? (r ? 1 : 0) : 0;
}

// ---- CPU instructions ----------------------------------------------------------------------

export function cli(): void { unavailable('cli'); }
export function sti(): void { unavailable('sti'); }
export function hlt(): void { unavailable('hlt'); }
/** PAUSE, the spin-wait hint: a short delay (a spin loop's every turn; hardware assist's pause-loop exiting watches for it). Nothing on the host. */
export function pause(): void {}
/** PUSHF: the real FLAGS (critical instruction). */
export function pushf(): number { return unavailable('pushf'); }
/** POPF: restore FLAGS (silently keeps IF at CPL > IOPL: a critical instruction). */
export function popf(_flags: number): void { unavailable('popf'); }
/** The current privilege level (critical: shows the real ring). */
export function rdcpl(): number { return 0; }
/** The stack pointer (r15) where the call is: a kernel finds per-CPU or per-thread data from its stack, as Linux's current_thread_info() did. */
export function stackPointer(): number { return unavailable('stackPointer'); }
/** The IDT base register (critical: shows the real table). */
export function sidt(): number { return unavailable('sidt'); }
/** Low 32 bits of the cycle counter. */
export function rdtsc(): number { shim.cycles += 1; return shim.cycles | 0; }
/** High 32 bits of the cycle counter (read after rdtsc). */
export function rdtscHigh(): number { return 0; }
/** CPUID: writes the four result words for `leaf` to out[0..3]. */
export function cpuid(_leaf: number, _out: number): void { unavailable('cpuid'); }
/** Read a 32-bit I/O port. */
export function in32(port: number): number { return inb(port); }
/** Read an 8-bit I/O port. */
export function inb(port: number): number {
  if (port === UART_DATA) return shim.input.length ? shim.input.shift()! : 0;
  if (port === UART_LSR) return UART_LSR_THRE | UART_LSR_TEMT | (shim.input.length ? UART_LSR_DR : 0);
  return unavailable(`inb(0x${port.toString(16)})`);
}
/** Write an 8-bit I/O port. */
export function outb(port: number, value: number): void {
  if (port === UART_DATA) { shim.output.push(value & 0xff); return; }
  if (port === SYS_POWEROFF) { shim.poweredOff = value | 0; return; }
  unavailable(`outb(0x${port.toString(16)})`);
}
/** Write a 32-bit I/O port. */
export function out32(port: number, value: number): void { outb(port, value); }
/** Read control register n (a constant: 0, 2, 3 or 4). */
export function readCr(_n: number): number { return unavailable('readCr'); }
/** Write control register n (a constant: 0, 2, 3 or 4). */
export function writeCr(_n: number, _value: number): void { unavailable('writeCr'); }
export function lidt(_base: number, _count: number): void { unavailable('lidt'); }
export function invlpg(_va: number): void { unavailable('invlpg'); }
/** Set the kernel stack pointer used on entry to ring `ring` (a constant 0..2). */
export function lksp(_ring: number, _sp: number): void { unavailable('lksp'); }
/** Breakpoint trap. */
export function brk(): void { unavailable('brk'); }
/** Software interrupt through the IDT; `vector` must be a constant. */
export function softInt(_vector: number): void { unavailable('softInt'); }
/** HYPERCALL: r0 = nr, r1..r5 = args; returns r0. For the pv architecture. */
export function hypercall(_nr: number, _a1?: number, _a2?: number, _a3?: number, _a4?: number, _a5?: number): number {
  return unavailable('hypercall');
}

/** INT 0x80 with r0 = nr, r1..r5 = args; returns r0. A user program's system call. */
export function syscall(_nr: number, _a1?: number, _a2?: number, _a3?: number, _a4?: number, _a5?: number): number {
  return unavailable('syscall');
}

// ---- kernel support generated by the toolchain ---------------------------------------------

/**
 * The address of a toolchain-generated trap entry stub for `handler`: it saves r0..r14, calls
 * handler(frame) where frame points at the saved registers (TrapFrame layout below, followed by
 * the CPU's six-word hardware frame), restores the registers, drops vector and error code and
 * executes IRET. The handler may edit the frame (e.g. set r0 as a system call's result).
 */
export function trapEntry(_handler: (frame: number) => void): number { return unavailable('trapEntry'); }

/**
 * Save the callee's context on the current stack, store sp at address `saveSpAt`, switch to
 * `newSp` and resume the context saved there. Returns when something switches back.
 */
export function contextSwitch(_saveSpAt: number, _newSp: number): void { unavailable('contextSwitch'); }

/** Load sp = frameAddr and IRET: enter a context described by a hardware frame (pc, cs, flags, sp). */
export function iretTo(_frameAddr: number): void { unavailable('iretTo'); }

/** Byte offsets in the frame a trapEntry handler receives. */
export const enum TrapFrame {
  R0 = 0, R1 = 4, R2 = 8, R3 = 12, R4 = 16, R5 = 20, R6 = 24, R7 = 28,
  R8 = 32, R9 = 36, R10 = 40, R11 = 44, R12 = 48, R13 = 52, R14 = 56,
  VECTOR = 60, ERROR = 64, PC = 68, CS = 72, FLAGS = 76, SP = 80,
  BYTES = 84,
}
