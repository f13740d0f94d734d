// Conformance: every compound assignment (+= -= *= /= %= &= |= ^= <<= >>= >>>=) on locals and
// module-level variables, ++/-- in prefix and postfix form as statements and as values, and the
// value of an assignment expression. Values stay where JavaScript's doubles agree with int32
// (exact quotients for /=, no overflow for += and *=), so Node and XL32 agree.
import { cstr } from 'xl32';
import { show } from './lib/report.ts';

let g = 7;
let hits = 0;

function bump(): number {
  hits++;
  return hits;
}

function compoundLocal(start: number): void {
  let x = start;
  x += 23;
  show(cstr('x += 23'), x);
  x -= 200;
  show(cstr('x -= 200'), x);
  x *= 3;
  show(cstr('x *= 3'), x);
  x -= 1;
  x /= 4;
  show(cstr('x -= 1; x /= 4'), x);
  x %= 7;
  show(cstr('x %= 7'), x);
  x = 1000;
  x %= -7;
  show(cstr('x %= -7'), x);
  x = -0x0f0f;
  x &= 0xff0;
  show(cstr('x &= 0xff0'), x);
  x |= -65536;
  show(cstr('x |= -65536'), x);
  x ^= 0x5a5a;
  show(cstr('x ^= 0x5a5a'), x);
  x <<= 3;
  show(cstr('x <<= 3'), x);
  x >>= 2;
  show(cstr('x >>= 2'), x);
  x >>>= 4;
  show(cstr('x >>>= 4'), x);
  x <<= 36;
  show(cstr('x <<= 36'), x);
}

function compoundGlobal(): void {
  g += 5;
  g *= -6;
  g -= 8;
  g /= 8;
  show(cstr('g after += *= -= /='), g);
  g %= 7;
  g <<= 10;
  g |= 3;
  g ^= -1;
  g >>= 1;
  show(cstr('g after %= <<= |= ^= >>='), g);
  g = -g;
  g >>>= 20;
  g &= 0x7ff;
  show(cstr('g after = -g, >>>= &='), g);
}

function increments(): void {
  let i = 5;
  const a = i++;
  show(cstr('a = i++ (a)'), a);
  show(cstr('a = i++ (i)'), i);
  const b = ++i;
  show(cstr('b = ++i (b)'), b);
  const c = i--;
  show(cstr('c = i-- (c)'), c);
  const d = --i;
  show(cstr('d = --i (d)'), d);
  show(cstr('i'), i);
  const e = i++ + i++ * 10;
  show(cstr('i++ + i++ * 10'), e);
  const f = ++i - --i;
  show(cstr('++i - --i'), f);
  show(cstr('i after'), i);
  let n = 0;
  for (let k = 10; k > 0; k--) n++;
  show(cstr('counted down'), n);
  g = 0;
  g++;
  ++g;
  g--;
  show(cstr('g++ ++g g--'), g);
  show(cstr('g++ value'), g++);
  show(cstr('--g value'), --g);
  let y = 0;
  const z = (y = 41) + 1;
  show(cstr('(y = 41) + 1'), z);
  show(cstr('y'), y);
  const w = (y += 9);
  show(cstr('w = (y += 9)'), w);
  show(cstr('bump() twice'), bump() * 10 + bump());
  hits += bump();
  show(cstr('hits += bump()'), hits);
}

export function main(): number {
  compoundLocal(100);
  compoundGlobal();
  increments();
  return g;
}
