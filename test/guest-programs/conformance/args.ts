// Conformance: calls with 0 to 6 arguments (the compiler's limit) (weighted sums show each argument arrived in its
// place), calls nested in argument lists, recursion that rotates its arguments, void calls.
import { cstr } from 'xl32';
import { show } from './lib/report.ts';

let sink = 0;

function f0(): number {
  return 42;
}
function f1(a: number): number {
  return a * 2;
}
function f2(a: number, b: number): number {
  return a * 10 + b;
}
function f3(a: number, b: number, c: number): number {
  return a * 100 + b * 10 + c;
}
function f4(a: number, b: number, c: number, d: number): number {
  return a * 1000 + b * 100 + c * 10 + d;
}
function f5(a: number, b: number, c: number, d: number, e: number): number {
  return a * 10000 + b * 1000 + c * 100 + d * 10 + e;
}
function f6(a: number, b: number, c: number, d: number, e: number, f: number): number {
  return a * 100000 + b * 10000 + c * 1000 + d * 100 + e * 10 + f;
}
/** Calls f6 with its arguments reversed: a parallel move with cycles (r0<->r5, r1<->r4, r2<->r3). */
function reversed6(a: number, b: number, c: number, d: number, e: number, f: number): number {
  return f6(f, e, d, c, b, a);
}

/** Calls f6 with two arguments swapped and one duplicated. */
function shuffled6(a: number, b: number, c: number, d: number, e: number, f: number): number {
  return f6(b, a, c, c, f, e);
}

/** Rotate six arguments n times (a cyclic parallel move per call); the result shows where each one ended up. */
function rotate(n: number, a: number, b: number, c: number, d: number, e: number, f: number): number {
  if (n === 0) return f6(a, b, c, d, e, f);
  return rotate(n - 1, b, c, d, e, f, a);
}

function record(a: number, b: number, c: number): void {
  sink = sink * 1000 + a * 100 + b * 10 + c;
}

export function main(): number {
  show(cstr('f0'), f0());
  show(cstr('f1'), f1(21));
  show(cstr('f2'), f2(1, 2));
  show(cstr('f3'), f3(1, 2, 3));
  show(cstr('f4'), f4(1, 2, 3, 4));
  show(cstr('f5'), f5(1, 2, 3, 4, 5));
  show(cstr('f6'), f6(1, 2, 3, 4, 5, 6));
  show(cstr('reversed6'), reversed6(1, 2, 3, 4, 5, 6));
  show(cstr('shuffled6'), shuffled6(1, 2, 3, 4, 5, 6));
  show(cstr('f6 of calls'), f6(f1(0), f2(0, 1), f1(1), f3(0, 0, 3), f2(0, 4), f1(f2(0, 2)) + 1));
  show(cstr('nested'), f4(f1(1), f2(0, 3), f3(0, 0, f1(2)), f0() - 41));
  show(cstr('args evaluated left to right'), f3(++sink, ++sink, ++sink));
  show(cstr('rotate 0'), rotate(0, 1, 2, 3, 4, 5, 6));
  show(cstr('rotate 1'), rotate(1, 1, 2, 3, 4, 5, 6));
  show(cstr('rotate 4'), rotate(4, 1, 2, 3, 4, 5, 6));
  show(cstr('rotate 13'), rotate(13, 1, 2, 3, 4, 5, 6));
  sink = 0;
  record(1, 2, 3);
  record(4, 5, 6);
  show(cstr('void calls'), sink);
  return f2(4, 2);
}
