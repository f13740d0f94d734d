// Compiled programs run on the bare Machine: UART output and the power-off status are exact.
// Covers what the conformance suite does not: trap entry stubs, contextSwitch, iretTo, stack
// arguments beyond the sixth, labeled loops, jump tables, spilling, module state.
import { describe, expect, it } from 'vitest';
import { compileAndRun, PRINT_TS } from './helpers.ts';

const withPrint = (main: string) => ({ 'main.ts': main, 'print.ts': PRINT_TS });

describe('compiled programs on the bare machine', () => {
  it('prints hello through the UART and powers off with main\'s result', () => {
    const r = compileAndRun(withPrint(`import { cstr } from 'xl32';
import { puts } from './print.ts';
export function main(): number { puts(cstr("hello, xl32\\n")); return 7; }
`));
    expect(r).toMatchObject({ output: 'hello, xl32\n', stopped: 'poweroff', status: 7 });
  });

  it('powers off with status 0 when main is void', () => {
    expect(compileAndRun('export function main(): void {}\n')).toMatchObject({ stopped: 'poweroff', status: 0, output: '' });
  });

  it('powers off with a full 32-bit status', () => {
    expect(compileAndRun('export function main(): number { return -123456789; }\n')).toMatchObject({ status: -123456789 });
  });

  it('runs recursion, loops, module state and a dense switch', () => {
    const r = compileAndRun(withPrint(`import { putn, putc } from './print.ts';
let calls = 0;
function fib(n: number): number { calls++; return n < 2 ? n : fib(n - 1) + fib(n - 2); }
function day(d: number): number {
  switch (d) { case 0: return 10; case 1: return 11; case 2: case 3: return 23; case 5: return 15; default: return -1; }
}
export function main(): number {
  putn(fib(15)); putc(32); putn(calls); putc(32);
  for (let d = -1; d <= 6; d++) { putn(day(d)); putc(44); }
  return calls & 0xff;
}
`));
    expect(r.output).toBe('610 1973 -1,10,11,23,23,-1,15,-1,');
    expect(r.status).toBe(1973 & 0xff);
  });

  it('passes arguments beyond the sixth on the stack', () => {
    const r = compileAndRun(`function eight(a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number): number {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}
function leaf9(a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number): number { return i - g + h; }
export function main(): number { return eight(1, 2, 3, 4, 5, 6, 7, 8) * 1000 + leaf9(0, 0, 0, 0, 0, 0, 3, 4, 100); }
`);
    expect(r.status).toBe(204 * 1000 + 101);
  });

  it('keeps values correct when more are live than there are registers', () => {
    const r = compileAndRun(`function id(x: number): number { return x; }
export function main(): number {
  let a = id(1), b = id(2), c = id(3), d = id(4), e = id(5), f = id(6), g = id(7), h = id(8), i = id(9), j = id(10);
  let k = id(11), l = id(12), m = id(13), n = id(14), o = id(15), p = id(16), q = id(17), r = id(18);
  let s = id(a + r) + id(b * q);
  return a + b + c + d + e + f + g + h + i + j + k + l + m + n + o + p + q + r + s;
}
`);
    expect(r.status).toBe(171 + 19 + 34);
  });

  it('breaks and continues labeled outer loops', () => {
    const r = compileAndRun(`export function main(): number {
  let s = 0;
  outer: for (let i = 0; i < 10; i++) {
    for (let j = 0; j < 10; j++) {
      if (j === 3) continue outer;
      if (i === 4) break outer;
      s = s * 3 + j;
    }
  }
  return s;
}
`);
    // i = 0..3 each contribute j = 0, 1, 2.
    let s = 0;
    for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) s = s * 3 + j;
    expect(r.status).toBe(s | 0);
  });

  it('enters a trap handler through a trapEntry stub and resumes after IRET', () => {
    const r = compileAndRun(withPrint(`import { brk, lidt, store32, load32, staticBuffer, trapEntry, TrapFrame } from 'xl32';
import { putn, putc } from './print.ts';
const idt = staticBuffer(256 * 8, 8);
let hits = 0;
let lastVector = -1;
function onBreakpoint(frame: number): void {
  hits++;
  lastVector = load32(frame + TrapFrame.VECTOR);
}
export function main(): number {
  store32(idt + 3 * 8, trapEntry(onBreakpoint));
  store32(idt + 3 * 8 + 4, 1 | (1 << 5));
  lidt(idt, 256);
  let kept = 1234;
  brk();
  brk();
  putn(hits); putc(32); putn(lastVector); putc(32); putn(kept);
  return hits;
}
`));
    expect(r).toMatchObject({ output: '2 3 1234', stopped: 'poweroff', status: 2 });
  });

  it('delivers softInt to a trapEntry handler that reads and edits its frame, then resumes', () => {
    const r = compileAndRun(`import { softInt, lidt, store32, load32, staticBuffer, trapEntry, TrapFrame } from 'xl32';
const idt = staticBuffer(256 * 8, 8);
let seen = 0;
function onSyscall(frame: number): void { seen = load32(frame + TrapFrame.PC) !== 0 ? 40 : 0; store32(frame + TrapFrame.R0, 2); }
export function main(): number {
  store32(idt + 0x80 * 8, trapEntry(onSyscall));
  store32(idt + 0x80 * 8 + 4, 1 | (1 << 5));
  lidt(idt, 256);
  softInt(0x80);
  return seen + 2;
}
`);
    expect(r.status).toBe(42);
  });

  it('switches between two stacks with contextSwitch', () => {
    const r = compileAndRun(withPrint(`import { contextSwitch, addressOf, staticBuffer, store32, load32 } from 'xl32';
import { putc } from './print.ts';
const threadStack = staticBuffer(1024);
const mainSp = staticBuffer(4);
const threadSp = staticBuffer(4);
function thread(): void {
  for (let k = 0; k < 3; k++) { putc(84); contextSwitch(threadSp, load32(mainSp)); }
  for (;;) contextSwitch(threadSp, load32(mainSp));
}
export function main(): number {
  // A fresh context: eight saved registers (r7..r14, zero) and the address to "return" to.
  const sp = threadStack + 1024 - 36;
  store32(sp + 32, addressOf(thread));
  let local = 5;
  for (let k = 0; k < 3; k++) { contextSwitch(mainSp, k === 0 ? sp : load32(threadSp)); putc(77); local += k; }
  return local;
}
`));
    expect(r).toMatchObject({ output: 'TMTMTM', status: 8 });
  });

  it('enters a function through iretTo with a hand-built hardware frame', () => {
    const r = compileAndRun(`import { iretTo, addressOf, staticBuffer, store32, outb } from 'xl32';
const frame = staticBuffer(16);
const stack = staticBuffer(256);
function landed(): void { outb(0x3f8, 76); for (;;) outb(0x501, 9); }
export function main(): void {
  store32(frame + 0, addressOf(landed));
  store32(frame + 4, 0);
  store32(frame + 8, 0);
  store32(frame + 12, stack + 256);
  iretTo(frame);
}
`);
    expect(r).toMatchObject({ output: 'L', stopped: 'poweroff', status: 9 });
  });

  it('calls through addressOf/callIndirect', () => {
    const r = compileAndRun(`import { addressOf, callIndirect } from 'xl32';
function add3(a: number, b: number, c: number): number { return a + b + c; }
function twice(x: number): number { return 2 * x; }
export function main(): number { return callIndirect(addressOf(add3), 1, 2, 3) * 100 + callIndirect(addressOf(twice), 21); }
`);
    expect(r.status).toBe(642);
  });
});
