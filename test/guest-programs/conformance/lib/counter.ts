// Module-level state behind exported functions, for the multi-module conformance program.
import { staticBuffer, load32, store32 } from 'xl32';
import { scale, Limits } from './mathlib.ts';

let count = 0;
export let lastAdded = 0;
const history = staticBuffer(Limits.HISTORY * 4);

export function add(n: number): number {
  const v = scale(n);
  store32(history + (count % Limits.HISTORY) * 4, v);
  count++;
  lastAdded = v;
  return count;
}

export function total(): number {
  let s = 0;
  const n = count < Limits.HISTORY ? count : Limits.HISTORY;
  for (let k = 0; k < n; k++) s += load32(history + k * 4);
  return s;
}

export function countSoFar(): number {
  return count;
}
