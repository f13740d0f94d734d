// Tests for machine/devices/uart.ts: transmit to the sink, receive FIFO order, LSR bits, IIR,
// and interrupts per IER (raised on events, lowered when nothing is pending).

import { describe, expect, it } from 'vitest';
import {
  Irq,
  UART_DATA,
  UART_IER,
  UART_IER_RX,
  UART_IER_TX,
  UART_IIR,
  UART_LSR,
} from '../../../machine/devices/ports.ts';
import { UART_RX_BYTES, Uart } from '../../../machine/devices/uart.ts';
import { FakeContext } from './fake-context.ts';

function setup(): { ctx: FakeContext; uart: Uart; out: number[] } {
  const ctx = new FakeContext();
  const out: number[] = [];
  return { ctx, uart: new Uart(ctx, (b) => out.push(b)), out };
}

const irqEvents = (ctx: FakeContext): string[] =>
  ctx.irqLog.filter((c) => c.line === Irq.Uart).map((c) => (c.raised ? 'raise' : 'lower'));

describe('Uart', () => {
  it('occupies ports 0x3f8..0x3fd', () => {
    const { uart } = setup();
    expect([uart.portBase, uart.portCount]).toEqual([0x3f8, 6]);
  });

  it('transmits each DATA write to the sink at once, low byte only', () => {
    const { uart, out, ctx } = setup();
    for (const c of 'hi\n') uart.write(UART_DATA, 1, c.charCodeAt(0));
    uart.write(UART_DATA, 4, 0x141);
    expect(out).toEqual([0x68, 0x69, 0x0a, 0x41]);
    expect(uart.txBytes).toBe(4);
    expect(ctx.irqLog).toEqual([]); // no interrupts enabled
  });

  it('LSR: transmitter always empty and idle; data-ready follows the FIFO', () => {
    const { uart } = setup();
    expect(uart.read(UART_LSR, 1)).toBe(0x60);
    uart.feed('x');
    expect(uart.read(UART_LSR, 1)).toBe(0x61);
    uart.read(UART_DATA, 1);
    expect(uart.read(UART_LSR, 1)).toBe(0x60);
  });

  it('receives fed bytes in order, UTF-8 encoding strings, and reads 0 when empty', () => {
    const { uart } = setup();
    uart.feed('ab');
    uart.feed(new Uint8Array([1, 2]));
    uart.feed('é');
    const got = Array.from({ length: 7 }, () => uart.read(UART_DATA, 1));
    expect(got).toEqual([0x61, 0x62, 1, 2, 0xc3, 0xa9, 0]);
    expect(uart.rxBytes).toBe(6);
  });

  it('drops input beyond the receive buffer and counts it', () => {
    const { uart } = setup();
    uart.feed(new Uint8Array(UART_RX_BYTES + 3).fill(7));
    expect(uart.rxPending).toBe(UART_RX_BYTES);
    expect(uart.rxDropped).toBe(3);
    for (let i = 0; i < UART_RX_BYTES; i++) uart.read(UART_DATA, 1);
    uart.feed('z'); // the ring wraps correctly
    expect(uart.read(UART_DATA, 1)).toBe(0x7a);
  });

  it('raises no interrupt for received data while IER RX is off', () => {
    const { uart, ctx } = setup();
    uart.feed('q');
    expect(ctx.irqLog).toEqual([]);
    expect(uart.read(UART_IIR, 1)).toBe(1);
  });

  it('with IER RX: raises IRQ 4 on each arrival, IIR 4, lowers when the FIFO drains', () => {
    const { uart, ctx } = setup();
    uart.write(UART_IER, 1, UART_IER_RX);
    expect(uart.read(UART_IER, 1)).toBe(UART_IER_RX);
    expect(ctx.irqLog).toEqual([]);
    uart.feed('ab');
    uart.feed('c');
    expect(irqEvents(ctx)).toEqual(['raise', 'raise']);
    expect(uart.read(UART_IIR, 1)).toBe(4);
    uart.read(UART_DATA, 1);
    uart.read(UART_DATA, 1);
    expect(irqEvents(ctx)).toEqual(['raise', 'raise']);
    uart.read(UART_DATA, 1);
    expect(irqEvents(ctx)).toEqual(['raise', 'raise', 'lower']);
    expect(uart.read(UART_IIR, 1)).toBe(1);
  });

  it('enabling IER RX with data already waiting raises the line', () => {
    const { uart, ctx } = setup();
    uart.feed('x');
    uart.write(UART_IER, 1, UART_IER_RX);
    expect(irqEvents(ctx)).toEqual(['raise']);
    uart.write(UART_IER, 1, 0);
    expect(irqEvents(ctx)).toEqual(['raise', 'lower']);
  });

  it('with IER TX: raises when enabled (transmitter empty) and after each byte; IIR read clears it', () => {
    const { uart, ctx } = setup();
    uart.write(UART_IER, 1, UART_IER_TX);
    expect(irqEvents(ctx)).toEqual(['raise']);
    expect(uart.read(UART_IIR, 1)).toBe(2); // reading IIR clears the THRE interrupt
    expect(irqEvents(ctx)).toEqual(['raise', 'lower']);
    expect(uart.read(UART_IIR, 1)).toBe(1);
    uart.write(UART_DATA, 1, 0x41);
    expect(irqEvents(ctx)).toEqual(['raise', 'lower', 'raise']);
    expect(uart.read(UART_IIR, 1)).toBe(2);
    uart.write(UART_IER, 1, UART_IER_TX); // already on: no new event
    expect(irqEvents(ctx)).toEqual(['raise', 'lower', 'raise', 'lower']);
  });

  it('turning IER TX off withdraws a pending transmitter interrupt', () => {
    const { uart, ctx } = setup();
    uart.write(UART_IER, 1, UART_IER_TX);
    uart.write(UART_IER, 1, 0);
    expect(irqEvents(ctx)).toEqual(['raise', 'lower']);
    expect(uart.read(UART_IIR, 1)).toBe(1);
  });

  it('received data outranks the transmitter in IIR', () => {
    const { uart } = setup();
    uart.write(UART_IER, 1, UART_IER_RX | UART_IER_TX);
    uart.feed('k');
    expect(uart.read(UART_IIR, 1)).toBe(4);
    uart.read(UART_DATA, 1);
    expect(uart.read(UART_IIR, 1)).toBe(2);
    expect(uart.read(UART_IIR, 1)).toBe(1);
  });

  it('new input with only IER TX on does not raise the line', () => {
    const { uart, ctx } = setup();
    uart.write(UART_IER, 1, UART_IER_TX);
    uart.feed('k');
    expect(irqEvents(ctx)).toEqual(['raise']);
  });

  it('keeps only the defined IER bits', () => {
    const { uart } = setup();
    uart.write(UART_IER, 1, 0xfc);
    expect(uart.read(UART_IER, 1)).toBe(0);
  });

  it('reset empties the FIFO and disables interrupts', () => {
    const { uart } = setup();
    uart.write(UART_IER, 1, 3);
    uart.feed('abc');
    uart.reset();
    expect(uart.read(UART_LSR, 1)).toBe(0x60);
    expect(uart.read(UART_IER, 1)).toBe(0);
    expect(uart.read(UART_IIR, 1)).toBe(1);
  });
});
