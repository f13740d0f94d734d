// Conformance: signed and unsigned comparisons (< <= > >= === !== and ltu/leu/gtu/geu) on
// boundary pairs, as values and as branch conditions, against registers and against constants
// small and large (immediate and long forms).
import { cstr, geu, gtu, leu, load32, ltu, staticBuffer, store32 } from 'xl32';
import { begin, end, item, show } from './lib/report.ts';

const PAIRS = staticBuffer(14 * 8);
const enum Pairs {
  COUNT = 14,
}

function bit(c: boolean): number {
  return c ? 1 : 0;
}

/** Every comparison of a with b, as ten 0/1 digits: lt le gt ge eq ne ltu leu gtu geu. */
function compareAll(a: number, b: number): void {
  item(bit(a < b));
  item(bit(a <= b));
  item(bit(a > b));
  item(bit(a >= b));
  item(bit(a === b));
  item(bit(a !== b));
  item(bit(ltu(a, b)));
  item(bit(leu(a, b)));
  item(bit(gtu(a, b)));
  item(bit(geu(a, b)));
}

/** The same comparisons as branches. */
function branchAll(a: number, b: number): number {
  let m = 0;
  if (a < b) m = m | 1;
  if (a <= b) m = m | 2;
  if (a > b) m = m | 4;
  if (a >= b) m = m | 8;
  if (a === b) m = m | 16;
  if (a !== b) m = m | 32;
  if (ltu(a, b)) m = m | 64;
  if (leu(a, b)) m = m | 128;
  if (gtu(a, b)) m = m | 256;
  if (geu(a, b)) m = m | 512;
  return m;
}

function pair(k: number, a: number, b: number): void {
  store32(PAIRS + k * 8, a);
  store32(PAIRS + k * 8 + 4, b);
}

/** Sign of x as -1, 0, 1 from comparisons with constants. */
function sign(x: number): number {
  return x < 0 ? -1 : x === 0 ? 0 : 1;
}

export function main(): number {
  pair(0, 0, 0);
  pair(1, 1, 0);
  pair(2, 0, 1);
  pair(3, -1, 0);
  pair(4, 0, -1);
  pair(5, -2147483648, 2147483647);
  pair(6, 2147483647, -2147483648);
  pair(7, -2147483648, -2147483648);
  pair(8, -1, -2);
  pair(9, -2, -1);
  pair(10, -2147483648, 0);
  pair(11, 1, -2147483648);
  pair(12, 65535, 65536);
  pair(13, -1, -1);

  const head = cstr('lt le gt ge eq ne ltu leu gtu geu');
  const asBranches = cstr('as branches');
  for (let k = 0; k < Pairs.COUNT; k++) {
    const a = load32(PAIRS + k * 8);
    const b = load32(PAIRS + k * 8 + 4);
    begin(head);
    item(a);
    item(b);
    compareAll(a, b);
    end();
    show(asBranches, branchAll(a, b));
  }

  const small = cstr('x < 100, x >= -40000, x > 100000, ltu(x, 70000), x === -1');
  for (let x = -70000; x <= 140000; x = x + 35000) {
    begin(small);
    item(x);
    item(bit(x < 100));
    item(bit(x >= -40000));
    item(bit(x > 100000));
    item(bit(ltu(x, 70000)));
    item(bit(x === -1));
    end();
  }
  show(cstr('sign -5'), sign(-5));
  show(cstr('sign 0'), sign(0));
  show(cstr('sign MIN'), sign(-2147483648));
  show(cstr('sign MAX'), sign(2147483647));
  show(cstr('folded -1 < 0'), bit(-1 < 0));
  show(cstr('folded ltu(-1, 0)'), bit(ltu(-1, 0)));
  return 3;
}
