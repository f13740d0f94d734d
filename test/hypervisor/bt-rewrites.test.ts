// bt's in-line rewrites in compiled code (the translator engine): CLI, STI, PUSHF, POPF, RDCPL and
// SIDT are compiled into a unit's JavaScript with the ident instructions around them
// (hypervisor/bt/mode.ts REWRITES), so a loop of them stays in its compiled function; what they do
// and count is what the unit loop's general path does (the interpreter engine's figures), and
// what the bare machine shows; where an interrupt is let in (after STI, POPF) the unit loop takes
// over as on the general path. User code the kernel entered with IF 0 runs translated (as the
// kernel does), which lets a test run the rewrites at virtual CPL 3: allowed at IOPL 3, a #GP at
// IOPL 0.
import { describe, expect, it } from 'vitest';
import { withTranslatorLimits, type Engine } from '../../machine/translator.ts';
import type { Image } from '../../machine/image.ts';
import { guestImage, runNative } from './trap-harness.ts';
import { runBtSmall } from './fixtures/bt-small.ts';
import { iretToRing3, syscallPrints, tickHandler } from './fixtures/small-guest.ts';

/** User code entered by IRET with FLAGS `flags` (IF 0), looping `n` times over CLI, RDCPL and SIDT; its system call prints r5 (the RDCPLs' sum plus the last SIDT). */
function userLoop(flags: number, n: number): Image {
  return guestImage(`
${iretToRing3(flags, 'user_code')}
user_code:
        li      r3, 0
        li      r4, 0
uloop:
        cli
        rdcpl   r2
        add     r3, r3, r2
        sidt    r6
        addi    r4, r4, 1
        cmpi    r4, ${n}
        jlt     uloop
        add     r5, r3, r6
        int     0x80
${syscallPrints('r5')}
`);
}

function runBt(image: Image, engine: Engine) {
  const r = runBtSmall(image, engine);
  /** units entered from the unit loop (every entry but those chained inside compiled code) */
  return { sim: r.sim, loopEntered: r.unitsRun - r.host.chainedInline };
}

/**
 * User code entered at IOPL 3 with interrupts off, looping 20,000 times over `body` (after
 * `setup`; r4 counts the passes), a one-shot tick armed before it whose handler notes the pass it
 * came in; its system call prints `reg` (if given) and then that pass, a line each.
 */
function tickedLoop(setup: string, body: string, reg?: string): Image {
  return guestImage(`
${iretToRing3(0x3000, 'user_code', 'call    arm_tick')}
user_code:
        li      r4, 0${setup}
uloop:${body}
        addi    r4, r4, 1
        cmpi    r4, 20000
        jlt     uloop
        int     0x80
${tickHandler('arm_tick', 400000, `li      r1, tick_pass
        stw     [r1], r4`)}
tick_pass:
        .word   0
on_syscall:
${reg === undefined ? '' : `        mov     r1, ${reg}
        call    puthex
        call    putnl`}
${syscallPrints('[tick_pass]').replace('on_syscall:', '')}
`);
}

