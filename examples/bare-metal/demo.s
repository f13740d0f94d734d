; Bare-metal demo for XL32: no kernel, no hypervisor, just the hardware.
; Sets up an IDT and identity-mapped paging, programs the interrupt controller and the timer,
; drops to ring 3, and lets a user program print through system calls while timer interrupts
; tick underneath it. Run:  xenolith asm demo.s -o demo.img && xenolith run demo.img --mode native

        .arch bare

        UART_DATA   = 0x3f8
        UART_LSR    = 0x3fd
        PIC_CMD     = 0x20
        PIC_MASK    = 0x21
        PIC_BASE    = 0x22
        PIC_EOI     = 0x20
        TIMER_PERIOD  = 0x40
        TIMER_CONTROL = 0x41
        SYS_POWEROFF  = 0x501

        GATE_KERNEL_INT  = 0x01          ; present, DPL 0, ring 0, interrupt gate
        GATE_USER_TRAP   = 0x27          ; present, DPL 3, ring 0, trap gate
        PTE_KERNEL       = 0x03          ; present, writable
        PTE_USER         = 0x07          ; present, writable, user

        SYS_EXIT   = 0
        SYS_WRITE  = 1
        SYS_TICKS  = 2

        TICK_CYCLES = 100000

        .org 0x1000
        .func _start
_start:
        li      sp, kstack_top

        ; --- the interrupt descriptor table -------------------------------------------------
        li      r1, idt
        li      r2, fault_entry                 ; every exception 0..31 goes to fault_entry
        li      r3, 0
.Lfill:
        shli    r4, r3, 3
        add     r4, r4, r1
        stw     [r4], r2
        li      r5, GATE_KERNEL_INT
        stw     [r4 + 4], r5
        addi    r3, r3, 1
        cmpi    r3, 32
        jlt     .Lfill
        li      r2, timer_entry                 ; vector 32: the timer's line 0
        stw     [r1 + 32*8], r2
        li      r5, GATE_KERNEL_INT
        stw     [r1 + 32*8 + 4], r5
        li      r2, syscall_entry               ; vector 0x80: callable from ring 3
        stw     [r1 + 0x80*8], r2
        li      r5, GATE_USER_TRAP
        stw     [r1 + 0x80*8 + 4], r5
        lidt    r1, 256
        li      r2, kstack_top
        lksp    0, r2                           ; the stack ring 3 -> ring 0 transitions use

        ; --- paging: identity-map the first 4 MiB; only the user area is reachable from ring 3
        li      r1, page_table
        li      r3, 0                           ; page number
.Lmap:
        shli    r4, r3, 12
        li      r6, user_area_start
        li      r7, user_area_end
        cmp     r4, r6
        jb      .Lkernel_page
        cmp     r4, r7
        jae     .Lkernel_page
        ori     r4, r4, PTE_USER
        jmp     .Lstore_pte
.Lkernel_page:
        ori     r4, r4, PTE_KERNEL
.Lstore_pte:
        shli    r5, r3, 2
        add     r5, r5, r1
        stw     [r5], r4
        addi    r3, r3, 1
        cmpi    r3, 1024
        jlt     .Lmap
        li      r2, page_directory
        ori     r4, r1, PTE_USER                ; PDE 0 -> the page table (user bit: PTEs decide)
        stw     [r2], r4
        movcr   cr3, r2
        li      r4, 3                           ; PG | WP
        movcr   cr0, r4

        li      r1, msg_boot
        call    kputs

        ; --- interrupt controller and timer -------------------------------------------------
        li      r1, 32
        outb    PIC_BASE, r1
        li      r1, 0xfffe                      ; unmask line 0 only
        out     PIC_MASK, r1
        li      r1, TICK_CYCLES
        out     TIMER_PERIOD, r1
        li      r1, 3                           ; enable | periodic
        out     TIMER_CONTROL, r1

        ; --- drop to ring 3 with interrupts on: build an IRET frame and return into it --------
        li      r1, user_stack_top
        push    r1                              ; sp
        li      r1, 0x200                       ; FLAGS: IF
        push    r1
        li      r1, 3                           ; cs: ring 3
        push    r1
        li      r1, user_main
        push    r1                              ; pc
        iret
        .endfunc

; kputs(r1 = NUL-terminated string): polls the UART; clobbers r1, r2, r3
        .func kputs
kputs:
.Lnext:
        ldbu    r2, [r1]
        cmpi    r2, 0
        jeq     .Ldone
.Lwait:
        inb     r3, UART_LSR
        andi    r3, r3, 0x20
        cmpi    r3, 0
        jeq     .Lwait
        outb    UART_DATA, r2
        addi    r1, r1, 1
        jmp     .Lnext
.Ldone:
        ret
        .endfunc

