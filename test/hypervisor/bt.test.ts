// Binary translation (`--mode bt`) on small unmodified guests: the bare-metal demo prints what it
// prints on bare XL32; a small kernel's translation units, callouts, inline rewrites and lookups
// are exactly what the translator's rules (units end at 12 instructions or control flow; indirect
// control flow is looked up; privileged instructions are callouts; critical ones are rewritten)
// say; code that is overwritten is retranslated; runs are deterministic.
import { describe, expect, it } from 'vitest';
import { runImageInMode } from '../../hypervisor/index.ts';
import { BtMode, btCache, btStatsSummary, formatBtStats, runBtMode } from '../../hypervisor/bt/index.ts';
import { TrapMode, runTrapMode } from '../../hypervisor/trap/index.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { getProfile } from '../../machine/costs.ts';
import { Machine } from '../../machine/machine.ts';
import { withTranslatorLimits, type Engine } from '../../machine/translator.ts';
import { loadSaveFile, restoreRun, saveRun } from '../../hypervisor/save/state.ts';
import { assemble } from '../../toolchain/asm/index.ts';
import { passesGuest } from './fixtures/bt-small.ts';
import { DEMO } from './fixtures/demo.ts';
import { iretToRing3, iretToRing3WithIfOff, syscallPrints, tickHandler } from './fixtures/small-guest.ts';
import { guestImage, runNative, runTrap } from './trap-harness.ts';

const P4 = getProfile('p4-2003');
const demo = DEMO;

function native(src: string): { status: number; output: string } {
  const m = new Machine();
  m.loadImage(assemble(src, 't.s').image);
  const r = m.run({ maxCycles: 10_000_000 });
  return { status: r.status, output: m.consoleOutput() };
}

/** A kernel (paging off, code and stack in one page) using a privileged and two critical instructions. */
const SMALL = `
        .arch bare
        .org 0x1000
_start:
        li      sp, 0x2000
        cli
        pushf
        pop     r1
        rdcpl   r2
        li      r3, 3
        call    f
        call    f
        add     r0, r2, r3
        out     0x501, r0
        hlt
f:
        addi    r3, r3, 1
        ret
`;

/** A kernel that overwrites its own function f (a NOP becomes RDCPL r3) between two calls. */
const SELF_MODIFYING = `
        .arch bare
        .org 0x1000
_start:
        li      sp, 0x2000
        li      r3, 7
        call    f
        mov     r4, r3
        li      r5, 0x372
        li      r2, f
        stw     [r2], r5
        li      r3, 7
        call    f
        shli    r4, r4, 4
        add     r0, r4, r3
        out     0x501, r0
        hlt
f:
        nop
        ret
`;

