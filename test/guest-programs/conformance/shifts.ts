// Conformance: << >> >>> by every count 0..31, by counts >= 32 and negative counts (taken
// modulo 32), with variable counts (shl/shr/sar) and literal counts (immediate forms).
import { cstr, load32, staticBuffer, store32 } from 'xl32';
import { begin, end, showHex } from './lib/report.ts';
import { printHex, putc } from '../../../toolchain/lib/io.ts';

const VALUES = staticBuffer(5 * 4);
const enum Values {
  COUNT = 5,
}
const ODD_COUNTS = staticBuffer(8 * 4);
const enum OddCounts {
  COUNT = 8,
}

function shl(a: number, n: number): number {
  return a << n;
}
function sar(a: number, n: number): number {
  return a >> n;
}
function shr(a: number, n: number): number {
  return (a >>> n) | 0;
}

/** Print the three shifts of v by n on one line. */
function row(v: number, n: number): void {
  printHex(shl(v, n));
  putc(32);
  printHex(sar(v, n));
  putc(32);
  printHex(shr(v, n));
  putc(10);
}

export function main(): number {
  store32(VALUES, 1);
  store32(VALUES + 4, -1);
  store32(VALUES + 8, -2147483648);
  store32(VALUES + 12, 0x12345678);
  store32(VALUES + 16, -0x12345678);
  store32(ODD_COUNTS, 32);
  store32(ODD_COUNTS + 4, 33);
  store32(ODD_COUNTS + 8, 63);
  store32(ODD_COUNTS + 12, 64);
  store32(ODD_COUNTS + 16, -1);
  store32(ODD_COUNTS + 20, -31);
  store32(ODD_COUNTS + 24, -32);
  store32(ODD_COUNTS + 28, 100);

  const every = cstr('counts 0..31 of');
  const odd = cstr('counts 32 33 63 64 -1 -31 -32 100 of');
  for (let k = 0; k < Values.COUNT; k++) {
    const v = load32(VALUES + k * 4);
    begin(every);
    printHex(v);
    end();
    for (let n = 0; n < 32; n++) row(v, n);
    begin(odd);
    printHex(v);
    end();
    for (let j = 0; j < OddCounts.COUNT; j++) row(v, load32(ODD_COUNTS + j * 4));
  }

  const x = load32(VALUES + 16);
  showHex(cstr('x << 0'), x << 0);
  showHex(cstr('x << 1'), x << 1);
  showHex(cstr('x << 31'), x << 31);
  showHex(cstr('x << 32'), x << 32);
  showHex(cstr('x << 33'), x << 33);
  showHex(cstr('x >> 4'), x >> 4);
  showHex(cstr('x >> 31'), x >> 31);
  showHex(cstr('x >> 36'), x >> 36);
  showHex(cstr('x >>> 4'), (x >>> 4) | 0);
  showHex(cstr('x >>> 31'), (x >>> 31) | 0);
  showHex(cstr('x >>> 32'), (x >>> 32) | 0);
  showHex(cstr('x << -1'), x << -1);
  showHex(cstr('x >> -28'), x >> -28);
  showHex(cstr('x >>> -28'), (x >>> -28) | 0);
  showHex(cstr('1 << 31 folded'), 1 << 31);
  showHex(cstr('-1 >>> 1 folded'), (-1 >>> 1) | 0);
  showHex(cstr('-256 >> 4 folded'), -256 >> 4);
  showHex(cstr('1 << 40 folded'), 1 << 40);
  return 0;
}
