; Hand-written XL32 for the compiler benchmark's "sum" kernel: the wrapping sum 0 + 1 + ... + (n-1).
; Register use: arguments in r1.., result in r0, as the guest version's signature reads.
; Powers off with the sum as the exit status.

N = 10000

        .org 0x1000
        .func _start
_start: li      sp, 0x100000
        li      r1, N
        call    sum
        out     0x501, r0
        hlt
        .endfunc

; r0 = sum of i for 0 <= i < r1
        .func sum
sum:    li      r0, 0
        li      r2, 0                   ; i
        cmpi    r1, 0
        jle     .Ldone
.Lloop: add     r0, r0, r2
        addi    r2, r2, 1
        cmp     r2, r1
        jlt     .Lloop
.Ldone: ret
        .endfunc
