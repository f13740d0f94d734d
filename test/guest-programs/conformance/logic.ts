// Conformance: && and || evaluate their right side only when needed (side effects recorded as
// a trace of digits), ! on comparisons and numbers, ternaries (nested, and evaluating one arm only).
import { cstr } from 'xl32';
import { show } from './lib/report.ts';

let trace = 0;

/** Record `id` in the trace and return v. */
function t(id: number, v: number): number {
  trace = trace * 10 + id;
  return v;
}

function and2(a: number, b: number): number {
  trace = 0;
  const r = t(1, a) !== 0 && t(2, b) !== 0 ? 1 : 0;
  return r * 1000 + trace;
}

function or2(a: number, b: number): number {
  trace = 0;
  const r = t(1, a) !== 0 || t(2, b) !== 0 ? 1 : 0;
  return r * 1000 + trace;
}

function mixed(a: number, b: number, c: number): number {
  trace = 0;
  let r = 0;
  if ((t(1, a) !== 0 || t(2, b) !== 0) && t(3, c) !== 0) r = 1;
  return r * 10000 + trace;
}

function notAnd(a: number, b: number): number {
  trace = 0;
  let r = 0;
  if (!(t(1, a) > 0 && t(2, b) > 0)) r = 1;
  return r * 1000 + trace;
}

function chooser(x: number): number {
  trace = 0;
  const r = x > 0 ? t(1, x * 2) : x < 0 ? t(2, -x) : t(3, 99);
  return r * 1000 + trace;
}

function truthy(x: number): number {
  return !x ? 0 : 1;
}

export function main(): number {
  show(cstr('0 && 0'), and2(0, 0));
  show(cstr('0 && 1'), and2(0, 1));
  show(cstr('1 && 0'), and2(1, 0));
  show(cstr('5 && -1'), and2(5, -1));
  show(cstr('0 || 0'), or2(0, 0));
  show(cstr('0 || 7'), or2(0, 7));
  show(cstr('3 || 0'), or2(3, 0));
  show(cstr('3 || 7'), or2(3, 7));
  show(cstr('(0 || 0) && 1'), mixed(0, 0, 1));
  show(cstr('(0 || 1) && 1'), mixed(0, 1, 1));
  show(cstr('(1 || 0) && 0'), mixed(1, 0, 0));
  show(cstr('(1 || 1) && 1'), mixed(1, 1, 1));
  show(cstr('!(1 > 0 && 2 > 0)'), notAnd(1, 2));
  show(cstr('!(-1 > 0 && 2 > 0)'), notAnd(-1, 2));
  show(cstr('!(1 > 0 && 0 > 0)'), notAnd(1, 0));
  show(cstr('ternary 21'), chooser(21));
  show(cstr('ternary -4'), chooser(-4));
  show(cstr('ternary 0'), chooser(0));
  show(cstr('!0'), truthy(0) === 0 ? 1 : 0);
  show(cstr('!!-5'), truthy(-5));
  show(cstr('!!MIN'), truthy(-2147483648));

  let loops = 0;
  let i = 0;
  while (i < 10 && loops < 4) {
    i += 3;
    loops++;
  }
  show(cstr('while (i < 10 && loops < 4) i'), i);
  show(cstr('loops'), loops);
  let j = 0;
  while (!(j >= 5 || j === 3)) j++;
  show(cstr('while !(j >= 5 || j === 3)'), j);
  const k = 4;
  show(cstr('nested ternary'), k < 2 ? 10 : k < 4 ? 20 : k < 6 ? 30 : 40);
  return 5;
}
