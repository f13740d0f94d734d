// The local APICs of a multiprocessor machine, through their ports: each CPU sees its own
// (identity, timer), IPIs set a vector in the destination's requests (to one CPU or every other),
// priority by vector with EOI ending the highest in service, CPU 0 passing the PIC through, and
// start-up of a waiting CPU only once.

import { describe, expect, it } from 'vitest';
import { Machine } from '../../../machine/machine.ts';
import { Ev } from '../../../machine/ledger.ts';
import {
  LAPIC_CPUS, LAPIC_EOI, LAPIC_ICR, LAPIC_ICR_ALL_BUT_SELF, LAPIC_ID, LAPIC_ONLINE, LAPIC_START, LAPIC_START_PC, LAPIC_START_SP,
  LAPIC_TIMER_CONTROL, LAPIC_TIMER_ENABLE, LAPIC_TIMER_PERIOD, LAPIC_TIMER_PERIODIC, PIC_MASK,
} from '../../../machine/devices/ports.ts';

function machine(cpus = 3): Machine {
  return new Machine({ memoryBytes: 1 << 20, cpus });
}

describe('local APIC', () => {
  it('reads the CPU number and count, and the started CPUs', () => {
    const m = machine();
    expect([m.bus.read(LAPIC_ID, 4), m.bus.read(LAPIC_CPUS, 4), m.bus.read(LAPIC_ONLINE, 4)]).toEqual([0, 3, 0b001]);
  });

  it('an IPI requests its vector on the destination only; all-but-self reaches every other CPU', () => {
    const m = machine();
    m.bus.write(LAPIC_ICR, 4, (2 << 8) | 0x61);
    expect(m.apics.map((a) => a.pendingVector())).toEqual([-1, -1, 0x61]);
    m.bus.write(LAPIC_ICR, 4, LAPIC_ICR_ALL_BUT_SELF | 0x62);
    expect(m.apics.map((a) => a.pendingVector())).toEqual([-1, 0x62, 0x62]);
    expect(m.lapicPorts!.ipisSent).toBe(3);
    m.bus.write(LAPIC_ICR, 4, (7 << 8) | 0x63); // no CPU 7: lost
    expect(m.lapicPorts!.ipisSent).toBe(3);
  });

  it('delivers the highest vector first, holds lower ones while it is in service, and EOI ends it', () => {
    const m = machine(2);
    const a = m.apics[1]!;
    a.accept(0x40);
    a.accept(0x70);
    expect(a.acknowledge()).toBe(0x70);
    expect(a.pendingVector()).toBe(-1); // 0x40 waits below 0x70 in service
    a.eoi();
    expect(a.acknowledge()).toBe(0x40);
    a.eoi();
    expect([a.pendingVector(), a.acknowledge()]).toEqual([-1, -1]);
  });

  it('CPU 0 passes the PIC through when no local vector is deliverable', () => {
    const m = machine(2);
    m.bus.write(PIC_MASK, 4, 0); // unmask every line
    m.pic.raise(4);
    expect(m.apics[0]!.pendingVector()).toBe(32 + 4);
    expect(m.apics[1]!.pendingVector()).toBe(-1);
    m.apics[0]!.accept(0x50);
    expect(m.apics[0]!.acknowledge()).toBe(0x50);
  });

  it('the local timer requests its vector every period, from the CONTROL write', () => {
    const m = machine(2);
    m.bus.write(LAPIC_TIMER_PERIOD, 4, 1000);
    m.bus.write(LAPIC_TIMER_CONTROL, 4, 0x55 | LAPIC_TIMER_ENABLE | LAPIC_TIMER_PERIODIC);
    expect(m.bus.read(LAPIC_TIMER_CONTROL, 4)).toBe(0x55 | LAPIC_TIMER_ENABLE | LAPIC_TIMER_PERIODIC);
    expect(m.events.nextDeadline()).toBe(1000);
    m.cpu.charge(Ev.Idle, 2500);
    m.events.runDue();
    expect([m.apics[0]!.timerExpiries, m.apics[0]!.pendingVector(), m.apics[1]!.timerExpiries]).toEqual([2, 0x55, 0]);
    expect(m.events.nextDeadline()).toBe(3000);
    m.bus.write(LAPIC_TIMER_CONTROL, 4, 0); // disabled: nothing more
    expect(m.events.nextDeadline()).toBe(Infinity);
  });

  it('starts a waiting CPU once, at the given pc and stack, with its clock at the machine\'s', () => {
    const m = machine(2);
    m.cpu.charge(Ev.Idle, 777);
    m.bus.write(LAPIC_START_PC, 4, 0x4000);
    m.bus.write(LAPIC_START_SP, 4, 0x9000);
    m.bus.write(LAPIC_START, 4, 1);
    const c = m.cpus[1]!;
    expect([c.pc, c.regs[15], c.cycles, m.bus.read(LAPIC_ONLINE, 4)]).toEqual([0x4000, 0x9000, 777, 0b11]);
    m.bus.write(LAPIC_START_PC, 4, 0x5000);
    m.bus.write(LAPIC_START, 4, 1); // already running: ignored
    expect(c.pc).toBe(0x4000);
  });
});
