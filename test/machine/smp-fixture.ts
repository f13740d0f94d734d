// A bare-metal SMP program for the multiprocessor machine's tests: CPU 0 sets up an IDT, starts
// every other CPU through the local APIC (LAPIC_START), and all CPUs add to two shared counters
// ROUNDS times each: `racy` with a plain load/add/store, then `locked` under an XCHG spinlock. The
// secondaries then halt with interrupts on; CPU 0 waits for them, sends each an IPI (vector 0x40,
// whose handler counts in `ipis` and ends it with LAPIC_EOI), waits for the handlers, and powers
// off with status 0x5a. The test reads the counters from memory.

import { assemble } from '../../toolchain/asm/index.ts';
import type { Image } from '../../machine/image.ts';

export const ROUNDS = 50;

const SOURCE = `
        .arch bare
        LAPIC_ID = 0x600
        LAPIC_CPUS = 0x601
        LAPIC_EOI = 0x602
        LAPIC_ICR = 0x603
        LAPIC_START_PC = 0x606
        LAPIC_START_SP = 0x607
        LAPIC_START = 0x608
        SYS_POWEROFF = 0x501
        GATE_KERNEL_INT = 0x01
        ROUNDS = ${ROUNDS}

        .org 0x1000
        .func _start
_start:
        li      sp, stacks + 4096
        li      r1, idt
        li      r2, ipi_entry
        stw     [r1 + 0x40*8], r2
        li      r5, GATE_KERNEL_INT
        stw     [r1 + 0x40*8 + 4], r5
        in      r9, LAPIC_CPUS                 ; r9 = number of CPUs
        li      r3, 1
.Lstart:
        cmp     r3, r9
        jge     .Lstarted
        li      r4, ap_entry
        out     LAPIC_START_PC, r4
        shli    r4, r3, 12
        li      r5, stacks + 4096
        add     r4, r4, r5
        out     LAPIC_START_SP, r4
        li      r6, LAPIC_START
        outr    r6, r3
        addi    r3, r3, 1
        jmp     .Lstart
.Lstarted:
        call    work
        ; wait until every secondary is done
        li      r1, done
.Lwait:
        ldw     r2, [r1]
        addi    r3, r9, -1
        cmp     r2, r3
        jne     .Lwait
        ; one IPI to each secondary (they are halted with IF = 1)
        li      r3, 1
.Lipi:
        cmp     r3, r9
        jge     .Lipis_sent
        shli    r4, r3, 8
        ori     r4, r4, 0x40
        out     LAPIC_ICR, r4
        addi    r3, r3, 1
        jmp     .Lipi
.Lipis_sent:
        li      r1, ipis
.Lwait_ipis:
        ldw     r2, [r1]
        addi    r3, r9, -1
        cmp     r2, r3
        jne     .Lwait_ipis
        li      r1, 0x5a
        out     SYS_POWEROFF, r1
        hlt
        .endfunc

        .func ap_entry
ap_entry:
        li      r1, idt
        lidt    r1, 256
        call    work
        li      r1, done
        li      r2, lock
        call    locked_inc
        sti
.Lidle:
        hlt
        jmp     .Lidle
        .endfunc

; work: ROUNDS times racy += 1 without a lock, then ROUNDS times locked += 1 under the lock
        .func work
work:
        li      r1, idt
        lidt    r1, 256
        li      r8, 0
.Lracy:
        li      r1, racy
        ldw     r2, [r1]
        addi    r2, r2, 1
        stw     [r1], r2
        addi    r8, r8, 1
        cmpi    r8, ROUNDS
        jlt     .Lracy
        li      r8, 0
.Lround:
        li      r1, locked
        li      r2, lock
        call    locked_inc
        addi    r8, r8, 1
        cmpi    r8, ROUNDS
        jlt     .Lround
        ret
        .endfunc

; locked_inc(r1 = counter, r2 = lock): take the spinlock with xchg, add 1, release
        .func locked_inc
locked_inc:
        li      r3, 1
.Lspin:
        xchg    r4, r2, r3
        cmpi    r4, 0
        jne     .Lspin
        ldw     r5, [r1]
        addi    r5, r5, 1
        stw     [r1], r5
        li      r3, 0
        stw     [r2], r3
        ret
        .endfunc

        .func ipi_entry
ipi_entry:
        push    r1
        push    r2
        push    r3
        li      r1, ipis
        li      r2, ipilock
        call    locked_inc
        li      r1, 0
        out     LAPIC_EOI, r1
        pop     r3
        pop     r2
        pop     r1
        addi    sp, sp, 8
        iret
        .endfunc

        .align 4
lock:   .word 0
ipilock: .word 0
locked: .word 0
racy:   .word 0
done:   .word 0
ipis:   .word 0
        .align 4096
idt:    .space 4096
stacks: .space 4096 * 8
`;

/** The program's image and the addresses of its counters. */
export function smpProgram(): { image: Image; addr: (name: 'locked' | 'racy' | 'done' | 'ipis') => number } {
  const { image } = assemble(SOURCE, 'smp.s');
  return {
    image,
    addr: (name) => {
      const s = image.symbols.find((x) => x.name === name);
      if (!s) throw new Error(`smp.s: no symbol ${name}`);
      return s.addr;
    },
  };
}

/**
 * Cross-CPU code coherence: CPU 1 calls f (`li r1, 1; ret`) in a loop while CPU 0 waits for 2000
 * calls, then rewrites f's immediate to 2 and lets CPU 1 call it once more; CPU 0 powers off with
 * what that call returned. 2 unless CPU 1 ran a stale translation of f.
 */
export function selfModifyingProgram(): Image {
  return assemble(`
        .arch bare
        LAPIC_START_PC = 0x606
        LAPIC_START_SP = 0x607
        LAPIC_START = 0x608
        SYS_POWEROFF = 0x501
        .org 0x1000
        .func _start
_start:
        li      sp, stack0
        li      r1, ap
        out     LAPIC_START_PC, r1
        li      r1, stack1
        out     LAPIC_START_SP, r1
        li      r1, 1
        out     LAPIC_START, r1
        li      r2, calls
.Lwait:
        ldw     r3, [r2]
        cmpi    r3, 2000
        jlt     .Lwait
        li      r2, f
        li      r3, 2
        stw     [r2 + 4], r3          ; f's li now loads 2 (its extension word)
        li      r2, go
        li      r3, 1
        stw     [r2], r3
        li      r2, done
.Lwait2:
        ldw     r3, [r2]
        cmpi    r3, 0
        jeq     .Lwait2
        li      r2, result
        ldw     r1, [r2]
        out     SYS_POWEROFF, r1
        hlt
        .endfunc
        .func f
f:
        li      r1, 1
        ret
        .endfunc
        .func ap
ap:
        li      r5, calls
        li      r6, go
.Lloop:
        call    f
        ldw     r7, [r5]
        addi    r7, r7, 1
        stw     [r5], r7
        ldw     r7, [r6]
        cmpi    r7, 0
        jeq     .Lloop
        call    f
        li      r5, result
        stw     [r5], r1
        li      r5, done
        li      r6, 1
        stw     [r5], r6
.Lidle:
        jmp     .Lidle
        .endfunc
        .align 4096
calls:  .word 0
go:     .word 0
done:   .word 0
result: .word 0
        .space 4096
stack0:
        .space 4096
stack1:
`, 'smc.s').image;
}
