// Conformance: while, do-while (continue goes to the condition), for (with empty parts, and two
// variables stepped by a comma expression), switch (fallthrough, default in the middle, no match,
// negative, sparse and non-constant cases, nested switches, switch inside a loop), break and
// continue, nested loops where they leave only the inner loop, and labeled break/continue.
import { cstr } from 'xl32';
import { begin, end, item, show } from './lib/report.ts';

function classify(n: number): number {
  let r = 0;
  switch (n) {
    case 1:
      r += 1;
    // falls through
    case 2:
      r += 2;
      break;
    default:
      r += 100;
    // falls through
    case 3:
      r += 3;
      break;
    case 4: {
      r += 4;
      return r * 10;
    }
    case -5:
      r = -5;
      break;
    case 1000000:
      r = 7;
      break;
  }
  return r;
}

function noDefault(n: number): number {
  let r = 50;
  switch (n & 3) {
    case 0:
      r = 0;
      break;
    case 2:
      r = 2;
  }
  return r;
}

function dense(n: number): number {
  switch (n) {
    case 0: return 10;
    case 1: return 11;
    case 2: return 12;
    case 3: return 13;
    case 4: return 14;
    case 5: return 15;
    case 6: return 16;
    case 7: return 17;
    default: return -1;
  }
}

/** Case labels that are expressions, matched in source order. */
function dynamicCase(x: number, y: number): number {
  switch (x) {
    case y:
      return 100;
    case 1:
      return 1;
    case y + 1:
      return 101;
  }
  return 0;
}

function nestedSwitch(a: number, b: number): number {
  let r = 0;
  switch (a) {
    case 0:
      switch (b) {
        case 0:
          r = 1;
          break;
        case 1:
          r = 2;
        // falls through
        default:
          r += 10;
      }
      r += 100;
      break;
    case 1:
      r = 1000;
  }
  return r;
}

export function main(): number {
  begin(cstr('switch -6..6 and 1000000'));
  for (let n = -6; n <= 6; n++) item(classify(n));
  item(classify(1000000));
  end();
  begin(cstr('switch without default'));
  for (let n = 0; n < 5; n++) item(noDefault(n));
  end();
  begin(cstr('dense switch -1..8'));
  for (let n = -1; n <= 8; n++) item(dense(n));
  end();

  let s = 0;
  let i = 0;
  while (i < 100) {
    i++;
    if (i % 3 === 0) continue;
    if (i > 20) break;
    s += i;
  }
  show(cstr('while with continue/break: sum'), s);
  show(cstr('while with continue/break: i'), i);

  let d = 0;
  do {
    d += 10;
  } while (d < 0);
  show(cstr('do-while runs once'), d);
  let e = 1;
  do e = e * 2; while (e < 1000);
  show(cstr('do-while doubling'), e);

  let f = 0;
  for (;;) {
    f++;
    if (f === 7) break;
  }
  show(cstr('for (;;) until 7'), f);
  let meet = 0;
  for (let lo = 0, hi = 10; lo < hi; lo++, hi--) meet += lo * hi;
  show(cstr('for with two variables'), meet);
  let odd = 0;
  for (let k = 0; k < 20; k++) {
    if ((k & 1) === 0) continue;
    odd += k;
  }
  show(cstr('for with continue: odd sum'), odd);

  let pairs = 0;
  let innerBreaks = 0;
  for (let a = 0; a < 10; a++) {
    for (let b = 0; b < 10; b++) {
      if (b > a) {
        innerBreaks++;
        break;
      }
      if ((a + b) % 4 === 0) continue;
      pairs++;
    }
  }
  show(cstr('nested loops: pairs'), pairs);
  show(cstr('nested loops: inner breaks'), innerBreaks);

  let found = -1;
  let outerDone = 0;
  for (let a = 1; a < 50 && found < 0; a++) {
    let b = a;
    while (b < 50) {
      if (a * a + b * b === 25 * 25 && a > 10) {
        found = a * 100 + b;
        break;
      }
      b++;
    }
    outerDone = a;
  }
  show(cstr('pythagorean search'), found);
  show(cstr('outer loop stopped at'), outerDone);

  let acc = 0;
  for (let k = 0; k < 12; k++) {
    switch (k % 4) {
      case 0:
        continue;
      case 1:
        acc += 1;
        break;
      case 2:
        acc += 20;
      // falls through
      default:
        acc += 300;
    }
    acc += 4000;
  }
  show(cstr('switch inside loop with continue'), acc);

  let di = 0;
  let ds = 0;
  do {
    di++;
    if (di % 2 === 0) continue;
    ds += di;
  } while (di < 10);
  show(cstr('do-while continue reaches the condition: sum'), ds);
  show(cstr('do-while continue reaches the condition: i'), di);

  begin(cstr('non-constant cases (x, 3) for x = 3 1 4 9, then (5, 5)'));
  item(dynamicCase(3, 3));
  item(dynamicCase(1, 3));
  item(dynamicCase(4, 3));
  item(dynamicCase(9, 3));
  item(dynamicCase(5, 5));
  end();
  begin(cstr('nested switch (0,0) (0,1) (0,2) (1,0) (2,0)'));
  item(nestedSwitch(0, 0));
  item(nestedSwitch(0, 1));
  item(nestedSwitch(0, 2));
  item(nestedSwitch(1, 0));
  item(nestedSwitch(2, 0));
  end();

  let labeled = 0;
  outer: for (let a = 0; a < 10; a++) {
    for (let b = 0; b < 10; b++) {
      if (b === 3) continue outer;
      if (a === 5) break outer;
      labeled++;
    }
  }
  show(cstr('labeled continue/break'), labeled);
  let q = 0;
  spin: while (true) {
    switch (q) {
      case 5:
        break spin;
      default:
        q++;
        continue spin;
    }
  }
  show(cstr('break out of a loop from a switch by label'), q);

  let w = 0;
  let guard = 0;
  while (true) {
    guard++;
    if (guard > 1000) break;
    w += guard;
    if (w > 50) break;
  }
  show(cstr('while (true) with break'), w);
  return 6;
}
