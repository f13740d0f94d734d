// The kernel's architecture boundary, shaped like Linux's paravirt ops (pv_ops): a table of
// function addresses that the architecture's entry code fills before calling kmain, and one
// small wrapper per operation. Shared kernel code reaches the hardware (or the hypervisor)
// only through these wrappers, so arch/native and arch/pv swap without touching kernel/.
// Guest code (the TypeScript subset); imports only 'xl32'.

import { staticBuffer, load32, store32, callIndirect } from 'xl32';

/** Operation slots. Grouped as Linux groups pv_irq_ops, pv_cpu_ops, pv_mmu_ops, pv_time_ops. */
export const enum PvOp {
  // irq: save_fl / restore_fl / irq_disable / irq_enable
  IRQ_SAVE = 0,
  IRQ_RESTORE = 1,
  IRQ_DISABLE = 2,
  IRQ_ENABLE = 3,
  /** end of interrupt for a device line (the native PIC's EOI) */
  IRQ_ACK = 4,
  /** let a device line interrupt (unmask it) */
  IRQ_UNMASK = 5,
  // cpu: load_idt, load_sp0, safe_halt
  /** install the architecture's trap table (every exception, device line and INT 0x80) */
  TRAP_TABLE_LOAD = 6,
  /** the stack the CPU switches to on a trap from user mode */
  SET_KERNEL_STACK = 7,
  /** enable interrupts and wait for one, atomically enough that a wakeup costs at most a tick */
  IDLE = 8,
  POWER_OFF = 9,
  /** cycles since power-on, low 32 bits */
  READ_CYCLES = 10,
  // mmu: set_pte, write_cr3, flush_tlb_one_user, flush_tlb_user, read_cr2, alloc_pte, release_pte
  SET_PTE = 11,
  SWITCH_ADDRESS_SPACE = 12,
  INVALIDATE_PAGE = 13,
  FLUSH_TLB = 14,
  FAULT_ADDRESS = 15,
  PAGE_TABLE_ALLOC = 16,
  PAGE_TABLE_RELEASE = 17,
  // time
  /** start the periodic tick: one interrupt on line TIMER every `cycles` cycles */
  TIMER_START = 18,
  /** CPU clock in MHz */
  CLOCK_MHZ = 19,
  // console
  CONSOLE_PUTC = 20,
  /** next received byte, or -1 if none is waiting */
  CONSOLE_GETC = 21,
  /** deliver console input as interrupts on line CONSOLE */
  CONSOLE_IRQ_ENABLE = 22,
  // disk
  /** submit a request: cmd (DiskCmd), first sector, count, physical buffer, tag; 0 or -1 */
  DISK_SUBMIT = 23,
  /** pop one completion: tag | result << 8, or -1 if none is waiting */
  DISK_COMPLETE = 24,
  DISK_CAPACITY = 25,
  // entry to user mode
  /** load every register from a TrapFrame (xl32 layout) and return to the ring it names; never returns */
  USER_RETURN = 26,
  /** the architecture's name, a NUL-terminated string ("native", "pv") */
  ARCH_NAME = 27,
  // mmu, the entries themselves (Linux's __pte / pte_val, which XenoLinux made translate
  // pseudo-physical frames to machine frames and back)
  /** the page-table entry for physical address | flag bits, as the hardware reads it */
  PTE_MAKE = 28,
  /** the physical address | flag bits of an entry as the hardware reads it (PTE_MAKE undone) */
  PTE_VALUE = 29,
  /**
   * write the entry that maps va in the loaded address space and drop va's translation: one
   * operation where a hypervisor can do both at once (set_pte_at + flush_tlb_page; Xen's
   * update_va_mapping)
   */
  SET_PTE_VA = 30,
  /** slots below this one are required: kmain refuses to start with one of them empty */
  REQUIRED_COUNT = 31,
  // Optional slots, used only by benchmarks (nanobench): an architecture may leave them empty,
  // and the benchmark then reports ENOSYS for the operation instead of calling through 0.
  /** read the console device's status register once (a device-register read: native INB) */
  CONSOLE_STATUS = 31,
  /** control register 4 (Linux's read_cr4 / write_cr4 in pv_cpu_ops) */
  READ_CR4 = 32,
  WRITE_CR4 = 33,
  // Optional probes, used only by the archtest system call (the guest test suite's
  // critical-instruction checks): an architecture may leave them empty (ENOSYS).
  /** the ring the kernel runs at, as the CPU reports it (native: RDCPL) */
  CURRENT_RING = 34,
  /** 1 if the CPU reports interrupts enabled (native: PUSHF's IF) */
  IRQS_ENABLED = 35,
  /** 1 if the CPU's trap-table register names the table this kernel loaded (native: SIDT) */
  TRAP_TABLE_CHECK = 36,
  // Optional batching hooks (Linux's arch_enter_lazy_mmu_mode / arch_leave_lazy_mmu_mode): around
  // bulk page-table work the architecture may defer entry writes and TLB invalidations and send
  // them together. Between the two, the kernel does not read back an entry it wrote.
  LAZY_MMU_BEGIN = 37,
  /** send everything deferred since LAZY_MMU_BEGIN (the region ends) */
  LAZY_MMU_END = 38,
  // Optional network device (kernel/net/): an architecture without one leaves them empty and the
  // kernel runs without a network (socket() then fails with ENETDOWN).
  /** set the network device up, write its 6-byte station address at kernel address mac; 0, or -1 if there is none */
  NET_INIT = 39,
  /** queue one frame (kernel address, length) for sending: 0, or -1 when the transmit ring is full */
  NET_SEND = 40,
  /** copy the next received frame (at most cap bytes) to a kernel address: its length; -1 when none is waiting; -2 for a frame the device marked bad (consumed) */
  NET_RECV = 41,
  /** acknowledge the device's interrupt (read and clear its causes) */
  NET_ACK = 42,
  /** one of the device's counters (NetStat), or -1 */
  NET_STAT = 43,
  // Optional multiprocessor operations (kernel/smp.ts): an architecture that leaves them empty
  // runs the kernel on one CPU.
  /** this CPU's number, 0..CPU_COUNT-1 */
  CPU_ID = 44,
  /** the CPUs present */
  CPU_COUNT = 45,
  /** start CPU n on the stack ending at sp: it turns paging on with the kernel's page directory and calls smp.ts apMain (never returns) */
  CPU_START = 46,
  /** send vector v to CPU n (an inter-processor interrupt) */
  IPI_SEND = 47,
  /** end this CPU's local interrupt in service (an IPI or the local timer) */
  IPI_ACK = 48,
  /** start this CPU's own periodic timer: vector v every `cycles` cycles */
  LOCAL_TIMER_START = 49,
  /**
   * a spinlock spins for a lock whose holder is a preempted CPU (VCPU_PREEMPTED), `cycles` cycles
   * since it began or last yielded: let another CPU run (pv: sched_op yield). Empty on bare
   * hardware: the spinner spins on.
   */
  SPIN_WAIT = 50,
  /**
   * flush the TLBs of the CPUs in `mask` (bit k = CPU k) now, without interrupting them (a
   * hypervisor can: pv's mmuext TLB_FLUSH_MULTI). Empty: the kernel shoots down by IPI.
   */
  TLB_FLUSH_OTHERS = 51,
  /**
   * is CPU n preempted - a vCPU that could run but waits for its physical CPU (Linux's
   * vcpu_is_preempted; pv: its runstate RUNNABLE)? 1 or 0. A spinlock whose holder is running
   * spins on; one whose holder is preempted lets another CPU run (SPIN_WAIT). Needed with SPIN_WAIT.
   */
  VCPU_PREEMPTED = 52,
  COUNT = 53,
}

