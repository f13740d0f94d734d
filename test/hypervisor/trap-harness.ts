// Test harness for trap mode: a tiny bare-metal "kernel" prelude in XL32 assembly (IDT with every
// vector on one reporting handler, identity paging, printing helpers, a way into ring 3), around
// which each test writes a `test_main`; and runners that boot the same image on the bare machine
// and under trap-and-emulate, so each test can say exactly where the two agree and where not.

import { assemble } from '../../toolchain/asm/index.ts';
import type { Image } from '../../machine/image.ts';
import { Machine, type RunResult } from '../../machine/machine.ts';
import { runTrapMode, type GuestRunOptions, type GuestRunResult } from '../../hypervisor/trap/index.ts';

/**
 * Code before the test body. Entry: IDT (256 interrupt gates, DPL 0, ring 0, all on trap_entry),
 * LIDT, LKSP 0, then `call test_main` and power off with r0. trap_entry jumps to [trap_hook] if it
 * is set (sp at the frame), else prints the frame and powers off with 0x100 + vector.
 * Helpers: puts(r1), puthex(r1), putnl, report_frame, set_gate(r1 vector, r2 handler, r3 flags),
 * paging_on (identity map of 4 MiB, user+writable, CR0 = PG|WP), enter_user(r1 pc, r2 sp).
 */
const PRELUDE_CODE = `
        .arch bare
        UART_DATA = 0x3f8
        SYS_POWEROFF = 0x501
        PIC_CMD = 0x20
        PIC_MASK = 0x21
        PIC_BASE = 0x22
        PIC_EOI = 0x20
        TIMER_PERIOD = 0x40
        TIMER_CONTROL = 0x41
        GATE_KINT = 0x01
        GATE_KTRAP = 0x21
        GATE_UINT = 0x07
        GATE_UTRAP = 0x27
        PTE_P = 1
        PTE_W = 2
        PTE_U = 4
        PTE_A = 0x20
        PTE_D = 0x40

        .org 0x1000
        .func _start
_start:
        li      sp, kstack_top
        li      r1, idt
        li      r2, trap_entry
        li      r3, 0
.Lp_fill:
        shli    r4, r3, 3
        add     r4, r4, r1
        stw     [r4], r2
        li      r5, GATE_KINT
        stw     [r4 + 4], r5
        addi    r3, r3, 1
        cmpi    r3, 256
        jlt     .Lp_fill
        lidt    r1, 256
        li      r2, kstack_top
        lksp    0, r2
        call    test_main
        out     SYS_POWEROFF, r0
        hlt
        .endfunc

        .func set_gate
set_gate:
        li      r4, idt
        shli    r5, r1, 3
        add     r4, r4, r5
        stw     [r4], r2
        stw     [r4 + 4], r3
        ret
        .endfunc

        .func paging_on
paging_on:
        li      r1, page_table
        li      r3, 0
.Lp_map:
        shli    r4, r3, 12
        ori     r4, r4, PTE_P | PTE_W | PTE_U
        shli    r5, r3, 2
        add     r5, r5, r1
        stw     [r5], r4
        addi    r3, r3, 1
        cmpi    r3, 1024
        jlt     .Lp_map
        li      r2, page_directory
        ori     r4, r1, PTE_P | PTE_W | PTE_U
        stw     [r2], r4
        movcr   cr3, r2
        li      r4, 3
        movcr   cr0, r4
        ret
        .endfunc

        .func enter_user
enter_user:
        push    r2
        li      r3, 0x200
        push    r3
        li      r3, 3
        push    r3
        push    r1
        iret
        .endfunc

        .func puts
puts:
        ldbu    r2, [r1]
        cmpi    r2, 0
        jeq     .Lp_puts_done
        outb    UART_DATA, r2
        addi    r1, r1, 1
        jmp     puts
.Lp_puts_done:
        ret
        .endfunc

        .func puthex
puthex:
        li      r3, 28
.Lp_hex:
        shr     r2, r1, r3
        andi    r2, r2, 15
        cmpi    r2, 10
        jlt     .Lp_digit
        addi    r2, r2, 'a' - 10
        jmp     .Lp_out
.Lp_digit:
        addi    r2, r2, '0'
.Lp_out:
        outb    UART_DATA, r2
        addi    r3, r3, -4
        cmpi    r3, 0
        jge     .Lp_hex
        ret
        .endfunc

        .func putnl
putnl:
        li      r2, '\\n'
        outb    UART_DATA, r2
        ret
        .endfunc

        .func putsp
putsp:
        li      r2, ' '
        outb    UART_DATA, r2
        ret
        .endfunc

        .func trap_entry
trap_entry:
        li      r9, trap_hook
        ldw     r9, [r9]
        cmpi    r9, 0
        jeq     .Lp_report
        jmpr    r9
.Lp_report:
        call    report_frame
        ldw     r0, [sp]
        addi    r0, r0, 0x100
        out     SYS_POWEROFF, r0
        hlt
        .endfunc

; report_frame: "trap v e pc cs flags sp cr2" (hex) for the frame just above the return address
        .func report_frame
report_frame:
        addi    r10, sp, 4
        li      r1, msg_trap
        call    puts
        li      r11, 0
.Lp_field:
        add     r12, r10, r11
        ldw     r1, [r12]
        call    puthex
        call    putsp
        addi    r11, r11, 4
        cmpi    r11, 24
        jlt     .Lp_field
        movfcr  r1, cr2
        call    puthex
        call    putnl
        ret
        .endfunc
msg_trap: .asciz "trap "
        .align 4
`;

const PRELUDE_DATA = `
        .align 4
trap_hook:  .word 0
        .align 4096
idt:        .space 256*8
        .align 4096
page_directory:  .space 4096
page_table:      .space 4096
page_directory2: .space 4096
page_table2:     .space 4096
        .space 4096
kstack_top:
        .space 4096
ustack_top:
        .space 4096
kstack2_top:
`;

/** Assemble prelude + body + prelude data. The body must define `test_main` (returns the power-off status in r0). */
export function guestImage(body: string): Image {
  return assemble(PRELUDE_CODE + body + PRELUDE_DATA, 'guest.s').image;
}

export interface NativeRun {
  output: string;
  result: RunResult;
  machine: Machine;
}

export const GUEST_MEMORY = 4 * 1024 * 1024;

/** The image on a bare XL32 machine of GUEST_MEMORY bytes. */
export function runNative(image: Image, opts: { maxCycles?: number; memoryBytes?: number; input?: string } = {}): NativeRun {
  const machine = new Machine({ memoryBytes: opts.memoryBytes ?? GUEST_MEMORY, input: opts.input });
  machine.loadImage(image);
  const result = machine.run({ maxCycles: opts.maxCycles ?? 50_000_000 });
  return { output: machine.consoleOutput(), result, machine };
}

/** The image in a trap-mode domain of GUEST_MEMORY bytes. */
export function runTrap(image: Image, opts: GuestRunOptions = {}): GuestRunResult {
  return runTrapMode(image, { memoryBytes: GUEST_MEMORY, maxCycles: 50_000_000, ...opts });
}

/** Both runs of one body. */
export function both(body: string): { native: NativeRun; trap: GuestRunResult } {
  const image = guestImage(body);
  return { native: runNative(image), trap: runTrap(image) };
}
