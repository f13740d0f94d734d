// The guest `bench migrate` moves between two daemons, and the migration tests with it: a bare
// XL32 program (identity paging of 4 MiB, no timer, no input - its run does not depend on time,
// so a migrated run retires exactly the instructions of an uninterrupted one) that writes, pass
// after pass, one word into each page of a working set of `pages` pages at 2 MiB, prints a line
// every `printEvery` passes, then sums the words it wrote, prints the sum and powers off with 0.
// Its writable working set is small beside its memory: the pre-copy rounds after the first send
// little. Assembled with toolchain/asm.

import { assemble } from '../toolchain/asm/index.ts';
import type { Image } from '../machine/image.ts';

export interface MigrateGuestShape {
  /** pages written each pass (the writable working set), from 1 to 512 */
  pages: number;
  /** passes over them */
  passes: number;
  /** a line `pass NNNNNNNN` every this many passes */
  printEvery: number;
}

/** The bench's shape: 32 pages of a 4 MiB domain, 60,000 passes. */
export const MIGRATE_GUEST: MigrateGuestShape = { pages: 32, passes: 60_000, printEvery: 10_000 };

/**
 * The writing loop both migration guests run (this one at CPL 0, bench/migrate-pv-guest.ts in ring 3): pass r6
 * writes pass + page into word (pass mod 1024) of each of WS_PAGES pages from WS_BASE; at a pass that is a multiple
 * of PRINT_EVERY it falls through to the caller's print, else it jumps to .Lnoprint.
 */
export const WRITER_PASSES = `        li      r6, 0                   ; pass
.Lpass:
        li      r7, 0                   ; page
        andi    r8, r6, 1023            ; the word this pass writes: (pass mod 1024) x 4
        shli    r8, r8, 2
.Lpage:
        li      r1, WS_BASE
        shli    r2, r7, 12
        add     r1, r1, r2
        add     r1, r1, r8
        add     r3, r6, r7
        stw     [r1], r3
        addi    r7, r7, 1
        cmpi    r7, WS_PAGES
        jlt     .Lpage
        addi    r6, r6, 1
        li      r9, PRINT_EVERY         ; a line every PRINT_EVERY passes
        divu    r10, r6, r9
        mul     r10, r10, r9
        cmp     r10, r6
        jne     .Lnoprint
`;

/** The end both migration guests share: r4 = the sum of every word of the working set (for their last line). */
export const WS_SUM = `        li      r1, WS_BASE             ; the sum of every word of the working set
        li      r2, WS_PAGES
        shli    r2, r2, 10
        li      r4, 0
.Lsum:
        ldw     r3, [r1]
        add     r4, r4, r3
        addi    r1, r1, 4
        addi    r2, r2, -1
        cmpi    r2, 0
        jgt     .Lsum
`;

const cache = new Map<string, Image>();

export function migrateGuest(shape: MigrateGuestShape = MIGRATE_GUEST): Image {
  const key = `${shape.pages}/${shape.passes}/${shape.printEvery}`;
  const had = cache.get(key);
  if (had) return had;
  if (!(Number.isInteger(shape.pages) && shape.pages >= 1 && shape.pages <= 512)) throw new Error(`migrate guest: pages must be 1 to 512 (got ${shape.pages})`);
  const src = `
        .arch bare
        UART_DATA = 0x3f8
        SYS_POWEROFF = 0x501
        GATE_KINT = 0x01
        WS_BASE = 0x00200000
        WS_PAGES = ${shape.pages}
        PASSES = ${shape.passes}
        PRINT_EVERY = ${shape.printEvery}

        .org 0x1000
        .func _start
_start:
        li      sp, kstack_top
        li      r1, idt                 ; every vector: report and power off
        li      r2, on_trap
        li      r3, 0
.Lfill:
        shli    r4, r3, 3
        add     r4, r4, r1
        stw     [r4], r2
        li      r5, GATE_KINT
        stw     [r4 + 4], r5
        addi    r3, r3, 1
        cmpi    r3, 256
        jlt     .Lfill
        lidt    r1, 256
        li      r2, kstack_top
        lksp    0, r2
        li      r1, page_table          ; identity map of 4 MiB
        li      r3, 0
.Lmap:
        shli    r4, r3, 12
        ori     r4, r4, 7
        shli    r5, r3, 2
        add     r5, r5, r1
        stw     [r5], r4
        addi    r3, r3, 1
        cmpi    r3, 1024
        jlt     .Lmap
        li      r2, page_directory
        ori     r4, r1, 7
        stw     [r2], r4
        movcr   cr3, r2
        li      r4, 3
        movcr   cr0, r4
${WRITER_PASSES}        li      r1, msg_pass
        call    puts
        mov     r1, r6
        call    puthex
        call    putnl
.Lnoprint:
        li      r9, PASSES
        cmp     r6, r9
        jlt     .Lpass
${WS_SUM}        li      r1, msg_sum
        call    puts
        mov     r1, r4
        call    puthex
        call    putnl
        li      r0, 0
        out     SYS_POWEROFF, r0
        hlt
        .endfunc

        .func on_trap
on_trap:
        li      r1, msg_trap
        call    puts
        ldw     r1, [sp]
        call    puthex
        call    putnl
        li      r0, 0x100
        out     SYS_POWEROFF, r0
        hlt
        .endfunc

        .func puts
puts:
        ldbu    r2, [r1]
        cmpi    r2, 0
        jeq     .Lputs_done
        outb    UART_DATA, r2
        addi    r1, r1, 1
        jmp     puts
.Lputs_done:
        ret
        .endfunc

        .func puthex
puthex:
        li      r3, 28
.Lhex:
        shr     r2, r1, r3
        andi    r2, r2, 15
        cmpi    r2, 10
        jlt     .Ldigit
        addi    r2, r2, 'a' - 10
        jmp     .Lout
.Ldigit:
        addi    r2, r2, '0'
.Lout:
        outb    UART_DATA, r2
        addi    r3, r3, -4
        cmpi    r3, 0
        jge     .Lhex
        ret
        .endfunc

        .func putnl
putnl:
        li      r2, '\\n'
        outb    UART_DATA, r2
        ret
        .endfunc
msg_pass: .asciz "pass "
msg_sum:  .asciz "sum "
msg_trap: .asciz "trap "
        .align 4096
idt:             .space 4096
page_directory:  .space 4096
page_table:      .space 4096
        .space 4096
kstack_top:
`;
  const image = assemble(src, 'migrate-guest.s').image;
  cache.set(key, image);
  return image;
}
