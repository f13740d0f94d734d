// Conformance: imports across several guest modules — functions, a const enum, an exported
// const and an exported let (a live binding), module state shared by every importer, renamed
// imports, and modules that import each other's dependencies.
import { cstr } from 'xl32';
import { add, countSoFar, lastAdded, total } from './lib/counter.ts';
import { Limits, OFFSET, scale, square as sq } from './lib/mathlib.ts';
import { show } from './lib/report.ts';

export function main(): number {
  show(cstr('Limits.HISTORY'), Limits.HISTORY);
  show(cstr('OFFSET'), OFFSET);
  show(cstr('scale 5'), scale(5));
  show(cstr('sq -12'), sq(-12));
  add(1);
  add(2);
  show(cstr('count after two adds'), add(3));
  show(cstr('lastAdded (live binding)'), lastAdded);
  show(cstr('total of 3'), total());
  add(10);
  add(20);
  show(cstr('total of last 4'), total());
  show(cstr('countSoFar'), countSoFar());
  return countSoFar();
}
