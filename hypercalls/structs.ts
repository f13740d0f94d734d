// Struct layouts of the PV interface as byte offsets (`const enum`s, the guest subset's structs):
// hypercall argument structs, the start_info and shared_info pages, grant entries and the block
// device's ring messages. All fields are little-endian u32 unless a comment says otherwise; 64-bit
// times are two words, low first. The one definition, imported by guests and the hypervisor.
// Guest-subset code; imports nothing. Semantics: docs/hypercalls.md.

/** One set_trap_table entry; the table ends at an entry whose ADDRESS is 0 (at most 256 entries). */
export const enum TrapInfo {
  VECTOR = 0,
  /** numbers.ts TrapFlags: DPL for INT n, MASK_EVENTS */
  FLAGS = 4,
  /** the ring the handler runs at: 1 (the guest kernel); 0 is refused */
  RING = 8,
  /** handler address (guest virtual) */
  ADDRESS = 12,
  BYTES = 16,
  MAX_ENTRIES = 256,
}

/** One mmu_update request. PTR's low two bits are the command (numbers.ts MmuCmd). */
export const enum MmuUpdate {
  PTR = 0,
  VAL = 4,
  BYTES = 8,
  /** most requests one call takes */
  MAX_BATCH = 1024,
}

/** One mmuext_op request. */
export const enum MmuextOp {
  /** numbers.ts MmuextCmd */
  CMD = 0,
  /** machine frame number, or virtual address for INVLPG_LOCAL */
  ARG = 4,
  BYTES = 8,
  MAX_BATCH = 256,
}

/** What TLB_FLUSH_MULTI and INVLPG_MULTI name (their ARG points at one). */
export const enum MmuextTargets {
  /** bit k = vCPU k of the caller's domain (at least one, every one existing) */
  VCPU_MASK = 0,
  /** INVLPG_MULTI: the virtual address whose translation goes */
  VA = 4,
  BYTES = 8,
}

/** One multicall entry: OP with ARG1..ARG5; the hypervisor stores the call's result in RESULT. */
export const enum MulticallEntry {
  OP = 0,
  RESULT = 4,
  ARG1 = 8,
  ARG2 = 12,
  ARG3 = 16,
  ARG4 = 20,
  ARG5 = 24,
  BYTES = 28,
  MAX_BATCH = 64,
}

// ---- event_channel_op arguments (numbers.ts EvtchnCmd) ----

export const enum EvtchnAllocUnbound {
  /** DomId.SELF */
  DOM = 0,
  /** the only domain allowed to bind the new port */
  REMOTE_DOM = 4,
  /** out: the new port */
  PORT = 8,
  BYTES = 12,
}

export const enum EvtchnBindInterdomain {
  REMOTE_DOM = 0,
  /** an unbound port of REMOTE_DOM allocated for the caller */
  REMOTE_PORT = 4,
  /** out */
  LOCAL_PORT = 8,
  BYTES = 12,
}

export const enum EvtchnBindVirq {
  /** numbers.ts Virq */
  VIRQ = 0,
  VCPU = 4,
  /** out */
  PORT = 8,
  BYTES = 12,
}

export const enum EvtchnBindIpi {
  /** the vCPU the port notifies */
  VCPU = 0,
  /** out */
  PORT = 4,
  BYTES = 8,
}

export const enum EvtchnBindVcpu {
  PORT = 0,
  /** the vCPU its notifications go to from now on */
  VCPU = 4,
  BYTES = 8,
}

/** CLOSE, SEND and UNMASK take just a port. */
export const enum EvtchnPort {
  PORT = 0,
  BYTES = 4,
}

export const enum EvtchnStatus {
  /** DomId.SELF */
  DOM = 0,
  PORT = 4,
  /** out: numbers.ts EvtchnState */
  STATUS = 8,
  /** out */
  VCPU = 12,
  /** out: the remote domain (UNBOUND, INTERDOMAIN) or the VIRQ (VIRQ) */
  REMOTE_DOM = 16,
  /** out: the remote port (INTERDOMAIN) */
  REMOTE_PORT = 20,
  BYTES = 24,
}

