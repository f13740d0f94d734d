// The native boot loader: puts a kernel image, an initrd and a command line into a bare XL32
// Machine as the xenolith boot protocol says (docs/kernel.md "Boot protocol"), the way a
// firmware boot loader would, and leaves the CPU at the kernel's entry with paging off.
// Host code; touches only the Machine it is given (memory, CPU registers).

import { ImageArch, ARCH_NAMES, symbolize, type Image, type ImageSymbol } from '../../machine/image.ts';
import type { Machine } from '../../machine/machine.ts';

/** Where the boot information block lives (physical), and its fields (u32 little-endian). */
export const BOOT_INFO_ADDR = 0x8000;
export const BOOT_INFO_MAGIC = 0x49424c58; // "XLBI"
export const BOOT_INFO_VERSION = 1;
export const enum BootInfoField {
  MAGIC = 0,
  VERSION = 4,
  MEMORY_BYTES = 8,
  INITRD_ADDR = 12,
  INITRD_BYTES = 16,
  FREE_START = 20,
  CMDLINE_ADDR = 24,
  CMDLINE_BYTES = 28,
  BYTES = 32,
}
/** The command line follows the block on the same page. */
export const CMDLINE_ADDR = BOOT_INFO_ADDR + BootInfoField.BYTES;
export const CMDLINE_MAX_BYTES = 4096 - BootInfoField.BYTES - 1;
/** The kernel's identity-mapped range: its image must lie in [KERNEL_MIN, KERNEL_LIMIT). */
export const KERNEL_MIN = 0x0001_0000;
export const KERNEL_LIMIT = 0x0040_0000;
const PAGE = 4096;

export interface NativeBoot {
  /** a native kernel image (`compile(..., { arch: 'native' })`) */
  kernel: Image;
  /** the initrd blob (toolchain/initrd.ts); empty for none */
  initrd?: Uint8Array;
  /** the kernel command line: the first process's program and arguments (default "init") */
  cmdline?: string;
}

/** What the loader placed where (physical addresses), for tools and tests. */
export interface NativeBootLayout {
  kernelEnd: number;
  initrdAddr: number;
  initrdBytes: number;
  freeStart: number;
  memoryBytes: number;
}

/** The kernel, initrd or command line cannot be booted on this machine; the message says why. */
export class BootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootError';
  }
}

const pageUp = (n: number): number => Math.ceil(n / PAGE) * PAGE;

/**
 * Load kernel + initrd + command line into the machine and set the CPU at the kernel entry:
 * paging off, CPL 0, interrupts off, r1 = initrd physical address, r2 = initrd bytes,
 * r3 = memory bytes, r4 = the boot information block's address.
 */
export function bootNative(machine: Machine, boot: NativeBoot): NativeBootLayout {
  const { kernel } = boot;
  const initrd = boot.initrd ?? new Uint8Array(0);
  const cmdline = new TextEncoder().encode(boot.cmdline ?? '');
  if (kernel.arch !== ImageArch.Native) {
    throw new BootError(`the kernel image is built for arch "${ARCH_NAMES[kernel.arch] ?? kernel.arch}", not "native"`);
  }
  if (kernel.segments.length === 0) throw new BootError('the kernel image has no segments');
  let kernelEnd = 0;
  for (const s of kernel.segments) {
    const end = s.paddr + s.memBytes;
    if (s.vaddr !== s.paddr) {
      throw new BootError(`kernel segment at 0x${s.vaddr.toString(16)} is linked at a different physical address (0x${s.paddr.toString(16)}); the native kernel runs identity-mapped`);
    }
    if (s.paddr < KERNEL_MIN || end > KERNEL_LIMIT) {
      throw new BootError(`kernel segment [0x${s.paddr.toString(16)}, 0x${end.toString(16)}) lies outside the kernel range [0x${KERNEL_MIN.toString(16)}, 0x${KERNEL_LIMIT.toString(16)})`);
    }
    kernelEnd = Math.max(kernelEnd, end);
  }
  if (cmdline.length > CMDLINE_MAX_BYTES) throw new BootError(`the command line is ${cmdline.length} bytes; at most ${CMDLINE_MAX_BYTES} fit`);
  const memoryBytes = machine.mem.size;
  const initrdAddr = pageUp(kernelEnd);
  const freeStart = pageUp(initrdAddr + initrd.length);
  if (freeStart + 64 * PAGE > memoryBytes) {
    throw new BootError(`kernel and initrd end at 0x${freeStart.toString(16)}, leaving too little of the machine's ${memoryBytes >> 20} MiB`);
  }

  machine.loadImage(kernel);
  machine.mem.writeBytes(initrdAddr, initrd);
  machine.mem.writeBytes(CMDLINE_ADDR, Uint8Array.from([...cmdline, 0]));
  const info = new DataView(new ArrayBuffer(BootInfoField.BYTES));
  info.setUint32(BootInfoField.MAGIC, BOOT_INFO_MAGIC, true);
  info.setUint32(BootInfoField.VERSION, BOOT_INFO_VERSION, true);
  info.setUint32(BootInfoField.MEMORY_BYTES, memoryBytes, true);
  info.setUint32(BootInfoField.INITRD_ADDR, initrdAddr, true);
  info.setUint32(BootInfoField.INITRD_BYTES, initrd.length, true);
  info.setUint32(BootInfoField.FREE_START, freeStart, true);
  info.setUint32(BootInfoField.CMDLINE_ADDR, CMDLINE_ADDR, true);
  info.setUint32(BootInfoField.CMDLINE_BYTES, cmdline.length, true);
  machine.mem.writeBytes(BOOT_INFO_ADDR, new Uint8Array(info.buffer));

  const r = machine.cpu.regs;
  r[1] = initrdAddr;
  r[2] = initrd.length;
  r[3] = memoryBytes;
  r[4] = BOOT_INFO_ADDR;
  return { kernelEnd, initrdAddr, initrdBytes: initrd.length, freeStart, memoryBytes };
}

/**
 * Annotate the kernel's panic backtrace lines ("  #3 0x00101234") in console text with the
 * symbol each address falls in ("  #3 0x00101234 proc.sleep+0x1c"), using the kernel image's
 * symbols. Other lines pass through unchanged.
 */
export function symbolizeBacktrace(text: string, symbols: readonly ImageSymbol[]): string {
  return text.replace(/^(\s+#\d+ 0x([0-9a-f]{8}))$/gm, (_m, line: string, hex: string) => `${line} ${symbolize(symbols, parseInt(hex, 16))}`);
}
