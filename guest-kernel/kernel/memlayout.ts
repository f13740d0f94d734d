// The kernel's view of memory: where the boot loader leaves the boot information, which virtual
// ranges the kernel owns, and how it reaches a physical address (the direct map).
// Guest code (the TypeScript subset); imports nothing.
//
// Every address space (one per process, plus the kernel's own) has the same kernel half:
//   0x00000000..0x00000fff  unmapped: null pointers fault
//   0x00001000..0x003fffff  identity map of low physical memory: the kernel image (linked at
//                           1 MiB by the compiler), its static data and stacks; supervisor only
//   0x00400000..0xbfffffff  the user half (abi.ts UserLayout)
//   0xc0000000..            the direct map: physical address pa at DIRECT_MAP + pa, supervisor
//                           only, covering all installed memory (at most 1 GiB)
// Page tables for both kernel ranges are built once at boot and shared by every page directory,
// so kernel mappings never change after boot and never need a TLB shootdown.

export const enum Layout {
  /** end of the identity-mapped kernel range (page-directory entry 0) */
  KERNEL_IDENTITY_TOP = 0x00400000,
  /** where the compiler links a kernel (toolchain/compiler/abi.ts KERNEL_BASE): its image starts here */
  KERNEL_LINK = 0x00100000,
  DIRECT_MAP = 0xc0000000,
  /** page-directory index of DIRECT_MAP */
  DIRECT_MAP_PDE = 768,
  /** most memory the direct map can cover */
  MAX_MEMORY = 0x40000000,
  PAGE = 4096,
  PAGE_SHIFT = 12,
  PDE_SHIFT = 22,
  /** bytes one page table maps */
  PT_SPAN = 0x00400000,
}

/**
 * The boot information block the loader (hypervisor/boot/native.ts) writes at physical
 * BOOT_INFO before entering the kernel; docs/kernel.md "Boot protocol" is its specification.
 */
export const enum BootInfo {
  ADDRESS = 0x8000,
  /** "XLBI" */
  MAGIC_VALUE = 0x49424c58,
  MAGIC = 0,
  VERSION = 4,
  /** installed memory in bytes */
  MEMORY_BYTES = 8,
  /** physical address and length of the initrd (length 0: none) */
  INITRD_ADDR = 12,
  INITRD_BYTES = 16,
  /** first physical byte after the kernel image and the initrd: memory from here on is free */
  FREE_START = 20,
  /** physical address and length of the command line (NUL-terminated, length without the NUL) */
  CMDLINE_ADDR = 24,
  CMDLINE_BYTES = 28,
  BYTES = 32,
}

/** Page-table entry bits (machine/isa.ts Pte) plus the kernel's software bit. */
export const enum Pte {
  P = 1,
  W = 2,
  U = 4,
  A = 32,
  D = 64,
  /** software: a copy-on-write page (mapped read-only, writable once copied) */
  COW = 512,
  FRAME = 0xfffff000,
}