// ---- grant tables ----

/** One grant-table entry, written by the granting guest (the hypervisor sets READING/WRITING). */
export const enum GrantEntry {
  /** u16, numbers.ts GrantFlags */
  FLAGS = 0,
  /** u16: the domain allowed to map the frame */
  DOMID = 2,
  /** machine frame number of the granted page */
  FRAME = 4,
  BYTES = 8,
}

export const enum GntMap {
  /** where to map (HOST_MAP): a virtual address of the caller whose page-table entry is not present */
  HOST_ADDR = 0,
  /** numbers.ts GntmapFlags */
  FLAGS = 4,
  REF = 8,
  /** the granting domain */
  DOM = 12,
  /** out: 0 or an HcErr */
  STATUS = 16,
  /** out: pass to UNMAP_GRANT_REF */
  HANDLE = 20,
  /** out (DEVICE_MAP): the machine address of the frame */
  DEV_BUS_ADDR = 24,
  BYTES = 28,
}

export const enum GntUnmap {
  HOST_ADDR = 0,
  DEV_BUS_ADDR = 4,
  HANDLE = 8,
  /** out */
  STATUS = 12,
  BYTES = 16,
}

/** One grant copy (GnttabCmd.COPY): LEN bytes from the source side to the destination side. */
export const enum GntCopy {
  /** a grant reference of SRC_DOM (GntcopyFlags.SOURCE_GREF), else a machine frame of the caller */
  SRC_REF = 0,
  SRC_DOM = 4,
  SRC_OFFSET = 8,
  DST_REF = 12,
  DST_DOM = 16,
  DST_OFFSET = 20,
  LEN = 24,
  /** numbers.ts GntcopyFlags */
  FLAGS = 28,
  /** out: 0 or an HcErr */
  STATUS = 32,
  BYTES = 36,
}

export const enum GntSetup {
  /** DomId.SELF */
  DOM = 0,
  /** 1..GrantLimits.MAX_FRAMES */
  NR_FRAMES = 4,
  /** out */
  STATUS = 8,
  /** where to write NR_FRAMES machine frame numbers (guest virtual, u32 each) */
  FRAME_LIST = 12,
  BYTES = 16,
}

export const enum GntQuery {
  DOM = 0,
  /** out */
  NR_FRAMES = 4,
  /** out */
  MAX_NR_FRAMES = 8,
  /** out */
  STATUS = 12,
  BYTES = 16,
}

// ---- memory_op, vcpu_op ----

export const enum MemoryReservation {
  /** guest virtual address of a u32 array of machine frame numbers (out for INCREASE, in for DECREASE) */
  EXTENT_START = 0,
  NR_EXTENTS = 4,
  /** must be 0: single frames */
  EXTENT_ORDER = 8,
  /** DomId.SELF */
  DOMID = 12,
  BYTES = 16,
}

export const enum VcpuRunstate {
  /** numbers.ts RunState */
  STATE = 0,
  /** ns of system time when STATE was entered (u64) */
  STATE_ENTRY_TIME = 8,
  /** ns spent in each RunState (4 x u64, in RunState order) */
  TIME = 16,
  BYTES = 48,
}

/**
 * VCPUOP_INITIALISE's argument: the state a secondary vCPU starts in (ring 1, paging on, events
 * masked). Trap table and callbacks are the domain's (set_trap_table applies to every vCPU).
 */
export const enum VcpuGuestContext {
  /** where it starts (below the hypervisor's range) */
  PC = 0,
  /** its stack pointer (r15; word-aligned, below the hypervisor's range) */
  SP = 4,
  /** r1 at entry (an argument for the entry code) */
  ARG = 8,
  /** machine frame of its page directory: a pinned L2 table of the caller's (NEW_BASEPTR's rules) */
  BASEPTR = 12,
  /** its ring-1 stack for traps from ring 3 (stack_switch's rules; 0 = none yet) */
  KERNEL_SP = 16,
  BYTES = 20,
}

