// The XL32 NIC: transmit and receive descriptor rings in guest memory, moved by DMA with the same
// bounds checks as the block device (a range outside memory is refused, never clamped), an
// interrupt cause register cleared on read and a mask, IRQ 11; registers per
// machine/devices/ports.ts. Device model only: frames go to the host's onTransmit and come from
// receive().

import type { DeviceContext, IoDevice } from '../types.ts';
import {
  Irq,
  NIC_CTRL,
  NIC_CTRL_ENABLE,
  NIC_DESC_ADDR,
  NIC_DESC_BYTES,
  NIC_DESC_DONE,
  NIC_DESC_ERROR,
  NIC_DESC_LEN,
  NIC_DESC_RXLEN,
  NIC_DESC_STATUS,
  NIC_IMR,
  NIC_IP,
  NIC_ISR,
  NIC_ISR_DROP,
  NIC_ISR_RX,
  NIC_ISR_TX,
  NIC_MAC_HI,
  NIC_MAC_LO,
  NIC_MIN_FRAME,
  NIC_MTU,
  NIC_RING_MAX,
  NIC_RX_BASE,
  NIC_RX_HEAD,
  NIC_RX_SIZE,
  NIC_RX_TAIL,
  NIC_STAT,
  NIC_STAT_COUNT,
  NIC_STAT_RX_BYTES,
  NIC_STAT_RX_ERRORS,
  NIC_STAT_RX_FRAMES,
  NIC_STAT_RX_MALFORMED,
  NIC_STAT_RX_NO_BUFFER,
  NIC_STAT_SEL,
  NIC_STAT_TX_BYTES,
  NIC_STAT_TX_ERRORS,
  NIC_STAT_TX_FRAMES,
  NIC_TX_BASE,
  NIC_TX_HEAD,
  NIC_TX_SIZE,
  NIC_TX_TAIL,
} from './ports.ts';

/** Default station address 52:54:00:12:34:56 (QEMU's), as a 48-bit number. */
export const NIC_DEFAULT_MAC = 0x525400123456;

/** A 48-bit station address as six bytes, in wire order. */
export function macToBytes(mac: number): Uint8Array {
  const b = new Uint8Array(6);
  let m = mac;
  for (let k = 5; k >= 0; k--) {
    b[k] = m % 256;
    m = Math.floor(m / 256);
  }
  return b;
}

/** Six bytes in wire order as a 48-bit station address. */
export function macFromBytes(b: Uint8Array): number {
  let m = 0;
  for (let k = 0; k < 6; k++) m = m * 256 + b[k]!;
  return m;
}

/*
 * Why rings: a single armed buffer makes the driver re-arm between frames, so a burst from the
 * wire is lost or must be held inside the device. With a ring the driver posts many buffers at
 * once and the device fills them as frames come, as every NIC since the 1990s does; when the
 * driver falls behind, the ring is full and the device drops (and counts) instead of queueing.
 *
 * Transmit is immediate: writing NIC_TX_TAIL walks the descriptors from HEAD to the new TAIL
 * inside that OUT, hands each valid frame to the host and writes the descriptor's STATUS. The
 * wire itself is not modelled (a frame takes no simulated time on it); the host side may add its
 * own delay before answering. Each word the device writes to a descriptor goes through dmaWrite,
 * so a ring that lies outside memory is seen as an error, not a crash.
 *
 * Validation, all before anything is written to the guest: a TX length outside
 * NIC_MIN_FRAME..NIC_MTU or a buffer outside memory marks the descriptor NIC_DESC_ERROR and sends
 * nothing; an RX frame outside those lengths never reaches a descriptor (MALFORMED), an RX buffer
 * too small or outside memory gets NIC_DESC_ERROR and the frame is dropped (RX_ERRORS).
 */
export class Nic implements IoDevice {
  readonly name = 'nic';
  readonly portBase = NIC_CTRL;
  readonly portCount = NIC_IP - NIC_CTRL + 1;

