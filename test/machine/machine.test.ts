// The bare platform: image loading, the run loop (deadlines, idle fast-forward on HLT, power-off,
// halts, triple faults, cycle limits), console input and output, DMA wiring, determinism.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../machine/costs.ts';
import { ImageArch, type Image } from '../../machine/image.ts';
import { Cond, Op, gateFlags } from '../../machine/isa.ts';
import { Machine } from '../../machine/machine.ts';
import { MemoryRangeError } from '../../machine/memory.ts';
import {
  BLK_ADDR,
  BLK_CMD_READ,
  BLK_COMMAND,
  BLK_COMPLETE,
  BLK_COUNT,
  BLK_SECTOR,
  PIC_CMD,
  PIC_EOI,
  PIC_MASK,
  SYS_POWEROFF,
  TIMER_CONTROL,
  TIMER_ENABLE,
  TIMER_PERIOD,
  UART_DATA,
} from '../../machine/devices/ports.ts';
import { Prog } from './cpu-harness.ts';

const ENTRY = 0x1000;

function image(prog: Prog, extra: { bssBytes?: number } = {}): Image {
  const words = prog.build();
  const data = new Uint8Array(words.length * 4);
  new DataView(data.buffer).setUint32(0, 0, true);
  words.forEach((w, k) => new DataView(data.buffer).setUint32(k * 4, w >>> 0, true));
  return {
    entry: prog.base,
    arch: ImageArch.Bare,
    segments: [{ vaddr: prog.base, paddr: prog.base, memBytes: data.length + (extra.bssBytes ?? 0), flags: 7, data }],
    symbols: [{ name: '_start', addr: prog.base, size: 0, kind: 0 }],
    notes: {},
  };
}

/** print a string on the UART, then power off with `status` */
function hello(text: string, status: number): Prog {
  const p = new Prog(ENTRY);
  for (const ch of text) p.li(1, ch.charCodeAt(0)).op(Op.OUTB, 0, 1, UART_DATA);
  return p.li(1, status).op(Op.OUT, 0, 1, SYS_POWEROFF).op(Op.HLT);
}

/** a program that arms a one-shot timer, sleeps in HLT, and from the timer handler prints 'T' and powers off */
function timerProgram(period: number): Prog {
  const IDT = 0x3000;
  const p = new Prog(ENTRY)
    .li(15, 0x8000)
    .li(1, IDT)
    .op(Op.LIDT, 0, 1, 64)
    .li(1, IDT + 32 * 8)
    .la(2, 'handler')
    .op(Op.STW, 2, 1, 0)
    .li(2, gateFlags(0, 0, false))
    .op(Op.STW, 2, 1, 4)
    .li(1, 0xfffe)
    .op(Op.OUT, 0, 1, PIC_MASK)
    .li(1, period)
    .op(Op.OUT, 0, 1, TIMER_PERIOD)
    .li(1, TIMER_ENABLE)
    .op(Op.OUT, 0, 1, TIMER_CONTROL)
    .op(Op.STI)
    .label('idle')
    .op(Op.HLT)
    .jmp('idle');
  p.label('handler').li(1, 'T'.charCodeAt(0)).op(Op.OUTB, 0, 1, UART_DATA).li(1, PIC_EOI).op(Op.OUT, 0, 1, PIC_CMD);
  p.li(1, 3).op(Op.OUT, 0, 1, SYS_POWEROFF).op(Op.HLT);
  return p;
}

