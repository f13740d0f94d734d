// Conformance: load/store of 8, 16 and 32 bits (zero- and sign-extending, truncating stores,
// little-endian byte order, unaligned words, displacements beyond 16 bits and negative ones) on
// staticBuffer memory; const enums as struct field offsets (a linked list of records); cstr
// strings (bytes, NUL terminator, escapes).
import { cstr, load16, load16s, load32, load8, load8s, staticBuffer, store16, store32, store8 } from 'xl32';
import { puts, newline } from '../../../toolchain/lib/io.ts';
import { begin, end, item, show, showHex } from './lib/report.ts';

/** A list record: next pointer, value, a 16-bit tag, an 8-bit kind. */
const enum Rec {
  NEXT = 0,
  VALUE = 4,
  TAG = 8,
  KIND = 10,
  BYTES = 12,
}
const enum Pool {
  COUNT = 10,
}

const scratch = staticBuffer(64);
/** Larger than a signed 16-bit displacement reaches. */
const wide = staticBuffer(80000);
const enum Far {
  EDGE = 32764,
  OVER = 32768,
  FAR = 70000,
  BACK = -4,
}
const pool = staticBuffer(Rec.BYTES * Pool.COUNT);
const aligned = staticBuffer(32, 64);
const GREETING = cstr('hello, world');
const ESCAPES = cstr('tab\there\\ "quoted" \x41\x7e');
const EMPTY = cstr('');

function strlen(s: number): number {
  let n = 0;
  while (load8(s + n) !== 0) n++;
  return n;
}

function strcpy(dst: number, src: number): void {
  let k = 0;
  let c = 0;
  do {
    c = load8(src + k);
    store8(dst + k, c);
    k++;
  } while (c !== 0);
}

/** Build a list of the records, newest first, and return its head (0 ends the list). */
function build(): number {
  let head = 0;
  for (let k = 0; k < Pool.COUNT; k++) {
    const r = pool + k * Rec.BYTES;
    store32(r + Rec.NEXT, head);
    store32(r + Rec.VALUE, k * k - 20);
    store16(r + Rec.TAG, 0xfff0 + k);
    store8(r + Rec.KIND, k & 1 ? 200 : 7);
    head = r;
  }
  return head;
}

export function main(): number {
  store32(scratch, 0x12345678);
  showHex(cstr('byte 0 of 0x12345678'), load8(scratch));
  showHex(cstr('byte 3'), load8(scratch + 3));
  showHex(cstr('half 0'), load16(scratch));
  showHex(cstr('half at 1 (unaligned)'), load16(scratch + 1));
  store8(scratch + 4, 0x9a);
  store8(scratch + 5, 0xbc);
  store8(scratch + 6, 0xde);
  store8(scratch + 7, 0xf0);
  showHex(cstr('word at 2 (unaligned)'), load32(scratch + 2));
  showHex(cstr('word at 4 from bytes'), load32(scratch + 4));
  store8(scratch + 8, 0x1ff);
  show(cstr('store8 0x1ff, load8'), load8(scratch + 8));
  show(cstr('load8s'), load8s(scratch + 8));
  store8(scratch + 9, 0x7f);
  show(cstr('load8s 0x7f'), load8s(scratch + 9));
  store16(scratch + 12, 0x18000);
  show(cstr('store16 0x18000, load16'), load16(scratch + 12));
  show(cstr('load16s'), load16s(scratch + 12));
  store16(scratch + 14, -2);
  showHex(cstr('word after two halves'), load32(scratch + 12));
  store32(scratch + 16, -1);
  store8(scratch + 17, 0);
  showHex(cstr('byte store inside a word'), load32(scratch + 16));
  store32(scratch + 20, 0);
  store16(scratch + 21, 0xabcd);
  showHex(cstr('unaligned half store'), load32(scratch + 20));

  store32(wide + Far.EDGE, 22);
  store32(wide + Far.OVER, 33);
  store32(wide + Far.FAR, 44);
  const middle = wide + 40000;
  store32(middle + Far.BACK, 55);
  store32(middle - 32772, 66);
  store8(wide + 65535, 0x99);
  begin(cstr('offsets 32764 32768 70000 39996 7228 (beyond imm16)'));
  item(load32(wide + Far.EDGE));
  item(load32(wide + Far.OVER));
  item(load32(wide + Far.FAR));
  item(load32(wide + 39996));
  item(load32(wide + 40000 - 32772));
  end();
  show(cstr('load8s at offset 65535'), load8s(wide + 65535));

  let head = build();
  let sum = 0;
  let tags = 0;
  let kinds = 0;
  let n = 0;
  while (head !== 0) {
    sum += load32(head + Rec.VALUE);
    tags = (tags + load16s(head + Rec.TAG)) | 0;
    kinds += load8(head + Rec.KIND);
    n++;
    head = load32(head + Rec.NEXT);
  }
  show(cstr('list length'), n);
  show(cstr('list value sum'), sum);
  show(cstr('list signed tag sum'), tags);
  show(cstr('list kind sum'), kinds);
  show(cstr('aligned 64'), (aligned & 63) === 0 ? 1 : 0);

  puts(GREETING);
  newline();
  show(cstr('strlen greeting'), strlen(GREETING));
  puts(ESCAPES);
  newline();
  show(cstr('strlen escapes'), strlen(ESCAPES));
  show(cstr('strlen empty'), strlen(EMPTY));
  show(cstr('NUL after greeting'), load8(GREETING + 12));
  strcpy(scratch + 32, GREETING);
  store8(scratch + 32, 0x48);
  puts(scratch + 32);
  newline();
  show(cstr('same literal twice is one string or two equal ones'), load8(cstr('abc') + 1) === load8(cstr('abc') + 1) ? 1 : 0);
  return 9;
}
