// The XL32 platform's I/O port map and device register layouts: the one definition shared by the
// device models, the assembler demos, the guest kernel's native drivers and the hypervisor's
// device model. Pure constants; imports nothing.

/** Interrupt-controller lines. */
export const enum Irq {
  Timer = 0,
  Uart = 4,
  Nic = 11,
  Block = 14,
}

/**
 * Interrupt controller (8259-like, one chip, 16 lines, fully nested priorities: line 0 is the
 * highest). An unmasked requested line is delivered only when it has higher priority than every
 * line in service. Delivery (CPU acknowledge) moves the line from requested to in service.
 *   PIC_CMD    write PIC_EOI: end of interrupt for the highest-priority line in service
 *   PIC_MASK   read/write: bit n set = line n masked (reset value 0xffff: all masked)
 *   PIC_BASE   read/write: vector of line 0 (reset value 32)
 *   PIC_STATUS read: requested lines in bits 0..15, in-service lines in bits 16..31
 */
export const PIC_CMD = 0x20;
export const PIC_MASK = 0x21;
export const PIC_BASE = 0x22;
export const PIC_STATUS = 0x23;
export const PIC_EOI = 0x20;

/**
 * Timer, counting CPU cycles (IRQ 0).
 *   TIMER_PERIOD  read/write: cycles between expirations (takes effect when CONTROL is written)
 *   TIMER_CONTROL read/write: bit 0 enable, bit 1 periodic (else one-shot); writing re-arms
 *                 the timer to expire PERIOD cycles from now
 *   TIMER_COUNT   read: cycles left until the next expiration (0 when disabled)
 *   TIMER_TICKS   read: expirations so far
 */
export const TIMER_PERIOD = 0x40;
export const TIMER_CONTROL = 0x41;
export const TIMER_COUNT = 0x42;
export const TIMER_TICKS = 0x43;
export const TIMER_ENABLE = 1 << 0;
export const TIMER_PERIODIC = 1 << 1;

/**
 * UART console (16550-like subset, IRQ 4).
 *   UART_DATA read: pop the next received byte (0 if none); write: transmit a byte
 *   UART_IER  read/write: bit 0 interrupt on received data, bit 1 interrupt when the
 *             transmitter is empty
 *   UART_IIR  read: 1 = no interrupt pending, 4 = received data, 2 = transmitter empty
 *   UART_LSR  read: bit 0 data ready, bit 5 transmit holding register empty, bit 6 idle
 */
export const UART_DATA = 0x3f8;
export const UART_IER = 0x3f9;
export const UART_IIR = 0x3fa;
export const UART_LSR = 0x3fd;
export const UART_IER_RX = 1 << 0;
export const UART_IER_TX = 1 << 1;
export const UART_LSR_DR = 1 << 0;
export const UART_LSR_THRE = 1 << 5;
export const UART_LSR_TEMT = 1 << 6;

/**
 * Block device (IRQ 14): 512-byte sectors moved by DMA to or from physical memory, with a
 * queue of up to BLK_QUEUE_DEPTH requests in flight, completed in order of submission.
 *   BLK_SECTOR   write: first sector of the next request
 *   BLK_COUNT    write: number of sectors of the next request
 *   BLK_ADDR     write: physical memory address of the next request's buffer
 *   BLK_COMMAND  write: submit: bits 0..7 command (BLK_CMD_*), bits 8..15 a tag the driver chooses
 *   BLK_STATUS   read: bit 0 queue full, bit 1 the last submission was refused,
 *                bits 8..15 requests in flight, bits 16..23 completions waiting
 *   BLK_COMPLETE read: pop one completion: tag in bits 0..7, result in bits 8..15
 *                (BLK_OK or BLK_ERROR); 0xffffffff when none is waiting
 *   BLK_CAPACITY read: capacity in sectors
 * The line is raised when a completion is queued; the driver pops completions until none is left.
 */
export const BLK_SECTOR = 0x1f0;
export const BLK_COUNT = 0x1f1;
export const BLK_ADDR = 0x1f2;
export const BLK_COMMAND = 0x1f3;
export const BLK_STATUS = 0x1f4;
export const BLK_COMPLETE = 0x1f5;
export const BLK_CAPACITY = 0x1f6;
export const BLK_CMD_READ = 1;
export const BLK_CMD_WRITE = 2;
export const BLK_OK = 1;
export const BLK_ERROR = 2;
export const BLK_QUEUE_DEPTH = 8;
export const SECTOR_BYTES = 512;

