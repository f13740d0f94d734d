// Layouts the host toolchain defines and the kernel reads or builds by hand: the compiler's
// contextSwitch frame, the XL32 image header (machine/image.ts) and the initrd archive
// (toolchain/initrd.ts). Guest modules may import only guest modules, so these are mirrored
// here; test/guest-kernel/abi.test.ts pins every value to its host definition.
// Guest code (the TypeScript subset); imports nothing.

/** What contextSwitch leaves on a stack (toolchain/compiler/abi.ts ContextFrame): r7..r14, then the return address. */
export const enum ContextFrame {
  RET = 32,
  BYTES = 36,
}

/** The image header and segment table (machine/image.ts). */
export const enum Img {
  /** "XLIM" */
  MAGIC_VALUE = 0x4d494c58,
  VERSION_VALUE = 1,
  /** ImageArch.User */
  ARCH_USER = 3,
  MAGIC = 0,
  VERSION = 4,
  ENTRY = 8,
  SEGMENTS = 12,
  ARCH = 20,
  HEADER_BYTES = 32,
  SEG_VADDR = 0,
  SEG_MEM_BYTES = 8,
  SEG_FILE_BYTES = 12,
  SEG_FILE_OFFSET = 16,
  SEG_FLAGS = 20,
  SEG_BYTES = 24,
  /** SegFlag.W */
  SEG_WRITABLE = 2,
  MAX_SEGMENTS = 16,
}

/** The initrd archive (toolchain/initrd.ts). */
export const enum Initrd {
  /** "XIRD" */
  MAGIC_VALUE = 0x44524958,
  VERSION_VALUE = 1,
  MAGIC = 0,
  VERSION = 4,
  COUNT = 8,
  TOTAL_BYTES = 12,
  ENTRIES = 16,
  /** entry: name (NUL-padded), offset of the data from the archive start, size in bytes */
  ENTRY_NAME = 0,
  NAME_BYTES = 24,
  ENTRY_OFFSET = 24,
  ENTRY_SIZE = 28,
  ENTRY_BYTES = 32,
}
