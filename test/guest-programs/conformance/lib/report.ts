// Reporting helpers shared by the conformance programs: one "label: value" line per fact.
// Guest code; labels are `cstr` addresses.
import { newline, printHex, printInt, putc, puts } from '../../../../toolchain/lib/io.ts';

const enum Ch {
  COLON = 58,
  SPACE = 32,
}

function label(text: number): void {
  puts(text);
  putc(Ch.COLON);
  putc(Ch.SPACE);
}

/** Print `label: value` with value in signed decimal. */
export function show(text: number, value: number): void {
  label(text);
  printInt(value);
  newline();
}

/** Print `label: 0x........` with value's 32-bit pattern. */
export function showHex(text: number, value: number): void {
  label(text);
  printHex(value);
  newline();
}

/** Print `label: ` and then the values that follow on the same line, space-separated. */
export function begin(text: number): void {
  label(text);
}

/** Print one value of a line started with `begin`, followed by a space. */
export function item(value: number): void {
  printInt(value);
  putc(Ch.SPACE);
}

/** End a line started with `begin`. */
export function end(): void {
  newline();
}