/**
 * NIC (IRQ 11), programmed as real NICs are (an e1000-like subset): two rings of descriptors in
 * guest memory, one for transmit and one for receive, each with a base, a size, a head the device
 * advances and a tail the driver advances. Descriptors [HEAD, TAIL) belong to the device; the
 * driver keeps one slot unused so that HEAD = TAIL always means empty. Indices count modulo SIZE.
 *   NIC_CTRL     read/write: bit 0 NIC_CTRL_ENABLE. Any write resets both rings' heads and tails
 *                to 0 (program the bases and sizes first)
 *   NIC_TX_BASE  read/write: physical address of the transmit ring (NIC_DESC_BYTES a descriptor)
 *   NIC_TX_SIZE  read/write: descriptors in the transmit ring, 1..NIC_RING_MAX (0: no ring)
 *   NIC_TX_TAIL  read/write: the driver's producer index; writing it sends every descriptor in
 *                [HEAD, TAIL) at once, in order, each marked done (or error) in its STATUS word
 *   NIC_TX_HEAD  read: the device's consumer index
 *   NIC_RX_BASE, NIC_RX_SIZE, NIC_RX_TAIL, NIC_RX_HEAD: the same for the receive ring, whose
 *                descriptors [HEAD, TAIL) are empty buffers posted by the driver; each incoming
 *                frame fills the one at HEAD and advances it
 *   NIC_ISR      read: causes since the last read, cleared by reading: NIC_ISR_TX, NIC_ISR_RX,
 *                NIC_ISR_DROP (a frame was dropped: ring full, malformed, or a bad buffer)
 *   NIC_IMR      read/write: the causes that raise the line (reset 0: none)
 *   NIC_MAC_LO   read: station address bytes 2..5 (the last four; big-endian, as on the wire)
 *   NIC_MAC_HI   read: station address bytes 0..1 in bits 8..15 and 0..7
 *   NIC_STAT_SEL write: select a counter (NIC_STAT_*); NIC_STAT read: the selected counter
 *   NIC_IP       read: the IPv4 address the host configured for this interface (big-endian, as
 *                on the wire; 0: none, the guest's own default), as a bootloader's or DHCP
 *                server's answer would give it: how domains on one bridge get distinct addresses
 * Descriptor (NIC_DESC_BYTES, little-endian words): +0 buffer physical address; +4 TX: frame
 * length, RX: buffer capacity; +8 STATUS written by the device (NIC_DESC_DONE, NIC_DESC_ERROR);
 * +12 RX: length of the frame received.
 */
export const NIC_CTRL = 0x300;
export const NIC_TX_BASE = 0x301;
export const NIC_TX_SIZE = 0x302;
export const NIC_TX_TAIL = 0x303;
export const NIC_TX_HEAD = 0x304;
export const NIC_RX_BASE = 0x305;
export const NIC_RX_SIZE = 0x306;
export const NIC_RX_TAIL = 0x307;
export const NIC_RX_HEAD = 0x308;
export const NIC_ISR = 0x309;
export const NIC_IMR = 0x30a;
export const NIC_MAC_LO = 0x30b;
export const NIC_MAC_HI = 0x30c;
export const NIC_STAT_SEL = 0x30d;
export const NIC_STAT = 0x30e;
export const NIC_IP = 0x30f;
export const NIC_CTRL_ENABLE = 1;
export const NIC_ISR_TX = 1 << 0;
export const NIC_ISR_RX = 1 << 1;
export const NIC_ISR_DROP = 1 << 2;
/** largest frame (Ethernet header + 1500 bytes of payload, no FCS) */
export const NIC_MTU = 1514;
/** smallest frame the device accepts (an Ethernet header) */
export const NIC_MIN_FRAME = 14;
export const NIC_RING_MAX = 256;
export const NIC_DESC_BYTES = 16;
export const NIC_DESC_ADDR = 0;
export const NIC_DESC_LEN = 4;
export const NIC_DESC_STATUS = 8;
export const NIC_DESC_RXLEN = 12;
export const NIC_DESC_DONE = 1;
export const NIC_DESC_ERROR = 2;
/** counters NIC_STAT_SEL selects */
export const NIC_STAT_TX_FRAMES = 0;
export const NIC_STAT_TX_BYTES = 1;
export const NIC_STAT_TX_ERRORS = 2;
export const NIC_STAT_RX_FRAMES = 3;
export const NIC_STAT_RX_BYTES = 4;
/** frames dropped because no receive buffer was posted (the ring was full) or the NIC was off */
export const NIC_STAT_RX_NO_BUFFER = 5;
/** frames dropped as shorter than a header or longer than NIC_MTU */
export const NIC_STAT_RX_MALFORMED = 6;
/** frames dropped for a bad descriptor or buffer: outside memory, or too small for the frame */
export const NIC_STAT_RX_ERRORS = 7;
export const NIC_STAT_COUNT = 8;

/**
 * System control: SYS_POWEROFF write: power the machine off; the written value is the exit status
 * reported to the host (like QEMU's isa-debug-exit).
 */
export const SYS_POWEROFF = 0x501;

/*
 * Local interrupt controllers (machine/devices/lapic.ts), present only on a machine with more than
 * one CPU (a uniprocessor reads all ones here, as from any unmapped port). Every CPU sees its own
 * controller at the same ports. LAPIC_ICR: bits 0..7 vector, bits 8..15 destination CPU, or
 * LAPIC_ICR_ALL_BUT_SELF for every other CPU. LAPIC_TIMER_CONTROL: bits 0..7 vector, then the
 * enable and periodic bits; the period (cycles) is latched by the CONTROL write. LAPIC_START
 * (write a CPU number) starts a CPU still waiting since power-on at LAPIC_START_PC with
 * sp = LAPIC_START_SP (CPL 0, paging off, IF 0: the state CPU 0 boots in), INIT-SIPI's role.
 */
export const LAPIC_ID = 0x600;
export const LAPIC_CPUS = 0x601;
export const LAPIC_EOI = 0x602;
export const LAPIC_ICR = 0x603;
export const LAPIC_TIMER_PERIOD = 0x604;
export const LAPIC_TIMER_CONTROL = 0x605;
export const LAPIC_START_PC = 0x606;
export const LAPIC_START_SP = 0x607;
export const LAPIC_START = 0x608;
export const LAPIC_ONLINE = 0x609;
export const LAPIC_ICR_ALL_BUT_SELF = 1 << 16;
export const LAPIC_TIMER_ENABLE = 1 << 8;
export const LAPIC_TIMER_PERIODIC = 1 << 9;
