// Conformance: function addresses (addressOf) and indirect calls (callIndirect) with 0..6
// arguments, a dispatch table of function addresses in memory, higher-order functions, and
// recursion through an indirect call.
import { addressOf, callIndirect, cstr, load32, staticBuffer, store32 } from 'xl32';
import { show } from './lib/report.ts';

const enum Ops {
  COUNT = 4,
}
const table = staticBuffer(Ops.COUNT * 4);
let visits = 0;

function seven(): number {
  return 7;
}
function addOp(a: number, b: number): number {
  return (a + b) | 0;
}
function subOp(a: number, b: number): number {
  return (a - b) | 0;
}
function mulOp(a: number, b: number): number {
  return Math.imul(a, b);
}
function maxOp(a: number, b: number): number {
  return a > b ? a : b;
}
function six(a: number, b: number, c: number, d: number, e: number, f: number): number {
  return a * 100000 + b * 10000 + c * 1000 + d * 100 + e * 10 + f;
}
function visit(n: number): void {
  visits += n;
}

/** Fold fn over 1..n. */
function fold(fn: number, init: number, n: number): number {
  let acc = init;
  for (let k = 1; k <= n; k++) acc = callIndirect(fn, acc, k);
  return acc;
}

/** Factorial, recursing through its own address. */
function fact(n: number): number {
  return n <= 1 ? 1 : Math.imul(n, callIndirect(addressOf(fact), n - 1));
}

export function main(): number {
  store32(table, addressOf(addOp));
  store32(table + 4, addressOf(subOp));
  store32(table + 8, addressOf(mulOp));
  store32(table + 12, addressOf(maxOp));
  for (let k = 0; k < Ops.COUNT; k++) show(cstr('table op on 12, -5'), callIndirect(load32(table + k * 4), 12, -5));
  show(cstr('no arguments'), callIndirect(addressOf(seven)));
  show(cstr('six arguments'), callIndirect(addressOf(six), 1, 2, 3, 4, 5, 6));
  show(cstr('fold add 1..100'), fold(addressOf(addOp), 0, 100));
  show(cstr('fold mul 1..12'), fold(addressOf(mulOp), 1, 12));
  show(cstr('fold max'), fold(addressOf(maxOp), -50, 10));
  show(cstr('fact 10 by indirect recursion'), fact(10));
  show(cstr('same function, same address'), addressOf(addOp) === load32(table) ? 1 : 0);
  show(cstr('different functions, different addresses'), addressOf(addOp) !== addressOf(subOp) ? 1 : 0);
  callIndirect(addressOf(visit), 5);
  callIndirect(addressOf(visit), 6);
  show(cstr('void function called indirectly'), visits);
  return 10;
}