describe('the bare-metal demo under bt mode', () => {
  it('prints the lines it prints on bare XL32 and powers off with the same status', () => {
    const m = new Machine();
    m.loadImage(demo);
    const n = m.run({ maxCycles: 100_000_000 });
    const r = runImageInMode('bt', demo, { maxCycles: 100_000_000 });
    expect(r.reason).toBe('poweroff');
    expect(r.status).toBe(n.status);
    expect(r.output).toBe(m.consoleOutput());
  });

  it('translates its kernel, calls out for its privileged instructions and runs its user code directly', () => {
    const r = runBtMode(demo, { maxCycles: 100_000_000 });
    const b = btStatsSummary(r.domain);
    expect(b.translations).toBeGreaterThan(0);
    expect(b.callouts).toMatchObject({ lidt: 1, lksp: 1, movcr: 2 });
    expect(b.callouts.iret).toBeGreaterThan(0); // the entry to ring 3 and every return from a trap
    expect(r.domain.stats.emulated.reduce((a, n) => a + n, 0)).toBe(Object.values(b.callouts).reduce((a, n) => a + n, 0));
    // nothing of the kernel trapped for a privileged instruction: #GP never reached the monitor
    expect(r.domain.stats.traps[13]).toBe(0);
    expect(r.domain.stats.traps[0x80]).toBeGreaterThan(0); // system calls from ring 3
    expect(formatBtStats(r.domain)).toMatch(/^translations: \d+ units/);
  });

  it('runs in two bt domains next to a trap domain on one hypervisor, each with its own cache, all printing the same', () => {
    const hv = new Hypervisor({ memoryBytes: 3 * 4 * 1024 * 1024 + 1024 * 1024, scheduler: new RoundRobinScheduler(20_000) });
    const bt = new BtMode();
    const a = hv.createDomain(bt, { name: 'a', memoryBytes: 4 * 1024 * 1024 }, { image: demo });
    const t = hv.createDomain(new TrapMode(), { name: 't', memoryBytes: 4 * 1024 * 1024 }, { image: demo });
    const b = hv.createDomain(bt, { name: 'b', memoryBytes: 4 * 1024 * 1024 }, { image: demo });
    expect(hv.run({ maxCycles: 200_000_000 }).reason).toBe('all-stopped');
    const alone = runBtMode(demo, { maxCycles: 100_000_000 }).output;
    for (const d of [a, t, b]) expect([d.name, d.stopReason, d.stopStatus, d.consoleOutput()]).toEqual([d.name, 'poweroff', 7, alone]);
    expect(btCache(a)).not.toBe(btCache(b));
    expect(btCache(a).stats.translations).toBe(btCache(b).stats.translations);
    expect(a.stats.worldSwitches).toBeGreaterThan(2); // they really took turns
  });

  it('is deterministic: the same image gives the same cycles, output and counters', () => {
    const a = runBtMode(demo, { maxCycles: 100_000_000 });
    const b = runBtMode(demo, { maxCycles: 100_000_000 });
    expect([a.cycles, a.instructions, a.output]).toEqual([b.cycles, b.instructions, b.output]);
    expect(btStatsSummary(a.domain)).toEqual(btStatsSummary(b.domain));
    expect(a.domain.stats.summary()).toEqual(b.domain.stats.summary());
  });
});

describe('translation units, callouts, inline rewrites and lookups (a small kernel)', () => {
  it('sees its own ring 0 through the rewritten RDCPL, where trap mode shows ring 1', () => {
    expect(native(SMALL).status).toBe(5);
    expect(runBtMode(assemble(SMALL, 't.s').image).status).toBe(5);
    expect(runTrapMode(assemble(SMALL, 't.s').image).status).toBe(6);
  });

  it('counts exactly the units, instructions, callouts, rewrites and lookups the rules give', () => {
    const r = runBtMode(assemble(SMALL, 't.s').image);
    const b = btStatsSummary(r.domain);
    // units: _start..call (7 instructions), f (2), the second call (1), add/out/hlt (3)
    expect([b.translations, b.translatedInsns, b.cacheUnits]).toEqual([4, 13, 4]);
    // _start is entered twice (its first fetch takes the one hidden shadow fault), f twice, the
    // second call and the tail once each (after a RET)
    expect(b.unitsRun).toBe(6);
    expect(r.domain.stats.hiddenFaults).toBe(1);
    // lookups: the two RETs (indirect); entering _start twice and f once from each caller (dispatch)
    expect([b.indirectLookups, b.dispatchLookups, b.chained]).toEqual([2, 4, 0]);
    // CLI is translated in line against the virtual IF (no callout); OUT, a device access, calls out
    expect(b.callouts).toEqual({ out: 1 });
    expect(b.inlined).toEqual({ cli: 1, pushf: 1, rdcpl: 1 });
    expect(b.invalidations).toBe(0);
    // cycles charged: once per translated instruction, per callout, per lookup
    expect([b.translateCycles, b.calloutCycles, b.lookupCycles]).toEqual([13 * P4.btTranslate, 1 * P4.btCallout, 6 * P4.btLookup]);
    // the monitor's total: those, one trap (the hidden fault) and the first world switch
    // (and the device model's answer to the one I/O exit)
    expect(r.domain.stats.monitorCycles).toBe(13 * P4.btTranslate + 1 * P4.btCallout + 6 * P4.btLookup + P4.monitorTrap + (P4.monitorTrap + P4.cr3Write) + P4.deviceModel);
    // the OUT went to the device model through the core's I/O exit
    expect(r.domain.stats.loopExits.io).toBe(1);
  });

  it('a loop reaches its unit through a chain link after the first time', () => {
    const src = `
        .arch bare
        .org 0x1000
_start:
        li      sp, 0x2000
        li      r1, 0
.Lloop:
        addi    r1, r1, 1
        cmpi    r1, 10
        jlt     .Lloop
        out     0x501, r1
        hlt
`;
    const r = runBtMode(assemble(src, 't.s').image);
    expect(r.status).toBe(10);
    const b = btStatsSummary(r.domain);
    // units: _start..jlt (its first pass through the loop; entered twice, the first fetch takes a
    // hidden fault), .Lloop..jlt (entered once from _start's unit and 8 times from itself), out/hlt
    expect([b.translations, b.unitsRun]).toEqual([3, 12]);
    // each first jump from one unit to another is looked up and linked; the next 7 self-jumps are chained
    expect(b.chained).toBe(7);
    // _start twice, _start -> .Lloop, .Lloop -> .Lloop the first time, .Lloop -> out/hlt
    expect(b.dispatchLookups).toBe(5);
    expect(b.indirectLookups).toBe(0);
  });
});

