// arch/native network driver: the XL32 NIC's transmit and receive descriptor rings (docs/isa.md,
// machine/devices/ports.ts), each descriptor with its own fixed 2 KiB buffer, all in the kernel's
// static data. The kernel's low memory is identity-mapped (kernel/memlayout.ts), so a static
// buffer's address is also its physical address: the device DMAs straight into it.
// Guest code (the TypeScript subset); runs at ring 0, called through pvops (NET_*).

import { in32, out32, load32, store32, load8, store8, staticBuffer } from 'xl32';
import { Port, PortBits } from '../../../toolchain/lib/ports.ts';

const enum Ring {
  /** descriptors per ring (a power of two; one slot of each stays unused) */
  SIZE = 16,
  MASK = 15,
  BUF = 2048,
}

const txRing = staticBuffer(Ring.SIZE * PortBits.NIC_DESC_BYTES, 16);
const rxRing = staticBuffer(Ring.SIZE * PortBits.NIC_DESC_BYTES, 16);
const txBufs = staticBuffer(Ring.SIZE * Ring.BUF, 4096);
const rxBufs = staticBuffer(Ring.SIZE * Ring.BUF, 4096);
/** the next transmit descriptor to fill (the device's TX tail) */
let txNext = 0;
/** the next receive descriptor to look at (the oldest the device may have filled) */
let rxNext = 0;

function copy(dst: number, src: number, n: number): void {
  let k = 0;
  while (k + 4 <= n) {
    store32(dst + k, load32(src + k));
    k = k + 4;
  }
  while (k < n) {
    store8(dst + k, load8(src + k));
    k = k + 1;
  }
}

/**
 * Program the rings, post every receive buffer but one, enable the device and its receive
 * interrupt. The station address goes to mac (6 bytes), the configured IPv4 address (NIC_IP; 0:
 * none) to mac + 8 (big-endian). -1 when there is no NIC: the ring size
 * does not read back (an unmapped port reads as all ones).
 */
export function nativeNetInit(mac: number): number {
  out32(Port.NIC_TX_BASE, txRing);
  out32(Port.NIC_TX_SIZE, Ring.SIZE);
  out32(Port.NIC_RX_BASE, rxRing);
  out32(Port.NIC_RX_SIZE, Ring.SIZE);
  if (in32(Port.NIC_RX_SIZE) !== Ring.SIZE) return -1;
  let k = 0;
  while (k < Ring.SIZE) {
    const t = txRing + k * PortBits.NIC_DESC_BYTES;
    store32(t + PortBits.NIC_DESC_ADDR, txBufs + k * Ring.BUF);
    store32(t + PortBits.NIC_DESC_STATUS, 0);
    const r = rxRing + k * PortBits.NIC_DESC_BYTES;
    store32(r + PortBits.NIC_DESC_ADDR, rxBufs + k * Ring.BUF);
    store32(r + PortBits.NIC_DESC_LEN, Ring.BUF);
    store32(r + PortBits.NIC_DESC_STATUS, 0);
    k = k + 1;
  }
  txNext = 0;
  rxNext = 0;
  out32(Port.NIC_CTRL, PortBits.NIC_CTRL_ENABLE);
  out32(Port.NIC_RX_TAIL, Ring.SIZE - 1);
  out32(Port.NIC_IMR, PortBits.NIC_ISR_RX);
  const hi = in32(Port.NIC_MAC_HI);
  const lo = in32(Port.NIC_MAC_LO);
  store8(mac, hi >>> 8);
  store8(mac + 1, hi);
  store8(mac + 2, lo >>> 24);
  store8(mac + 3, lo >>> 16);
  store8(mac + 4, lo >>> 8);
  store8(mac + 5, lo);
  // the address the host configured (0: none, the stack's default), big-endian at mac + 8
  const ip = in32(Port.NIC_IP);
  store8(mac + 8, ip >>> 24);
  store8(mac + 9, ip >>> 16);
  store8(mac + 10, ip >>> 8);
  store8(mac + 11, ip);
  return 0;
}

/** Copy a frame into the next transmit buffer and hand it to the device: 0, or -1 when the ring is full. */
export function nativeNetSend(frame: number, len: number): number {
  const next = (txNext + 1) & Ring.MASK;
  if (next === in32(Port.NIC_TX_HEAD)) return -1;
  const d = txRing + txNext * PortBits.NIC_DESC_BYTES;
  copy(txBufs + txNext * Ring.BUF, frame, len);
  store32(d + PortBits.NIC_DESC_LEN, len);
  store32(d + PortBits.NIC_DESC_STATUS, 0);
  txNext = next;
  out32(Port.NIC_TX_TAIL, next);
  return 0;
}

/**
 * The next received frame, copied to buf (at most cap bytes): its length; -1 when none is
 * waiting; -2 for a descriptor the device marked as an error. The descriptor goes back to the
 * device at once: the slot just emptied becomes the unused one (the new tail).
 */
export function nativeNetRecv(buf: number, cap: number): number {
  const d = rxRing + rxNext * PortBits.NIC_DESC_BYTES;
  const status = load32(d + PortBits.NIC_DESC_STATUS);
  if ((status & PortBits.NIC_DESC_DONE) === 0) return -1;
  let len = load32(d + PortBits.NIC_DESC_RXLEN);
  if ((status & PortBits.NIC_DESC_ERROR) !== 0) len = -2;
  else copy(buf, rxBufs + rxNext * Ring.BUF, len < cap ? len : cap);
  store32(d + PortBits.NIC_DESC_STATUS, 0);
  out32(Port.NIC_RX_TAIL, rxNext);
  rxNext = (rxNext + 1) & Ring.MASK;
  return len;
}

export function nativeNetAck(): void {
  in32(Port.NIC_ISR);
}

export function nativeNetStat(k: number): number {
  if (k < 0 || k >= PortBits.NIC_STAT_COUNT) return -1;
  out32(Port.NIC_STAT_SEL, k);
  return in32(Port.NIC_STAT);
}