  private ctrl = 0;
  private txBase = 0;
  private txSize = 0;
  private txHead = 0;
  private txTail = 0;
  private rxBase = 0;
  private rxSize = 0;
  private rxHead = 0;
  private rxTail = 0;
  private isr = 0;
  private imr = 0;
  private statSel = 0;
  /** scratch for one descriptor read (no allocation per frame for the descriptor itself) */
  private readonly word = new Uint8Array(4);
  private readonly wordView = new DataView(this.word.buffer);

  /** counters since power-on (kept across reset), indexed by NIC_STAT_* */
  readonly stats = new Float64Array(NIC_STAT_COUNT);

  /** mac: the 48-bit station address; ip: the IPv4 address NIC_IP reports (0: none configured). */
  constructor(
    private readonly ctx: DeviceContext,
    private readonly onTransmit: (frame: Uint8Array) => void,
    readonly mac: number = NIC_DEFAULT_MAC,
    readonly ip: number = 0,
  ) {}

  reset(): void {
    this.ctrl = 0;
    this.txBase = this.txSize = this.txHead = this.txTail = 0;
    this.rxBase = this.rxSize = this.rxHead = this.rxTail = 0;
    this.isr = 0;
    this.imr = 0;
    this.statSel = 0;
    this.ctx.lowerIrq(Irq.Nic);
  }

  get enabled(): boolean {
    return (this.ctrl & NIC_CTRL_ENABLE) !== 0;
  }

  /** The station address as six bytes, in wire order. */
  macBytes(): Uint8Array {
    return macToBytes(this.mac);
  }

  /**
   * A frame arrives from the wire (the host). It is copied into the next posted buffer, or
   * dropped and counted. Returns whether it was delivered.
   */
  receive(frame: Uint8Array): boolean {
    const s = this.stats;
    if (frame.length < NIC_MIN_FRAME || frame.length > NIC_MTU) {
      s[NIC_STAT_RX_MALFORMED]!++;
      this.signal(NIC_ISR_DROP);
      return false;
    }
    if (!this.enabled || this.rxSize === 0 || this.rxHead === this.rxTail) {
      s[NIC_STAT_RX_NO_BUFFER]!++;
      this.signal(NIC_ISR_DROP);
      return false;
    }
    const desc = this.rxBase + this.rxHead * NIC_DESC_BYTES;
    this.rxHead = (this.rxHead + 1) % this.rxSize;
    const addr = this.readWord(desc + NIC_DESC_ADDR);
    const cap = this.readWord(desc + NIC_DESC_LEN);
    const ok = addr !== -1 && cap !== -1 && cap >= frame.length && this.ctx.dmaWrite(addr, frame);
    if (!ok) {
      s[NIC_STAT_RX_ERRORS]!++;
      this.writeWord(desc + NIC_DESC_RXLEN, 0);
      this.writeWord(desc + NIC_DESC_STATUS, NIC_DESC_DONE | NIC_DESC_ERROR);
      this.signal(NIC_ISR_DROP | NIC_ISR_RX);
      return false;
    }
    s[NIC_STAT_RX_FRAMES]!++;
    s[NIC_STAT_RX_BYTES]! += frame.length;
    this.writeWord(desc + NIC_DESC_RXLEN, frame.length);
    this.writeWord(desc + NIC_DESC_STATUS, NIC_DESC_DONE);
    this.signal(NIC_ISR_RX);
    return true;
  }

  read(port: number, _size: number): number {
    switch (port) {
      case NIC_CTRL: return this.ctrl;
      case NIC_TX_BASE: return this.txBase;
      case NIC_TX_SIZE: return this.txSize;
      case NIC_TX_TAIL: return this.txTail;
      case NIC_TX_HEAD: return this.txHead;
      case NIC_RX_BASE: return this.rxBase;
      case NIC_RX_SIZE: return this.rxSize;
      case NIC_RX_TAIL: return this.rxTail;
      case NIC_RX_HEAD: return this.rxHead;
      case NIC_ISR: {
        const isr = this.isr;
        this.isr = 0;
        this.ctx.lowerIrq(Irq.Nic);
        return isr;
      }
      case NIC_IMR: return this.imr;
      case NIC_MAC_LO: return this.mac % 0x1_0000_0000 >>> 0;
      case NIC_MAC_HI: return Math.floor(this.mac / 0x1_0000_0000) & 0xffff;
      case NIC_STAT: return this.statSel < NIC_STAT_COUNT ? this.stats[this.statSel]! >>> 0 : 0;
      case NIC_IP: return this.ip >>> 0;
      default: return 0; // NIC_STAT_SEL is write-only
    }
  }

