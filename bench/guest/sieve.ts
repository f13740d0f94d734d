// Compiler benchmark kernel "sieve" in the guest subset; bench/asm/sieve.s is the hand-written
// twin. The sieve of Eratosthenes over a zeroed byte array; main's result (the program's exit
// status) is the number of primes below N.
import { load8, staticBuffer, store8 } from 'xl32';

const enum Size {
  N = 8192,
}

const flags = staticBuffer(Size.N);

/** The number of primes below n, marking composites in the zeroed byte array at f. */
export function sieve(f: number, n: number): number {
  let count = 0;
  for (let i = 2; i < n; i++) {
    if (load8(f + i) === 0) {
      count++;
      for (let j = Math.imul(i, i); j < n; j += i) store8(f + j, 1);
    }
  }
  return count;
}

export function main(): number {
  return sieve(flags, Size.N);
}
