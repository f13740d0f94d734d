// bt mode on both CPU engines (issue 15): under the translator, bt's translation units run as
// compiled JavaScript (a hot unit with the units chained to it in its page, one function), with
// the same cycles, instructions, console, translation-cache counters (units run, chained entries,
// lookups, callouts, inline rewrites), domain counters and cost ledger as on the interpreter,
// where they run instruction by instruction on the general path. A cheap slice here (a short
// command, the translator compiling every unit entered 20 times); usertests and lmbench, at
// thresholds 2 and the default, in bt-engines.deep.test.ts. The differential fuzzer's programs
// under bt on both engines are compared too (every unit compiled at its first entry), and
// `--bt-adaptive` (a store callout in the middle of a compiled unit). Those programs run under the
// differential harness's instruction-count hook, which keeps compiled code from chaining units
// inside; random loops of ident instructions, forward branches, calls and rewritten CLI, STI,
// PUSHF, POPF and RDCPL, in the differential programs' machines and without the hook, reach the
// compiled chains (FUZZ_SEED and FUZZ_RUNS choose more of them).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BtMode, btCache } from '../../hypervisor/bt/index.ts';
import { forgetChainRecipes } from '../../hypervisor/bt/mode.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { HYPERVISOR_RESERVE_BYTES } from '../../hypervisor/trap/index.ts';
import { Cond, Op, encode } from '../../machine/isa.ts';
import { withTranslatorLimits } from '../../machine/translator.ts';
import { runBtEngine } from './fixtures/bt-engines.ts';
import { DIFF_MEMORY, diffArb, diffImage, hash, runModeDiff } from './fixtures/differential.ts';
import { HOSTILE_LAYOUT } from './fixtures/hostile.ts';

/** a placeholder word: the call to the loop's subroutine, its displacement set by loopCode */
const CALL_SUB = encode(Op.CALL);

/** A loop body's pieces: ALU work on r1-r8, loads and stores on the data page (r9), a forward branch over a few of them, a call, a push and pop, and the rewritten CLI, STI, PUSHF and POPF. */
const piece: fc.Arbitrary<number[][]> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(Op.ADD, Op.SUB, Op.XOR, Op.AND, Op.OR, Op.SHL, Op.SHR, Op.MUL), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 })).map(([op, d, a, b]) => [[encode(op, d, a, b)]]) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(Op.ADDI, Op.MULI, Op.XORI), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: -300, max: 300 })).map(([op, d, a, i]) => [[encode(op, d, a, i)]]) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(Op.LDW, Op.STW), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 255 })).map(([op, r, k]) => [[encode(op, r, 9, 4 * k)]]) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.constantFrom(Cond.EQ, Cond.NE, Cond.LT, Cond.GT), fc.integer({ min: 1, max: 3 })).map(([a, b, cond, n]) => [[encode(Op.CMP, 0, a, b)], [encode(Op.JCC, cond), 4 * n], ...Array.from({ length: n }, (_, k) => [encode(Op.ADDI, a, a, k + 1)])]) },
  { weight: 1, arbitrary: fc.constant([[CALL_SUB, 0]] as number[][]) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }).map((r) => [[encode(Op.PUSH, 0, r)], [encode(Op.POP, r)]]) },
  { weight: 1, arbitrary: fc.constantFrom<number[][]>([[encode(Op.CLI)], [encode(Op.STI)]], [[encode(Op.PUSHF)], [encode(Op.POPF)]], [[encode(Op.CLI)]], [[encode(Op.RDCPL, 7)]]) },
);
const loopBody = fc.array(piece, { minLength: 1, maxLength: 24 }).map((ps) => ps.flat());

/** r9 at the data page, 40 passes of `body` (r13 counts them), HLT, then the subroutine the body calls. */
function loopCode(body: number[][]): number[][] {
  const bytes = 4 * body.flat().length;
  const code: number[][] = [[encode(Op.LI, 9), HOSTILE_LAYOUT.DATA], [encode(Op.LI, 13), 40]];
  const bodyAt = 16;
  const subAt = bodyAt + bytes + 16 + 4;
  let at = bodyAt;
  for (const g of body) {
    code.push(g[0] === CALL_SUB && g.length === 2 ? [CALL_SUB, subAt - (at + 8)] : g);
    at += 4 * g.length;
  }
  code.push([encode(Op.ADDI, 13, 13, -1)], [encode(Op.CMPI, 0, 13, 0)], [encode(Op.JCC, Cond.NE), -(bytes + 16)], [encode(Op.HLT)]);
  code.push([encode(Op.ADDI, 1, 1, 3)], [encode(Op.XOR, 2, 2, 1)], [encode(Op.RET)]);
  return code;
}

