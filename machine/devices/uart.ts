// The XL32 UART console: a 16550-like subset (transmit, receive FIFO, IER/IIR/LSR, IRQ 4),
// registers per machine/devices/ports.ts. Device model only: transmitted bytes go to the host's
// sink, received bytes come from feed(); reaches the platform only through its DeviceContext.

import type { DeviceContext, IoDevice } from '../types.ts';
import {
  Irq,
  UART_DATA,
  UART_IER,
  UART_IER_RX,
  UART_IER_TX,
  UART_IIR,
  UART_LSR,
  UART_LSR_DR,
  UART_LSR_TEMT,
  UART_LSR_THRE,
} from './ports.ts';

/** UART_IIR values. */
const IIR_NONE = 1;
const IIR_THRE = 2;
const IIR_RX = 4;

/** Receive buffer size in bytes: far more than a 16550's 16, so pasted host input is not lost. */
export const UART_RX_BYTES = 65536;

/*
 * Transmission is instantaneous: a DATA write reaches the sink at once, so the transmitter is
 * always empty (LSR THRE and TEMT always set). The transmitter-empty interrupt follows the 16550:
 * it becomes pending when IER's TX bit is turned on and after each transmitted byte (with that bit
 * on), and is cleared by reading IIR while IIR reports it, by a DATA write (then set again at once)
 * or by turning the IER bit off. Received data is pending while the FIFO is non-empty with IER's
 * RX bit on; it outranks the transmitter in IIR.
 *
 * The line is raised on each event that makes an interrupt pending (data arriving, a byte sent, IER
 * enabling a pending source) and lowered when nothing is pending any more, which withdraws a
 * request the CPU has not acknowledged yet.
 */
export class Uart implements IoDevice {
  readonly name = 'uart';
  readonly portBase = UART_DATA;
  readonly portCount = UART_LSR - UART_DATA + 1;

  private ier = 0;
  private txEmptyPending = false;
  /** the line was raised and not lowered since */
  private lineRaised = false;
  private readonly rx = new Uint8Array(UART_RX_BYTES);
  private rxHead = 0;
  private rxCount = 0;
  /** bytes sent by the guest, bytes delivered to it, input bytes lost to a full buffer */
  txBytes = 0;
  rxBytes = 0;
  rxDropped = 0;

  constructor(
    private readonly ctx: DeviceContext,
    private readonly sink: (byte: number) => void,
  ) {}

  reset(): void {
    this.ier = 0;
    this.txEmptyPending = false;
    this.lineRaised = false;
    this.rxHead = 0;
    this.rxCount = 0;
  }

  /** Host input: append bytes (a string is UTF-8 encoded) to the receive FIFO. */
  feed(input: string | Uint8Array): void {
    const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
    let accepted = 0;
    for (const b of bytes) {
      if (this.rxCount === UART_RX_BYTES) {
        this.rxDropped++;
        continue;
      }
      this.rx[(this.rxHead + this.rxCount) % UART_RX_BYTES] = b;
      this.rxCount++;
      accepted++;
    }
    if (accepted > 0 && this.ier & UART_IER_RX) this.updateLine(true);
  }

  /** Bytes waiting in the receive FIFO. */
  get rxPending(): number {
    return this.rxCount;
  }

  read(port: number, _size: number): number {
    switch (port) {
      case UART_DATA:
        return this.popRx();
      case UART_IER:
        return this.ier;
      case UART_IIR: {
        const iir = this.iir();
        if (iir === IIR_THRE) {
          this.txEmptyPending = false;
          this.updateLine(false);
        }
        return iir;
      }
      case UART_LSR:
        return (this.rxCount > 0 ? UART_LSR_DR : 0) | UART_LSR_THRE | UART_LSR_TEMT;
      default:
        return 0;
    }
  }

  write(port: number, _size: number, value: number): void {
    switch (port) {
      case UART_DATA:
        this.txBytes++;
        this.sink(value & 0xff);
        // The byte is gone at once: the holding register is empty again.
        this.txEmptyPending = (this.ier & UART_IER_TX) !== 0;
        this.updateLine(this.txEmptyPending);
        return;
      case UART_IER: {
        const old = this.ier;
        this.ier = value & (UART_IER_RX | UART_IER_TX);
        const txOn = (this.ier & UART_IER_TX) !== 0 && (old & UART_IER_TX) === 0;
        const rxOn = (this.ier & UART_IER_RX) !== 0 && (old & UART_IER_RX) === 0 && this.rxCount > 0;
        if (txOn) this.txEmptyPending = true;
        if (!(this.ier & UART_IER_TX)) this.txEmptyPending = false;
        this.updateLine(txOn || rxOn);
        return;
      }
      default:
        return; // IIR and LSR are read-only here
    }
  }

  private iir(): number {
    if (this.ier & UART_IER_RX && this.rxCount > 0) return IIR_RX;
    if (this.txEmptyPending) return IIR_THRE;
    return IIR_NONE;
  }

  private popRx(): number {
    if (this.rxCount === 0) return 0;
    const b = this.rx[this.rxHead]!;
    this.rxHead = (this.rxHead + 1) % UART_RX_BYTES;
    this.rxCount--;
    this.rxBytes++;
    if (this.rxCount === 0) this.updateLine(false);
    return b;
  }

  /**
   * Raise the line for a new interrupt event (the caller knows its source is pending), or lower
   * it when nothing is pending any more.
   */
  private updateLine(newEvent: boolean): void {
    if (this.iir() === IIR_NONE) {
      if (this.lineRaised) this.ctx.lowerIrq(Irq.Uart);
      this.lineRaised = false;
    } else if (newEvent) {
      this.ctx.raiseIrq(Irq.Uart);
      this.lineRaised = true;
    }
  }
}