  write(port: number, _size: number, value: number): void {
    const v = value >>> 0;
    switch (port) {
      case NIC_CTRL:
        this.ctrl = v & NIC_CTRL_ENABLE;
        this.txHead = this.txTail = this.rxHead = this.rxTail = 0;
        return;
      case NIC_TX_BASE: this.txBase = v; return;
      case NIC_TX_SIZE: this.txSize = this.ringSize(v); this.txHead = this.txTail = 0; return;
      case NIC_TX_TAIL:
        if (this.txSize === 0) return;
        this.txTail = v % this.txSize;
        this.transmit();
        return;
      case NIC_RX_BASE: this.rxBase = v; return;
      case NIC_RX_SIZE: this.rxSize = this.ringSize(v); this.rxHead = this.rxTail = 0; return;
      case NIC_RX_TAIL:
        if (this.rxSize === 0) return;
        this.rxTail = v % this.rxSize;
        return;
      case NIC_IMR:
        this.imr = v & (NIC_ISR_TX | NIC_ISR_RX | NIC_ISR_DROP);
        this.updateLine();
        return;
      case NIC_STAT_SEL: this.statSel = v; return;
      default: return; // read-only registers
    }
  }

  /** A size above NIC_RING_MAX is taken as no ring (0): the driver reads back what it got. */
  private ringSize(v: number): number {
    return v <= NIC_RING_MAX ? v : 0;
  }

  /** Send every descriptor in [HEAD, TAIL). */
  private transmit(): void {
    if (!this.enabled) return;
    const s = this.stats;
    let sent = false;
    while (this.txHead !== this.txTail) {
      const desc = this.txBase + this.txHead * NIC_DESC_BYTES;
      this.txHead = (this.txHead + 1) % this.txSize;
      const addr = this.readWord(desc + NIC_DESC_ADDR);
      const len = this.readWord(desc + NIC_DESC_LEN);
      const frame = addr !== -1 && len >= NIC_MIN_FRAME && len <= NIC_MTU ? this.ctx.dmaRead(addr, len) : null;
      if (frame === null || frame.length !== len) {
        s[NIC_STAT_TX_ERRORS]!++;
        this.writeWord(desc + NIC_DESC_STATUS, NIC_DESC_DONE | NIC_DESC_ERROR);
        this.signal(NIC_ISR_DROP);
        continue;
      }
      s[NIC_STAT_TX_FRAMES]!++;
      s[NIC_STAT_TX_BYTES]! += len;
      this.writeWord(desc + NIC_DESC_STATUS, NIC_DESC_DONE);
      sent = true;
      this.onTransmit(frame);
    }
    if (sent) this.signal(NIC_ISR_TX);
  }

  /** One little-endian word of guest memory, or -1 when it lies outside memory. */
  private readWord(paddr: number): number {
    // a ring is never allowed to wrap around the 32-bit physical address space
    if (paddr > 0xffff_fffc) return -1;
    const b = this.ctx.dmaRead(paddr, 4);
    if (b === null || b.length !== 4) return -1;
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  private writeWord(paddr: number, value: number): void {
    if (paddr > 0xffff_fffc) return;
    this.wordView.setUint32(0, value >>> 0, true);
    this.ctx.dmaWrite(paddr, this.word);
  }

  private signal(bits: number): void {
    this.isr |= bits;
    this.updateLine();
  }

  private updateLine(): void {
    if ((this.isr & this.imr) !== 0) this.ctx.raiseIrq(Irq.Nic);
    else this.ctx.lowerIrq(Irq.Nic);
  }
}
