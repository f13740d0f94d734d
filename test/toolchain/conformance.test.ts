// The conformance suite: guest programs covering the whole subset (test/guest-programs/conformance)
// print the same text compiled to XL32 as in Node over the xl32 shim, and that text is the one
// checked in beside each program (NAME.expected), so a bug shared by both runs cannot pass.
// Adding a program: write NAME.ts (exporting main(): number), add it below with an empty
// NAME.expected, run this test, check the Node output the failure shows line by line against
// what the language says, and check that text in as NAME.expected.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInNode, runOnXl32 } from './conformance/harness.ts';

const DIR = resolve(import.meta.dirname, '../guest-programs/conformance');

/** Each program, the behaviour it pins down, and the status its main returns. */
const PROGRAMS: readonly { name: string; behaviour: string; status: number }[] = [
  { name: 'arith', behaviour: 'wrapping + - *, overflow, division and remainder truncate toward zero, MIN / -1, divu/remu/mulhu, folded constants', status: 17 },
  { name: 'shifts', behaviour: '<< >> >>> by 0..31, by counts >= 32 and negative counts (modulo 32), variable and literal counts', status: 0 },
  { name: 'compare', behaviour: 'signed and unsigned comparisons on boundary pairs, as values and as branches, against small and large constants', status: 3 },
  { name: 'assign', behaviour: 'every compound assignment, ++/-- prefix and postfix as values, assignment expressions, left operand read before the right', status: 1 },
  { name: 'logic', behaviour: '&& and || short-circuit their side effects, ! and nested ternaries evaluate one arm', status: 5 },
  { name: 'control', behaviour: 'while, do (continue reaches the condition), for, switch fallthrough/default/no match/sparse/non-constant cases, break and continue in nested loops, labels', status: 6 },
  { name: 'recursion', behaviour: 'fib, Ackermann, mutual recursion, recursion over module state, recursion 1000 deep', status: 144 },
  { name: 'spill', behaviour: 'more live values than registers: 24 locals across a call, 20 loop accumulators, a 32-leaf expression', status: 8 },
  { name: 'args', behaviour: 'calls with 0..6 arguments land in order, cyclic argument shuffles, nested calls as arguments, left-to-right evaluation', status: 42 },
  { name: 'memory', behaviour: 'load/store 8/16/32 signed and unsigned, little-endian, unaligned, beyond 16-bit displacements, const enum struct offsets, cstr strings', status: 9 },
  { name: 'indirect', behaviour: 'addressOf and callIndirect with 0..6 arguments, dispatch tables, indirect recursion', status: 10 },
  { name: 'modules', behaviour: 'imports across modules: functions, const enums, consts, live let bindings, shared module state', status: 5 },
];

describe('conformance: the same output on XL32, in Node, and as checked in', () => {
  for (const p of PROGRAMS) {
    it(`${p.name}: ${p.behaviour}`, async () => {
      const file = join(DIR, `${p.name}.ts`);
      const expected = readFileSync(join(DIR, `${p.name}.expected`), 'latin1');
      const inNode = await runInNode(file);
      expect(inNode.output, 'Node output vs the checked-in expectation').toBe(expected);
      expect(inNode.status).toBe(p.status);
      const onXl32 = runOnXl32(file);
      expect(onXl32.stopped, onXl32.detail).toBe('poweroff');
      expect(onXl32.output, 'XL32 output vs the checked-in expectation').toBe(expected);
      expect(onXl32.status).toBe(p.status);
    });
  }
});
