// Each privileged instruction of a trap-mode guest kernel traps (#GP at real ring 1) and is
// emulated on the virtual CPU: the guest sees what the bare machine would show it, and the
// hypervisor's counters show that it trapped.
import { describe, expect, it } from 'vitest';
import { runBtMode } from '../../hypervisor/bt/index.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { TrapMode, trapVcpu } from '../../hypervisor/trap/index.ts';
import type { Cpu } from '../../machine/cpu.ts';
import { Op } from '../../machine/isa.ts';
import { Machine } from '../../machine/machine.ts';
import { puthexOutput, tickHandler, PRINT_TICKS_AND_RETURN } from './fixtures/small-guest.ts';
import { both, guestImage, GUEST_MEMORY, runNative, runTrap } from './trap-harness.ts';

/** a timer-interrupt handler counting into `ticks`; arm_timer: a one-shot tick after r7 cycles */
const TICK_HANDLER = tickHandler('arm_timer', 'r7');

/** The body under binary translation (bt's kernel IRETs are all emulated: callouts) */
function runBt(body: string) {
  return runBtMode(guestImage(body), { memoryBytes: GUEST_MEMORY, maxCycles: 50_000_000 });
}

describe('trap mode: privileged instructions are emulated', () => {
  it('CLI and STI flip the virtual IF: a tick due while it is 0 is delivered right after STI', () => {
    const { native, trap } = both(`
test_main:
        li      r7, 500
        call    arm_timer
        cli
        li      r6, 0
.Lspin:
        addi    r6, r6, 1
        cmpi    r6, 2000
        jlt     .Lspin
        li      r1, ticks
        ldw     r1, [r1]
        call    puthex
        sti
        nop
        cli
${PRINT_TICKS_AND_RETURN}
${TICK_HANDLER}`);
    expect(native.output).toBe('0000000000000001\n');
    expect(trap.output).toBe(native.output);
    expect(trap.domain.stats.emulated[Op.CLI]).toBe(2);
    expect(trap.domain.stats.emulated[Op.STI]).toBe(1);
    expect(trap.domain.stats.injectedInterrupts).toBe(1);
    expect(trap.domain.stats.reflected[32]).toBe(1);
  });

  it('IN/OUT of every width go to the device model as I/O exits with the exact port, size and data', () => {
    const image = guestImage(`
test_main:
        li      r1, 0x12345678
        out     TIMER_PERIOD, r1
        in      r1, TIMER_PERIOD
        call    puthex
        li      r1, 0x12345678
        outb    TIMER_PERIOD, r1
        inb     r1, TIMER_PERIOD
        call    puthex
        li      r3, TIMER_PERIOD
        li      r4, 0xabcd
        outr    r3, r4
        inr     r1, r3
        call    puthex
        call    putnl
        li      r0, 0
        ret
`);
    const hv = new Hypervisor({ memoryBytes: GUEST_MEMORY + 8 * 1024 * 1024 });
    const dom = hv.createDomain(new TrapMode(), { name: 'io', memoryBytes: GUEST_MEMORY }, { image });
    const trace: string[] = [];
    const dm = dom.devices!;
    const handleIo = dm.handleIo.bind(dm);
    dm.handleIo = (exit) => {
      handleIo(exit);
      if (exit.port === 0x40) trace.push(`${exit.isWrite ? 'out' : 'in'} ${exit.port.toString(16)}/${exit.size} ${exit.data.toString(16)}`);
    };
    const res = hv.run({ maxCycles: 10_000_000 });
    expect(res.reason).toBe('all-stopped');
    expect(dom.consoleOutput()).toBe('12345678000000780000abcd\n');
    expect(dom.consoleOutput()).toBe(runNative(image).output);
    expect(trace).toEqual(['out 40/4 12345678', 'in 40/4 12345678', 'out 40/1 78', 'in 40/1 78', 'out 40/4 abcd', 'in 40/4 abcd']);
    // 6 timer-port accesses, 3 x 8 hex digits + a newline on the UART, the power-off write
    expect(dom.stats.ioByPort()).toEqual([
      { port: 0x40, reads: 3, writes: 3 },
      { port: 0x3f8, reads: 0, writes: 25 },
      { port: 0x501, reads: 0, writes: 1 },
    ]);
    expect(dom.stats.ioExits).toBe(32);
    expect(dom.stats.loopExits.io).toBe(32);
    expect([dom.stats.emulated[Op.OUT], dom.stats.emulated[Op.IN], dom.stats.emulated[Op.OUTB], dom.stats.emulated[Op.INB]]).toEqual([2, 1, 26, 1]) // OUTB: 25 UART bytes and the timer write;
    expect([dom.stats.emulated[Op.OUTR], dom.stats.emulated[Op.INR]]).toEqual([1, 1]);
  });

  it('control-register writes and reads see the virtual CR0/CR2/CR3/CR4; the real CR3 is the shadow root', () => {
    const body = `
test_main:
        li      r1, 0xdeadb000
        movcr   cr2, r1
        movfcr  r1, cr2
        call    puthex
        call    putsp
        call    paging_on
        movfcr  r1, cr3
        call    puthex
        call    putsp
        movfcr  r1, cr0
        call    puthex
        call    putsp
        li      r1, 1
        movcr   cr4, r1
        movfcr  r1, cr4
        call    puthex
        call    putnl
        li      r0, 0
        ret
`;
    const image = guestImage(body);
    const pd = image.symbols.find((s) => s.name === 'page_directory')!.addr;
    const native = runNative(image);
    const trap = runTrap(image);
    expect(native.output).toBe(`deadb000 ${puthexOutput(pd)} 00000003 00000001\n`);
    expect(trap.output).toBe(native.output);
    const t = trapVcpu(trap.domain.vcpus[0]!);
    expect([t.v.cr0, t.v.cr2, t.v.cr3, t.v.cr4]).toEqual([3, 0xdeadb000, pd, 1]);
    const real = trap.hypervisor.vcpuState(trap.domain.vcpus[0]!);
    expect(real.cr3).toBe(t.shadow.root);
    expect(real.cr3).not.toBe(pd);
    expect(real.cr0).toBe(3);
    expect(real.cr4).toBe(1); // the real TSD follows the guest's
    expect(trap.domain.stats.emulated[Op.MOVTOCR]).toBe(4);
    expect(trap.domain.stats.emulated[Op.MOVFROMCR]).toBe(4);
    expect(trap.domain.stats.shadowFlushes).toBe(2); // CR3 and CR0 writes
  });

  it('MOVCR to a control register that does not exist is #UD, as on the bare machine', () => {
    const { native, trap } = both(`
test_main:
        li      r1, 0
        .word   0x00001569              ; movcr cr5, r1 (the assembler refuses to spell it)
        li      r0, 0
        ret
`);
    expect(native.output).toMatch(/^trap 00000006 00000000 /);
    expect(trap.output).toBe(native.output);
    expect(trap.status).toBe(0x106);
    // and reading one (movfcr r1, cr5)
    const read = both(`
test_main:
        .word   ${(5 << 12) | (1 << 8) | Op.MOVFROMCR}
        li      r0, 0
        ret
`);
    expect(read.native.output).toMatch(/^trap 00000006 00000000 /);
    expect(read.trap.output).toBe(read.native.output);
    expect(read.trap.status).toBe(0x106);
  });

  it('LIDT moves the virtual IDT: INT n is delivered through the new table', () => {
    const { native, trap } = both(`
test_main:
        li      r1, idt2
        li      r2, h40
        stw     [r1 + 0x40*8], r2
        li      r2, GATE_KINT
        stw     [r1 + 0x40*8 + 4], r2
        lidt    r1, 0x41
        int     0x40
        li      r1, msg_back
        call    puts
        li      r0, 0
        ret
h40:
        li      r1, msg_h40
        call    puts
        addi    sp, sp, 8
        iret
msg_h40:  .asciz "through idt2\\n"
msg_back: .asciz "back\\n"
        .align 8
idt2:   .space 0x41*8
`);
    expect(native.output).toBe('through idt2\nback\n');
    expect(trap.output).toBe(native.output);
    expect(trapVcpu(trap.domain.vcpus[0]!).v.idtLimit).toBe(0x41);
    expect(trap.domain.stats.emulated[Op.LIDT]).toBe(2);
  });

  it('a fault while delivering a double fault stops the domain as a triple fault (nothing present in the new IDT)', () => {
    const { native, trap } = both(`
test_main:
        li      r1, idt2
        lidt    r1, 0x41
        int     0x41                    ; beyond the table: #GP, not present: #DF, not present: triple
        li      r0, 0
        ret
        .align 8
idt2:   .space 0x41*8
`);
    expect(native.result.reason).toBe('triple-fault');
    expect(trap.reason).toBe('triple-fault');
    expect(trap.detail).toMatch(/^triple fault at pc 0x[0-9a-f]{8}$/);
    expect(trap.hypervisor.domains).toHaveLength(1);
  });

  it('LKSP sets the virtual ring-0 stack that a system call from ring 3 switches to', () => {
    const { native, trap } = both(`
test_main:
        call    paging_on
        li      r1, 0x80
        li      r2, on_syscall
        li      r3, GATE_UTRAP
        call    set_gate
        li      r1, kstack2_top
        lksp    0, r1
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        int     0x80
on_syscall:
        mov     r1, sp                  ; the frame's base: kstack2_top - 24
        call    puthex
        call    putnl
        li      r0, 0
        out     SYS_POWEROFF, r0
        hlt
`);
    const top = guestImage('test_main:\n ret\n').symbols.find((s) => s.name === 'kstack2_top')!.addr;
    expect(native.output).toBe(`${puthexOutput(top - 24)}\n`);
    expect(trap.output).toBe(native.output);
    expect(trapVcpu(trap.domain.vcpus[0]!).v.ksp[0]).toBe(top);
  });

  it('in ring 3 (IOPL 0) every privileged and I/O instruction is #GP(0), as on the bare machine, and none is emulated', () => {
    const cases: [string, number][] = [
      ['in      r1, TIMER_PERIOD', Op.IN],
      ['inb     r1, TIMER_PERIOD', Op.INB],
      ['inr     r1, r3', Op.INR],
      ['out     TIMER_PERIOD, r1', Op.OUT],
      ['outb    UART_DATA, r1', Op.OUTB],
      ['outr    r3, r1', Op.OUTR],
      ['cli', Op.CLI],
      ['sti', Op.STI],
      ['hlt', Op.HLT],
      ['movcr   cr2, r1', Op.MOVTOCR],
      ['movfcr  r1, cr3', Op.MOVFROMCR],
      ['lidt    r1, 256', Op.LIDT],
      ['invlpg  r1', Op.INVLPG],
      ['lksp    0, r1', Op.LKSP],
    ];
    // the kernel's work (paging_on's MOVCRs, the report's OUTBs and OUT) is the same in every
    // case, so are the emulation counts: one instruction emulated in ring 3 would stand out
    let counts: number[] | null = null;
    for (const [insn, op] of cases) {
      const image = guestImage(`
test_main:
        call    paging_on
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        li      r1, 0x41
        li      r3, UART_DATA
        ${insn}
        li      r0, 0
        ret
`);
      const native = runNative(image).output;
      expect([insn, native]).toEqual([insn, expect.stringMatching(/^trap 0000000d 00000000 [0-9a-f]{8} 00000003 /)]);
      const trap = runTrap(image);
      expect([insn, trap.output]).toEqual([insn, native]);
      const emulated = Array.from(trap.domain.stats.emulated);
      counts ??= emulated;
      expect([insn, emulated]).toEqual([insn, counts]);
    }
  });

  it('LKSP takes rings 0 to 2; a ring past them, or negative, is #GP(0) as on the bare machine', () => {
    const lksp = (ring: number) => `
test_main:
        li      r1, kstack2_top
        .word   ${((ring & 0xffff) << 16) | (1 << 12) | Op.LKSP}      ; lksp ${ring}, r1
        li      r1, 0x600d
        call    puthex
        call    putnl
        li      r0, 0
        ret
`;
    for (const ring of [0, 1, 2]) {
      const { native, trap } = both(lksp(ring));
      expect([ring, native.output]).toEqual([ring, '0000600d\n']);
      expect([ring, trap.output]).toEqual([ring, native.output]);
    }
    for (const ring of [3, -1]) {
      const { native, trap } = both(lksp(ring));
      expect([ring, native.output]).toEqual([ring, expect.stringMatching(/^trap 0000000d 00000000 /)]);
      expect([ring, trap.output]).toEqual([ring, native.output]);
    }
  });

  it('an emulated instruction retires as one instruction: the count equals the bare machine\'s', () => {
    const { native, trap } = both(`
test_main:
        li      r3, 5
.Lloop: cli
        sti
        inb     r4, TIMER_PERIOD
        addi    r3, r3, -1
        cmpi    r3, 0
        jgt     .Lloop
        li      r0, 0
        ret
`);
    expect([trap.domain.stats.emulated[Op.CLI], trap.domain.stats.emulated[Op.INB]]).toEqual([5, 5]);
    expect(trap.instructions).toBe(native.result.instructions);
  });

  it('an emulated RDTSC past 2^32 cycles gives the high word, as the bare machine does', () => {
    const image = guestImage(`
test_main:
        li      r1, 1
        movcr   cr4, r1                 ; TSD: the kernel's RDTSC traps too
        rdtsc   r1, r2
        mov     r1, r2
        call    puthex
        call    putnl
        li      r0, 0
        ret
`);
    const start = 2 ** 32 + 1000;
    const machine = new Machine({ memoryBytes: GUEST_MEMORY });
    machine.loadImage(image);
    machine.cpu.cycles = start;
    machine.run({ maxCycles: 10_000_000 });
    expect(machine.consoleOutput()).toBe('00000001\n');
    const hv = new Hypervisor({ memoryBytes: 2 * GUEST_MEMORY });
    const d = hv.createDomain(new TrapMode(), { name: 'a', memoryBytes: GUEST_MEMORY }, { image });
    hv.cpu.cycles = start;
    expect(hv.run({ maxCycles: 10_000_000 }).reason).toBe('all-stopped');
    expect(d.consoleOutput()).toBe('00000001\n');
    expect(d.stats.emulated[Op.RDTSC]).toBe(1);
  });

  it('an emulated IRET whose frame crosses into a page it cannot read faults at the first word it cannot read', () => {
    const iret = (sp: number) => `
test_main:
        call    paging_on
        li      r1, page_table + 0x300 * 4
        li      r2, 0
        stw     [r1], r2                ; 0x00300000 not present
        li      r1, 0x00300000
        invlpg  r1
        li      r1, 0x00301008
        li      r2, kstack_top
        stw     [r1], r2                ; (a frame's sp word at 0x00301008: a stack a wrong IRET could use)
        li      sp, ${sp}
        iret
`;
    // the frame's first word the last of a present page: #PF at the second (CR2 0x00300000)
    const first = both(iret(0x002ffffc));
    expect(first.native.output).toMatch(/^trap 0000000e 00000000 [0-9a-f]{8} 00000000 [0-9a-f]{8} [0-9a-f]{8} 00300000\n$/);
    expect(first.trap.output).toBe(first.native.output);
    // bt: the IRET is a callout, and the emulator's read of the frame is the first: it faults there
    expect(runBt(iret(0x002ffffc)).output).toBe(first.native.output);
    // the frame's first two or three words on the present page: #PF at its first word past it. The
    // CPU reads the whole frame before its privilege check, so under trap this fault is the CPU's
    // own (reflected), taken before the emulator runs; under bt the emulator's read takes it
    for (const sp of [0x002ffff8, 0x002ffff4]) {
      const r = both(iret(sp));
      expect([sp, r.native.output]).toEqual([sp, expect.stringMatching(/^trap 0000000e 00000000 [0-9a-f]{8} 00000000 [0-9a-f]{8} [0-9a-f]{8} 00300000\n$/)]);
      expect([sp, r.trap.output]).toEqual([sp, r.native.output]);
      expect([sp, runBt(iret(sp)).output]).toEqual([sp, r.native.output]);
    }
    // its first word the last of the missing page, the rest on a present one: #PF at the first,
    // whose frame cannot be pushed on that stack either: a triple fault
    const second = both(iret(0x00300ffc));
    expect(second.native.result.reason).toBe('triple-fault');
    expect([second.trap.reason, second.trap.output]).toEqual(['triple-fault', '']);
    const secondBt = runBt(iret(0x00300ffc));
    expect([secondBt.reason, secondBt.output]).toEqual(['triple-fault', '']);
  });

  it('an IRET in ring 3 to a frame of a more privileged ring is #GP(0), as on the bare machine: ring 3 never reaches ring 0 or 1 this way', () => {
    for (const cs of [0, 1]) {
      const { native, trap } = both(`
test_main:
        call    paging_on
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        li      r1, ${cs}
        li      r2, 0x200
        li      r3, kernel_again
        push    r0                      ; sp
        push    r2                      ; flags
        push    r1                      ; cs
        push    r3                      ; pc
        iret
kernel_again:
        li      r1, 0xbad
        call    puthex
        li      r0, 0
        ret
`);
      expect([cs, native.output]).toEqual([cs, expect.stringMatching(/^trap 0000000d 00000000 /)]);
      expect([cs, trap.output]).toEqual([cs, native.output]);
    }
  });

  it('RDTSC with the guest CR4.TSD set faults in ring 3 and is emulated in the kernel', () => {
    const { native, trap } = both(`
test_main:
        call    paging_on
        li      r1, 1
        movcr   cr4, r1
        rdtsc   r1, r2
        li      r1, msg_ok
        call    puts
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        rdtsc   r1, r2
        li      r0, 0
        ret
msg_ok: .asciz "kernel rdtsc ok\\n"
`);
    expect(native.output).toMatch(/^kernel rdtsc ok\ntrap 0000000d 00000000 [0-9a-f]{8} 00000003 /);
    expect(trap.output).toBe(native.output);
    expect(trap.domain.stats.emulated[Op.RDTSC]).toBe(1);
  });
});

