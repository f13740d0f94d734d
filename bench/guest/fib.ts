// Compiler benchmark kernel "fib" in the guest subset; bench/asm/fib.s is the hand-written twin.
// main's result (the program's exit status) is fib(N), computed by naive double recursion.

const enum Size {
  N = 20,
}

export function fib(n: number): number {
  if (n < 2) return n;
  return (fib(n - 1) + fib(n - 2)) | 0;
}

export function main(): number {
  return fib(Size.N);
}
