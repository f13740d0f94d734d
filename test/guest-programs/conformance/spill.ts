// Conformance: register pressure — more live values than XL32 has registers (24 locals live
// across a call, 20 loop accumulators, an expression tree with 32 leaves), forcing spills.
import { cstr } from 'xl32';
import { show } from './lib/report.ts';

function mix(x: number): number {
  return (Math.imul(x, 0x45d9f3b) ^ (x >>> 16)) | 0;
}

function manyLocals(seed: number): number {
  const a0 = seed + 1;
  const a1 = a0 * 3;
  const a2 = a1 ^ 0x55;
  const a3 = a2 - a0;
  const a4 = a3 + 17;
  const a5 = a4 << 2;
  const a6 = a5 >> 1;
  const a7 = a6 | 0x100;
  const a8 = a7 & 0xfff;
  const a9 = a8 + a1;
  const a10 = a9 - 3;
  const a11 = a10 ^ a2;
  const a12 = a11 + a3;
  const a13 = a12 * 5;
  const a14 = a13 - a4;
  const a15 = a14 + a5;
  const a16 = a15 ^ a6;
  const a17 = a16 + a7;
  const a18 = a17 - a8;
  const a19 = a18 + a9;
  const a20 = a19 ^ a10;
  const a21 = a20 + a11;
  const a22 = a21 - a12;
  const a23 = a22 + a13;
  const m = mix(a23);
  return (
    (a0 + 2 * a1 + 3 * a2 + 4 * a3 + 5 * a4 + 6 * a5 + 7 * a6 + 8 * a7 + 9 * a8 + 10 * a9 + 11 * a10 + 12 * a11 +
      13 * a12 + 14 * a13 + 15 * a14 + 16 * a15 + 17 * a16 + 18 * a17 + 19 * a18 + 20 * a19 + 21 * a20 + 22 * a21 +
      23 * a22 + 24 * a23 + m) |
    0
  );
}

function accumulators(n: number): number {
  let s0 = 0, s1 = 1, s2 = 2, s3 = 3, s4 = 4, s5 = 5, s6 = 6, s7 = 7, s8 = 8, s9 = 9;
  let t0 = 10, t1 = 11, t2 = 12, t3 = 13, t4 = 14, t5 = 15, t6 = 16, t7 = 17, t8 = 18, t9 = 19;
  for (let i = 0; i < n; i++) {
    s0 = (s0 + i) | 0;
    s1 = (s1 ^ (i * 3)) | 0;
    s2 = (s2 + s0) | 0;
    s3 = (s3 - s1) | 0;
    s4 = Math.imul(s4, 3) + 1;
    s5 = (s5 + (s4 & 255)) | 0;
    s6 = s6 ^ s2;
    s7 = (s7 + (s6 >> 3)) | 0;
    s8 = (s8 + s7) | 0;
    s9 = s9 ^ (s8 << 1);
    t0 = (t0 + s9) | 0;
    t1 = (t1 - t0) | 0;
    t2 = t2 ^ t1;
    t3 = (t3 + (t2 & 0xffff)) | 0;
    t4 = (t4 + t3) | 0;
    t5 = t5 ^ (t4 >>> 7);
    t6 = (t6 + t5) | 0;
    t7 = (t7 - t6) | 0;
    t8 = t8 ^ t7;
    t9 = (t9 + t8 + i) | 0;
  }
  return (s0 ^ s1 ^ s2 ^ s3 ^ s4 ^ s5 ^ s6 ^ s7 ^ s8 ^ s9 ^ t0 ^ t1 ^ t2 ^ t3 ^ t4 ^ t5 ^ t6 ^ t7 ^ t8 ^ t9) | 0;
}

function bigTree(a: number, b: number, c: number, d: number): number {
  return (
    ((((a + b) * (c - d)) ^ ((a - c) * (b + d))) +
      (((a ^ d) - (b ^ c)) * ((a | 1) + (c & 7))) -
      (((b - a) ^ (d + c)) + ((a * 3) - (d * 5))) +
      ((((c << 2) + (a >> 1)) ^ ((b << 3) - (d >> 2))) * (((a + d) ^ (b - c)) + 11))) |
    0
  );
}

export function main(): number {
  show(cstr('manyLocals 1'), manyLocals(1));
  show(cstr('manyLocals -1000'), manyLocals(-1000));
  show(cstr('manyLocals 123456'), manyLocals(123456));
  show(cstr('accumulators 100'), accumulators(100));
  show(cstr('bigTree 1 2 3 4'), bigTree(1, 2, 3, 4));
  show(cstr('bigTree -7 100 -300 5'), bigTree(-7, 100, -300, 5));
  return 8;
}
