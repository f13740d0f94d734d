// The pv guest `bench migrate --mode pv` moves: the memory-writing loop of bench/migrate-guest.ts
// run in ring 3 of a pv domain, so the domain reaches a quiet point (user mode) whenever the
// migration's stop-and-copy asks. Its ring-1 kernel is a few dozen instructions: it reads the
// physical-to-machine list from start_info, gives the image's pages, a user stack and the working
// set user rights (mmu_update on the bootstrap tables, one entry each), registers INT 0x80 as a
// DPL-3 fast trap (no hypervisor entry: a system call stays in the guest), sets its ring-1 stack and
// IRETs to ring 3. The user loop prints through INT 0x80 (console_io WRITE) and powers off through
// it (a length of 0: sched_op SHUTDOWN). It sets no timer and never unmasks events: its run does not
// depend on time, so a migrated run retires exactly the instructions of an uninterrupted one.
// Assembled with toolchain/asm; pv domains only (not the standard guest kernel).

import { assemble } from '../toolchain/asm/index.ts';
import type { Image } from '../machine/image.ts';
import { ConsoleCmd, Hc, SchedOp, ShutdownReason, TrapFlags } from '../hypercalls/numbers.ts';
import { StartInfo } from '../hypercalls/structs.ts';
import { WRITER_PASSES, WS_SUM, type MigrateGuestShape } from './migrate-guest.ts';

const cache = new Map<string, Image>();