/** Device lines the shared kernel knows (the architecture maps them to its own events). */
export const enum IrqLine {
  TIMER = 0,
  CONSOLE = 4,
  NET = 11,
  DISK = 14,
  /** traps with vectors IRQ_VECTOR_BASE + line are device interrupts */
  IRQ_VECTOR_BASE = 32,
  COUNT = 16,
}

export const enum DiskCmd {
  READ = 1,
  WRITE = 2,
}

const ops = staticBuffer(PvOp.COUNT * 4);

/** Fill one slot (architecture entry code only). */
export function pvSet(op: number, fn: number): void {
  store32(ops + op * 4, fn);
}

/** The first empty required slot, or -1 when the architecture filled them all. */
export function pvMissing(): number {
  for (let op = 0; op < PvOp.REQUIRED_COUNT; op++) {
    if (load32(ops + op * 4) === 0) return op;
  }
  return -1;
}

/** Whether the architecture filled slot `op` (callers of an optional operation check first). */
export function pvHas(op: number): boolean {
  return load32(ops + op * 4) !== 0;
}

function op(k: number): number {
  return load32(ops + k * 4);
}

export function irqSave(): number { return callIndirect(op(PvOp.IRQ_SAVE)); }
export function irqRestore(flags: number): void { callIndirect(op(PvOp.IRQ_RESTORE), flags); }
export function irqDisable(): void { callIndirect(op(PvOp.IRQ_DISABLE)); }
export function irqEnable(): void { callIndirect(op(PvOp.IRQ_ENABLE)); }
export function irqAck(line: number): void { callIndirect(op(PvOp.IRQ_ACK), line); }
export function irqUnmask(line: number): void { callIndirect(op(PvOp.IRQ_UNMASK), line); }