// ---- dom0_op ----

/** What dom0_op(GETDOMAININFO) reports about a domain. */
export const enum DomainInfo {
  DOMID = 0,
  /** numbers.ts DomainFlags */
  FLAGS = 4,
  /** frames it owns now, and its quota */
  NR_PAGES = 8,
  MAX_PAGES = 12,
  /** cycles its vCPUs have run (u64) */
  CPU_CYCLES = 16,
  NR_VCPUS = 24,
  /** numbers.ts ShutdownReason, and the exit status (when FLAGS has SHUTDOWN) */
  SHUTDOWN_REASON = 28,
  SHUTDOWN_STATUS = 32,
  /** its scheduling weight (0: the scheduler has no weights) */
  WEIGHT = 36,
  /** bytes of console output so far (what READCONSOLE can read) */
  CONSOLE_BYTES = 40,
  BYTES = 44,
}

// ---- the start_info page ----

/**
 * What the domain builder tells a PV kernel at entry (r1 = this page's virtual address). The
 * initial virtual layout and the entry registers are in docs/hypercalls.md "Booting a PV domain".
 */
export const enum StartInfo {
  /** StartInfoMagic.VALUE */
  MAGIC = 0,
  VERSION = 4,
  /** pages of memory the domain owns at entry (its pseudo-physical frames 0..NR_PAGES-1) */
  NR_PAGES = 8,
  /** virtual address where the shared-info page is mapped */
  SHARED_INFO = 12,
  /** its machine frame number */
  SHARED_INFO_MFN = 16,
  /** StartFlags */
  FLAGS = 20,
  DOMID = 24,
  /** a port bound to the console back end: notifications on the console ring, both ways */
  CONSOLE_EVTCHN = 28,
  /** virtual address of the bootstrap page directory (pinned, mapped read-only) */
  PT_BASE = 32,
  /** number of bootstrap page-table frames (the directory and its tables), from PT_FIRST_PFN on */
  NR_PT_FRAMES = 36,
  PT_FIRST_PFN = 40,
  /** virtual address of the physical-to-machine table: u32 machine frame per pseudo-physical frame */
  MFN_LIST = 44,
  /** virtual address and length in bytes of the initrd (length 0: none) */
  MOD_START = 48,
  MOD_LEN = 52,
  /** first pseudo-physical frame the bootstrap layout does not use */
  FIRST_FREE_PFN = 56,
  /** a port bound to the hypervisor's block back end, or -1 without a disk */
  BLK_EVTCHN = 60,
  /** the disk's size in 512-byte sectors */
  BLK_SECTORS = 64,
  /** a port bound to the hypervisor's network back end (both rings), or -1 without a network */
  NET_EVTCHN = 76,
  /** the interface's station address: bytes 0-1 (big-endian) and 2-5 (big-endian) */
  NET_MAC_HI = 80,
  NET_MAC_LO = 84,
  /** NetRxMode: how the back end delivers received frames (the front end grants its buffers to match) */
  NET_RX_MODE = 88,
  /** the interface's IPv4 address (a.b.c.d = a << 24 | ...), or 0 for the default 10.0.2.15 */
  NET_IP = 92,
  /** the CPU clock (MHz), for converting cycles to system time */
  CPU_MHZ = 68,
  /** the domain's vCPUs (0 starts at the entry point; the others are down until VCPUOP_INITIALISE and UP) */
  NR_VCPUS = 96,
  /** machine frame of the console ring page (ConsoleRing), one of the domain's own frames */
  CONSOLE_MFN = 72,
  /** the NUL-terminated command line */
  CMDLINE = 128,
  CMDLINE_BYTES = 1024,
  BYTES = 1152,
}

/**
 * Fixed places of the bootstrap layout (docs/hypercalls.md "Booting a PV domain"), so a kernel
 * finds them without registers: start_info at pseudo-physical frame 1, and the shared-info page
 * mapped at the next page (in place of frame 2).
 */
