// The user/kernel ABI of the xenolith guest kernel: system-call numbers, error codes, the user
// address-space layout and file descriptors. Shared by the kernel and user programs (ulib), so
// each number is written down once. Guest code (the TypeScript subset); imports nothing.

/**
 * System calls: INT 0x80 with the number in r0, arguments in r1..r5, the result in r0
 * (negative = -errno). SYS_EXIT is 0 because the compiler's user `_start` exits with
 * r0 = 0, r1 = main's result.
 */
export const enum Sys {
  EXIT = 0,
  FORK = 1,
  WAIT = 2,
  PIPE = 3,
  READ = 4,
  WRITE = 5,
  CLOSE = 6,
  DUP = 7,
  GETPID = 8,
  YIELD = 9,
  EXEC = 10,
  SBRK = 11,
  SLEEP = 12,
  UPTIME = 13,
  KILL = 14,
  /** procinfo(slot, buf): one process-table slot as a ProcInfo record */
  PROCINFO = 15,
  GETPPID = 16,
  /** nanobench(op, n): run a kernel-side loop for benchmarks (BenchOp) and return its cycles */
  NANOBENCH = 17,
  /** the machine's cycle counter, low 32 bits (rdtsc, readable at ring 3 too) */
  CYCLES = 18,
  /** sysinfo(buf): memory and process counts, uptime and clock as a SysInfo record */
  SYSINFO = 19,
  /** diskio(op, sector, buf, count): DiskOp on `count` 512-byte sectors (at most DiskOp.MAX_SECTORS) */
  DISKIO = 20,
  /** archtest(op): probe one sensitive operation of the architecture (ArchTest); its observation */
  ARCHTEST = 21,
  /** setpgid(pid, pgid): put process pid (0: the caller; else a child of it) in group pgid (0: pgid = pid) */
  SETPGID = 22,
  /** fgpgrp(pgid): make pgid the console's foreground group (0: none; -1: only ask); the previous one */
  FGPGRP = 23,
  /** consmode(mode): set the console's ConsMode (-1: only ask); the previous mode */
  CONSMODE = 24,
  /** socket(type): a SockType socket as a file descriptor (kernel/net/socket.ts) */
  SOCKET = 25,
  /** bind(fd, port): the local UDP port (1..65535); an unbound socket gets one at its first sendto */
  BIND = 26,
  /** sendto(fd, buf, len, ip, port): one datagram (UDP) or echo request (ICMP, port = sequence); bytes sent */
  SENDTO = 27,
  /** recvfrom(fd, buf, len, addr, timeoutTicks): the next datagram, its sender (SockAddr) at addr unless 0; bytes; EAGAIN after timeoutTicks (0: wait for ever) */
  RECVFROM = 28,
  /** netinfo(buf): the interface's addresses and counters as a NetInfo record */
  NETINFO = 29,
  COUNT = 30,
}

/**
 * Exit statuses the kernel gives a process it ends: KILLED for a fault or kill(), INTERRUPTED when
 * Ctrl-C on the console killed its foreground process group (128 + SIGINT's 2, as Unix shells show it).
 */
export const enum ExitStatus {
  KILLED = -1,
  INTERRUPTED = 130,
}

/**
 * Console modes. COOKED: the kernel collects a line (echo, backspace erases, Enter or Ctrl-D
 * commits it) before read() sees it. RAW: every byte goes to read() as it arrives, without echo
 * (a line editor, such as the shell's, echoes for itself). In both, Ctrl-C never enters the
 * input: it kills the foreground process group and interrupts a waiting read() with EINTR.
 */
export const enum ConsMode {
  COOKED = 0,
  RAW = 1,
}

/** Error results (negated, Unix numbering). */
export const enum Err {
  EPERM = -1,
  ENOENT = -2,
  ESRCH = -3,
  EINTR = -4,
  EIO = -5,
  E2BIG = -7,
  ENOEXEC = -8,
  EBADF = -9,
  ECHILD = -10,
  EAGAIN = -11,
  ENOMEM = -12,
  EFAULT = -14,
  EINVAL = -22,
  ENFILE = -23,
  EMFILE = -24,
  EPIPE = -32,
  ENOSYS = -38,
  EMSGSIZE = -90,
  EPROTONOSUPPORT = -93,
  EADDRINUSE = -98,
  ENETDOWN = -100,
  EHOSTUNREACH = -113,
}

/** Socket types (socket()'s argument). */
export const enum SockType {
  /** UDP datagrams */
  UDP = 1,
  /** ICMP echo: sendto sends an echo request, recvfrom returns echo replies */
  ICMP = 2,
}

/** The sender recvfrom stores: IPv4 address (a number, a.b.c.d = a << 24 | ...) and port (ICMP: sequence). */
export const enum SockAddr {
  IP = 0,
  PORT = 4,
  BYTES = 8,
}