describe('Machine', () => {
  it('runs an image that prints on the UART and powers off with a status', () => {
    const out: number[] = [];
    const m = new Machine({ onOutput: (b) => out.push(b) });
    m.loadImage(image(hello('Hi\n', 7)));
    const r = m.run();
    expect(r.reason).toBe('poweroff');
    expect(r.status).toBe(7);
    expect(m.consoleOutput()).toBe('Hi\n');
    expect(Array.from(m.consoleBytes())).toEqual([72, 105, 10]);
    expect(out).toEqual([72, 105, 10]);
    expect(m.powerOffStatus).toBe(7);
    expect(r.instructions).toBe(m.cpu.instructions);
  });

  it('loadImage puts pc at the entry in ring 0 with paging off and zero-fills bss', () => {
    const m = new Machine({ memoryBytes: 1 << 20 });
    m.mem.fill(ENTRY, 0x2000, 0xaa);
    const img = image(hello('x', 0), { bssBytes: 0x100 });
    m.loadImage(img);
    const end = ENTRY + img.segments[0]!.data.length;
    expect([m.cpu.pc, m.cpu.cpl, m.cpu.cr0, m.cpu.flags]).toEqual([ENTRY, 0, 0, 0]);
    expect(m.mem.read32(end)).toBe(0);
    expect(m.mem.read32(end + 0xfc)).toBe(0);
    expect(m.mem.read8(end + 0x100)).toBe(0xaa);
    expect(m.symbols[0]!.name).toBe('_start');
  });

  it('loadImage refuses a segment outside memory, naming it', () => {
    const m = new Machine({ memoryBytes: 1 << 20 });
    const img = image(hello('x', 0));
    img.segments[0]!.paddr = 0xff000;
    img.segments[0]!.memBytes = 0x2000;
    expect(() => m.loadImage(img)).toThrow(MemoryRangeError);
    expect(() => m.loadImage(img)).toThrow(/segment 0 \(paddr 0xff000, 8192 bytes\) lies outside physical memory/);
  });

  it('hlt with interrupts disabled stops the machine: reason halted', () => {
    const m = new Machine();
    m.loadImage(image(new Prog(ENTRY).op(Op.NOP).op(Op.HLT)));
    const r = m.run();
    expect(r.reason).toBe('halted');
    expect(r.detail).toMatch(/interrupts disabled at pc 0x00001008/);
  });

  it('hlt with interrupts enabled but no event left to come: reason halted', () => {
    const m = new Machine();
    m.loadImage(image(new Prog(ENTRY).op(Op.STI).op(Op.HLT)));
    const r = m.run();
    expect(r.reason).toBe('halted');
    expect(r.detail).toMatch(/no event left/);
  });

  it('a timer interrupt wakes hlt; the idle time is fast-forwarded and counted', () => {
    const m = new Machine();
    m.loadImage(image(timerProgram(50_000)));
    const r = m.run();
    expect(r.reason).toBe('poweroff');
    expect(r.status).toBe(3);
    expect(m.consoleOutput()).toBe('T');
    expect(r.idleCycles).toBeGreaterThan(40_000);
    expect(r.cycles).toBeGreaterThan(50_000);
    expect(m.timer.expirations).toBe(1);
    expect(m.cpu.stats.interrupts).toBe(1);
  });

  it('is deterministic: the same image gives the same cycles, however the run is sliced', () => {
    const once = new Machine();
    once.loadImage(image(timerProgram(12_345)));
    const a = once.run();
    const sliced = new Machine();
    sliced.loadImage(image(timerProgram(12_345)));
    let r;
    do r = sliced.run({ maxCycles: 997 });
    while (r.reason === 'limit');
    expect(r.reason).toBe('poweroff');
    expect(sliced.cpu.cycles).toBe(once.cpu.cycles);
    expect(sliced.cpu.saveState()).toEqual(once.cpu.saveState());
    expect(a.cycles).toBe(once.cpu.cycles);
  });

  it('maxCycles stops a busy guest with reason limit; run() continues from there', () => {
    const m = new Machine();
    m.loadImage(image(new Prog(ENTRY).label('l').op(Op.ADDI, 1, 1, 1).jmp('l')));
    const r1 = m.run({ maxCycles: 5000 });
    expect(r1.reason).toBe('limit');
    expect(m.cpu.cycles).toBeGreaterThanOrEqual(5000);
    expect(m.cpu.cycles).toBeLessThan(5003);
    const r2 = m.run({ maxCycles: 5000 });
    expect(r2.reason).toBe('limit');
    expect(m.cpu.cycles).toBeGreaterThanOrEqual(10000);
  });

  it('a triple fault stops the machine: reason triple-fault', () => {
    const m = new Machine();
    m.loadImage(image(new Prog(ENTRY).word(0)));
    const r = m.run();
    expect(r.reason).toBe('triple-fault');
    expect(r.detail).toMatch(/pc 0x00001000/);
  });

  it('an exit only a hypervisor can take is a loud error on the bare machine', () => {
    const m = new Machine();
    m.loadImage(image(new Prog(ENTRY).op(Op.HYPERCALL)));
    m.cpu.hypercallExits = true;
    expect(() => m.run()).toThrow(/cannot take CPU exit 18/);
  });

  it('console input given at construction is read by the guest', () => {
    const m = new Machine({ input: 'Z' });
    m.loadImage(image(new Prog(ENTRY).op(Op.INB, 1, 0, UART_DATA).op(Op.OUTB, 0, 1, UART_DATA).op(Op.OUT, 0, 1, SYS_POWEROFF)));
    const r = m.run();
    expect(m.consoleOutput()).toBe('Z');
    expect(r.status).toBe(0x5a);
  });

  it('stop() from an output callback ends the run with reason stopped', () => {
    let m: Machine | undefined = undefined;
    m = new Machine({ onOutput: () => m!.stop() });
    m.loadImage(image(hello('ab', 0)));
    const r = m.run();
    expect(r.reason).toBe('stopped');
    expect(m.consoleOutput()).toBe('a');
  });

  it('the block device reads a sector into memory by DMA when its completion event comes due', () => {
    const disk = new Uint8Array(1024).fill(0xab);
    const m = new Machine({ disk });
    const p = new Prog(ENTRY)
      .li(1, 0)
      .op(Op.OUT, 0, 1, BLK_SECTOR)
      .li(1, 1)
      .op(Op.OUT, 0, 1, BLK_COUNT)
      .li(1, 0x6000)
      .op(Op.OUT, 0, 1, BLK_ADDR)
      .li(1, BLK_CMD_READ | (5 << 8))
      .op(Op.OUT, 0, 1, BLK_COMMAND)
      .label('poll')
      .op(Op.IN, 2, 0, BLK_COMPLETE)
      .op(Op.CMPI, 0, 2, -1)
      .j(Cond.EQ, 'poll')
      .li(3, 0x6000)
      .op(Op.LDBU, 4, 3, 511)
      .op(Op.ADD, 4, 4, 2)
      .op(Op.OUT, 0, 4, SYS_POWEROFF);
    m.loadImage(image(p));
    const r = m.run({ maxCycles: 1e8 });
    expect(r.reason).toBe('poweroff');
    // 0xab + completion word (tag 5 | BLK_OK << 8)
    expect(r.status).toBe(0xab + (5 | (1 << 8)));
  });

  it('the cost profile option changes the cycle count, not the result', () => {
    const run = (profile?: string) => {
      const m = new Machine(profile ? { profile } : {});
      m.loadImage(image(hello('ok', 1)));
      return { r: m.run(), out: m.consoleOutput(), m };
    };
    const p4 = run();
    const modern = run('modern');
    expect(p4.out).toBe(modern.out);
    expect(p4.r.instructions).toBe(modern.r.instructions);
    expect(p4.r.cycles).not.toBe(modern.r.cycles);
    expect(p4.m.profile).toBe(getProfile('p4-2003'));
    expect(() => new Machine({ profile: 'z80' })).toThrow(/known: p4-2003, p4-2006-vtx, core2-2006-vtx, modern/);
  });
});
