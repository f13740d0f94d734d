// Compiler benchmark kernel "sum" in the guest subset; bench/asm/sum.s is the hand-written twin.
// main's result (the program's exit status) is the wrapping sum 0 + 1 + ... + (N-1).

const enum Size {
  N = 10000,
}

export function sum(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + i) | 0;
  return s;
}

export function main(): number {
  return sum(Size.N);
}
