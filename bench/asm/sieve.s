; Hand-written XL32 for the compiler benchmark's "sieve" kernel: the sieve of Eratosthenes over a
; zeroed byte array, counting the primes below N. Powers off with the count as the exit status.

N = 8192

        .org 0x1000
        .func _start
_start: li      sp, 0x100000
        li      r1, flags
        li      r2, N
        call    sieve
        out     0x501, r0
        hlt
        .endfunc

; r0 = number of primes below r2, marking composites in the byte array at r1 (zeroed, r2 bytes)
        .func sieve
sieve:  li      r0, 0                   ; count
        li      r3, 2                   ; i
        li      r6, 1                   ; the mark
        add     r7, r1, r2              ; end of the array
        cmp     r3, r2
        jge     .Ldone
.Louter: add    r4, r1, r3
        ldbu    r5, [r4]
        cmpi    r5, 0
        jne     .Lnext                  ; i is composite
        addi    r0, r0, 1
        mul     r4, r3, r3              ; strike out i*i, i*i + i, ... (by pointer)
        cmp     r4, r2
        jge     .Lnext
        add     r4, r4, r1
.Lmark: stb     [r4], r6
        add     r4, r4, r3
        cmp     r4, r7
        jb      .Lmark
.Lnext: addi    r3, r3, 1
        cmp     r3, r2
        jlt     .Louter
.Ldone: ret
        .endfunc

        .align 4
flags:  .space  N
