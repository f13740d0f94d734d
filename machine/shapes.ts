// Object shapes the host's optimizing compiler can keep for a whole process.
//
// V8 stores a number field that first held a small integer as one (a "Smi") until a store of any
// other number - a fraction, a count past 2^31, a double read from a Float64Array or computed from
// double fields - widens it. The widening replaces the hidden class ("map") of every object of
// that class: each optimized function built against the old class deoptimizes, and so does every
// optimized function that relied on the class of what another object's field holds, at the next
// store of an object of the new class there (a domain's `stats`, a vCPU's `exit`, a bt chain's
// `m`). Widened in the middle of a process's first boot, or at the start of its second, that threw
// away all of bt's compiled chains at once, and V8 compiled them all again (docs/engine.md, "The
// twenty-second round"). So the fields that will hold such numbers are widened when their object
// is built, before any function has been optimized against it.

/**
 * Give the named number fields of `o` V8's double representation now, keeping their values. Call
 * it at the end of the constructor (or right after building an object literal) for every number
 * field that can come to hold a non-Smi: cycle and instruction counts, sums of ledger entries,
 * 32-bit addresses, values read from a Float64Array.
 */
export function doubleFields<T extends object>(o: T, names: readonly string[]): T {
  const r = o as Record<string, unknown>;
  for (const n of names) {
    const v = r[n];
    // (names are strings so that private fields can be named: a misspelt one is caught here)
    if (typeof v !== 'number') throw new Error(`doubleFields: ${n} is not a number field of ${o.constructor.name}`);
    r[n] = 0.5;
    r[n] = v;
  }
  return o;
}
