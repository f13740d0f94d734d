// bt's indirect transfers in compiled code (the translator engine): where a unit of ident
// instructions ends with RET, JMPR or CALLR and the unit loop would enter the next unit itself
// (nextUnit: the lookup charged, the deadline not reached, the target translated through the
// shadow to a live unit), a target compiled in the same chain - most often a CALL's return site,
// which the chain holds with the callee, or the chain's first unit - is entered in line
// (hypervisor/bt/mode.ts chainLink's `indirect`), the lookup charged as the unit loop charges it.
// What runs and what is counted are the interpreter engine's; only the host's path differs.
import { describe, expect, it } from 'vitest';
import { BtMode } from '../../hypervisor/bt/index.ts';
import { withTranslatorLimits, type Engine } from '../../machine/translator.ts';
import type { Image } from '../../machine/image.ts';
import { guestImage, runNative } from './trap-harness.ts';
import { runBtSmall } from './fixtures/bt-small.ts';
import { PRINT_R3_AND_RETURN, copyPage, puthexOutput, tickHandler } from './fixtures/small-guest.ts';
import { ROUNDS, STORE_LOOP } from './fixtures/traced-guests.ts';
import { ADAPTIVE_TRACE_FAULTS } from '../../hypervisor/bt/cache.ts';

function runBt(image: Image, engine: Engine, mode = new BtMode()) {
  const r = runBtSmall(image, engine, mode);
  return {
    sim: r.sim,
    /** units entered from the unit loop (every entry but those made inside compiled code) */
    loopEntered: r.unitsRun - r.host.chainedInline - r.host.indirectInline,
    indirectInline: r.host.indirectInline,
    chainRecompiles: r.host.chainRecompiles,
  };
}

/**
 * Kernel code with interrupts on: `n` passes of a loop that calls a leaf function (its RET goes
 * back to the return site), a periodic tick of `period` cycles whose handler adds the pass it
 * came in (r4) to `tick_sum`; prints the leaf's sum, the tick count and tick_sum.
 */
function callLoop(n: number, period: number): Image {
  return guestImage(`
test_main:
        call    paging_on
        call    arm_tick
        li      r1, 3
        out     TIMER_CONTROL, r1       ; periodic
        li      r3, 0
        li      r4, 0
        sti
loop:
        call    leaf
        addi    r4, r4, 1
        cmpi    r4, ${n}
        jlt     loop
        cli
        mov     r1, r3
        call    puthex
        call    putnl
        li      r1, ticks
        ldw     r1, [r1]
        call    puthex
        call    putnl
        li      r1, tick_sum
        ldw     r1, [r1]
        call    puthex
        call    putnl
        li      r0, 0
        ret
leaf:
        add     r3, r3, r4
        ret
${tickHandler('arm_tick', period, `li      r1, tick_sum
        ldw     r2, [r1]
        add     r2, r2, r4
        stw     [r1], r2`)}
tick_sum:
        .word   0
`);
}

/**
 * A loop whose body (\`calls\`) calls \`first\` (adds the pass to r3) and \`second\` (adds 1), run
 * for 300 and 600 passes under both engines: the bare machine's console, the same figures,
 * \`transfers\` indirect lookups per pass (made in the unit loop or in line alike), and in the
 * translator's 300 more passes every one of them in line, no entry from the unit loop per pass.
 */
function twoCallLoop(calls: string, transfers: number): void {
  const loop = (n: number) =>
    guestImage(`
test_main:
        call    paging_on
        li      r3, 0
        li      r4, 0
loop:${calls}
        addi    r4, r4, 1
        cmpi    r4, ${n}
        jlt     loop${PRINT_R3_AND_RETURN}
first:
        add     r3, r3, r4
        ret
second:
        addi    r3, r3, 1
        ret
`);
  const [a, b] = [loop(300), loop(600)];
  const interpreter = [runBt(a, 'interpreter'), runBt(b, 'interpreter')];
  const translator = withTranslatorLimits({ threshold: 5, unitHeat: 1 }, () => [runBt(a, 'translator'), runBt(b, 'translator')]);
  expect(runNative(b).output).toBe(`${puthexOutput((599 * 600) / 2 + 600)}\n`);
  expect(interpreter[1]!.sim.output).toBe(runNative(b).output);
  expect(translator.map((r) => r.sim)).toEqual(interpreter.map((r) => r.sim));
  expect(interpreter[1]!.sim.bt.indirectLookups - interpreter[0]!.sim.bt.indirectLookups).toBe(300 * transfers);
  expect(translator[1]!.indirectInline - translator[0]!.indirectInline).toBe(300 * transfers);
  expect(translator[1]!.loopEntered - translator[0]!.loopEntered).toBeLessThan(10);
}

/**
 * The traced-shadow store loop (fixtures/traced-guests.ts STORE_LOOP) with its one store made by
 * `call store_it` (the code given), under \`--bt-adaptive\` on both engines: the bare machine's
 * console, the store retranslated as a callout after ADAPTIVE_TRACE_FAULTS trace faults, the
 * same figures under both engines. Returns the translator engine's run.
 */
