// Trap mode does not catch the critical (sensitive but unprivileged) instructions: each test runs
// the same small kernel on the bare machine and under trap-and-emulate and pins the exact,
// documented difference - the reason paravirtualization exists.
import { describe, expect, it } from 'vitest';
import { runBtMode } from '../../hypervisor/bt/index.ts';
import { HYPERVISOR_IDT_BASE } from '../../hypervisor/trap/index.ts';
import { Op } from '../../machine/isa.ts';
import { hex, iretToRing3WithIfOff, tickHandler } from './fixtures/small-guest.ts';
import { both, guestImage, runNative, runTrap } from './trap-harness.ts';

/** a timer-interrupt handler counting into `ticks`, and the timer/PIC set up for one tick after 1000 cycles */
const TICKER = tickHandler('arm_tick', 1000);

describe('critical instructions are not caught by trap-and-emulate', () => {
  it('RDCPL in the kernel reads 0 on bare hardware but the real ring 1 under trap mode', () => {
    const { native, trap } = both(`
test_main:
        rdcpl   r1
        call    puthex
        call    putnl
        li      r0, 0
        ret
`);
    expect(native.output).toBe('00000000\n');
    expect(trap.output).toBe('00000001\n');
    expect([native.result.status, trap.status]).toEqual([0, 0]);
  });

  it("SIDT shows the kernel its own IDT on bare hardware, the hypervisor's under trap mode", () => {
    const body = `
test_main:
        sidt    r1
        call    puthex
        call    putnl
        li      r0, 0
        ret
`;
    const image = guestImage(body);
    const idt = image.symbols.find((s) => s.name === 'idt')!.addr;
    expect(runNative(image).output).toBe(`${hex(idt)}\n`);
    expect(runTrap(image).output).toBe(`${hex(HYPERVISOR_IDT_BASE)}\n`);
  });

  it('PUSHF after CLI shows IF = 0 on bare hardware and the real IF = 1 under trap mode', () => {
    const { native, trap } = both(`
test_main:
        sti
        pushf
        pop     r1
        andi    r1, r1, 0x200
        call    puthex
        call    putnl
        cli
        pushf
        pop     r1
        andi    r1, r1, 0x200
        call    puthex
        call    putnl
        li      r0, 0
        ret
`);
    expect(native.output).toBe('00000200\n00000000\n');
    expect(trap.output).toBe('00000200\n00000200\n');
    expect(trap.domain.stats.emulated[Op.CLI]).toBe(1);
    expect(trap.domain.stats.emulated[Op.STI]).toBe(1);
    expect(trap.domain.stats.emulated[Op.PUSHF]).toBe(0);
  });

  it('POPF restoring IF = 1 in the kernel is silently lost under trap mode: the tick waits for STI', () => {
    const { native, trap } = both(`
test_main:
        call    arm_tick
        cli
        li      r1, 0x200
        push    r1
        popf                            ; "restore" interrupts on
        li      r6, 0
.Lspin:
        addi    r6, r6, 1
        li      r1, ticks
        ldw     r1, [r1]
        cmpi    r1, 0
        jne     .Ltaken
        cmpi    r6, 3000
        jlt     .Lspin
        li      r1, msg_lost
        call    puts
        sti
.Lwait:
        li      r1, ticks
        ldw     r1, [r1]
        cmpi    r1, 0
        jeq     .Lwait
        li      r1, msg_sti
        call    puts
        li      r0, 2
        ret
.Ltaken:
        li      r1, msg_taken
        call    puts
        li      r0, 1
        ret
msg_taken: .asciz "popf: tick taken\\n"
msg_lost:  .asciz "popf: interrupts still off\\n"
msg_sti:   .asciz "sti: tick taken\\n"
        .align 4
${TICKER}`);
    expect(native.output).toBe('popf: tick taken\n');
    expect(native.result.status).toBe(1);
    expect(trap.output).toBe('popf: interrupts still off\nsti: tick taken\n');
    expect(trap.status).toBe(2);
    expect(trap.domain.stats.emulated[Op.POPF]).toBe(0);
  });

  it("the kernel's IRET to ring 3 runs natively, so the IF = 0 in its frame is lost too: user code gets the tick", () => {
    // the kernel enters ring 3 with interrupts off in the frame; the user program spins, then
    // reports with INT 0x80 whether the timer interrupt reached the kernel meanwhile
    const { native, trap } = both(iretToRing3WithIfOff(5000, TICKER));
    expect(native.output).toBe('00000000\n');
    expect(trap.output).toBe('00000001\n');
  });
  it("the kernel's IRET to ring 1 runs natively at the real ring 1, so the guest keeps ring 0's rights (bt calls it out and goes to ring 1)", () => {
    // found by the differential fuzzer (seed 0xd1ff): at ring 1 a privileged instruction is a
    // #GP on the bare machine (the kernel's handler prints the frame: cs 1) and under bt; under
    // trap mode the popped cs 1 is not more privileged than the real ring 1, the CPU does the IRET
    // unseen, and the monitor emulates MOVFCR and OUT as the kernel's
    const image = guestImage(`
test_main:
        li      r1, ustack_top
        push    r1
        li      r1, 0
        push    r1
        li      r1, 1
        push    r1
        li      r1, ring1
        push    r1
        iret
ring1:
        movfcr  r1, cr3
        li      r0, 7
        out     SYS_POWEROFF, r0
        hlt
`);
    const ring1 = image.symbols.find((x) => x.name === 'ring1')!.addr;
    const gp = `trap 0000000d 00000000 ${hex(ring1)} 00000001 00000000 00009000 00000000\n`;
    expect(runNative(image).output).toBe(gp);
    expect(runBtMode(image).output).toBe(gp);
    const trap = runTrap(image);
    expect([trap.output, trap.reason, trap.status]).toEqual(['', 'poweroff', 7]);
  });
});