export function trapTableLoad(): void { callIndirect(op(PvOp.TRAP_TABLE_LOAD)); }
export function setKernelStack(sp: number): void { callIndirect(op(PvOp.SET_KERNEL_STACK), sp); }
export function idle(): void { callIndirect(op(PvOp.IDLE)); }
export function powerOff(status: number): void { callIndirect(op(PvOp.POWER_OFF), status); }
export function readCycles(): number { return callIndirect(op(PvOp.READ_CYCLES)); }

/** Write a page-table or page-directory entry, given the entry's kernel virtual address. */
export function setPte(entry: number, value: number): void { callIndirect(op(PvOp.SET_PTE), entry, value); }
/** Load the page directory at physical address pdPhys (flushes the non-global TLB). */
export function switchAddressSpace(pdPhys: number): void { callIndirect(op(PvOp.SWITCH_ADDRESS_SPACE), pdPhys); }
export function invalidatePage(va: number): void { callIndirect(op(PvOp.INVALIDATE_PAGE), va); }
export function flushTlb(): void { callIndirect(op(PvOp.FLUSH_TLB)); }
/** The virtual address of the last page fault. */
export function faultAddress(): number { return callIndirect(op(PvOp.FAULT_ADDRESS)); }
/** A frame becomes a page table (level 1) or page directory (level 2); a hypervisor pins it. */
export function pageTableAlloc(phys: number, level: number): void { callIndirect(op(PvOp.PAGE_TABLE_ALLOC), phys, level); }
export function pageTableRelease(phys: number, level: number): void { callIndirect(op(PvOp.PAGE_TABLE_RELEASE), phys, level); }
// (the entry and batching wrappers below load their slot directly: they run on every page walk
// and around every batch, so they skip op()'s call)
/** The entry for physical address pa (page-aligned) with flag bits `flags` (Pte), as the MMU reads it. */
export function pteMake(pa: number, flags: number): number { return callIndirect(load32(ops + PvOp.PTE_MAKE * 4), pa | flags); }
/** An entry read from a table, as physical address | flags (the frame's physical address is pteValue(e) & Pte.FRAME). */
export function pteValue(e: number): number { return callIndirect(load32(ops + PvOp.PTE_VALUE * 4), e); }
/** Read the entry at kernel virtual address `entry` as physical address | flags. */
export function readPte(entry: number): number { return callIndirect(load32(ops + PvOp.PTE_VALUE * 4), load32(entry)); }
/** setPte of the entry mapping va (any address in the page) in the loaded address space, then invalidatePage(va), as one operation. */
export function setPteVa(entry: number, value: number, va: number): void { callIndirect(load32(ops + PvOp.SET_PTE_VA * 4), entry, value, va); }

