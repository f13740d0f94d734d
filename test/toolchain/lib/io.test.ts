// The guest runtime library toolchain/lib/io.ts, run in Node over the xl32 shim: exact text for
// decimal (signed and unsigned, at the 32-bit edges), hex, strings, and the power-off status.
// (The same functions on XL32 are exercised by every conformance program.)
import { beforeEach, describe, expect, it } from 'vitest';
import { cstr, shim } from '../../../toolchain/lib/xl32.ts';
import { newline, powerOff, printHex, printInt, printUnsigned, putc, puts } from '../../../toolchain/lib/io.ts';

const printed = (f: () => void): string => {
  shim.reset();
  f();
  return shim.outputText();
};

describe('guest io library (toolchain/lib/io.ts) in Node', () => {
  beforeEach(() => shim.reset());

  it('putc transmits one byte and newline transmits \\n', () => {
    expect(printed(() => { putc(65); newline(); })).toBe('A\n');
  });

  it('puts transmits the bytes of a NUL-terminated string and stops at the NUL', () => {
    expect(printed(() => puts(cstr('hello\tworld')))).toBe('hello\tworld');
    expect(printed(() => puts(cstr('')))).toBe('');
  });

  it('printInt prints signed decimal, including 0 and both 32-bit edges', () => {
    const cases: [number, string][] = [[0, '0'], [7, '7'], [-7, '-7'], [10, '10'], [-100, '-100'], [2147483647, '2147483647'], [-2147483648, '-2147483648']];
    for (const [n, text] of cases) expect(printed(() => printInt(n))).toBe(text);
  });

  it('printUnsigned prints the 32-bit pattern as unsigned decimal', () => {
    expect(printed(() => printUnsigned(-1))).toBe('4294967295');
    expect(printed(() => printUnsigned(-2147483648))).toBe('2147483648');
    expect(printed(() => printUnsigned(9))).toBe('9');
    expect(printed(() => printUnsigned(0))).toBe('0');
  });

  it('printHex prints 0x and exactly eight lowercase digits', () => {
    expect(printed(() => printHex(0))).toBe('0x00000000');
    expect(printed(() => printHex(-1))).toBe('0xffffffff');
    expect(printed(() => printHex(0x1234abcd))).toBe('0x1234abcd');
    expect(printed(() => printHex(-2147483648))).toBe('0x80000000');
  });

  it('powerOff writes the status to the system-control port', () => {
    powerOff(-3);
    expect(shim.poweredOff).toBe(-3);
    powerOff(0);
    expect(shim.poweredOff).toBe(0);
  });
});