/** The record netinfo() fills. Addresses as numbers (a.b.c.d = a << 24 | ...). */
export const enum NetInfo {
  /** 1 when the kernel has a network device */
  UP = 0,
  IP = 4,
  NETMASK = 8,
  GATEWAY = 12,
  /** station address bytes 0..1 (bits 8..15, 0..7) and 2..5 (big-endian) */
  MAC_HI = 16,
  MAC_LO = 20,
  /** the kernel's counters: frames sent and received, and received frames dropped as malformed or unwanted */
  TX_FRAMES = 24,
  RX_FRAMES = 28,
  RX_DROPPED = 32,
  /** datagrams dropped because the socket's queue was full */
  SOCK_DROPPED = 36,
  /** the device's receive drops: no buffer posted (ring full), and malformed frames */
  DEV_RX_NO_BUFFER = 40,
  DEV_RX_MALFORMED = 44,
  BYTES = 48,
}

/** Limits of the network: the largest UDP payload and ICMP echo data that fit one frame. */
export const enum NetLimits {
  UDP_MAX = 1472,
  ICMP_MAX = 1472,
}

/**
 * The user half of every address space. Programs are linked at USER_BASE (the compiler's
 * layout: text, rodata, data, bss, each page-aligned); the heap starts at the first page after
 * the image and grows with sbrk up to HEAP_LIMIT; exec's arguments live on the ARGS page.
 */
export const enum UserLayout {
  USER_BASE = 0x00400000,
  HEAP_LIMIT = 0xb0000000,
  /** argc at +0, argv[0..argc] (NULL-terminated) at +4, the strings after them */
  ARGS = 0xbffff000,
  ARGS_BYTES = 4096,
  /** first address above user space; the kernel's direct map starts here */
  USER_TOP = 0xc0000000,
}

export const enum Fd {
  STDIN = 0,
  STDOUT = 1,
  STDERR = 2,
}

/** The record procinfo() fills. */
export const enum ProcInfo {
  PID = 0,
  PPID = 4,
  /** ProcState */
  STATE = 8,
  /** bytes of user memory mapped */
  SIZE = 12,
  NAME = 16,
  BYTES = 32,
}

/** diskio operations. */
export const enum DiskOp {
  READ = 0,
  WRITE = 1,
  /** the result is the capacity in sectors */
  CAPACITY = 2,
  SECTOR_BYTES = 512,
  /** sectors per call at most (32 KiB: the kernel keeps up to 8 page-sized requests in flight) */
  MAX_SECTORS = 64,
}

/** The record sysinfo() fills. */
export const enum SysInfo {
  FREE_PAGES = 0,
  TOTAL_PAGES = 4,
  /** process-table slots in use */
  PROCS = 8,
  UPTIME = 12,
  /** the CPU clock in MHz (cycles per microsecond), for turning cycle counts into time */
  CLOCK_MHZ = 16,
  /** CPUs running the kernel's scheduler */
  CPUS = 20,
  BYTES = 24,
}

export const enum ProcState {
  UNUSED = 0,
  EMBRYO = 1,
  SLEEPING = 2,
  RUNNABLE = 3,
  RUNNING = 4,
  ZOMBIE = 5,
}

/** nanobench operations: each runs n times inside the kernel. */
export const enum BenchOp {
  /** an empty loop: the measurement's own overhead */
  NOTHING = 0,
  /** irqSave + irqRestore */
  IRQ_SAVE_RESTORE = 1,
  /** a page-table entry write + TLB invalidation */
  PTE_UPDATE = 2,
  /** an address-space reload (CR3 write) */
  ADDRESS_SPACE_SWITCH = 3,
  /** one read of a device register (native: INB of the UART line status); optional pvops slot */
  PORT_READ = 4,
  /** a control-register write of its current value (native: MOV to CR4); optional pvops slot */
  CR4_WRITE = 5,
  /** a divide by zero in the kernel, taken as #DE and resumed after the divide by a fixup */
  DIVIDE_FAULT = 6,
}

/** Limits user programs see. */
export const enum Limits {
  MAXARG = 16,
  ARG_BYTES = 128,
  PATH_BYTES = 32,
  NAME_BYTES = 16,
}

/**
 * archtest operations: each observes one sensitive operation from inside the kernel, where a
 * faithful machine (or a correct paravirtual interface) gives the stated answer. Under
 * trap-and-emulate the critical instructions behind them do not trap, so the answers differ.
 */
export const enum ArchTest {
  /** the privilege ring the kernel runs at, as the CPU reports it (expect 0) */
  RING = 0,
  /** whether interrupts are reported enabled inside irqSave's critical section (expect 0) */
  IRQS_OFF_VISIBLE = 1,
  /** whether a timer tick arrives after irqSave + irqRestore from an enabled state (expect 1) */
  IRQ_RESTORE = 2,
  /** whether the trap table the CPU reports is the one the kernel loaded (expect 1) */
  TRAP_TABLE = 3,
  /**
   * whether the condition bits survive, in the kernel, a divide fault taken and returned from and
   * timer interrupts arriving between the instruction that set them and the one that reads them
   * (expect 1; 0: they changed)
   */
  COND_ACROSS_TRAPS = 4,
  /** the address of kernel code this very call ran: a present supervisor-only page (for the user-read probe) */
  KERNEL_TEXT = 5,
}