describe('bt mode under the translator agrees exactly with the interpreter', () => {
  it('the guest kernel: echo hi, with every counter, and the compiled units chained inside', () => {
    const i = runBtEngine('interpreter', 'echo hi', { threshold: 20, unitHeat: 1 });
    const t = runBtEngine('translator', 'echo hi', { threshold: 20, unitHeat: 1 });
    expect(i.sim.reason).toBe('poweroff');
    expect(i.sim.output).toMatch(/^hi$/m);
    expect(t.sim).toEqual(i.sim);
    // bt honours the engine: the interpreter makes no translator and compiles nothing
    expect([i.straightRuns, i.host.chainedInline]).toEqual([null, 0]);
    // the translator compiled units, and most chained entries were made inside compiled code
    const chained = (t.sim.bt as { chained: number }).chained;
    expect(t.straightRuns).toBeGreaterThan(50);
    expect(t.host.chainedInline).toBeGreaterThan(chained / 2);
    // bench cpu's footprint of that code (btCompiledSize): none under the interpreter; under the
    // translator distinct functions, no more than were made or taken from the memo, holding whole
    // instruction words and more JavaScript than guest bytes
    expect(i.compiled).toEqual({ functions: 0, guestBytes: 0, sourceChars: 0 });
    expect(t.compiled.functions).toBeGreaterThan(0);
    expect(t.compiled.functions).toBeLessThanOrEqual(t.straightRuns!);
    expect(t.compiled.guestBytes % 4).toBe(0);
    expect(t.compiled.sourceChars).toBeGreaterThan(t.compiled.guestBytes);
    // where the instructions ran (kernel-steady's line): no compiled chain under the interpreter,
    // the straight runs in the fast loop; under the translator most in chains, each call ended
    // once at most, and the parts no more than the whole
    expect([i.host.chainCalls, i.host.chainInstructions, i.host.chainEndsIndirect + i.host.chainEndsDirect + i.host.chainLeftBefore]).toEqual([0, 0, 0]);
    expect(i.host.fastLoopCalls).toBeGreaterThan(0);
    expect(i.host.fastLoopInstructions).toBeGreaterThan(0);
    expect(i.host.fastLoopInstructions).toBeLessThanOrEqual(i.sim.instructions as number);
    expect(t.host.chainCalls).toBeGreaterThan(0);
    expect(t.host.chainEndsIndirect + t.host.chainEndsDirect + t.host.chainLeftBefore).toBeLessThanOrEqual(t.host.chainCalls);
    expect(t.host.chainInstructions).toBeGreaterThan((t.sim.instructions as number) / 2);
    expect(t.host.chainInstructions + t.host.fastLoopInstructions).toBeLessThanOrEqual(t.sim.instructions as number);
    // the unit loop's transitions: none without chains; under the translator each follows a chain's
    // end by a control transfer (chain to chain or to a unit not compiled), or precedes a chain call
    // (a unit handed back to compiled code), and the boot has all three
    expect([i.host.chainToChain, i.host.chainToCold, i.host.coldToChain]).toEqual([0, 0, 0]);
    expect(t.host.chainToChain + t.host.chainToCold).toBeLessThanOrEqual(t.host.chainEndsIndirect + t.host.chainEndsDirect);
    expect(t.host.chainToChain + t.host.coldToChain).toBeLessThanOrEqual(t.host.chainCalls);
    expect(Math.min(t.host.chainToChain, t.host.chainToCold, t.host.coldToChain)).toBeGreaterThan(0);
  });

  it('--bt-adaptive on the traced shadow: a store retranslated as a callout inside a compiled unit', () => {
    const opts = { shadow: 'traced' as const, adaptive: true };
    const i = runBtEngine('interpreter', 'lmbench exec 1', { threshold: 10, unitHeat: 1 }, opts);
    const t = runBtEngine('translator', 'lmbench exec 1', { threshold: 10, unitHeat: 1 }, opts);
    expect((i.sim.bt as { adaptive: unknown }).adaptive).toEqual({ retranslations: 1, emulatedStores: 3, emulatedTraceStores: 2 });
    expect(t.sim).toEqual(i.sim);
    expect(t.host.chainedInline).toBeGreaterThan(0);
  });

  it("the differential fuzzer's programs (faults, IRET frames, paging changes, interrupts at instruction counts)", () => {
    let compared = 0;
    let compiled = 0;
    fc.assert(
      fc.property(diffArb(true), (c) => {
        const seen: Record<string, unknown> = {};
        for (const engine of ['interpreter', 'translator'] as const) {
          const o = withTranslatorLimits({ threshold: 1, unitHeat: 1 }, () =>
            runModeDiff(new BtMode(), HYPERVISOR_RESERVE_BYTES, c, {
              engine,
              after: (hv, d) => {
                seen[`${engine}-cycles`] = hv.cpu.cycles;
                seen[`${engine}-bt`] = { ...btCache(d).stats };
                if (engine === 'translator') compiled += hv.cpu.translator?.stats.straightRuns ?? 0;
              },
            }),
          );
          seen[engine] = o;
        }
        expect(seen.translator).toEqual(seen.interpreter);
        expect(seen['translator-cycles']).toBe(seen['interpreter-cycles']);
        expect(seen['translator-bt']).toEqual(seen['interpreter-bt']);
        compared++;
      }),
      // (FUZZ_SEED and FUZZ_RUNS choose other cases, as the other fuzzers' do)
      { seed: Number(process.env.FUZZ_SEED ?? 12), numRuns: Number(process.env.FUZZ_RUNS ?? 8) },
    );
    expect(compared).toBe(Number(process.env.FUZZ_RUNS ?? 8));
    // every unit compiled at its first entry (no chaining inside: the fuzzer's instruction-count
    // hook is armed throughout, and a boundary inside compiled code would not call it)
    expect(compiled).toBeGreaterThan(50);
  });

  it("random loops in the differential fuzzer's machines, with no instruction-count hook: compiled chains, in-line lookups and rewrites", () => {
    // run under bt to a cycle limit without the differential harness's instruction-count hook,
    // every unit compiled with its chain at its first entry: the compiled code chains units
    // inside, which the test above cannot reach
    let chainedInline = 0;
    fc.assert(
      fc.property(diffArb(true), loopBody, (d0, body) => {
        // the differential program's machine (its gates, paging, data, registers) running a loop
        // of 40 passes over a body of ident instructions, stores to the data page, forward
        // branches, calls and the instructions bt rewrites in line (loopCode)
        const c = { ...d0, program: { ...d0.program, code: loopCode(body) } };
        const seen = (['interpreter', 'translator'] as const).map((engine) =>
          withTranslatorLimits({ threshold: 1, unitHeat: 1 }, () => {
            const { run, host } = loopRun(c, engine);
            if (engine === 'translator') chainedInline += host.chainedInline;
            return run;
          }),
        );
        expect(seen[1]).toEqual(seen[0]);
      }),
      { seed: Number(process.env.FUZZ_SEED ?? 0xb7e9), numRuns: Number(process.env.FUZZ_RUNS ?? 40) },
    );
    // the compiled code chained units inside
    expect(chainedInline).toBeGreaterThan(0);
  }, 1_800_000);

  it("random loops booted twice under the translator at a heat limit of 16: the second boot compiles chains from the first's recipes, sooner, with the interpreter's figures", () => {
    // the loops' 40 passes: a unit is compiled at its 16th entry by heat, at its 8th from a recipe
    // that holds (hypervisor/bt/mode.ts recipeReady)
    let fromRecipes = 0;
    fc.assert(
      fc.property(diffArb(true), loopBody, (d0, body) => {
        const c = { ...d0, program: { ...d0.program, code: loopCode(body) } };
        const expected = loopRun(c, 'interpreter').run;
        withTranslatorLimits({ threshold: 4, unitHeat: 4 }, () => {
          forgetChainRecipes();
          const first = loopRun(c, 'translator');
          const second = loopRun(c, 'translator');
          expect(first.run).toEqual(expected);
          expect(second.run).toEqual(expected);
          expect(first.host.chainsFromRecipes).toBe(0);
          fromRecipes += second.host.chainsFromRecipes;
        });
      }),
      { seed: Number(process.env.FUZZ_SEED ?? 0x7ec1), numRuns: Number(process.env.FUZZ_RUNS ?? 40) },
    );
    expect(fromRecipes).toBeGreaterThan(0);
  }, 1_800_000);
});

/** The differential fuzzer's machine `c` under bt on `engine` to a cycle limit (no instruction-count hook): what must agree across engines, and the cache's host counters. */
function loopRun(c: Parameters<typeof diffImage>[0], engine: 'interpreter' | 'translator') {
  const hv = new Hypervisor({ memoryBytes: DIFF_MEMORY + HYPERVISOR_RESERVE_BYTES, scheduler: new RoundRobinScheduler(20_000), engine });
  const d = hv.createDomain(new BtMode(), { name: 'diff', memoryBytes: DIFF_MEMORY }, { image: diffImage(c) });
  const r = hv.run({ maxCycles: 400_000 });
  const bt = btCache(d);
  return {
    run: { r, stop: [d.stopReason, d.stopDetail], output: d.consoleOutput(), cpu: hv.vcpuState(d.vcpus[0]!), memory: hash(d.memory.readBytes(0, DIFF_MEMORY)!), bt: { ...bt.stats }, domain: d.stats.summary(), ledger: Array.from(hv.cpu.evCount) },
    host: { ...bt.host },
  };
}