export const enum BootLayout {
  START_INFO = 0x1000,
  SHARED_INFO = 0x2000,
  /** the console ring page (start_info CONSOLE_MFN names its machine frame) */
  CONSOLE_RING = 0x4000,
  /** kernel segments start at or above this */
  KERNEL_MIN = 0x10000,
}

export const enum StartInfoMagic {
  /** "XLSI" */
  VALUE = 0x49534c58,
  VERSION = 1,
}

export const enum StartFlags {
  /** the control domain: may use dom0_op */
  PRIVILEGED = 1,
  INITDOMAIN = 2,
}

// ---- the console ring ----

/**
 * The console's shared page (Xen's console interface shape): an input ring the back end fills
 * and an output ring the guest fills, bytes with free-running indices masked by the ring's size
 * (a power of two). A producer publishes bytes before their index. The two event indices give
 * the generic ring's notification hold-off (hypercalls/ring.ts): after moving its producer index
 * from old to new, a producer notifies only if (new - event) < (new - old), unsigned; a consumer
 * that has caught up sets event = consumed + 1 and looks once more. Notifications go through the
 * port in start_info CONSOLE_EVTCHN, both ways.
 */
export const enum ConsoleRing {
  /** input bytes, written by the back end */
  IN = 0,
  IN_BYTES = 1024,
  /** output bytes, written by the guest */
  OUT = 1024,
  OUT_BYTES = 2048,
  IN_CONS = 3072,
  IN_PROD = 3076,
  OUT_CONS = 3080,
  OUT_PROD = 3084,
  /** the guest wants a notification when IN_PROD passes this */
  IN_EVENT = 3088,
  /** the back end wants a notification when OUT_PROD passes this */
  OUT_EVENT = 3092,
  BYTES = 3096,
}

// ---- the shared_info page ----

/**
 * One page shared by the hypervisor and the domain: per-vCPU event state and time, the 1,024-port
 * pending and mask bitmaps, the wall clock.
 */
export const enum SharedInfo {
  /** VcpuInfo slots, VcpuInfo.BYTES apart */
  VCPU_INFO = 0,
  MAX_VCPUS = 4,
  /** 1,024 bits (128 bytes): set by the hypervisor, cleared by the guest */
  EVTCHN_PENDING = 256,
  /** 1,024 bits: written only by the guest; a masked port never causes an upcall */
  EVTCHN_MASK = 384,
  /** odd while the hypervisor updates the wall clock */
  WC_VERSION = 512,
  /** wall-clock time at system time 0: seconds and nanoseconds */
  WC_SEC = 516,
  WC_NSEC = 520,
  /**
   * A request of the toolstack (ControlRequest), written by the hypervisor before it raises
   * VIRQ_CONTROL; the guest reads it, writes 0 and acts (Xen's control/shutdown xenstore key)
   */
  CONTROL_REQUEST = 524,
  /** the balloon's target: pages the toolstack wants the domain to hold (ControlRequest.MEMORY) */
  MEMORY_TARGET = 528,
  BYTES = 532,
}

/** SharedInfo.CONTROL_REQUEST values. */
export const enum ControlRequest {
  NONE = 0,
  /** shut down: the guest powers off (sched_op SHUTDOWN, POWEROFF) */
  POWEROFF = 1,
  /** reboot: the guest stops with sched_op SHUTDOWN, REBOOT and the toolstack applies on_reboot */
  REBOOT = 2,
  /** a new balloon target in MEMORY_TARGET */
  MEMORY = 3,
}

/** A vCPU's slot in the shared-info page. */
export const enum VcpuInfo {
  /** u8: an event is waiting; the guest clears it before scanning the selector */
  UPCALL_PENDING = 0,
  /** u8: the virtual interrupt flag, inverted: 1 = no upcalls (the guest writes it freely) */
  UPCALL_MASK = 1,
  /** u32: bit k set = some port in word k of EVTCHN_PENDING may be pending */
  PENDING_SEL = 4,
  /** the address of the last page fault bounced to the guest (the virtual CR2) */
  CR2 = 8,
  /** VcpuTime */
  TIME = 16,
  BYTES = 64,
}

