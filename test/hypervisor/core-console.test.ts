// Console logs (machine/console-log.ts, a domain's and the bare machine's): every byte goes to
// onOutput, and the log kept for consoleOutput() is bounded, so a guest that writes without end (a
// PV console_io flood moves 4 KiB per hypercall) cannot take the host's memory: it keeps the most
// recent bytes.

import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { CONSOLE_LOG_BYTES, ConsoleLog } from '../../machine/console-log.ts';
import { ScriptMode } from './core-harness.ts';

describe('ConsoleLog', () => {
  it('grows as needed, then keeps the most recent bytes, dropping its older half at a time', () => {
    const log = new ConsoleLog(16);
    for (let k = 0; k < 16; k++) log.push(k);
    expect(Array.from(log.bytes())).toEqual(Array.from({ length: 16 }, (_, k) => k));
    log.push(16);
    expect(Array.from(log.bytes())).toEqual(Array.from({ length: 9 }, (_, k) => k + 8));
    expect(log.dropped).toBe(8);
    for (let k = 17; k < 100; k++) log.push(k);
    expect(log.length + log.dropped).toBe(100);
    expect(log.bytes()[log.length - 1]).toBe(99);
    log.push(0x141);
    expect(log.bytes()[log.length - 1]).toBe(0x41);
  });
});

describe('a domain console log', () => {
  it('keeps what the guest wrote, in order, while it is small', () => {
    const hv = new Hypervisor({ memoryBytes: 1024 * 1024 });
    const seen: number[] = [];
    const d = hv.createDomain(new ScriptMode(), { name: 'c', memoryBytes: 64 * 1024, onOutput: (b) => seen.push(b) });
    for (const b of new TextEncoder().encode('héllo\n')) d.emitConsole(b);
    d.emitConsole(0x141); // only the low byte is a byte
    expect(d.consoleOutput()).toBe('héllo\nA');
    expect(Array.from(d.consoleBytes())).toEqual(seen);
    expect(d.consoleDropped).toBe(0);
  });

  it('is bounded: past CONSOLE_LOG_BYTES it drops its oldest half, and onOutput still sees every byte', () => {
    const hv = new Hypervisor({ memoryBytes: 1024 * 1024 });
    let seen = 0;
    const d = hv.createDomain(new ScriptMode(), { name: 'flood', memoryBytes: 64 * 1024, onOutput: () => seen++ });
    const total = CONSOLE_LOG_BYTES + 1000;
    for (let k = 0; k < total; k++) d.emitConsole(k & 0xff);
    expect(seen).toBe(total);
    const kept = d.consoleBytes();
    expect(kept.length).toBeLessThanOrEqual(CONSOLE_LOG_BYTES);
    expect(kept.length + d.consoleDropped).toBe(total);
    // the most recent bytes, in order
    expect(kept[kept.length - 1]).toBe((total - 1) & 0xff);
    expect(kept[0]).toBe(d.consoleDropped & 0xff);
  });
});