describe("bt's in-line rewrites in compiled code", () => {
  it('a loop of them at IOPL 3 never leaves its compiled function, with the figures of the general path and the output of the bare machine', () => {
    const a = userLoop(0x3000, 200);
    const b = userLoop(0x3000, 400);
    // 200 RDCPLs of ring 3 (0x258) plus the IDT base SIDT read
    const out = runNative(a).output;
    expect(out).toMatch(/^[0-9a-f]{8}\n$/);
    expect(runNative(b).output).not.toBe(out);
    const interpreter = [runBt(a, 'interpreter'), runBt(b, 'interpreter')];
    const translator = withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => [runBt(a, 'translator'), runBt(b, 'translator')]);
    expect(interpreter[0]!.sim.output).toBe(out);
    expect(interpreter[1]!.sim.output).toBe(runNative(b).output);
    expect(translator.map((r) => r.sim)).toEqual(interpreter.map((r) => r.sim));
    expect(interpreter[1]!.sim.bt.inlined).toMatchObject({ cli: 400, rdcpl: 400, sidt: 400 });
    // the 200 more passes are chained inside the compiled loop: no entry from the unit loop per
    // pass (one, or more, were a rewrite left to the general path), only at the few more
    // deadlines of the longer run, where the compiled code leaves and the vCPU loop looks
    expect(translator[1]!.loopEntered - translator[0]!.loopEntered).toBeLessThan(10);
    expect(interpreter[1]!.loopEntered - interpreter[0]!.loopEntered).toBeGreaterThanOrEqual(200);
  });

  it('CLI at a virtual CPL above the IOPL leaves the compiled code before it and takes the #GP the general path gives, as on the bare machine', () => {
    const image = userLoop(0x0000, 200);
    const native = runNative(image).output;
    expect(native).toMatch(/^trap 0000000d /);
    const interpreter = runBt(image, 'interpreter');
    // compiled at its first entry: the CLI that faults is the compiled code's first instruction
    const translator = withTranslatorLimits({ threshold: 1, unitHeat: 1 }, () => runBt(image, 'translator'));
    expect(interpreter.sim.output).toBe(native);
    expect(translator.sim).toEqual(interpreter.sim);
    // the one CLI faulted: a rewrite counts when it retires, so none is counted, and the #GP was reflected
    expect(interpreter.sim.bt.inlined).toEqual({});
    expect(interpreter.sim.domain.reflected[13]).toBe(1);
  });

  it('STI lets a pending tick in right after it, as the general path does; the loop of CLI and STI stays compiled between ticks', () => {
    // user code at IOPL 3 runs CLI, STI pairs with interrupts off in between; a one-shot tick
    // armed before it is pending by the time it fires, and taken right after an STI (a block
    // boundary): the handler notes the pass (r4) it came in, the system call prints it
    const image = tickedLoop(
      '',
      `
        sti
        cli`,
    );
    const native = Number.parseInt(runNative(image).output, 16);
    const interpreter = runBt(image, 'interpreter');
    const translator = withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => runBt(image, 'translator'));
    // the tick came in mid-loop on the bare machine and under bt (at another pass: bt's own cycles)
    const pass = Number.parseInt(interpreter.sim.output, 16);
    for (const p of [native, pass]) {
      expect(p).toBeGreaterThan(100);
      expect(p).toBeLessThan(20000);
    }
    expect(translator.sim).toEqual(interpreter.sim);
    expect(interpreter.sim.bt.inlined).toMatchObject({ cli: 20000, sti: 20000 });
    expect(interpreter.sim.domain.injectedInterrupts).toBe(1);
    expect(interpreter.sim.domain.reflected[32]).toBe(1);
    // the passes ran in the compiled loop: far fewer unit-loop entries than passes
    expect(translator.loopEntered).toBeLessThan(2000);
  });

  it('PUSHF shows the virtual IF and IOPL and POPF sets them, in compiled code as on the general path; a POPF that turns interrupts on lets the pending tick in right after it', () => {
    // user code at IOPL 3 with interrupts off: each pass pushes FLAGS (IF 0, IOPL 3: 0x3000 and
    // the condition bits), pops it back, and sums what it pushed; from pass 100 on it also pops
    // a word with IF set (0x3200) and clears IF again with CLI; the tick armed before is taken
    // right after such a POPF, and the handler notes the pass
    const image = tickedLoop(
      `
        li      r5, 0
        li      r6, 0x3200`,
      `
        pushf
        pop     r2
        add     r5, r5, r2
        push    r2
        popf
        cmpi    r4, 100
        jlt     skip
        push    r6
        popf
        cli
skip:`,
      'r5',
    );
    const lines = (out: string) => out.trim().split('\n').map((x) => Number.parseInt(x, 16));
    const [nativeSum, native] = lines(runNative(image).output);
    const interpreter = runBt(image, 'interpreter');
    const translator = withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => runBt(image, 'translator'));
    const [sum, pass] = lines(interpreter.sim.output);
    // what PUSHF pushed (IF 0, IOPL 3 and the condition bits), summed over the passes, as on the bare machine
    expect(sum).toBe(nativeSum);
    for (const p of [native!, pass!]) {
      expect(p).toBeGreaterThan(100);
      expect(p).toBeLessThan(20000);
    }
    expect(translator.sim).toEqual(interpreter.sim);
    // (the first PUSHF's push takes the stack page's hidden shadow fault and is tried again: a rewrite counts once, when it retires)
    expect(interpreter.sim.bt.inlined).toMatchObject({ pushf: 20000, popf: 39900, cli: 19900 });
    expect(interpreter.sim.domain.injectedInterrupts).toBe(1);
    expect(translator.loopEntered).toBeLessThan(2000);
  });
});