/** Start deferring page-table work (nothing when the architecture leaves the slot empty). */
export function lazyMmuBegin(): void {
  const f = load32(ops + PvOp.LAZY_MMU_BEGIN * 4);
  if (f !== 0) callIndirect(f);
}
/** Send the deferred page-table work and stop deferring. */
export function lazyMmuEnd(): void {
  const f = load32(ops + PvOp.LAZY_MMU_END * 4);
  if (f !== 0) callIndirect(f);
}

export function timerStart(cycles: number): void { callIndirect(op(PvOp.TIMER_START), cycles); }
export function clockMHz(): number { return callIndirect(op(PvOp.CLOCK_MHZ)); }

export function consolePutc(c: number): void { callIndirect(op(PvOp.CONSOLE_PUTC), c); }
export function consoleGetc(): number { return callIndirect(op(PvOp.CONSOLE_GETC)); }
export function consoleIrqEnable(): void { callIndirect(op(PvOp.CONSOLE_IRQ_ENABLE)); }

export function diskSubmit(cmd: number, sector: number, count: number, phys: number, tag: number): number {
  return callIndirect(op(PvOp.DISK_SUBMIT), cmd, sector, count, phys, tag);
}
export function diskComplete(): number { return callIndirect(op(PvOp.DISK_COMPLETE)); }
export function diskCapacity(): number { return callIndirect(op(PvOp.DISK_CAPACITY)); }

export function userReturn(frame: number): void { callIndirect(op(PvOp.USER_RETURN), frame); }
export function archName(): number { return callIndirect(op(PvOp.ARCH_NAME)); }

// Optional operations: call only after pvHas(op).
/** The console's status register (native: the UART line-status register), read once. */
export function consoleStatus(): number { return callIndirect(op(PvOp.CONSOLE_STATUS)); }
export function readCr4(): number { return callIndirect(op(PvOp.READ_CR4)); }
export function writeCr4(value: number): void { callIndirect(op(PvOp.WRITE_CR4), value); }

export function currentRing(): number { return callIndirect(op(PvOp.CURRENT_RING)); }
export function irqsEnabled(): number { return callIndirect(op(PvOp.IRQS_ENABLED)); }
export function trapTableCheck(): number { return callIndirect(op(PvOp.TRAP_TABLE_CHECK)); }

export function netInit(mac: number): number { return callIndirect(op(PvOp.NET_INIT), mac); }
export function netSend(frame: number, len: number): number { return callIndirect(op(PvOp.NET_SEND), frame, len); }
export function netRecv(buf: number, cap: number): number { return callIndirect(op(PvOp.NET_RECV), buf, cap); }
export function netAck(): void { callIndirect(op(PvOp.NET_ACK)); }
export function netStat(k: number): number { return callIndirect(op(PvOp.NET_STAT), k); }

export function cpuIdOp(): number { return callIndirect(load32(ops + PvOp.CPU_ID * 4)); }
export function cpuCountOp(): number { return callIndirect(op(PvOp.CPU_COUNT)); }
export function cpuStart(n: number, sp: number): void { callIndirect(op(PvOp.CPU_START), n, sp); }
export function ipiSend(n: number, v: number): void { callIndirect(op(PvOp.IPI_SEND), n, v); }
export function ipiAck(): void { callIndirect(op(PvOp.IPI_ACK)); }
export function localTimerStart(cycles: number, v: number): void { callIndirect(op(PvOp.LOCAL_TIMER_START), cycles, v); }
export function spinWait(cycles: number): void { callIndirect(op(PvOp.SPIN_WAIT), cycles); }
export function vcpuPreempted(n: number): number { return callIndirect(op(PvOp.VCPU_PREEMPTED), n); }
export function tlbFlushOthers(mask: number): void { callIndirect(op(PvOp.TLB_FLUSH_OTHERS), mask); }
