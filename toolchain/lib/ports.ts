// The XL32 port map as guest code sees it: `const enum` copies of the constants in
// machine/devices/ports.ts, because guest modules may import only 'xl32' and other guest modules.
// Guest code (the TypeScript subset); imports nothing. test/toolchain/guest-ports.test.ts checks
// every member against machine/devices/ports.ts, so that file stays the one definition.

/** I/O port numbers (member names are the machine constants' names). */
export const enum Port {
  PIC_CMD = 0x20,
  PIC_MASK = 0x21,
  PIC_BASE = 0x22,
  PIC_STATUS = 0x23,
  TIMER_PERIOD = 0x40,
  TIMER_CONTROL = 0x41,
  TIMER_COUNT = 0x42,
  TIMER_TICKS = 0x43,
  UART_DATA = 0x3f8,
  UART_IER = 0x3f9,
  UART_IIR = 0x3fa,
  UART_LSR = 0x3fd,
  BLK_SECTOR = 0x1f0,
  BLK_COUNT = 0x1f1,
  BLK_ADDR = 0x1f2,
  BLK_COMMAND = 0x1f3,
  BLK_STATUS = 0x1f4,
  BLK_COMPLETE = 0x1f5,
  BLK_CAPACITY = 0x1f6,
  NIC_TX_ADDR = 0x300,
  NIC_TX_LEN = 0x301,
  NIC_TX_CMD = 0x302,
  NIC_RX_ADDR = 0x303,
  NIC_RX_CAP = 0x304,
  NIC_RX_CMD = 0x305,
  NIC_RX_LEN = 0x306,
  NIC_ISR = 0x307,
  NIC_MAC = 0x308,
  SYS_POWEROFF = 0x501,
}

/** Register bits and command values written to or read from those ports. */
export const enum PortBits {
  PIC_EOI = 0x20,
  TIMER_ENABLE = 0x1,
  TIMER_PERIODIC = 0x2,
  UART_IER_RX = 0x1,
  UART_IER_TX = 0x2,
  UART_LSR_DR = 0x1,
  UART_LSR_THRE = 0x20,
  UART_LSR_TEMT = 0x40,
  BLK_CMD_READ = 1,
  BLK_CMD_WRITE = 2,
  BLK_OK = 1,
  BLK_ERROR = 2,
  BLK_QUEUE_DEPTH = 8,
  SECTOR_BYTES = 512,
  NIC_GO = 1,
  NIC_ISR_TX = 0x1,
  NIC_ISR_RX = 0x2,
  NIC_ISR_DROP = 0x4,
  NIC_MTU = 1514,
}

/** Interrupt-controller lines (machine/devices/ports.ts `Irq`). */
export const enum IrqLine {
  Timer = 0,
  Uart = 4,
  Nic = 11,
  Block = 14,
}
