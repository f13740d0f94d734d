// Tests for machine/devices/pic.ts: masking, fully nested priorities, EOI, the vector base,
// edge-triggered requests, the status register and onChange notifications.

import { beforeEach, describe, expect, it } from 'vitest';
import { Pic } from '../../../machine/devices/pic.ts';
import { PIC_BASE, PIC_CMD, PIC_EOI, PIC_MASK, PIC_STATUS } from '../../../machine/devices/ports.ts';

let changes = 0;
let pic: Pic;

beforeEach(() => {
  changes = 0;
  pic = new Pic(() => changes++);
});

const eoi = (): void => pic.write(PIC_CMD, 1, PIC_EOI);
const unmaskAll = (): void => pic.write(PIC_MASK, 2, 0);

describe('Pic', () => {
  it('occupies ports 0x20..0x23', () => {
    expect([pic.portBase, pic.portCount]).toEqual([0x20, 4]);
  });

  it('resets with every line masked and vector base 32', () => {
    expect(pic.read(PIC_MASK, 4)).toBe(0xffff);
    expect(pic.read(PIC_BASE, 4)).toBe(32);
    expect(pic.read(PIC_STATUS, 4)).toBe(0);
    expect(pic.pendingVector()).toBe(-1);
    expect(pic.acknowledge()).toBe(-1);
  });

  it('holds a masked request and delivers it when unmasked', () => {
    pic.raise(4);
    expect(pic.read(PIC_STATUS, 4)).toBe(1 << 4);
    expect(pic.pendingVector()).toBe(-1);
    pic.write(PIC_MASK, 2, 0xffff & ~(1 << 4));
    expect(pic.read(PIC_MASK, 4)).toBe(0xffef);
    expect(pic.pendingVector()).toBe(36);
    expect(pic.acknowledge()).toBe(36);
    expect(pic.read(PIC_STATUS, 4)).toBe((1 << 4) << 16);
  });

  it('masking a requested line hides it without forgetting it', () => {
    unmaskAll();
    pic.raise(11);
    expect(pic.pendingVector()).toBe(43);
    pic.write(PIC_MASK, 2, 1 << 11);
    expect(pic.pendingVector()).toBe(-1);
    pic.write(PIC_MASK, 2, 0);
    expect(pic.pendingVector()).toBe(43);
  });

  it('delivers the lowest-numbered requested line first', () => {
    unmaskAll();
    pic.raise(14);
    pic.raise(4);
    pic.raise(11);
    expect(pic.acknowledge()).toBe(36);
    eoi();
    expect(pic.acknowledge()).toBe(43);
    eoi();
    expect(pic.acknowledge()).toBe(46);
    eoi();
    expect(pic.pendingVector()).toBe(-1);
  });

  it('nests: a higher-priority line interrupts an in-service one, a lower or equal one waits', () => {
    unmaskAll();
    pic.raise(4);
    expect(pic.acknowledge()).toBe(36); // 4 in service
    pic.raise(11);
    expect(pic.pendingVector()).toBe(-1); // lower priority than 4: waits
    pic.raise(4);
    expect(pic.pendingVector()).toBe(-1); // same line again: waits for EOI
    pic.raise(0);
    expect(pic.pendingVector()).toBe(32); // higher priority: nests
    expect(pic.acknowledge()).toBe(32);
    expect(pic.read(PIC_STATUS, 4)).toBe((((1 << 0) | (1 << 4)) << 16 | (1 << 4) | (1 << 11)) >>> 0);
    eoi(); // ends line 0, the highest in service
    expect(pic.read(PIC_STATUS, 4)).toBe(((1 << 4) << 16 | (1 << 4) | (1 << 11)) >>> 0);
    expect(pic.pendingVector()).toBe(-1); // 4 still in service
    eoi(); // ends line 4
    expect(pic.acknowledge()).toBe(36); // the second edge on line 4
    eoi();
    expect(pic.acknowledge()).toBe(43);
  });

  it('EOI with nothing in service does nothing', () => {
    eoi();
    expect(pic.read(PIC_STATUS, 4)).toBe(0);
    expect(changes).toBe(0);
  });

  it('ignores command values other than EOI', () => {
    unmaskAll();
    pic.raise(1);
    pic.acknowledge();
    pic.write(PIC_CMD, 1, 0x21);
    expect(pic.read(PIC_STATUS, 4)).toBe(0x20000);
  });

  it('edge requests: several raises before acknowledge deliver once; lower withdraws a request', () => {
    unmaskAll();
    pic.raise(3);
    pic.raise(3);
    expect(pic.acknowledge()).toBe(35);
    eoi();
    expect(pic.pendingVector()).toBe(-1);
    pic.raise(5);
    pic.lower(5);
    expect(pic.pendingVector()).toBe(-1);
    expect(pic.read(PIC_STATUS, 4)).toBe(0);
  });

  it('lower does not touch a line already in service', () => {
    unmaskAll();
    pic.raise(6);
    pic.acknowledge();
    pic.lower(6);
    expect(pic.read(PIC_STATUS, 4)).toBe(0x400000);
  });

  it('delivers lines at the programmed vector base', () => {
    unmaskAll();
    pic.write(PIC_BASE, 1, 0x50);
    expect(pic.read(PIC_BASE, 4)).toBe(0x50);
    pic.raise(15);
    expect(pic.pendingVector()).toBe(0x5f);
    expect(pic.acknowledge()).toBe(0x5f);
  });

  it('keeps the base to 8 bits and wraps vectors at 256', () => {
    unmaskAll();
    pic.write(PIC_BASE, 4, 0x1f8);
    expect(pic.read(PIC_BASE, 4)).toBe(0xf8);
    pic.raise(10);
    expect(pic.acknowledge()).toBe(2);
  });

  it('ignores lines outside 0..15 without throwing', () => {
    unmaskAll();
    pic.raise(16);
    pic.raise(-1);
    pic.raise(2.5);
    pic.lower(99);
    expect(pic.read(PIC_STATUS, 4)).toBe(0);
  });

  it('calls onChange on raise, unmask, EOI and base change only', () => {
    pic.raise(2); // raise
    expect(changes).toBe(1);
    pic.write(PIC_MASK, 2, 0xffff); // no line unmasked
    expect(changes).toBe(1);
    pic.write(PIC_MASK, 2, 0xfffb); // unmask line 2
    expect(changes).toBe(2);
    pic.write(PIC_MASK, 2, 0xffff); // masking only
    expect(changes).toBe(2);
    pic.write(PIC_MASK, 2, 0);
    expect(changes).toBe(3);
    pic.acknowledge();
    pic.lower(2);
    expect(changes).toBe(3);
    eoi();
    expect(changes).toBe(4);
    pic.write(PIC_BASE, 1, 32); // unchanged
    expect(changes).toBe(4);
    pic.write(PIC_BASE, 1, 40);
    expect(changes).toBe(5);
  });

  it('counts deliveries per line', () => {
    unmaskAll();
    for (let i = 0; i < 3; i++) {
      pic.raise(0);
      pic.acknowledge();
      eoi();
    }
    pic.raise(14);
    pic.acknowledge();
    expect(pic.delivered[0]).toBe(3);
    expect(pic.delivered[14]).toBe(1);
  });

  it('reset returns to power-on state', () => {
    unmaskAll();
    pic.write(PIC_BASE, 1, 64);
    pic.raise(1);
    pic.acknowledge();
    pic.raise(2);
    pic.reset();
    expect(pic.read(PIC_MASK, 4)).toBe(0xffff);
    expect(pic.read(PIC_BASE, 4)).toBe(32);
    expect(pic.read(PIC_STATUS, 4)).toBe(0);
  });
});