describe('self-modifying code', () => {
  it('drops the units of a frame whose code was overwritten and retranslates: the new RDCPL is rewritten', () => {
    const image = assemble(SELF_MODIFYING, 't.s').image;
    // f returns r3 unchanged (7), then, patched, r3 = the ring: 0x70 + 0 on bare XL32
    expect(native(SELF_MODIFYING).status).toBe(0x70);
    const r = runBtMode(image);
    expect(r.status).toBe(0x70);
    const b = btStatsSummary(r.domain);
    // the three units of the frame (_start.., f, the code after the first call) went at once
    expect(b.invalidations).toBe(3);
    expect(b.translations).toBe(5);
    expect(b.inlined).toEqual({ rdcpl: 1 });
    // trap mode runs the new RDCPL natively and sees ring 1
    expect(runTrapMode(image).status).toBe(0x71);
  });

  it('a host write into a translated frame (DMA, loading) drops its units through the memory hook', () => {
    const r = runBtMode(assemble(SMALL, 't.s').image);
    const cache = btCache(r.domain);
    expect(cache.size).toBe(4);
    r.domain.memory.write32(0x1ff0, 0); // guest-physical frame 1, where all four units live
    expect(cache.size).toBe(0);
    expect(cache.stats.invalidations).toBe(4);
  });
});

