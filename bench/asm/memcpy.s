; Hand-written XL32 for the compiler benchmark's "memcpy" kernel: fill a source buffer with a
; word pattern, copy it REPEAT times (words, then the tail bytes), and checksum the copy.
; Powers off with the checksum (wrapping sum of the destination's words) as the exit status.

BYTES = 8195                            ; not a multiple of 4: the byte tail runs too
WORDS = (BYTES + 3) / 4
REPEAT = 8

        .org 0x1000
        .func _start
_start: li      sp, 0x100000
        ; fill: src word k = k * 0x9e3779b1
        li      r1, src
        li      r2, 0                   ; k
        li      r3, 0x9e3779b1
.Lfill: mul     r4, r2, r3
        stw     [r1], r4
        addi    r1, r1, 4
        addi    r2, r2, 1
        cmpi    r2, WORDS
        jlt     .Lfill
        ; copy REPEAT times
        li      r6, REPEAT
.Lagain: li     r1, dst
        li      r2, src
        li      r3, BYTES
        call    memcpy
        addi    r6, r6, -1
        cmpi    r6, 0
        jgt     .Lagain
        ; checksum the destination's words
        li      r1, dst
        li      r2, dst + WORDS * 4
        li      r0, 0
.Lsum:  ldw     r4, [r1]
        add     r0, r0, r4
        addi    r1, r1, 4
        cmp     r1, r2
        jb      .Lsum
        out     0x501, r0
        hlt
        .endfunc

; copy r3 bytes from r2 to r1: whole words first, then the remaining bytes; clobbers r1..r5
        .func memcpy
memcpy: andi    r4, r3, -4
        add     r4, r4, r2              ; r4 = end of the whole words in src
        add     r3, r3, r2              ; r3 = end of src
        cmp     r2, r4
        jae     .Lbytes
.Lword: ldw     r5, [r2]
        stw     [r1], r5
        addi    r2, r2, 4
        addi    r1, r1, 4
        cmp     r2, r4
        jb      .Lword
.Lbytes: cmp    r2, r3
        jae     .Ldone
.Lbyte: ldbu    r5, [r2]
        stb     [r1], r5
        addi    r2, r2, 1
        addi    r1, r1, 1
        cmp     r2, r3
        jb      .Lbyte
.Ldone: ret
        .endfunc

        .align 4
src:    .space  WORDS * 4
dst:    .space  WORDS * 4
