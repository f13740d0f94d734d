; Hand-written XL32 for the compiler benchmark's "fib" kernel: naive doubly recursive Fibonacci.
; fib takes n in r1 and returns fib(n) in r0, preserving every other register it touches.
; Powers off with fib(N) as the exit status.

N = 20

        .org 0x1000
        .func _start
_start: li      sp, 0x100000
        li      r1, N
        call    fib
        out     0x501, r0
        hlt
        .endfunc

        .func fib
fib:    cmpi    r1, 2
        jlt     .Lbase                  ; fib(0) = 0, fib(1) = 1
        push    r1
        push    r2
        addi    r1, r1, -1
        call    fib                     ; r0 = fib(n-1); r1 still n-1
        mov     r2, r0
        addi    r1, r1, -1
        call    fib                     ; r0 = fib(n-2)
        add     r0, r0, r2
        pop     r2
        pop     r1
        ret
.Lbase: mov     r0, r1
        ret
        .endfunc