export function migratePvGuest(shape: MigrateGuestShape): Image {
  const key = `${shape.pages}/${shape.passes}/${shape.printEvery}`;
  const had = cache.get(key);
  if (had) return had;
  if (!(Number.isInteger(shape.pages) && shape.pages >= 1 && shape.pages <= 512)) throw new Error(`migrate pv guest: pages must be 1 to 512 (got ${shape.pages})`);
  const src = `
        .arch pv
        WS_BASE = 0x00200000
        WS_PAGES = ${shape.pages}
        PASSES = ${shape.passes}
        PRINT_EVERY = ${shape.printEvery}
        PTE_U = 4

        .org 0x100000
        .func _start
_start:
        ldw     r11, [r1 + ${StartInfo.MFN_LIST}]       ; the p2m list (virtual = pseudo-physical)
        ldw     r12, [r1 + ${StartInfo.PT_FIRST_PFN}]   ; the bootstrap directory's pfn
        ; the directory's first entry (4 MiB from 0) gets user rights
        shli    r1, r12, 12
        li      r2, 0
        call    set_user
        li      r13, _start                 ; the image's pages, then the user stack, then the working set
.Limage:
        mov     r1, r13
        call    map_user
        li      r4, 4096
        add     r13, r13, r4
        li      r4, image_end
        cmp     r13, r4
        jlt     .Limage
        li      r13, WS_BASE
        li      r9, WS_PAGES
.Lws:
        mov     r1, r13
        call    map_user
        li      r4, 4096
        add     r13, r13, r4
        addi    r9, r9, -1
        cmpi    r9, 0
        jgt     .Lws
        li      r0, ${Hc.SET_TRAP_TABLE}
        li      r1, trap_table
        hypercall
        cmpi    r0, 0
        jne     fail
        li      r0, ${Hc.STACK_SWITCH}
        li      r1, kstack_top
        hypercall
        cmpi    r0, 0
        jne     fail
        ; to ring 3: pc, cs, flags, sp
        li      sp, kstack_top
        addi    sp, sp, -16
        li      r4, user_main
        stw     [sp], r4
        li      r4, 3
        stw     [sp + 4], r4
        li      r4, 0x200
        stw     [sp + 8], r4
        li      r4, ustack_top
        stw     [sp + 12], r4
        iret
        .endfunc

        ; map_user(r1 = va): the bootstrap table's entry for va gets user rights
        .func map_user
map_user:
        shri    r2, r1, 22
        add     r2, r2, r12
        addi    r2, r2, 1                   ; the table's pfn
        shri    r3, r1, 12
        andi    r3, r3, 1023
        shli    r3, r3, 2
        shli    r1, r2, 12
        mov     r2, r3
        jmp     set_user
        .endfunc

        ; set_user(r1 = the table's pfn << 12, r2 = the entry's byte offset): OR in PTE_U by mmu_update
        .func set_user
set_user:
        add     r4, r1, r2
        ldw     r5, [r4]                    ; the entry now (the tables are mapped read-only)
        ori     r5, r5, PTE_U
        shri    r3, r1, 12
        shli    r3, r3, 2
        add     r3, r3, r11
        ldw     r3, [r3]                    ; the table's machine frame
        shli    r3, r3, 12
        add     r3, r3, r2                  ; the entry's machine address (NORMAL_PT_UPDATE)
        li      r4, mmu_req
        stw     [r4], r3
        stw     [r4 + 4], r5
        li      r0, ${Hc.MMU_UPDATE}
        mov     r1, r4
        li      r2, 1
        li      r3, mmu_done
        hypercall
        cmpi    r0, 0
        jne     fail
        ret
        .endfunc

        .func fail
fail:
        li      r0, ${Hc.SCHED_OP}
        li      r1, ${SchedOp.SHUTDOWN}
        li      r2, ${ShutdownReason.CRASH}
        li      r3, 0x100
        hypercall
        hlt
        .endfunc

        ; INT 0x80 from ring 3: r1 = buffer, r2 = length (0: power off with 0)
        .func sys_entry
sys_entry:
        cmpi    r2, 0
        jeq     .Loff
        push    r1
        push    r2
        push    r3
        mov     r3, r1
        li      r0, ${Hc.CONSOLE_IO}
        li      r1, ${ConsoleCmd.WRITE}
        hypercall
        pop     r3
        pop     r2
        pop     r1
        addi    sp, sp, 8
        iret
.Loff:
        li      r0, ${Hc.SCHED_OP}
        li      r1, ${SchedOp.SHUTDOWN}
        li      r2, ${ShutdownReason.POWEROFF}
        li      r3, 0
        hypercall
        hlt
        .endfunc

        ; ring 3 from here on
        .func user_main
user_main:
${WRITER_PASSES}        li      r1, msg_pass
        mov     r2, r6
        call    print_hex
.Lnoprint:
        li      r9, PASSES
        cmp     r6, r9
        jlt     .Lpass
${WS_SUM}        li      r1, msg_sum
        mov     r2, r4
        call    print_hex
        li      r2, 0
        int     0x80
        jmp     user_main
        .endfunc

        ; print_hex(r1 = a 5-byte label, r2 = value): "label" + 8 hex digits + newline, one INT 0x80
        .func print_hex
print_hex:
        li      r5, line
        li      r3, 0
.Llabel:
        add     r4, r1, r3
        ldbu    r4, [r4]
        add     r0, r5, r3
        stb     [r0], r4
        addi    r3, r3, 1
        cmpi    r3, 5
        jlt     .Llabel
        li      r3, 28
        addi    r5, r5, 5
.Lhex:
        shr     r4, r2, r3
        andi    r4, r4, 15
        cmpi    r4, 10
        jlt     .Ldigit
        addi    r4, r4, 'a' - 10
        jmp     .Lout
.Ldigit:
        addi    r4, r4, '0'
.Lout:
        stb     [r5], r4
        addi    r5, r5, 1
        addi    r3, r3, -4
        cmpi    r3, 0
        jge     .Lhex
        li      r4, '\\n'
        stb     [r5], r4
        li      r1, line
        li      r2, 14
        int     0x80
        ret
        .endfunc
msg_pass: .asciz "pass "
msg_sum:  .asciz "sum  "
        .align 4
line:     .space 16
mmu_req:  .space 8
mmu_done: .space 4
trap_table:
        .word 0x80, ${3 & TrapFlags.DPL_MASK}, 1, sys_entry
        .word 0, 0, 0, 0
        .align 4096
        .space 4096
kstack_top:
        .space 4096
ustack_top:
image_end:
`;
  const image = assemble(src, 'migrate-pv-guest.s').image;
  cache.set(key, image);
  return image;
}