describe("units' straight runs in the CPU's fast loop (host side: nothing simulated changes)", () => {
  /** A kernel whose first unit stores over one of its own later instructions: the NOP at patch becomes ADDI r3, r3, 1. */
  const SELF_PATCHING = `
        .arch bare
        .org 0x1000
_start:
        li      sp, 0x2000
        li      r3, 7
        li      r6, insn
        ldw     r5, [r6]
        li      r2, patch
        stw     [r2], r5
patch:
        nop
        out     0x501, r3
        hlt
insn:
        addi    r3, r3, 1
`;

  /** One bt domain on a hypervisor whose CPU runs with its fast loop on or off (off: step() alone, the unit loop's general path). */
  function run(image: ReturnType<typeof assemble>['image'], fastPath: boolean, engine: Engine = 'interpreter') {
    const hv = new Hypervisor({ memoryBytes: 8 * 1024 * 1024, engine });
    hv.cpu.fastPath = fastPath;
    const mode = new BtMode();
    const d = hv.createDomain(mode, { name: 'k', memoryBytes: 4 * 1024 * 1024 }, { image });
    expect(hv.run({ maxCycles: 200_000_000 }).reason).toBe('all-stopped');
    const cpu = hv.cpu;
    const { trace: _trace, ...domain } = d.stats;
    return {
      sim: { status: d.stopStatus, output: d.consoleOutput(), cycles: cpu.cycles, instructions: cpu.instructions, bt: btStatsSummary(d), domain, cpu: { ...cpu.stats }, ledger: { base: cpu.baseCycles, events: Array.from(cpu.evCount) } },
      fastRuns: btCache(d).host.fastRuns,
      fallThroughs: btCache(d).host.fallThroughs,
      storeLeaves: btCache(d).host.storeLeaves,
      checksSkipped: btCache(d).host.checksSkipped,
      probeEntries: btCache(d).host.probeEntries,
      loopEntries: btCache(d).host.loopEntries,
      chainedInline: btCache(d).host.chainedInline,
      chainRecompiles: btCache(d).host.chainRecompiles,
      chainWordChecks: btCache(d).host.chainWordChecks,
      chainCheckedRuns: btCache(d).host.chainCheckedRuns,
      translationsRemembered: mode.host.translationsRemembered,
      crossingsKnown: mode.host.crossingsKnown,
    };
  }

  it("a store over a later instruction of the same straight run is caught by the unit loop's word check, as on the general path", () => {
    const image = assemble(SELF_PATCHING, 't.s').image;
    const fast = run(image, true);
    const general = run(image, false);
    expect(fast.sim).toEqual(general.sim);
    // the patched ADDI ran (8), found by the check before it: the frame's one unit dropped and
    // the code from patch translated anew (the fast loop alone would have run the new word unseen)
    expect(fast.sim.status).toBe(8);
    expect([fast.sim.bt.invalidations, fast.sim.bt.translations]).toEqual([1, 2]);
    // the first unit's run held a store before its end: it ran in the fast loop (twice leaving at
    // once, the page not yet in the TLB: step() walks; then from its second instruction), which
    // left right after the store into its own frame (the CPU's code-store hook), so the unit loop
    // checked the next word; the new unit's ADDI ran in the fast loop too
    expect([fast.fastRuns, general.fastRuns]).toEqual([4, 0]);
    expect([fast.storeLeaves, general.storeLeaves]).toEqual([1, 0]);
  });

  it('two bt modes on one hypervisor each see the stores into their own units (the code-store hook is chained)', () => {
    // the interpreter engine: the hook's counts are that engine's (under the translator, translated stores report to it)
    const hv = new Hypervisor({ memoryBytes: 3 * 4 * 1024 * 1024, scheduler: new RoundRobinScheduler(20_000), engine: 'interpreter' });
    const first = new BtMode();
    const patching = hv.createDomain(first, { name: 'patching', memoryBytes: 4 * 1024 * 1024 }, { image: assemble(SELF_PATCHING, 't.s').image });
    const other = hv.createDomain(new BtMode(), { name: 'demo', memoryBytes: 4 * 1024 * 1024 }, { image: demo });
    expect(hv.run({ maxCycles: 200_000_000 }).reason).toBe('all-stopped');
    expect([patching.stopStatus, other.stopStatus]).toEqual([8, 7]);
    // the first mode's run left after the store into its unit's frame, and its check found the new word
    const b = btStatsSummary(patching);
    expect([b.invalidations, b.translations, btCache(patching).host.storeLeaves]).toEqual([1, 2, 1]);
  });

  it('the demo: the same cycles, counters and ledger with its units run in the fast loop, and chained in the unit loop, as on the general path', () => {
    const fast = run(demo, true);
    const general = run(demo, false);
    expect(fast.sim).toEqual(general.sim);
    expect(fast.sim.status).toBe(7);
    expect(fast.fastRuns).toBeGreaterThan(10);
    expect(general.fastRuns).toBe(0);
    // most unit entries made by the unit loop itself, without a pass through the vCPU loop (none
    // on the general path)
    expect(fast.loopEntries).toBeGreaterThan(fast.sim.bt.unitsRun / 2);
    expect(general.loopEntries).toBe(0);
    // of those, most made inside the CPU's fast loop at the block boundary (BtMode.enterInLoop)
    expect(fast.probeEntries).toBeGreaterThan(fast.loopEntries / 2);
    // most fast runs without a word check: no store had reached the unit's frame since its words
    // were last found equal (an interpreter engine without translator: every store is counted)
    expect(fast.checksSkipped).toBeGreaterThan(fast.fastRuns * 0.9);
    expect([general.probeEntries, general.checksSkipped]).toEqual([0, 0]);
  });

  it('a unit that runs off its end (12 instructions) is followed by its linked successor in the unit loop, without a pass through the vCPU loop, with the same figures', () => {
    // passesGuest's 40 passes of its count and a body of 14 ADDIs: the first pass runs from
    // _start, a unit of the three LIs and 9 instructions then one of the rest; the others from
    // again, a unit of 12 ADDIs that runs off its end, then one of the rest ending with the JLT
    const image = passesGuest('        addi    r2, r2, 1\n'.repeat(14), { file: 't.s' });
    const general = run(image, false);
    const fast = run(image, true);
    const translator = withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => run(image, true, 'translator'));
    expect(general.sim.status).toBe(40 * 14);
    expect(fast.sim).toEqual(general.sim);
    expect(translator.sim).toEqual(general.sim);
    // the first and second passes link the successor through the vCPU loop (a lookup), the other
    // 38 take the link in the unit loop: chained, as the vCPU loop counts them (none on the
    // general path)
    expect([general.fallThroughs, fast.fallThroughs]).toEqual([0, 38]);
    expect(general.sim.bt.chained).toBe(fast.sim.bt.chained);
    // compiled (threshold 2), the chain of the unit at again runs off its end: the unit loop
    // enters the successor after it the same way (all 38 there)
    expect(translator.fallThroughs).toBe(38);
  });

  it('the translator engine: from one compiled function to the next the unit loop enters the next unit itself, with the same figures', () => {
    const interpreter = run(demo, true);
    const translator = withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => run(demo, true, 'translator'));
    expect(translator.sim).toEqual(interpreter.sim);
    // units chained inside compiled code, and entries made by the unit loop between functions
    expect(translator.chainedInline).toBeGreaterThan(0);
    expect(translator.loopEntries).toBeGreaterThan(0);
    // the units below the hotness threshold (all of them at the default threshold) run in the
    // fast loop as under the interpreter engine: their word checks skipped while no store reached
    // their frames, stores in mid-run leaving the loop after one into the unit's own frame
    const cold = run(demo, true, 'translator');
    expect(cold.sim).toEqual(interpreter.sim);
    expect(cold.fastRuns).toBeGreaterThan(0);
    expect(cold.checksSkipped).toBeGreaterThan(cold.fastRuns / 2);
    expect(cold.storeLeaves).toBeGreaterThan(0);
  });

  it("the translator engine: a compiled store over a cold unit's word is counted, so the unit's next fast run checks its words first", () => {
    // a loop, hot from its 5th pass, stores word r4 of a table over target's ADDI every pass, in
    // its compiled code (the +1's word for passes 0-17, the +2's for 18 and 19); target, a unit
    // of another page entered twice (cold), runs in the fast loop at passes 10 and 19: at 19 its
    // frame's count of stores has moved since its words were found equal at 10 only by the
    // compiled code's stores
    const image = assemble(
      `
        .arch bare
        .org 0x1000
_start:
        li      sp, 0x8000
        li      r1, table
        li      r4, 0
.Lfill:
        li      r5, insn1
        cmpi    r4, 18
        jlt     .Lword
        li      r5, insn2
.Lword:
        ldw     r5, [r5]
        stw     [r1], r5
        addi    r1, r1, 4
        addi    r4, r4, 1
        cmpi    r4, 20
        jlt     .Lfill
        li      r3, 0
        li      r4, 0
loop:
        cmpi    r4, 10
        jne     .Lstore
        call    target
.Lstore:
        shli    r6, r4, 2
        li      r5, table
        add     r6, r6, r5
        ldw     r5, [r6]
        li      r2, target
        stw     [r2], r5
        cmpi    r4, 19
        jne     .Lnext
        call    target
.Lnext:
        addi    r4, r4, 1
        cmpi    r4, 20
        jlt     loop
        out     0x501, r3
        hlt
insn1:
        addi    r3, r3, 1
insn2:
        addi    r3, r3, 2
table:
        .space  80
        .align  4096
target:
        addi    r3, r3, 1
        ret
`,
      't.s',
    ).image;
    const interpreter = run(image, true);
    const translator = withTranslatorLimits({ threshold: 5, unitHeat: 1 }, () => run(image, true, 'translator'));
    // +1 at pass 10, +2 at pass 19: the changed word found by the check before target's run,
    // its unit dropped and translated anew
    expect(interpreter.sim.status).toBe(3);
    expect(interpreter.sim.bt.invalidations).toBe(1);
    expect(translator.sim).toEqual(interpreter.sim);
    expect(translator.chainedInline).toBeGreaterThan(0);
  });

  describe('compiled chains trust the links they were compiled with while the cache does not change (the translator engine)', () => {
  // A loop from page 1 to a unit in page 3 (JMP far, JMP back): compiled as one chain whose
  // boundaries are linked, so they go on without a check. At the 20th pass the loop patches far's
  // ADDI (the +1 becomes +2): the next pass leaves before it (the word check), the unit loop drops
  // far's unit and translates it anew. The chain still holds the dropped unit: entered again, it
  // is found no longer true (the cache's epoch moved, the dropped link) and compiled anew.
  const PATCHED_CALLEE = `
        .arch bare
        .org 0x1000
_start:
        li      sp, 0x2000
        li      r1, 0
        li      r2, 0
loop:
        addi    r1, r1, 1
        jmp     far
back:
        cmpi    r1, 20
        jne     next
        li      r6, insn
        ldw     r5, [r6]
        li      r6, far
        stw     [r6], r5
next:
        cmpi    r1, 40
        jlt     loop
        add     r0, r1, r2
        out     0x501, r0
        hlt
insn:
        addi    r2, r2, 2
        .org 0x3000
far:
        addi    r2, r2, 1
        jmp     back
`;

  it('a unit of a chain dropped (its code written) has the chain compiled anew before it runs again, with the interpreter\'s figures', () => {
    const image = assemble(PATCHED_CALLEE, 't.s').image;
    const interpreter = run(image, true);
    const translator = withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => run(image, true, 'translator'));
    // 40 passes, 20 adding 1 and 20 adding 2
    expect(interpreter.sim.status).toBe(100);
    expect([interpreter.sim.bt.invalidations, interpreter.sim.bt.chained, interpreter.sim.bt.dispatchLookups]).toEqual([1, 150, 14]);
    expect(translator.sim).toEqual(interpreter.sim);
    // (trusting the old chain would run the dropped unit's block: its word check leaves, and the
    // unit loop drops the new unit too - another invalidation, other counts)
    expect([translator.chainRecompiles, interpreter.chainRecompiles]).toEqual([1, 0]);
    expect(translator.chainedInline).toBeGreaterThan(100);
    // a crossing between the pages translates its pc through the shadow once per pass of the unit
    // loop (BtMode.xlate), not at every crossing, and compiled code checks a crossing once per
    // call (its memo of crossings found true, emptied by a refill): of the 72 crossings without a
    // walk, 3 were answered from the pass's translations and 69 from the call's memo (72 and 0
    // without the memo)
    expect([translator.translationsRemembered, translator.crossingsKnown]).toEqual([3, 69]);
  });

  // A loop of one unit that stores over its own later instruction at every pass: the word of
  // `one` (ADDI r2, r2, 1) for passes 1-20, then `two`'s (ADDI r2, r2, 2), which the next
  // instruction, patch, runs at once. Compiled at threshold 2, the function checks no word:
  // the store into a frame holding units leaves it right after the store (Cpu.txStored), and
  // the unit loop checks patch's word before it runs.
  const PATCHES_ITSELF = `
        .arch bare
        .org 0x1000
_start:
        li      sp, 0x2000
        li      r1, 0
        li      r2, 0
        li      r6, patch
        li      r7, one
loop:
        addi    r1, r1, 1
        cmpi    r1, 20
        setgt   r10
        shli    r10, r10, 2
        add     r9, r7, r10
        ldw     r5, [r9]
        stw     [r6], r5
patch:
        addi    r2, r2, 1
        cmpi    r1, 40
        jlt     loop
        out     0x501, r2
        hlt
one:
        addi    r2, r2, 1
two:
        addi    r2, r2, 2
`;

  it("compiled code checks no word: a store over a later instruction of its own unit leaves it at once, with the interpreter's figures", () => {
    const image = assemble(PATCHES_ITSELF, 't.s').image;
    const interpreter = run(image, true);
    const translator = withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => run(image, true, 'translator'));
    // 20 passes adding 1, 20 adding 2 (the patched word found by the unit loop's check: the frame's units dropped)
    expect(interpreter.sim.status).toBe(60);
    expect([interpreter.sim.bt.invalidations, interpreter.sim.bt.translations]).toEqual([3, 6]);
    // (it fails when a compiled store into a frame holding units goes on: the old ADDI runs at pass 21;
    // and when the translator clears the frame's mark: the stores after its first are not seen)
    expect(translator.sim).toEqual(interpreter.sim);
    // nearly every pass entered the compiled loop, its words checked first: the last pass's store reached their frame
    expect(translator.chainWordChecks).toBeGreaterThan(30);
  });

  it('a compiled chain checks its words at entry only when a store reached one of its frames since they were last found equal', () => {
    const translator = withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => run(demo, true, 'translator'));
    const entries = translator.sim.bt.unitsRun - translator.chainedInline;
    expect(translator.chainWordChecks).toBeGreaterThan(0);
    expect(translator.chainWordChecks).toBeLessThan(entries / 10);
    expect(translator.chainCheckedRuns).toBe(0);
    // PATCHED_CALLEE: the store over far's ADDI (made outside the chain) is seen at the chain's next
    // entry, which then runs with the word check before each instruction and leaves before the ADDI
    const patched = withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => run(assemble(PATCHED_CALLEE, 't.s').image, true, 'translator'));
    expect(patched.chainCheckedRuns).toBe(1);
  });

  // The CPU's marks of the frames holding units are not saved (host-side, like the translator's):
  // a restored bt mode makes them again before it runs, else the stores into its units' frames
  // would go unseen (compiled code would run on past PATCHES_ITSELF's store, the fast loop's runs
  // skip their word check) and the patched word run unchecked.
  for (const engine of ['translator', 'interpreter'] as const) {
    it(`${engine}: a run saved before the patch and restored on a fresh hypervisor ends as the uninterrupted one`, () => {
      const image = assemble(PATCHES_ITSELF, 't.s').image;
      const make = () => {
        const hv = new Hypervisor({ memoryBytes: 8 * 1024 * 1024, engine });
        const d = hv.createDomain(new BtMode(), { name: 'k', memoryBytes: 4 * 1024 * 1024 }, { image });
        return { hv, d };
      };
      const sim = (hv: Hypervisor, d: ReturnType<typeof make>['d']) => ({ status: d.stopStatus, cycles: hv.cpu.cycles, instructions: hv.cpu.instructions, bt: btStatsSummary(d) });
      withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => {
        const ref = make();
        expect(ref.hv.run({ maxCycles: 200_000_000 }).reason).toBe('all-stopped');
        const a = make();
        // in slices of 200 cycles to about pass 10 of 40 (r1), the loop hot (compiled under the translator)
        for (let i = 0; i < 10_000 && a.hv.cpu.regs[1]! < 10; i++) a.hv.run({ maxCycles: 200 });
        expect(a.hv.cpu.regs[1]).toBeGreaterThanOrEqual(10);
        expect(a.hv.cpu.regs[1]).toBeLessThan(20);
        const file = saveRun('bt', a.hv, { setup: {}, cycles: a.hv.cpu.cycles, counters: {}, vcpus: [] });
        const b = make();
        restoreRun(loadSaveFile(file), b.hv);
        expect(b.hv.run({ maxCycles: 200_000_000 }).reason).toBe('all-stopped');
        expect(sim(b.hv, b.d)).toEqual(sim(ref.hv, ref.d));
        expect(sim(b.hv, b.d).status).toBe(60);
      });
    });
  }
  });
});