describe('trap mode: the emulated IRET at every ring, and what the emulator reads', () => {
  it('an IRET at virtual ring 0 to a kernel frame takes IOPL and IF from it, as the bare machine does', () => {
    // the frame: FLAGS with IOPL 3 and IF 0; a #UD after it shows the FLAGS the guest now has
    const body = `
test_main:
        li      r1, 0
        li      r2, 0x3000
        li      r3, after
        push    sp
        push    r2
        push    r1
        push    r3
        iret                            ; to cs 0: more privileged than the real ring 1, emulated
after:
        .word   0xff                    ; #UD: the frame shows FLAGS
`;
    const { native, trap } = both(body);
    expect(native.output).toMatch(/^trap 00000006 00000000 [0-9a-f]{8} 00000000 00003000 /);
    expect(trap.output).toBe(native.output);
    expect(trap.domain.stats.emulated[Op.IRET]).toBe(1);
    expect(runBt(body).output).toBe(native.output);
  });

  it('a kernel IRET to a cs that is no ring (4) is #GP(0), as on the bare machine', () => {
    const body = `
test_main:
        li      r1, 4
        li      r2, 0
        li      r3, after
        push    sp
        push    r2
        push    r1
        push    r3
        iret
after:
        li      r1, 0xbad
        call    puthex
        li      r0, 0
        ret
`;
    const { native, trap } = both(body);
    expect(native.output).toMatch(/^trap 0000000d 00000000 [0-9a-f]{8} 00000000 /);
    expect(trap.output).toBe(native.output);
    expect(runBt(body).output).toBe(native.output);
  });

  it('an IRET at virtual ring 1 keeps IOPL (only ring 0 changes it): CLI there is still #GP(0)', () => {
    // ring 3 enters ring 1 through a ring-1 gate; ring 1 returns to ring 1 with a frame whose
    // FLAGS say IOPL 3 (cs 1 is more privileged than the real ring 2: the IRET is emulated at
    // virtual CPL 1), then runs CLI: IOPL stayed 0, so #GP(0) with cs 1 and FLAGS 0 in its frame
    const body = `
test_main:
        call    paging_on
        li      r1, 0x81
        li      r2, ring1
        li      r3, 0x0f                ; present, DPL 3, to ring 1, interrupt gate
        call    set_gate
        li      r1, kstack2_top
        lksp    1, r1
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        int     0x81
ring1:
        addi    sp, sp, 8               ; vector and error: sp at the frame's pc
        li      r1, ring1_again
        stw     [sp], r1
        li      r1, 1
        stw     [sp + 4], r1
        li      r1, 0x3200              ; IOPL 3, IF
        stw     [sp + 8], r1
        iret
ring1_again:
        cli
        hlt
`;
    const { native, trap } = both(body);
    expect(native.output).toMatch(/^trap 0000000d 00000000 [0-9a-f]{8} 00000001 00000000 /);
    expect(trap.output).toBe(native.output);
    expect(trap.domain.stats.emulated[Op.IRET]).toBe(1);
    expect(trap.domain.stats.emulated[Op.CLI]).toBe(0);
    expect(runBt(body).output).toBe(native.output);
  });

  it('an emulated IRET to ring 0 leaves the monitor knowing ring 2 as ring 2: a later IRET to ring 2 runs there', () => {
    // an emulated IRET to a kernel frame, then the kernel's IRET to ring 2 (runs natively under
    // trap: cs 2 is not more privileged than the real ring 1); CLI in ring 2 is #GP(0), cs 2
    const body = `
test_main:
        li      r1, 0
        li      r2, 0
        li      r3, kernel
        push    sp
        push    r2
        push    r1
        push    r3
        iret
kernel:
        li      r1, 2
        li      r2, 0
        li      r3, ring2
        push    sp
        push    r2
        push    r1
        push    r3
        iret
ring2:
        cli
        hlt
`;
    const { native, trap } = both(body);
    expect(native.output).toMatch(/^trap 0000000d 00000000 [0-9a-f]{8} 00000002 00000000 /);
    expect(trap.output).toBe(native.output);
    expect(trap.domain.stats.emulated[Op.IRET]).toBe(1);
    expect(runBt(body).output).toBe(native.output);
  });

  it('bt emulates every kernel IRET, so ring 2 after ring 1 is ring 2 as on the bare machine; trap mode shows the documented difference', () => {
    // ring 3 -> ring 1 (a ring-1 gate) -> ring 0 (INT through a DPL-3 gate) -> IRET to ring 2,
    // where CLI is #GP(0): the frame's cs is the ring the CLI ran in
    const body = `
test_main:
        call    paging_on
        li      r1, 0x81
        li      r2, ring1
        li      r3, 0x0f                ; present, DPL 3, to ring 1
        call    set_gate
        li      r1, 0x82
        li      r2, ring0
        li      r3, GATE_UINT
        call    set_gate
        li      r1, kstack2_top
        lksp    1, r1
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        int     0x81
ring1:
        int     0x82
ring0:
        li      r1, 2
        li      r2, 0
        li      r3, ring2
        push    sp
        push    r2
        push    r1
        push    r3
        iret
ring2:
        cli
        hlt
`;
    const { native, trap } = both(body);
    expect(native.output).toMatch(/^trap 0000000d 00000000 [0-9a-f]{8} 00000002 00000000 /);
    expect(runBt(body).output).toBe(native.output);
    // trap: the IRET to ring 2 runs natively, unseen; the monitor still takes real ring 2 for
    // ring 1, the last middle ring it saw (docs/hypervisor.md, the critical instructions)
    expect(trap.output).toBe(native.output.replace(/^(trap \S+ \S+ \S+ )00000002/, '$100000001'));
  });

  it('a ring-3 IRET whose frame is on a supervisor-only page takes #PF reading the frame, as on the bare machine', () => {
    const body = `
test_main:
        call    paging_on
        li      r1, page_table + 0x300 * 4
        li      r2, 0x00300000 | PTE_P | PTE_W
        stw     [r1], r2                ; 0x00300000 supervisor-only
        li      r1, 0x00300000
        invlpg  r1
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        li      sp, 0x00300100
        iret
`;
    const { native, trap } = both(body);
    // error 5: present, user; CR2 the frame's first word
    expect(native.output).toMatch(/^trap 0000000e 00000005 [0-9a-f]{8} 00000003 00000200 00300100 00300100\n$/);
    expect(trap.output).toBe(native.output);
  });

  it('a ring-3 IRET whose stack page the program made supervisor-only without INVLPG reads the frame as the CPU did', () => {
    // ring 3 pushes a frame to ring 0, clears U in its stack page's entry (the harness maps the
    // tables user-writable) and IRETs. The bare machine's TLB still maps the page for ring 3: it
    // reads the frame and refuses the ring (#GP(0)). Under trap the CPU read it through the
    // shadow, which is that TLB: the emulator must read it the same way (a fresh walk of the
    // guest's tables gave #PF)
    const body = `
test_main:
        call    paging_on
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        li      r1, 0
        li      r2, 0xbad
        push    r1
        push    r1
        push    r1
        push    r2
        mov     r3, sp
        shri    r3, r3, 12
        shli    r3, r3, 2
        li      r1, page_table
        add     r1, r1, r3
        ldw     r2, [r1]
        andi    r2, r2, ~PTE_U
        stw     [r1], r2
        iret
`;
    const { native, trap } = both(body);
    expect(native.output).toMatch(/^trap 0000000d 00000000 [0-9a-f]{8} 00000003 00000200 [0-9a-f]{8} 00000000\n$/);
    expect(trap.output).toBe(native.output);
    expect(runBt(body).output).toBe(native.output);
  });

  it('an IRET frame on a page mapped beyond the domain\'s memory: the bare machine reads open bus, trap and bt crash the domain', () => {
    // the frame's first word on a present page, the rest on a page whose entry names 0x00400000,
    // past the domain's 4 MiB
    const body = `
test_main:
        call    paging_on
        li      r1, page_table + 0x300 * 4
        li      r2, 0x00400000 | PTE_P | PTE_W
        stw     [r1], r2
        li      r1, 0x00300000
        invlpg  r1
        li      r1, 0x002ffffc
        li      r2, 0x1234
        stw     [r1], r2
        li      sp, 0x002ffffc
        iret
`;
    const { native, trap } = both(body);
    // all ones: cs 0xffffffff is no ring, #GP(0)
    expect(native.output).toMatch(/^trap 0000000d 00000000 [0-9a-f]{8} 00000000 /);
    const pc = native.output.split(' ')[3];
    const crashed = `guest-physical address 0x00400000 lies outside the domain's memory (1024 frames) at pc 0x${pc}`;
    // trap: the CPU's own read of the frame is a shadow fault there; bt: the emulated IRET's read
    expect([trap.reason, trap.detail, trap.output]).toEqual(['crashed', crashed, '']);
    const bt = runBt(body);
    expect([bt.reason, bt.detail, bt.output]).toEqual(['crashed', crashed, '']);
  });

  for (const [what, pte] of [
    ['cleared', '0'],
    ['pointed at another frame', '0x00300000 | PTE_P | PTE_W'],
  ] as const) {
    it(`a kernel whose code page's entry it ${what} without INVLPG goes on there, CLI included, as on the bare machine`, () => {
      // the TLB (the shadow) still maps the page: the CPU fetches the CLI from it, and the
      // emulator decodes the word the CPU fetched, not the guest's tables as they are now
      const body = `
test_main:
        call    paging_on
        li      r1, here
        shri    r1, r1, 12
        shli    r1, r1, 2
        li      r2, page_table
        add     r1, r1, r2
        li      r2, ${pte}
        stw     [r1], r2
here:
        cli
        sti
        li      r1, 0x600d
        call    puthex
        call    putnl
        li      r0, 0
        ret
`;
      const { native, trap } = both(body);
      expect(native.output).toBe('0000600d\n');
      expect([trap.reason, trap.output]).toEqual(['poweroff', native.output]);
      expect([trap.domain.stats.emulated[Op.CLI], trap.domain.stats.emulated[Op.STI]]).toEqual([1, 1]);
      const bt = runBt(body);
      expect([bt.reason, bt.output]).toEqual(['poweroff', native.output]);
    });
  }
});

