// Guest exceptions, system calls and interrupts are intercepted by trap mode and reflected into
// the guest's own IDT with the frame the bare machine would have pushed (cs = the virtual CPL):
// the prelude's handler prints the frame (vector, error, pc, cs, flags, sp) and CR2, so each
// test compares the two machines line for line.
import { describe, expect, it } from 'vitest';
import { both } from './trap-harness.ts';

/** the frame line the prelude's reporting handler prints */
const FRAME = /^trap ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8})\n$/;

function frameOf(output: string): { vector: number; error: number; pc: number; cs: number; flags: number; sp: number; cr2: number } {
  const m = FRAME.exec(output);
  if (!m) throw new Error(`no frame line in ${JSON.stringify(output)}`);
  const [vector, error, pc, cs, flags, sp, cr2] = m.slice(1).map((h) => parseInt(h, 16)) as [number, number, number, number, number, number, number];
  return { vector, error, pc, cs, flags, sp, cr2 };
}

/** Enter ring 3 at `user` (with the system-call gate installed if dpl is given). */
function userBody(user: string, syscallGate = ''): string {
  return `
test_main:
        call    paging_on
        ${syscallGate}
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
${user}
`;
}

describe('trap mode: faults and interrupts are reflected into the guest IDT', () => {
  it('#DE in the kernel: vector 0, pc of the DIV, cs 0', () => {
    const { native, trap } = both(`
test_main:
        li      r1, 5
        li      r2, 0
fault_here:
        div     r3, r1, r2
        li      r0, 0
        ret
`);
    expect(trap.output).toBe(native.output);
    const f = frameOf(trap.output);
    expect([f.vector, f.error, f.cs]).toEqual([0, 0, 0]);
    expect(trap.status).toBe(0x100);
    expect(trap.domain.stats.traps[0]).toBe(1);
    expect(trap.domain.stats.reflected[0]).toBe(1);
  });

  it('#UD for an undefined opcode, and for HYPERCALL (no hypervisor claims it in trap mode)', () => {
    for (const insn of ['.word 0', 'hypercall']) {
      const { native, trap } = both(`
test_main:
        ${insn}
        li      r0, 0
        ret
`);
      expect(trap.output).toBe(native.output);
      expect(frameOf(trap.output).vector).toBe(6);
    }
  });

  it('#BP from BRK saves the next pc (a trap, not a fault)', () => {
    const { native, trap } = both(`
test_main:
        brk
        li      r0, 0
        ret
`);
    expect(trap.output).toBe(native.output);
    const f = frameOf(trap.output);
    expect(f.vector).toBe(3);
  });

  it('#GP from ring 3 (a user CLI): error 0, cs 3, IF 1 in the frame, on the LKSP stack', () => {
    const { native, trap } = both(userBody('        cli'));
    expect(trap.output).toBe(native.output);
    const f = frameOf(trap.output);
    expect([f.vector, f.error, f.cs, f.flags & 0x200]).toEqual([13, 0, 3, 0x200]);
  });

  it('#PF true fault from ring 3: CR2 is the address, error = user|read|not present', () => {
    const { native, trap } = both(userBody(`
        li      r1, 0x00800000
        ldw     r1, [r1]`));
    expect(trap.output).toBe(native.output);
    const f = frameOf(trap.output);
    expect([f.vector, f.error, f.cs, f.cr2]).toEqual([14, 4, 3, 0x00800000]);
    expect(trap.domain.stats.trueFaults).toBe(1);
  });

  it('#PF true fault on a write to a read-only user page: error = present|write|user', () => {
    const { native, trap } = both(`
test_main:
        call    paging_on
        li      r1, page_table + 0x300 * 4
        li      r2, 0x00300000 | PTE_P | PTE_U
        stw     [r1], r2
        li      r1, 0x00300000
        invlpg  r1
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        li      r1, 0x00300000
        ldw     r2, [r1]
        stw     [r1 + 8], r2
`);
    expect(trap.output).toBe(native.output);
    const f = frameOf(trap.output);
    expect([f.vector, f.error, f.cr2]).toEqual([14, 7, 0x00300008]);
  });

  it('#PF true fault on a kernel write to a read-only page with CR0.WP set: error = present|write', () => {
    const { native, trap } = both(`
test_main:
        call    paging_on
        li      r1, page_table + 0x300 * 4
        li      r2, 0x00300000 | PTE_P
        stw     [r1], r2
        li      r1, 0x00300000
        invlpg  r1
        li      r2, 1
        stw     [r1 + 4], r2
        li      r0, 0
        ret
`);
    expect(trap.output).toBe(native.output);
    const f = frameOf(trap.output);
    expect([f.vector, f.error, f.cs, f.cr2]).toEqual([14, 3, 0, 0x00300004]);
  });

  it('INT 0x80 from ring 3 reaches a DPL-3 gate: the handler sees cs 3 and the user registers', () => {
    const { native, trap } = both(
      userBody(
        `
        li      r0, 0x1234
        int     0x80`,
        `li      r1, 0x80
        li      r2, on_syscall
        li      r3, GATE_UTRAP
        call    set_gate
        jmp     .Lgo
on_syscall:
        mov     r1, r0
        call    puthex
        ldw     r1, [sp + 12]
        call    puthex
        call    putnl
        li      r0, 0
        out     SYS_POWEROFF, r0
        hlt
.Lgo:`,
      ),
    );
    expect(native.output).toBe('0000123400000003\n');
    expect(trap.output).toBe(native.output);
    expect(trap.domain.stats.traps[0x80]).toBe(1);
    expect(trap.domain.stats.reflected[0x80]).toBe(1);
  });

  it('INT 0x80 from ring 3 through a DPL-0 gate is #GP(0x80*8+2) at the INT, checked against the virtual CPL', () => {
    const { native, trap } = both(userBody(`
        int     0x80`));
    expect(trap.output).toBe(native.output);
    const f = frameOf(trap.output);
    expect([f.vector, f.error, f.cs]).toEqual([13, 0x80 * 8 + 2, 3]);
    expect(trap.domain.stats.reflected[0x80]).toBe(0);
    expect(trap.domain.stats.reflected[13]).toBe(1);
  });

  it('the kernel may INT its own DPL-0 gate (virtual CPL 0, though it really runs at ring 1)', () => {
    const { native, trap } = both(`
test_main:
        int     0x81
        li      r0, 0
        ret
`);
    expect(trap.output).toBe(native.output);
    expect(frameOf(trap.output)).toMatchObject({ vector: 0x81, cs: 0 });
  });

  it('a timer interrupt while ring 3 spins arrives with cs 3 and IF 1 in the frame, at the loop head', () => {
    const { native, trap } = both(`
test_main:
        call    paging_on
        li      r1, 32
        outb    PIC_BASE, r1
        li      r1, 0xfffe
        out     PIC_MASK, r1
        li      r1, 5000
        out     TIMER_PERIOD, r1
        li      r1, 1
        out     TIMER_CONTROL, r1
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        addi    r6, r6, 1
        jmp     user
`);
    expect(trap.output).toBe(native.output);
    const f = frameOf(trap.output);
    expect([f.vector, f.error, f.cs, f.flags & 0x200]).toEqual([32, 0, 3, 0x200]);
    expect(trap.domain.stats.injectedInterrupts).toBe(1);
  });
});
