// Property-based differential test of the compiler: random int32 expressions over every operator
// of the subset, compiled to XL32 and run on the Machine, must print exactly what the same source
// prints in Node over the xl32 shim. Fixed seed, bounded runs; a failure names the expressions.
// Defined here for two suites: random-expressions.test.ts (npm test: the first programs of the
// seed's sequence) and random-expressions.deep.test.ts (npm run test:deep: the whole sequence).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { expressionArbitraries, int32, programSource, type Case } from './conformance/expressions.ts';
import { runInNode, runOnXl32 } from './conformance/harness.ts';

/** Fixed for CI; XENOLITH_FUZZ_RUNS / XENOLITH_FUZZ_SEED / XENOLITH_FUZZ_DEPTH explore further by hand. */
export const DEEP_PROGRAMS = Number(process.env.XENOLITH_FUZZ_RUNS ?? 60);
const SEED = Number(process.env.XENOLITH_FUZZ_SEED ?? 42);
const MAX_DEPTH = Number(process.env.XENOLITH_FUZZ_DEPTH ?? 4);
const CASES_PER_PROGRAM = 20;
const IO = resolve(import.meta.dirname, '../../toolchain/lib/io.ts');

const { numExpr } = expressionArbitraries(MAX_DEPTH);
const caseArb: fc.Arbitrary<Case> = fc.record({
  expr: numExpr.map((e) => e.src),
  args: fc.tuple(int32, int32, int32, int32),
});

/** Run the program both ways; throw naming every expression whose printed value differs. */
async function sameOutput(file: string, cases: readonly Case[]): Promise<void> {
  const inNode = await runInNode(file);
  const onXl32 = runOnXl32(file);
  const want = inNode.output.split('\n');
  const got = onXl32.output.split('\n');
  expect(want.length, 'one line per expression in Node').toBe(cases.length + 1);
  const wrong: string[] = [];
  cases.forEach((c, k) => {
    if (want[k] !== got[k]) wrong.push(`  e${k}(${c.args.join(', ')}) = ${c.expr}\n    Node: ${want[k]}  XL32: ${got[k] ?? '(nothing)'}`);
  });
  if (wrong.length > 0 || onXl32.stopped !== 'poweroff' || onXl32.output !== inNode.output) {
    throw new Error(`${file}: XL32 disagrees with Node (machine stopped: ${onXl32.stopped}${onXl32.detail ? `, ${onXl32.detail}` : ''})\n${wrong.join('\n')}`);
  }
}

/**
 * The suite for the first `programs` programs of the seed's sequence (fast-check draws the same
 * programs in the same order for a seed, so a shorter run is a prefix of the longer one).
 */
export function expressionFuzz(programs: number): void {
  const workDir = mkdtempSync(join(tmpdir(), 'xenolith-exprs-'));
  let kept = false;
  let programCount = 0;
  afterAll(() => {
    if (!kept) rmSync(workDir, { recursive: true, force: true });
  });
  describe(`random int32 expressions (fast-check, seed ${SEED})`, () => {
    it(`print the same values compiled to XL32 as in Node (${programs} programs x ${CASES_PER_PROGRAM} expressions)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(caseArb, { minLength: CASES_PER_PROGRAM, maxLength: CASES_PER_PROGRAM }), async (cases) => {
          const file = join(workDir, `exprs${programCount++}.ts`);
          const ioPath = relative(workDir, IO).split('\\').join('/');
          writeFileSync(file, programSource(cases, ioPath.startsWith('.') ? ioPath : `./${ioPath}`));
          try {
            await sameOutput(file, cases);
          } catch (e) {
            kept = true; // leave the program on disk for reproduction
            throw e;
          }
        }),
        { seed: SEED, numRuns: programs, endOnFailure: true },
      );
      expect(programCount).toBe(programs);
    });
  });
}