describe('trap mode: an emulated instruction ends a block where the bare machine ends one', () => {
  // [instruction, its opcode, does it end a block (machine/cpu.ts)]: IN and MOVCR do not, OUT and STI do
  const cases: [string, number, boolean][] = [
    ['inb     r4, PIC_MASK', Op.INB, false],
    ['movcr   cr2, r4', Op.MOVTOCR, false],
    ['out     PIC_MASK, r4', Op.OUT, true],
    ['sti', Op.STI, true],
  ];
  for (const [insn, op, ends] of cases) {
    it(`an interrupt raised at the instruction count just after an emulated ${insn.split(' ')[0]} is taken where the bare machine takes it`, () => {
      // the harness raises line 1 once the instruction count reaches the instruction's (the
      // instruction-count hook, at the first block boundary from there: after the instruction if
      // it ends a block, else after the JMP); the handler records r6 and the interrupted pc
      const image = guestImage(`
test_main:
        li      r1, 33
        li      r2, on_irq
        li      r3, GATE_KINT
        call    set_gate
        li      r1, 32
        outb    PIC_BASE, r1
        li      r4, 0xfffd              ; line 1 unmasked (also the value OUT writes again)
        out     PIC_MASK, r4
        sti
mark:
        li      r6, 0
        ${insn}
after:
        addi    r6, r6, 1
        addi    r6, r6, 1
        jmp     next
next:
        cli
        li      r1, seen
        ldw     r1, [r1]
        call    puthex
        call    putsp
        li      r1, seen + 4
        ldw     r1, [r1]
        call    puthex
        call    putnl
        li      r0, 0
        ret
on_irq:
        li      r1, seen
        stw     [r1], r6
        ldw     r2, [sp + 8]
        stw     [r1 + 4], r2
        li      r1, PIC_EOI
        outb    PIC_CMD, r1
        addi    sp, sp, 8
        iret
        .align 4
seen:   .word 0, 0
`);
      const sym = (name: string) => image.symbols.find((x) => x.name === name)!.addr;
      // the count at the boundary STI ends (pc at mark), from a bare-machine run stopping at every boundary
      const probe = new Machine({ memoryBytes: GUEST_MEMORY });
      probe.loadImage(image);
      let atMark = -1;
      probe.cpu.instructionHookAt = 1;
      probe.cpu.instructionHook = () => {
        if (probe.cpu.pc === sym('mark') && atMark < 0) atMark = probe.cpu.instructions;
        probe.cpu.instructionHookAt = probe.cpu.instructions + 1;
      };
      probe.run({ maxCycles: 10_000_000 });
      expect(atMark).toBeGreaterThan(0);
      const arm = (cpu: Cpu, raise: () => void): void => {
        cpu.instructionHookAt = atMark + 2; // LI and the instruction retired
        cpu.instructionHook = () => {
          raise();
          cpu.shortenDeadline(cpu.cycles);
        };
      };
      const m = new Machine({ memoryBytes: GUEST_MEMORY });
      m.loadImage(image);
      arm(m.cpu, () => m.pic.raise(1));
      m.run({ maxCycles: 10_000_000 });
      expect(m.consoleOutput()).toBe(ends ? `00000000 ${puthexOutput(sym('after'))}\n` : `00000002 ${puthexOutput(sym('next'))}\n`);
      const hv = new Hypervisor({ memoryBytes: GUEST_MEMORY + 8 * 1024 * 1024 });
      const d = hv.createDomain(new TrapMode(), { name: 'irq', memoryBytes: GUEST_MEMORY }, { image });
      arm(hv.cpu, () => d.devices!.pic.raise(1));
      expect(hv.run({ maxCycles: 10_000_000 }).reason).toBe('all-stopped');
      expect(d.consoleOutput()).toBe(m.consoleOutput());
      expect(d.stats.emulated[op]).toBeGreaterThan(0);
    });
  }
});
