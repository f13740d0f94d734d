// Conformance: recursion — doubly recursive fib, Ackermann (deep, non-primitive-recursive),
// mutual recursion, recursion with module-level state (Hanoi move count), gcd.
import { cstr } from 'xl32';
import { begin, end, item, show } from './lib/report.ts';

let moves = 0;

function fib(n: number): number {
  if (n < 2) return n;
  return (fib(n - 1) + fib(n - 2)) | 0;
}

function ack(m: number, n: number): number {
  if (m === 0) return n + 1;
  if (n === 0) return ack(m - 1, 1);
  return ack(m - 1, ack(m, n - 1));
}

function isEven(n: number): number {
  return n === 0 ? 1 : isOdd(n - 1);
}

function isOdd(n: number): number {
  return n === 0 ? 0 : isEven(n - 1);
}

function hanoi(n: number, from: number, to: number, via: number): void {
  if (n === 0) return;
  hanoi(n - 1, from, via, to);
  moves++;
  hanoi(n - 1, via, to, from);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Sum of 1..n by recursion (depth n). */
function sumTo(n: number): number {
  return n === 0 ? 0 : n + sumTo(n - 1);
}

export function main(): number {
  begin(cstr('fib 0..20'));
  for (let n = 0; n <= 20; n++) item(fib(n));
  end();
  show(cstr('fib 20 + fib 21 === fib 22'), fib(20) + fib(21) === fib(22) ? 1 : 0);
  show(cstr('ack 2 3'), ack(2, 3));
  show(cstr('ack 3 3'), ack(3, 3));
  show(cstr('ack 3 4'), ack(3, 4));
  show(cstr('isEven 100'), isEven(100));
  show(cstr('isOdd 77'), isOdd(77));
  show(cstr('isEven 77'), isEven(77));
  hanoi(10, 1, 3, 2);
  show(cstr('hanoi 10 moves'), moves);
  show(cstr('gcd 1071 462'), gcd(1071, 462));
  show(cstr('gcd -48 18'), gcd(-48, 18));
  show(cstr('sumTo 1000'), sumTo(1000));
  return fib(12);
}
