// Conformance: wrapping 32-bit arithmetic, overflow, division and remainder (truncation toward
// zero, signs, MIN / -1), unsigned division, mulhu, unary operators, bitwise operators; each
// through function parameters (computed at run time) and as constant expressions (folded).
import { cstr, divu, load8, mulhu, remu } from 'xl32';
import { show, showHex } from './lib/report.ts';

const enum K {
  MAX = 0x7fffffff,
  MIN = -2147483648,
}

function add(a: number, b: number): number {
  return (a + b) | 0;
}
function sub(a: number, b: number): number {
  return (a - b) | 0;
}
function mul(a: number, b: number): number {
  return Math.imul(a, b);
}
function div(a: number, b: number): number {
  return (a / b) | 0;
}
function rem(a: number, b: number): number {
  return a % b;
}
function neg(a: number): number {
  return -a | 0;
}
function not(a: number): number {
  return ~a;
}

/** 3^n by repeated wrapping multiplication. */
function pow3(n: number): number {
  let x = 1;
  for (let i = 0; i < n; i++) x = Math.imul(x, 3);
  return x;
}

const TEXT = cstr('The quick brown fox jumps over the lazy dog');

/** FNV-1a over the NUL-terminated bytes at s (wrapping multiply and xor). */
function fnv1a(s: number): number {
  let h = -2128831035; // 0x811c9dc5
  let p = s;
  while (load8(p) !== 0) {
    h = h ^ load8(p);
    h = Math.imul(h, 16777619);
    p++;
  }
  return h;
}

export function main(): number {
  show(cstr('add MAX+1'), add(K.MAX, 1));
  show(cstr('add MIN+MIN'), add(K.MIN, K.MIN));
  show(cstr('add -1+-1'), add(-1, -1));
  show(cstr('sub MIN-1'), sub(K.MIN, 1));
  show(cstr('sub 0-MIN'), sub(0, K.MIN));
  show(cstr('sub 5-7'), sub(5, 7));
  show(cstr('mul MAX*MAX'), mul(K.MAX, K.MAX));
  show(cstr('mul 65536*65536'), mul(65536, 65536));
  show(cstr('mul 123456789*987654321'), mul(123456789, 987654321));
  show(cstr('mul -7*6'), mul(-7, 6));
  show(cstr('mul MIN*-1'), mul(K.MIN, -1));
  show(cstr('neg MIN'), neg(K.MIN));
  show(cstr('neg 5'), neg(5));
  show(cstr('neg 0'), neg(0));
  show(cstr('not 0'), not(0));
  show(cstr('not MIN'), not(K.MIN));

  show(cstr('div 7/2'), div(7, 2));
  show(cstr('div 7/-2'), div(7, -2));
  show(cstr('div -7/2'), div(-7, 2));
  show(cstr('div -7/-2'), div(-7, -2));
  show(cstr('rem 7%2'), rem(7, 2));
  show(cstr('rem 7%-2'), rem(7, -2));
  show(cstr('rem -7%2'), rem(-7, 2));
  show(cstr('rem -7%-2'), rem(-7, -2));
  show(cstr('div MIN/-1'), div(K.MIN, -1));
  show(cstr('rem MIN%-1'), rem(K.MIN, -1));
  show(cstr('div MIN/2'), div(K.MIN, 2));
  show(cstr('rem MIN%3'), rem(K.MIN, 3));
  show(cstr('div MAX/-1'), div(K.MAX, -1));
  show(cstr('div -1/2'), div(-1, 2));
  show(cstr('rem -1%2'), rem(-1, 2));
  show(cstr('div 0/-5'), div(0, -5));
  show(cstr('divu -1/2'), divu(-1, 2));
  show(cstr('remu -1%10'), remu(-1, 10));
  show(cstr('divu MIN/3'), divu(K.MIN, 3));
  show(cstr('remu MIN%3'), remu(K.MIN, 3));
  show(cstr('divu 7/-1'), divu(7, -1));
  show(cstr('remu 7%-1'), remu(7, -1));
  showHex(cstr('mulhu -1*-1'), mulhu(-1, -1));
  show(cstr('mulhu 65536*65536'), mulhu(65536, 65536));
  show(cstr('mulhu MIN*2'), mulhu(K.MIN, 2));
  show(cstr('mulhu 3*5'), mulhu(3, 5));

  showHex(cstr('and'), -16 & 0x0ff0);
  showHex(cstr('or'), K.MIN | 0x1234);
  showHex(cstr('xor'), -1 ^ 0x5555aaaa);

  show(cstr('folded MAX+1'), (K.MAX + 1) | 0);
  show(cstr('folded MIN-1'), (K.MIN - 1) | 0);
  show(cstr('folded imul'), Math.imul(K.MAX, 3));
  show(cstr('folded MIN/-1'), (K.MIN / -1) | 0);
  show(cstr('folded -7/2'), (-7 / 2) | 0);
  show(cstr('folded -7%2'), -7 % 2);
  show(cstr('folded ~5'), ~5);
  show(cstr('folded -(MIN)'), -K.MIN | 0);
  show(cstr('folded 0xffff'), 0xffff);
  show(cstr('folded 1<<31'), 1 << 31);

  show(cstr('pow3 20'), pow3(20));
  show(cstr('pow3 40'), pow3(40));
  showHex(cstr('fnv1a'), fnv1a(TEXT));
  return 17;
}
