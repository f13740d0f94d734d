// The XL32 NIC: frames sent and received by DMA, one armed receive buffer with a small backlog,
// an interrupt status register cleared on read, IRQ 11; registers per machine/devices/ports.ts.
// Device model only: frames go to the host's onTransmit and come from receive().

import type { DeviceContext, IoDevice } from '../types.ts';
import {
  Irq,
  NIC_GO,
  NIC_ISR,
  NIC_ISR_DROP,
  NIC_ISR_RX,
  NIC_ISR_TX,
  NIC_MAC,
  NIC_MTU,
  NIC_RX_ADDR,
  NIC_RX_CAP,
  NIC_RX_CMD,
  NIC_RX_LEN,
  NIC_TX_ADDR,
  NIC_TX_CMD,
  NIC_TX_LEN,
} from './ports.ts';

/** Frames held for the guest while no receive buffer is armed; more are dropped. */
export const NIC_RX_BACKLOG_FRAMES = 16;
/** Default station address 52:54:00:12:34:56 (QEMU's), as a 48-bit number. */
export const NIC_DEFAULT_MAC = 0x525400123456;

/*
 * Transmit is immediate: NIC_TX_CMD = NIC_GO reads TX_LEN bytes at TX_ADDR by DMA and hands them to
 * the host. A length of 0 or above NIC_MTU, or a buffer outside memory, drops the frame and sets
 * ISR_DROP instead of ISR_TX. Receive: NIC_RX_CMD = NIC_GO arms the buffer at RX_ADDR (RX_CAP bytes)
 * for exactly one frame and zeroes RX_LEN; the frame is copied truncated to RX_CAP, RX_LEN is set to
 * the bytes copied, and the buffer is disarmed. Any ISR change raises the line; reading ISR clears
 * it and lowers the line.
 */
export class Nic implements IoDevice {
  readonly name = 'nic';
  readonly portBase = NIC_TX_ADDR;
  readonly portCount = NIC_MAC - NIC_TX_ADDR + 1;

  private txAddr = 0;
  private txLen = 0;
  private rxAddr = 0;
  private rxCap = 0;
  private rxArmed = false;
  private rxLen = 0;
  private isr = 0;
  /** frames received while no buffer was armed, oldest first */
  private backlog: Uint8Array[] = [];

  /** statistics since power-on (kept across reset) */
  txFrames = 0;
  txBytes = 0;
  txDropped = 0;
  rxFrames = 0;
  rxBytes = 0;
  rxTruncated = 0;
  rxDropped = 0;

  /** mac: the 48-bit station address; NIC_MAC reads its low 32 bits. */
  constructor(
    private readonly ctx: DeviceContext,
    private readonly onTransmit: (frame: Uint8Array) => void,
    readonly mac: number = NIC_DEFAULT_MAC,
  ) {}

  reset(): void {
    this.txAddr = this.txLen = 0;
    this.rxAddr = this.rxCap = 0;
    this.rxArmed = false;
    this.rxLen = 0;
    this.isr = 0;
    this.backlog = [];
  }

  /** A frame arrives from the wire (the host). It is copied; the caller may reuse its buffer. */
  receive(frame: Uint8Array): void {
    if (this.rxArmed) {
      this.deliver(frame);
    } else if (this.backlog.length < NIC_RX_BACKLOG_FRAMES) {
      this.backlog.push(frame.slice());
    } else {
      this.rxDropped++;
      this.signal(NIC_ISR_DROP);
    }
  }

  /** Frames waiting for a receive buffer. */
  get rxBacklog(): number {
    return this.backlog.length;
  }

  read(port: number, _size: number): number {
    switch (port) {
      case NIC_RX_LEN:
        return this.rxLen;
      case NIC_ISR: {
        const isr = this.isr;
        if (isr !== 0) {
          this.isr = 0;
          this.ctx.lowerIrq(Irq.Nic);
        }
        return isr;
      }
      case NIC_MAC:
        return this.mac % 0x1_0000_0000 >>> 0;
      default:
        return 0; // the address, length and command registers are write-only
    }
  }

  write(port: number, _size: number, value: number): void {
    switch (port) {
      case NIC_TX_ADDR:
        this.txAddr = value >>> 0;
        return;
      case NIC_TX_LEN:
        this.txLen = value >>> 0;
        return;
      case NIC_TX_CMD:
        if (value === NIC_GO) this.transmit();
        return;
      case NIC_RX_ADDR:
        this.rxAddr = value >>> 0;
        return;
      case NIC_RX_CAP:
        this.rxCap = value >>> 0;
        return;
      case NIC_RX_CMD:
        if (value === NIC_GO) this.arm();
        return;
      default:
        return; // read-only registers
    }
  }

  private transmit(): void {
    const len = this.txLen;
    const frame = len >= 1 && len <= NIC_MTU ? this.ctx.dmaRead(this.txAddr, len) : null;
    if (frame === null || frame.length !== len) {
      this.txDropped++;
      this.signal(NIC_ISR_DROP);
      return;
    }
    this.txFrames++;
    this.txBytes += len;
    this.onTransmit(frame);
    this.signal(NIC_ISR_TX);
  }

  private arm(): void {
    this.rxArmed = true;
    this.rxLen = 0;
    const next = this.backlog.shift();
    if (next !== undefined) this.deliver(next);
  }

  /** Copy a frame into the armed buffer (which is then used up). */
  private deliver(frame: Uint8Array): void {
    this.rxArmed = false;
    const n = Math.min(frame.length, this.rxCap);
    if (!this.ctx.dmaWrite(this.rxAddr, frame.subarray(0, n))) {
      // A receive buffer outside memory: the frame is lost and the buffer is not re-used.
      this.rxDropped++;
      this.signal(NIC_ISR_DROP);
      return;
    }
    if (n < frame.length) this.rxTruncated++;
    this.rxFrames++;
    this.rxBytes += n;
    this.rxLen = n;
    this.signal(NIC_ISR_RX);
  }

  private signal(bit: number): void {
    this.isr |= bit;
    this.ctx.raiseIrq(Irq.Nic);
  }
}
