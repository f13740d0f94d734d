// The critical (sensitive but unprivileged) instructions, one small kernel each, run on the bare
// machine, under trap-and-emulate and under hardware assist: trap mode does not catch them and
// shows the exact, documented difference - the reason paravirtualization exists - while in hvm's
// non-root mode they run natively and the guest sees what the bare machine shows. Each guest is
// written once; the table says what each mode prints and which counters show how.
import { describe, expect, it } from 'vitest';
import { runBtMode } from '../../hypervisor/bt/index.ts';
import type { GuestRunResult } from '../../hypervisor/run.ts';
import { HYPERVISOR_IDT_BASE } from '../../hypervisor/trap/index.ts';
import type { Image } from '../../machine/image.ts';
import { Op } from '../../machine/isa.ts';
import { Exit } from '../../machine/types.ts';
import { puthexOutput, iretToRing3WithIfOff, tickHandler } from './fixtures/small-guest.ts';
import { guestImage, runHvm, runNative, runTrap } from './hvm-harness.ts';
import type { NativeRun } from './trap-harness.ts';

/** a timer-interrupt handler counting into `ticks`, and the timer/PIC set up for one tick after 1000 cycles */
const TICKER = tickHandler('arm_tick', 1000);

/** What one mode (or the bare machine) prints, and its power-off status. */
interface Seen {
  output: string;
  status?: number;
}

interface CriticalGuest {
  name: string;
  body: string;
  /** per run: what it shows (the image gives symbol addresses) */
  native: (image: Image) => Seen;
  trap: (image: Image) => Seen;
  /** what else each mode's counters must show */
  checkTrap?: (r: GuestRunResult) => void;
  checkHvm?: (r: GuestRunResult) => void;
}

const idtOf = (image: Image): number => image.symbols.find((s) => s.name === 'idt')!.addr;

const GUESTS: CriticalGuest[] = [
  {
    name: 'RDCPL in the kernel reads 0 on bare hardware, the real ring 1 under trap mode',
    body: `
test_main:
        rdcpl   r1
        call    puthex
        call    putnl
        li      r0, 0
        ret
`,
    native: () => ({ output: '00000000\n', status: 0 }),
    trap: () => ({ output: '00000001\n', status: 0 }),
  },
  {
    name: "SIDT shows the kernel its own IDT on bare hardware, the hypervisor's under trap mode",
    body: `
test_main:
        sidt    r1
        call    puthex
        call    putnl
        li      r0, 0
        ret
`,
    native: (image) => ({ output: `${puthexOutput(idtOf(image))}\n` }),
    trap: () => ({ output: `${puthexOutput(HYPERVISOR_IDT_BASE)}\n` }),
  },
  {
    name: 'PUSHF after CLI shows IF = 0 on bare hardware and the real IF = 1 under trap mode',
    body: `
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
`,
    native: () => ({ output: '00000200\n00000000\n' }),
    trap: () => ({ output: '00000200\n00000200\n' }),
    checkTrap: (r) => {
      expect(r.domain.stats.emulated[Op.CLI]).toBe(1);
      expect(r.domain.stats.emulated[Op.STI]).toBe(1);
      expect(r.domain.stats.emulated[Op.PUSHF]).toBe(0);
    },
  },
  {
    name: 'POPF restoring IF = 1 in the kernel takes the pending tick at once on bare hardware; under trap mode it is silently lost and the tick waits for STI',
    body: `
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
${TICKER}`,
    native: () => ({ output: 'popf: tick taken\n', status: 1 }),
    trap: () => ({ output: 'popf: interrupts still off\nsti: tick taken\n', status: 2 }),
    checkTrap: (r) => expect(r.domain.stats.emulated[Op.POPF]).toBe(0),
    // the tick came while the guest had IF = 0: the monitor armed the interrupt window, and the POPF opened it
    checkHvm: (r) => {
      expect(r.domain.stats.cpuExits[Exit.InterruptWindow]).toBe(1);
      expect(r.domain.stats.injectedInterrupts).toBe(1);
    },
  },
  {
    // the kernel enters ring 3 with interrupts off in the frame; the user program spins, then
    // reports with INT 0x80 whether the timer interrupt reached the kernel meanwhile
    name: "the kernel's IRET to ring 3 restores IF = 0 from its frame on bare hardware; under trap mode it runs natively and the IF = 0 is lost: user code gets the tick",
    body: iretToRing3WithIfOff(5000, TICKER),
    native: () => ({ output: '00000000\n' }),
    trap: () => ({ output: '00000001\n' }),
  },
  {
    // found by the differential fuzzer (seed 0xd1ff): at ring 1 a privileged instruction is a
    // #GP on the bare machine (the kernel's handler prints the frame: cs 1) and under bt; under
    // trap mode the popped cs 1 is not more privileged than the real ring 1, the CPU does the
    // IRET unseen, and the monitor emulates MOVFCR and OUT as the kernel's
    name: "the kernel's IRET to ring 1 faults at ring 1 on bare hardware; under trap mode it runs natively at the real ring 1 and the guest keeps ring 0's rights",
    body: `
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
`,
    native: (image) => {
      const ring1 = image.symbols.find((x) => x.name === 'ring1')!.addr;
      return { output: `trap 0000000d 00000000 ${puthexOutput(ring1)} 00000001 00000000 00009000 00000000\n` };
    },
    trap: () => ({ output: '', status: 7 }),
  },
];

/** A run as Seen: its output, and its status where the expectation names one. */
function seen(r: NativeRun | GuestRunResult, want: Seen): Seen {
  const status = 'result' in r ? r.result.status : r.status;
  return want.status === undefined ? { output: r.output } : { output: r.output, status };
}

describe.each(GUESTS)('critical instruction: $name', (g) => {
  const image = guestImage(g.body);
  const native = g.native(image);
  it('on the bare machine', () => {
    expect(seen(runNative(image), native)).toEqual(native);
  });
  it('under trap mode: the documented difference', () => {
    const r = runTrap(image);
    const want = g.trap(image);
    expect(seen(r, want)).toEqual(want);
    expect(want.output).not.toBe(native.output);
    g.checkTrap?.(r);
  });
  it('under bt mode: translated, as on the bare machine', () => {
    expect(seen(runBtMode(image), native)).toEqual(native);
  });
  it('under hvm mode: as on the bare machine', () => {
    const r = runHvm(image);
    expect(seen(r, native)).toEqual(native);
    g.checkHvm?.(r);
  });
});