; --- timer interrupt: count, acknowledge, return --------------------------------------------
        .func timer_entry
timer_entry:
        push    r1
        push    r2
        li      r1, ticks
        ldw     r2, [r1]
        addi    r2, r2, 1
        stw     [r1], r2
        li      r1, PIC_EOI
        outb    PIC_CMD, r1
        pop     r2
        pop     r1
        addi    sp, sp, 8                       ; drop vector and error code
        iret
        .endfunc

; --- system calls: r0 = number, r1.. = arguments, r0 = result ---------------------------------
        .func syscall_entry
syscall_entry:
        push    r1
        push    r2
        push    r3
        push    r4
        cmpi    r0, SYS_WRITE
        jeq     .Lsys_write
        cmpi    r0, SYS_TICKS
        jeq     .Lsys_ticks
        cmpi    r0, SYS_EXIT
        jeq     .Lsys_exit
        li      r0, -1
        jmp     .Lsys_ret
.Lsys_write:                                    ; write(r1 = buffer, r2 = length)
        mov     r4, r2
.Lw_loop:
        cmpi    r2, 0
        jeq     .Lw_done
        ldbu    r3, [r1]
        outb    UART_DATA, r3
        addi    r1, r1, 1
        addi    r2, r2, -1
        jmp     .Lw_loop
.Lw_done:
        mov     r0, r4
        jmp     .Lsys_ret
.Lsys_ticks:
        li      r1, ticks
        ldw     r0, [r1]
        jmp     .Lsys_ret
.Lsys_exit:                                     ; exit(r1 = status): power off with it
        mov     r4, r1
        li      r1, msg_exit
        call    kputs
        outb    SYS_POWEROFF, r4
        hlt
.Lsys_ret:
        pop     r4
        pop     r3
        pop     r2
        pop     r1
        addi    sp, sp, 8
        iret
        .endfunc

; --- any exception: report the vector and stop -----------------------------------------------
        .func fault_entry
fault_entry:
        li      r1, msg_fault
        call    kputs
        ldw     r2, [sp]                        ; vector, printed in decimal
        li      r3, 10
        divu    r4, r2, r3
        addi    r4, r4, '0'
        outb    UART_DATA, r4
        remu    r4, r2, r3
        addi    r4, r4, '0'
        outb    UART_DATA, r4
        li      r2, '\n'
        outb    UART_DATA, r2
        li      r1, 99
        outb    SYS_POWEROFF, r1
        hlt
        .endfunc

msg_boot:   .asciz "XL32 bare-metal demo: IDT loaded, paging on, entering ring 3\n"
msg_exit:   .asciz "[kernel] user program exited, powering off\n"
msg_fault:  .asciz "[kernel] unexpected exception, vector "
        .align 4
ticks:      .word 0

        .align 4096
idt:        .space 256*8
        .align 4096
page_directory: .space 4096
page_table:     .space 4096
kstack:     .space 4096
kstack_top:

; --- ring 3: the only pages with the user bit ------------------------------------------------
        .align 4096
user_area_start:
        .func user_main
user_main:
        li      r0, SYS_WRITE
        li      r1, msg_hello
        li      r2, msg_hello_end - msg_hello
        int     0x80
        rdcpl   r5                              ; which ring are we in? print it as a digit
        addi    r5, r5, '0'
        li      r1, cpl_digit
        stb     [r1], r5
        li      r0, SYS_WRITE
        li      r1, msg_cpl
        li      r2, msg_cpl_end - msg_cpl
        int     0x80
        li      r0, SYS_TICKS
        int     0x80
        mov     r6, r0                          ; the tick count last seen
        li      r8, 0                           ; ticks observed so far
.Lwait_tick:
        li      r0, SYS_TICKS
        int     0x80
        cmp     r0, r6
        jeq     .Lwait_tick                     ; spin in ring 3; the timer interrupts us
        mov     r6, r0
        addi    r8, r8, 1
        addi    r5, r8, '0'
        li      r1, tick_digit
        stb     [r1], r5
        li      r0, SYS_WRITE
        li      r1, msg_tick
        li      r2, msg_tick_end - msg_tick
        int     0x80
        cmpi    r8, 3
        jlt     .Lwait_tick
        li      r0, SYS_EXIT
        li      r1, 7
        int     0x80
        .endfunc

msg_hello:  .ascii "[user] hello from ring 3 through a system call\n"
msg_hello_end:
msg_cpl:    .ascii "[user] rdcpl says ring "
cpl_digit:  .ascii "?\n"
msg_cpl_end:
msg_tick:   .ascii "[user] timer tick "
tick_digit: .ascii "?\n"
msg_tick_end:
        .align 4096
user_stack: .space 4096
user_stack_top:
user_area_end:
