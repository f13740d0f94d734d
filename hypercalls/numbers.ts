// The hypercall numbers and every sub-command, flag and well-known identifier of the PV
// interface: the one definition both the guest (compiled by the xenolith compiler, so only
// `const enum`s here) and the hypervisor (hypervisor/pv/) import. Semantics: docs/hypercalls.md.
// Guest-subset code; imports nothing.

/**
 * Hypercall numbers (r0 at the HYPERCALL instruction). Early Xen's numbering: Xen 2.0 for the
 * original calls, Xen 3.0 for memory_op, vcpu_op and mmuext_op; the old sched_op and
 * event_channel_op numbers are kept (XL32 has no compatibility history to carry).
 */
export const enum Hc {
  SET_TRAP_TABLE = 0,
  MMU_UPDATE = 1,
  STACK_SWITCH = 3,
  SET_CALLBACKS = 4,
  SCHED_OP = 6,
  /** the control interface: the privileged (control) domain only */
  DOM0_OP = 7,
  MEMORY_OP = 12,
  MULTICALL = 13,
  UPDATE_VA_MAPPING = 14,
  SET_TIMER_OP = 15,
  EVENT_CHANNEL_OP = 16,
  XEN_VERSION = 17,
  CONSOLE_IO = 18,
  GRANT_TABLE_OP = 20,
  VCPU_OP = 24,
  MMUEXT_OP = 26,
  /** free for experiments (docs/hypercalls.md "Adding a hypercall"; examples/hypercall-experiment) */
  EXPERIMENT_FIRST = 40,
  EXPERIMENT_LAST = 47,
  /** size of the dispatch table: every number is below this */
  COUNT = 48,
}

/** Interface version reported by xen_version(VERSION): major << 16 | minor. */
export const enum HcVersion {
  MAJOR = 1,
  MINOR = 0,
  /** MAJOR << 16 | MINOR */
  PACKED = 0x10000,
}

/** xen_version(cmd, buf) */
export const enum XenVersionCmd {
  /** result: HcVersion.PACKED */
  VERSION = 0,
  /** copy the NUL-terminated extra version string (at most 16 bytes) to buf */
  EXTRAVERSION = 1,
  /** copy the NUL-terminated capabilities string (at most 64 bytes) to buf */
  CAPABILITIES = 2,
}

/** mmu_update: the low two bits of a request's pointer select the command. */
export const enum MmuCmd {
  /** ptr = machine address of a page-table entry (4-aligned); val = the new entry */
  NORMAL_PT_UPDATE = 0,
  /** ptr = machine address of a frame the caller owns; val = its pseudo-physical frame number */
  MACHPHYS_UPDATE = 1,
  MASK = 3,
}

/**
 * A long batch's continuation (docs/hypercalls.md "Long hypercalls"): the hypervisor sets
 * CONTINUED in mmu_update's or mmuext_op's count when it rewinds the guest to re-execute the
 * HYPERCALL with the requests left; the requests done so far are then in *doneOut. (Xen's
 * MMU_UPDATE_PREEMPTED, one bit lower so that the count stays positive.)
 */
export const enum Batch {
  CONTINUED = 0x40000000,
}

/** mmuext_op commands; ARG is a machine frame number (pin, unpin, base) or a virtual address (invlpg). */
export const enum MmuextCmd {
  PIN_L1_TABLE = 0,
  PIN_L2_TABLE = 1,
  UNPIN_TABLE = 2,
  /** load the page directory: the frame must be a pinned L2 table */
  NEW_BASEPTR = 3,
  TLB_FLUSH_LOCAL = 4,
  INVLPG_LOCAL = 5,
  /**
   * flush the TLBs of the vCPUs a mask names: ARG is the guest-virtual address of an
   * MmuextTargets (structs.ts), whose VCPU_MASK names them (bit k = vCPU k)
   */
  TLB_FLUSH_MULTI = 6,
  /** drop one page's translation (MmuextTargets.VA) from the TLBs of the vCPUs MmuextTargets.VCPU_MASK names */
  INVLPG_MULTI = 7,
}

/** update_va_mapping flags: what to flush after the entry is written. */
export const enum UvmFlags {
  NONE = 0,
  TLB_FLUSH = 1,
  INVLPG = 2,
}

/** sched_op(cmd, arg, arg2) */
export const enum SchedOp {
  /** give up the CPU; stay runnable (arg: the cycles a spinlock spun before yielding, 0 otherwise; counted in the statistics) */
  YIELD = 0,
  /** sleep until an event is pending (clears the upcall mask first, as a wake-up must not be lost) */
  BLOCK = 1,
  /** arg = ShutdownReason, arg2 = exit status (reported to the tools) */
  SHUTDOWN = 2,
}

export const enum ShutdownReason {
  POWEROFF = 0,
  REBOOT = 1,
  SUSPEND = 2,
  CRASH = 3,
  /** reported by dom0_op(GETDOMAININFO) only: the control domain destroyed it */
  DESTROYED = 4,
}

/**
 * dom0_op(cmd, domid, arg1, arg2, arg3): the control interface (Xen's dom0_op), refused with
 * EPERM unless the caller is the privileged domain (start_info FLAGS PRIVILEGED). Policy lives in
 * the control domain's tools; these are the mechanisms. Commands that act on a domain refuse the
 * caller itself (EINVAL) and an id that names no domain (ESRCH).
 */
export const enum Dom0Cmd {
  /** arg1 = a DomainInfo buffer, filled for the first domain whose id is >= domid; result: that id (ESRCH: none) */
  GETDOMAININFO = 0,
  /** stop scheduling the domain's vCPUs (its events still arrive and wait); EINVAL if not running */
  PAUSEDOMAIN = 1,
  /** schedule a paused domain again; EINVAL if not paused */
  UNPAUSEDOMAIN = 2,
  /** stop the domain for good and give back its memory */
  DESTROYDOMAIN = 3,
  /** arg1 = the scheduling weight (1..10000): its share of the CPU relative to the others (BVT); ENOSYS without a weighted scheduler */
  ADJUSTDOM = 4,
  /** arg1 = buffer, arg2 = bytes at most, arg3 = offset: copy the domain's console output from offset; result: bytes copied */
  READCONSOLE = 5,
}

/** DomainInfo.FLAGS */
export const enum DomainFlags {
  /** some vCPU is runnable or running */
  RUNNING = 1,
  /** every vCPU waits for an event */
  BLOCKED = 2,
  PAUSED = 4,
  /** stopped for good: SHUTDOWN_REASON and SHUTDOWN_STATUS say how */
  SHUTDOWN = 8,
  /** the control domain */
  PRIVILEGED = 16,
}

/** event_channel_op(cmd, op): op points at the command's struct (structs.ts Evtchn*). */
export const enum EvtchnCmd {
  ALLOC_UNBOUND = 0,
  BIND_INTERDOMAIN = 1,
  BIND_VIRQ = 2,
  CLOSE = 3,
  SEND = 4,
  STATUS = 5,
  UNMASK = 6,
  /** a port that notifies one of the caller's own vCPUs when the caller sends on it (an inter-processor interrupt) */
  BIND_IPI = 7,
  /** route a port's notifications to another vCPU of the caller's */
  BIND_VCPU = 8,
}

/** Port states reported by EvtchnCmd.STATUS. */
export const enum EvtchnState {
  CLOSED = 0,
  UNBOUND = 1,
  INTERDOMAIN = 2,
  VIRQ = 3,
  IPI = 4,
}

/** Virtual interrupts a domain can bind to a port. */
export const enum Virq {
  /** the timer set by set_timer_op or vcpu_op(SET_PERIODIC_TIMER) fired */
  TIMER = 0,
  DEBUG = 1,
  /** console input arrived (console_io READ has bytes) */
  CONSOLE = 2,
  /** the toolstack wrote a request in the shared-info page (SharedInfo.CONTROL_REQUEST) */
  CONTROL = 3,
  COUNT = 8,
}

/** Event-channel limits: 1,024 ports, in 32 selector words of 32 bits. */
export const enum EvtchnLimits {
  PORTS = 1024,
  WORDS = 32,
}

/** grant_table_op(cmd, ops, count): ops points at `count` structs of the command (structs.ts Gnt*). */
export const enum GnttabCmd {
  MAP_GRANT_REF = 0,
  UNMAP_GRANT_REF = 1,
  SETUP_TABLE = 2,
  QUERY_SIZE = 3,
  /** copy bytes between a granted page and one of the caller's own frames, or between two grants (GntCopy) */
  COPY = 4,
}

/** GntCopy FLAGS: which sides name a grant reference (else the caller's own machine frame). */
export const enum GntcopyFlags {
  SOURCE_GREF = 1,
  DEST_GREF = 2,
}

/** Grant entry flags (structs.ts GrantEntry.FLAGS, 16 bits). */
export const enum GrantFlags {
  /** type bits */
  TYPE_MASK = 3,
  INVALID = 0,
  /** the grantee may map the frame */
  PERMIT_ACCESS = 1,
  ACCEPT_TRANSFER = 2,
  /** the grantee may map it read-only only */
  READONLY = 4,
  /** set by the hypervisor while the grantee has it mapped read-only (or at all) */
  READING = 8,
  /** set by the hypervisor while the grantee has it mapped writable */
  WRITING = 16,
  /** ACCEPT_TRANSFER entries: set by the hypervisor once a frame was transferred (FRAME names it) */
  TRANSFER_COMPLETED = 32,
}

/** Flags of a map request (GntMap.FLAGS). */
export const enum GntmapFlags {
  /** give the caller the machine address (DEV_BUS_ADDR): for back ends */
  DEVICE_MAP = 1,
  /** write a page-table entry at HOST_ADDR in the caller's current address space */
  HOST_MAP = 2,
  READONLY = 4,
}

/** Grant-table limits. */
export const enum GrantLimits {
  /** entries per grant-table frame (GrantEntry.BYTES each) */
  ENTRIES_PER_FRAME = 512,
  MAX_FRAMES = 4,
  /** references 0..RESERVED-1 are set up by the domain builder's protocol (RESERVED_BLKIF_RING) */
  RESERVED = 8,
  /** the reference the block front end grants its ring page under */
  RESERVED_BLKIF_RING = 0,
  /** the references the network front end grants its transmit and receive ring pages under */
  RESERVED_NETIF_TX_RING = 1,
  RESERVED_NETIF_RX_RING = 2,
}

/** console_io(cmd, count, buf) */
export const enum ConsoleCmd {
  WRITE = 0,
  /** non-blocking: the bytes read (0 when none are waiting); VIRQ CONSOLE says when input came */
  READ = 1,
}

/** vcpu_op(cmd, vcpu, arg) */
export const enum VcpuCmd {
  /** result 1 if the vCPU exists and is not down */
  IS_UP = 0,
  /** copy a VcpuRunstate struct to arg */
  GET_RUNSTATE_INFO = 1,
  /** arg = period in nanoseconds: VIRQ TIMER fires every period (0 stops it) */
  SET_PERIODIC_TIMER = 2,
  STOP_PERIODIC_TIMER = 3,
  /** arg points at a VcpuGuestContext: the state a down vCPU starts in (it must never have run) */
  INITIALISE = 4,
  /** an initialised, down vCPU starts running (result 0; EINVAL if it was never initialised) */
  UP = 5,
  /** the vCPU stops running until UP (its registers are kept); a vCPU may take itself down */
  DOWN = 6,
}

/** Run states in VcpuRunstate.STATE and the TIME array's order. */
export const enum RunState {
  RUNNING = 0,
  RUNNABLE = 1,
  BLOCKED = 2,
  OFFLINE = 3,
}

/** memory_op(cmd, arg): arg points at a MemoryReservation (except for the query commands). */
export const enum MemoryCmd {
  /** result: extents added (frames appended to EXTENT_START's array) */
  INCREASE_RESERVATION = 0,
  /** result: extents released (the frames listed at EXTENT_START) */
  DECREASE_RESERVATION = 1,
  /** result: frames the domain owns now */
  CURRENT_RESERVATION = 2,
  /** result: the domain's quota in frames */
  MAXIMUM_RESERVATION = 3,
}

/** Domain identifiers with a meaning of their own. */
export const enum DomId {
  /** the hypervisor-resident back ends (block, console): the grantee of a front end's pages */
  BACKEND = 0,
  /** the caller itself (event channels, grant setup, reservations) */
  SELF = 0x7ff0,
}

/** Bits of a trap-table entry's FLAGS (structs.ts TrapInfo). */
export const enum TrapFlags {
  /** the lowest ring allowed to raise the vector with INT n (0..3) */
  DPL_MASK = 3,
  /** set the upcall mask on entry (an interrupt gate's IF = 0) */
  MASK_EVENTS = 4,
}

/** The vector an event upcall arrives with in its frame (no hardware vector uses it). */
export const enum Upcall {
  VECTOR = 0xf0,
}

/**
 * The top 4 MiB of every address space (page-directory entry 1023) belongs to the hypervisor,
 * as early Xen reserved the top 64 MB: the guest cannot write that directory entry. It holds the
 * real IDT (so INT 0x80 reaches the guest without a hypervisor entry) and the read-only
 * machine-to-physical table.
 */
export const enum HvLayout {
  BASE = 0xffc00000,
  /** page-directory index of BASE */
  PDE = 1023,
  /** the interrupt descriptor table the CPU uses while the domain runs */
  IDT = 0xffc00000,
  /** u32 per machine frame: its pseudo-physical frame number in its owner, or -1 */
  M2P = 0xffc10000,
  /**
   * u32, read-only: the number of the vCPU running now, written by the hypervisor at every world
   * switch (the upper half of the IDT's page: the IDT is 256 gates of 8 bytes). A kernel finds
   * its own vcpu_info and per-CPU data from it, as x86 Linux does from its per-CPU segment.
   */
  VCPU_ID = 0xffc00800,
  /**
   * u32 per vCPU (SharedInfo.MAX_VCPUS of them), read-only: each vCPU's RunState as the
   * hypervisor keeps it - RUNNING while it has its physical CPU, RUNNABLE while it waits for it
   * (preempted), BLOCKED, OFFLINE - Xen's vcpu_runstate_info.state, which a Linux guest reads from
   * its registered runstate area to tell a preempted lock holder (vcpu_is_preempted). Kept true
   * whenever a vCPU of the domain runs; the same page as VCPU_ID.
   */
  VCPU_RUNSTATE = 0xffc00810,
  /** the largest machine this layout serves: 2 GiB (M2P's 2 MiB fits below the 4 MiB top) */
  MAX_MACHINE_FRAMES = 524288,
}
