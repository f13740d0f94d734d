// Kernel panics: print what went wrong, the registers of the trap that caused it and a
// frame-pointer backtrace (raw addresses; the host symbolizes them against the kernel image,
// see test/guest-kernel/boot.ts), then power off with status PANIC_STATUS.
// Guest code (the TypeScript subset).

import { load32, TrapFrame, cstr } from 'xl32';
import { Layout, Pte } from './memlayout.ts';
import { kputs, kputx, kputd, kputnl } from './console.ts';
import { irqDisable, powerOff } from './pvops.ts';
import { walk, kernelPd } from './vm.ts';

export const enum Panic {
  /** the power-off status of a panic */
  STATUS = 0x7f,
  /** frames printed at most */
  MAX_FRAMES = 16,
  /** the kernel image is linked at 1 MiB (the compiler's KERNEL_BASE) */
  KERNEL_BASE = 0x00100000,
}

function halt(): void {
  powerOff(Panic.STATUS);
  for (;;) {
    // power-off does not return on XL32; nothing else to do if it did
  }
}

/** Panic with a message. Does not return. */
export function panic(msg: number): void {
  irqDisable();
  kputs(cstr('panic: '));
  kputs(msg);
  kputnl();
  halt();
}

/** Panic with a message and a value printed in hex. Does not return. */
export function panicValue(msg: number, value: number): void {
  irqDisable();
  kputs(cstr('panic: '));
  kputs(msg);
  kputs(cstr(' '));
  kputx(value);
  kputnl();
  halt();
}

function reg(frame: number, name: number, off: number): void {
  kputs(name);
  kputx(load32(frame + off));
}

/** Could fp be a frame pointer into a mapped kernel stack? */
function plausibleFrame(fp: number): boolean {
  if ((fp & 3) !== 0 || fp < Panic.KERNEL_BASE || fp >= Layout.KERNEL_IDENTITY_TOP - 8) return false;
  // before paging is on (kernelPd() is 0) every low address is memory
  if (kernelPd() === 0) return true;
  const pte = walk(kernelPd(), fp, false);
  return pte !== 0 && (load32(pte) & Pte.P) !== 0;
}

/** Print the trap frame's registers and the backtrace from its pc and frame pointer (r14). */
export function dumpFrame(frame: number): void {
  reg(frame, cstr('  pc '), TrapFrame.PC);
  reg(frame, cstr('  flags '), TrapFrame.FLAGS);
  reg(frame, cstr('  sp '), TrapFrame.SP);
  kputs(cstr('  cpl '));
  kputd(load32(frame + TrapFrame.CS) & 3);
  kputs(cstr('  error '));
  kputx(load32(frame + TrapFrame.ERROR));
  kputnl();
  let r = 0;
  while (r < 15) {
    if (r < 10) kputs(cstr('  r'));
    else kputs(cstr(' r'));
    kputd(r);
    kputs(cstr(' '));
    kputx(load32(frame + r * 4));
    if (r % 4 === 3 || r === 14) kputnl();
    r = r + 1;
  }
  kputs(cstr('  stack'));
  const sp = load32(frame + TrapFrame.SP);
  let w = 0;
  while (w < 4 && plausibleFrame(sp + w * 4)) {
    kputs(cstr(' '));
    kputx(load32(sp + w * 4));
    w = w + 1;
  }
  kputnl();
  kputs(cstr('backtrace:\n  #0 '));
  kputx(load32(frame + TrapFrame.PC));
  kputnl();
  let fp = load32(frame + TrapFrame.R14);
  let n = 1;
  while (n < Panic.MAX_FRAMES && plausibleFrame(fp)) {
    kputs(cstr('  #'));
    kputd(n);
    kputs(cstr(' '));
    kputx(load32(fp + 4));
    kputnl();
    fp = load32(fp);
    n = n + 1;
  }
}

/** A trap the kernel cannot survive: say what and where, dump the frame, power off. */
export function panicFrame(what: number, frame: number): void {
  irqDisable();
  kputs(cstr('panic: '));
  kputs(what);
  kputnl();
  dumpFrame(frame);
  halt();
}