function adaptiveStoreIt(storeIt: string) {
  const store = '        stw     [r1], r2                ; the one store into the traced table\n';
  expect(STORE_LOOP).toContain(store);
  const image = guestImage(`${STORE_LOOP.replace(store, '        call    store_it\n')}\n${storeIt}`);
  const native = runNative(image).output;
  expect(native).toBe(`${'bbbbbbbb aaaaaaaa '.repeat(ROUNDS / 2)}\n`);
  const mode = () => new BtMode({ shadow: 'traced', adaptive: true });
  const interpreter = runBt(image, 'interpreter', mode());
  const translator = withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => runBt(image, 'translator', mode()));
  expect(interpreter.sim.output).toBe(native);
  expect(interpreter.sim.domain.traceFaults).toBe(ADAPTIVE_TRACE_FAULTS);
  expect(interpreter.sim.bt.adaptive).toEqual({ retranslations: 1, emulatedStores: ROUNDS - ADAPTIVE_TRACE_FAULTS + 1, emulatedTraceStores: ROUNDS - ADAPTIVE_TRACE_FAULTS });
  expect(translator.sim).toEqual(interpreter.sim);
  return translator;
}

describe("bt's indirect transfers in compiled code", () => {
  it('a loop calling a leaf function stays in its compiled function: each RET enters the return site in line, with the figures of the general path', () => {
    const a = callLoop(300, 1_000_000_000);
    const b = callLoop(600, 1_000_000_000);
    const interpreter = [runBt(a, 'interpreter'), runBt(b, 'interpreter')];
    const translator = withTranslatorLimits({ threshold: 5, unitHeat: 1 }, () => [runBt(a, 'translator'), runBt(b, 'translator')]);
    // the sums 0 + ... + 299 and 0 + ... + 599, no tick
    expect(runNative(a).output).toBe(`${puthexOutput((299 * 300) / 2)}\n00000000\n00000000\n`);
    expect(interpreter[0]!.sim.output).toBe(runNative(a).output);
    expect(interpreter[1]!.sim.output).toBe(runNative(b).output);
    expect(translator.map((r) => r.sim)).toEqual(interpreter.map((r) => r.sim));
    // one lookup per pass (the leaf's RET), made in the unit loop or in line alike
    expect(interpreter[1]!.sim.bt.indirectLookups - interpreter[0]!.sim.bt.indirectLookups).toBe(300);
    // the 300 more passes: every RET entered its return site in line, no entry from the unit loop per pass
    expect(translator[1]!.indirectInline - translator[0]!.indirectInline).toBe(300);
    expect(translator[1]!.loopEntered - translator[0]!.loopEntered).toBeLessThan(10);
    expect(interpreter[1]!.loopEntered - interpreter[0]!.loopEntered).toBeGreaterThanOrEqual(600);
  });

  it("a loop calling two functions: each RET enters its CALL's return site in line (the chain holds the return sites of its CALLs), with the figures of the general path", () => {
    // the loop's units: [call first], first's [ret], [call second] (first's return site),
    // second's [ret], [addi; cmpi; jlt] (second's return site). The chain entered at the loop
    // holds both functions through their CALLs' links and both return sites as such: neither
    // RET goes to a chain's first unit, so without the return sites every RET would leave
    twoCallLoop(
      `
        call    first
        call    second`,
      2,
    );
  });

  it('a loop calling two functions through a register: the chain holds the unit each CALLR last went to and its return site, so every transfer goes on in line', () => {
    // the loop's units: [li; callr] (to first), first's [add; ret], [li; callr] (first's return
    // site, to second), second's [addi; ret], [addi; cmpi; jlt] (second's return site). The chain
    // entered at the loop holds each CALLR's target, as the unit loop last saw it go, and its
    // return site: neither RET goes to the chain's first unit
    twoCallLoop(
      `
        li      r5, first
        callr   r5
        li      r5, second
        callr   r5`,
      4,
    );
  });

  it('a periodic tick is let in where the general path lets it in: at the deadline an indirect transfer leaves for the unit loop', () => {
    // many ticks, each taken at the unit boundary where the cycles pass the deadline: the
    // handler sums the pass it came in; the lookup's own cycles count toward the deadline
    const image = callLoop(4000, 12_000);
    const interpreter = runBt(image, 'interpreter');
    const translator = withTranslatorLimits({ threshold: 5, unitHeat: 1 }, () => runBt(image, 'translator'));
    const [sum, ticks] = interpreter.sim.output.trim().split('\n').map((x) => Number.parseInt(x, 16));
    expect(sum).toBe((3999 * 4000) / 2);
    expect(ticks).toBeGreaterThan(30);
    expect(interpreter.sim.domain.injectedInterrupts).toBe(ticks);
    expect(translator.sim).toEqual(interpreter.sim);
    expect(translator.indirectInline).toBeGreaterThan(3000);
  });

  it('a unit retranslated (--bt-adaptive) is never entered in line: the chain that holds it is compiled again first (every unit of a chain is live when it is entered)', () => {
    // the store in a unit reached by a JMP from the called function's first unit (a link: the
    // unit is compiled into the caller's chain); after ADAPTIVE_TRACE_FAULTS trace faults it is
    // retranslated with a store callout, and the chain's boundary into the dead unit no longer holds
    const translator = adaptiveStoreIt(`
store_it:
        jmp     do_store
do_store:
        stw     [r1], r2                ; the one store into the traced table
        ret
`);
    expect(translator.chainRecompiles).toBe(1);
  });

  it('a return site retranslated (--bt-adaptive) is never entered in line: the chain that holds it is compiled again first', () => {
    // the store in the return site of a call to a function that only returns: the chain entered
    // at store_it holds the return site; after ADAPTIVE_TRACE_FAULTS trace faults the return site
    // is retranslated with a store callout, the unit in the chain is dead, and the chain is
    // compiled again before it is entered
    const translator = adaptiveStoreIt(`
store_it:
        call    nothing
        stw     [r1], r2                ; the one store into the traced table
        ret
nothing:
        ret
`);
    expect(translator.indirectInline).toBeGreaterThan(0);
    expect(translator.chainRecompiles).toBe(1);
  });

  it("a return site in another page whose TLB entry the callee evicted is not entered in line: the unit loop's fetch walks, as the general path's", () => {
    // the callee, in a page of its own, reads four pages of the loop page's TLB set (64 sets of
    // four ways) on odd passes: the loop page's entry is replaced, and the fetch after the RET
    // walks (the chain entered at the loop's unit holds it, and its RET comes on an odd pass)
    const image = guestImage(`
test_main:
        call    paging_on
        li      r3, 0
        li      r4, 0
loop:
        call    evict
        addi    r4, r4, 1
        cmpi    r4, 50
        jlt     loop${PRINT_R3_AND_RETURN}
        .align 4096
evict:                                  ; on odd passes: four loads (a unit ends after 12 instructions)
        andi    r6, r4, 1
        cmpi    r6, 0
        jeq     .Lnone
        li      r1, ((loop >> 12) << 12) + 0x40000
        li      r5, 0x40000
        ldw     r2, [r1]
        add     r1, r1, r5
        ldw     r2, [r1]
        add     r1, r1, r5
        ldw     r2, [r1]
        add     r1, r1, r5
        ldw     r2, [r1]
.Lnone:
        addi    r3, r3, 1
        ret
`);
    const native = runNative(image).output;
    expect(native).toBe(`${puthexOutput(50)}\n`);
    const interpreter = runBt(image, 'interpreter');
    const translator = withTranslatorLimits({ threshold: 5, unitHeat: 1 }, () => runBt(image, 'translator'));
    expect(interpreter.sim.output).toBe(native);
    expect(translator.sim).toEqual(interpreter.sim);
  });

  it('a unit compiled for an earlier mapping of the page is not entered in line: the unit loop finds the unit the page maps now', () => {
    // page P's code is copied to frame F2 with one instruction changed (r6 = 2 rather than 1);
    // P maps F2 while `disp` jumps to t1 (a link to t1's unit in F2), then P maps its own frame
    // again: the chain compiled later holds t1's unit of F2 (the first link) and u_code's of P's
    // frame, whose JMPR goes to t1 - which must run P's frame's instruction now
    const image = guestImage(`
test_main:
        call    paging_on
${copyPage('p_page', 'f2_page')}
        li      r1, alt
        ldw     r2, [r1]
        ldw     r3, [r1 + 4]
        li      r1, f2_page + (t1 - p_page)
        stw     [r1], r2
        stw     [r1 + 4], r3
        li      r7, 0
        li      r4, 0
        li      r2, f2_page | PTE_P | PTE_W | PTE_U
        call    map_p
        call    disp
        add     r7, r7, r6
        call    disp
        add     r7, r7, r6
        li      r2, p_page | PTE_P | PTE_W | PTE_U
        call    map_p
        call    disp
        add     r7, r7, r6
        li      r4, 1
        li      r8, 0
.Lmany:
        call    disp
        add     r7, r7, r6
        addi    r8, r8, 1
        cmpi    r8, 20
        jlt     .Lmany
        mov     r1, r7
        call    puthex
        call    putnl
        li      r0, 0
        ret
map_p:
        li      r1, page_table + (p_page >> 12) * 4
        stw     [r1], r2
        li      r1, page_directory
        movcr   cr3, r1
        ret
alt:                                    ; t1's two words in F2
        li      r6, 2
        ret
        .align 4096
disp:
        cmpi    r4, 0
        jeq     t1
        jmp     u_code
        .align 4096
p_page:
t1:
        li      r6, 1
        ret
u_code:
        li      r5, t1
        jmpr    r5
        .align 4096
f2_page:
        .space  4096
`);
    const native = runNative(image).output;
    // twice 2 (F2), then 1 once and 20 times
    expect(native).toBe(`${puthexOutput(2 + 2 + 1 + 20)}\n`);
    const interpreter = runBt(image, 'interpreter');
    const translator = withTranslatorLimits({ threshold: 5, unitHeat: 1 }, () => runBt(image, 'translator'));
    expect(interpreter.sim.output).toBe(native);
    expect(translator.sim).toEqual(interpreter.sim);
  });
});