/**
 * vcpu_time_info: system time (ns since the domain was built) at a TSC stamp, and the scale.
 * The guest computes now = SYSTEM_TIME + ((rdtsc - TSC_TIMESTAMP) << TSC_SHIFT) * TSC_TO_SYSTEM_MUL / 2^32,
 * retrying if VERSION is odd or changed while it read.
 */
export const enum VcpuTime {
  VERSION = 0,
  TSC_TIMESTAMP = 8,
  SYSTEM_TIME = 16,
  TSC_TO_SYSTEM_MUL = 24,
  TSC_SHIFT = 28,
  BYTES = 32,
}

// ---- the block device's ring messages (blkif) ----

export const enum BlkifOp {
  READ = 0,
  WRITE = 1,
}

/** A block request: up to MAX_SEGMENTS granted pages, each a run of 512-byte sectors within its page. */
export const enum BlkifReq {
  /** BlkifOp */
  OPERATION = 0,
  NR_SEGMENTS = 4,
  /** echoed in the response (responses may complete out of order) */
  ID = 8,
  /** first disk sector */
  SECTOR = 12,
  /** BlkifSeg[MAX_SEGMENTS] */
  SEG = 16,
  MAX_SEGMENTS = 4,
  BYTES = 64,
}

export const enum BlkifSeg {
  /** a grant reference of the front end's domain, granted to DomId.BACKEND */
  GREF = 0,
  /** first and last 512-byte sector within the page (0..7) */
  FIRST_SECT = 4,
  LAST_SECT = 8,
  BYTES = 12,
}

export const enum BlkifRsp {
  ID = 0,
  OPERATION = 4,
  /** BlkifStatus */
  STATUS = 8,
  BYTES = 12,
}

export const enum BlkifStatus {
  OKAY = 0,
  ERROR = -1,
}

/** The block ring: a shared page of ring.ts RingHeader plus SLOTS slots of SLOT_BYTES. */
export const enum BlkifRing {
  SLOT_BYTES = 64,
  SLOTS = 32,
  SECTOR_BYTES = 512,
}

// ---- the network interface's rings (netfront/netback) -----------------------------------------

/** How received frames reach the front end. */
export const enum NetRxMode {
  /** the back end copies each frame into a page the front end granted writable (GNTTABOP_copy) */
  COPY = 0,
  /** the back end transfers a fresh frame holding the packet into an ACCEPT_TRANSFER entry (page flipping, Xen 1.x/2.0) */
  FLIP = 1,
}

/** A transmit request: SIZE bytes at OFFSET of the page granted (read-only is enough) under GREF. */
export const enum NetifTxReq {
  GREF = 0,
  OFFSET = 4,
  SIZE = 8,
  /** echoed in the response */
  ID = 12,
  BYTES = 16,
}

export const enum NetifTxRsp {
  ID = 0,
  /** NetifStatus */
  STATUS = 4,
  BYTES = 8,
}

/** A receive buffer: a page granted writable (COPY) or an ACCEPT_TRANSFER entry (FLIP), under GREF. */
export const enum NetifRxReq {
  ID = 0,
  GREF = 4,
  BYTES = 8,
}

export const enum NetifRxRsp {
  ID = 0,
  /** where the frame starts in the page */
  OFFSET = 4,
  /** the frame's length, or a negative NetifStatus */
  STATUS = 8,
  BYTES = 12,
}

export const enum NetifStatus {
  OKAY = 0,
  ERROR = -1,
}

/** Each of the two ring pages: ring.ts RingHeader plus SLOTS slots of SLOT_BYTES; the back end's counters at STATS of the receive ring's page. */
export const enum NetifRing {
  SLOT_BYTES = 16,
  SLOTS = 16,
  /** u32 counters, indexed like the NIC's (machine/devices/ports.ts NIC_STAT_*), written by the back end */
  STATS = 2048,
  STAT_COUNT = 8,
  /** the largest frame either way (an Ethernet frame without its checksum) */
  MTU_FRAME = 1514,
  MIN_FRAME = 14,
}