describe('user code the kernel enters with interrupts off or I/O allowed (a difference the differential fuzzer found)', () => {
  // The kernel's IRET to ring 3 is a callout under bt, so the monitor knows the IF and IOPL the
  // user code runs with; user code with IF 0 or IOPL > 0 runs translated (PUSHF, POPF, CLI, STI
  // and I/O see the virtual FLAGS) instead of directly, where the real CPU would give it IF 1, IOPL 0
  const USER_FLAGS = `
${iretToRing3(0x3000, 'user_code')}
user_code:
        cli
        pushf
        pop     r5
        int     0x80
${syscallPrints('r5')}
`;

  it('CLI at IOPL 3 is allowed and PUSHF shows IF 0 and IOPL 3, as on the bare machine (trap mode, blind to that IRET, gives the CLI a #GP)', () => {
    const image = guestImage(USER_FLAGS);
    expect(runNative(image).output).toBe('00003000\n');
    expect(runBtMode(image).output).toBe('00003000\n');
    expect(runTrap(image).output).toMatch(/^trap 0000000d /);
  });

  it("the IRET's IF = 0 holds in ring 3: user code does not get the tick, as on the bare machine", () => {
    const image = guestImage(iretToRing3WithIfOff(30000, tickHandler('arm_tick', 1000)));
    expect(runNative(image).output).toBe('00000000\n');
    expect(runBtMode(image).output).toBe('00000000\n');
  });
});

describe("bt's inline tier", () => {
  it('CLI/STI and a CR4 write of its own value run in line against the virtual CPU; a CR4 change calls out', () => {
    const src = `
        .arch bare
        .org 0x1000
_start:
        cli
        sti
        cli
        li      r1, 0
        movcr   cr4, r1
        movcr   cr4, r1
        li      r1, 1
        movcr   cr4, r1
        movfcr  r2, cr4
        addi    r0, r2, 40
        out     0x501, r0
        hlt
`;
    const r = runBtMode(assemble(src, 't.s').image);
    const b = btStatsSummary(r.domain);
    expect([r.reason, r.status]).toEqual(['poweroff', 41]);
    expect(b.inlined).toEqual({ cli: 2, sti: 1, movcr: 2 });
    expect(b.callouts).toEqual({ movcr: 1, movfcr: 1, out: 1 });
    expect(b.calloutCycles).toBe(3 * P4.btCallout);
    // what the inline sequences cost is the instructions' own figure: no monitor path, no trap
    expect(r.domain.stats.traps.reduce((a, n) => a + n, 0)).toBe(1); // the first fetch's hidden fault
  });
});
