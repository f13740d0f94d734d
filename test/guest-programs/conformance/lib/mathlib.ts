// Exported functions, constants and a const enum, imported by two other conformance modules.
export const enum Limits {
  HISTORY = 4,
  FACTOR = 3,
}

export const OFFSET = 1000;

export function scale(n: number): number {
  return n * Limits.FACTOR + OFFSET;
}

export function square(n: number): number {
  return Math.imul(n, n);
}
