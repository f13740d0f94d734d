// What exits under hvm mode and what does not, on small bare-metal kernels run on the bare
// machine, under trap-and-emulate and under hardware assist: I/O exits to the device model with
// exact counts and costs, HLT blocks, CPUID and HYPERCALL always exit, interrupts wait for the
// guest's own IF (interrupt-window exiting) - and the privileged and critical instructions run
// natively in non-root mode, so where trap mode differs from the bare machine, hvm does not.
import { describe, expect, it } from 'vitest';
import { DomainStats } from '../../hypervisor/core/stats.ts';
import { getProfile, VMCS_READS_PER_EXIT } from '../../machine/costs.ts';
import { CPUID_VENDOR, Op } from '../../machine/isa.ts';
import { Exit } from '../../machine/types.ts';
import { hex, iretToRing3WithIfOff, HLT_INTERRUPTS_OFF, HLT_NOTHING_TO_WAKE, tickHandler } from './fixtures/small-guest.ts';
import { guestImage, runHvm, runNative, three } from './hvm-harness.ts';

const P4 = getProfile('p4-2003');

/** A timer-interrupt handler counting into `ticks`; arm_tick: the PIC and a periodic timer of 20,000 cycles on vector 32. */
const TICKER = tickHandler('arm_tick', 20000);

/** Nonzero cpuExits, as { Exit value: count }. */
const exits = (s: DomainStats) => Object.fromEntries(DomainStats.nonzero(s.cpuExits));

describe('I/O exits', () => {
  const body = `
test_main:
        li      r7, 0
.Lloop:
        li      r2, 'x'
        outb    UART_DATA, r2
        addi    r7, r7, 1
        cmpi    r7, 5
        jlt     .Lloop
        in      r3, PIC_MASK
        in      r3, PIC_MASK
        in      r3, PIC_MASK
        mov     r0, r3
        ret
`;

  it('each IN and OUT is exactly one exit to the device model, which completes it', () => {
    const image = guestImage(body);
    const native = runNative(image);
    const h = runHvm(image);
    expect(h.output).toBe('xxxxx');
    // the IN's value is the virtual PIC's reset mask, completed into r3 at the next entry
    expect([h.reason, h.status]).toEqual(['poweroff', native.result.status]);
    expect(h.status).toBe(0xffff);
    const s = h.domain.stats;
    // 5 OUTs, 3 INs and the prelude's power-off OUT
    expect(exits(s)).toEqual({ [Exit.Io]: 9 });
    expect(s.loopExits.io).toBe(9);
    expect(s.ioByPort()).toEqual([
      { port: 0x21, reads: 3, writes: 0 },
      { port: 0x3f8, reads: 0, writes: 5 },
      { port: 0x501, reads: 0, writes: 1 },
    ]);
    expect(h.instructions).toBe(native.result.instructions);
  });

  it('each exit costs exactly a VM exit, the monitor path with its VMREADs and a VM entry over the bare machine (plus second-stage walks)', () => {
    const image = guestImage(body);
    const native = runNative(image);
    const h = runHvm(image);
    const n = h.domain.stats.cpuExits[Exit.Io]!;
    const misses = h.hypervisor.cpu.stats.tlbMisses;
    // the last exit (power-off) is not re-entered, the first entry is; the world switch onto the
    // vCPU is one monitor path and a CR3 load; with guest paging off a TLB miss walks only the
    // second stage (2 levels)
    // the monitor's path per exit is its software work and about ten VMREADs (AA06)
    const exitPath = P4.monitorTrap + VMCS_READS_PER_EXIT * P4.vmcsRead;
    expect(exitPath).toBe(1040 + 10 * 178);
    const expected = n * (P4.vmExit + exitPath + P4.vmEntry) + (P4.monitorTrap + P4.cr3Write) + misses * 2 * P4.eptWalkLevel;
    expect(h.cycles - native.result.cycles).toBe(expected);
    expect(h.domain.stats.monitorCycles).toBe(n * exitPath + P4.monitorTrap + P4.cr3Write);
  });
});

describe('instructions that exit always', () => {
  it('CPUID is answered by the monitor: the machine vendor and clock, without non-root mode or a second stage', () => {
    const body = `
test_main:
        li      r0, 0
        cpuid
        mov     r1, r2
        call    puthex
        call    putnl
        li      r0, 1
        cpuid
        mov     r8, r1
        mov     r9, r2
        mov     r1, r0
        call    puthex
        call    putsp
        mov     r1, r8
        call    puthex
        call    putsp
        mov     r1, r9
        call    puthex
        call    putnl
        li      r0, 0
        ret
`;
    const { native, hvm } = three(body);
    const vendor = hex(CPUID_VENDOR);
    expect(native.output).toBe(`${vendor}\n00000bb8 00000007 00000100\n`);
    expect(hvm.output).toBe(`${vendor}\n00000bb8 00000001 00000100\n`);
    expect(hvm.domain.stats.cpuExits[Exit.Cpuid]).toBe(2);
    expect(hvm.domain.stats.emulated[Op.CPUID]).toBe(2);
  });

  it('HYPERCALL is #UD through the guest IDT, as on bare hardware (there is no paravirtual interface)', () => {
    const { native, hvm } = three(`
test_main:
        li      r0, 3
        hypercall
        li      r0, 0
        ret
`);
    expect(native.output).toMatch(/^trap 00000006 00000000 /);
    expect(hvm.output).toBe(native.output);
    expect([hvm.reason, hvm.status]).toEqual(['poweroff', 0x106]);
    expect(hvm.domain.stats.cpuExits[Exit.Hypercall]).toBe(1);
    expect(hvm.domain.stats.reflected[6]).toBe(1);
  });
});

describe('instructions that run natively in non-root mode', () => {
  it('CR moves, INVLPG, CLI/STI, RDTSC, LIDT and LKSP never exit', () => {
    const { native, hvm } = three(`
test_main:
        call    paging_on
        li      r1, 0x5000
        invlpg  r1
        cli
        sti
        cli
        rdtsc   r1, r2
        movfcr  r1, cr0
        call    puthex
        call    putnl
        li      r1, kstack_top
        lksp    0, r1
        li      r0, 0
        ret
`);
    expect(hvm.output).toBe(native.output);
    expect(hvm.output).toBe('00000003\n');
    // the power-off OUT is the only exit
    expect(exits(hvm.domain.stats)).toEqual({ [Exit.Io]: 1 + 9 });
    expect(hvm.domain.stats.ioExits).toBe(10);
  });

  it('RDCPL in the kernel reads 0, as on bare hardware (trap mode reads 1)', () => {
    const { native, trap, hvm } = three(`
test_main:
        rdcpl   r1
        call    puthex
        call    putnl
        li      r0, 0
        ret
`);
    expect([native.output, trap.output, hvm.output]).toEqual(['00000000\n', '00000001\n', '00000000\n']);
  });

  it("SIDT shows the kernel its own IDT, as on bare hardware (trap mode shows the hypervisor's)", () => {
    const image = guestImage(`
test_main:
        sidt    r1
        call    puthex
        call    putnl
        li      r0, 0
        ret
`);
    const idt = image.symbols.find((s) => s.name === 'idt')!.addr;
    expect(runNative(image).output).toBe(`${hex(idt)}\n`);
    expect(runHvm(image).output).toBe(`${hex(idt)}\n`);
  });

  it('PUSHF after CLI shows IF = 0, as on bare hardware (trap mode shows 1)', () => {
    const { native, trap, hvm } = three(`
test_main:
        sti
        pushf
        pop     r1
        andi    r1, r1, 0x200
        call    puthex
        cli
        pushf
        pop     r1
        andi    r1, r1, 0x200
        call    puthex
        call    putnl
        li      r0, 0
        ret
`);
    expect([native.output, trap.output, hvm.output]).toEqual(['0000020000000000\n', '0000020000000200\n', '0000020000000000\n']);
  });

  it('POPF restoring IF = 1 turns interrupts back on: the pending tick is taken at once, as on bare hardware', () => {
    const { native, trap, hvm } = three(`
test_main:
        call    arm_tick
        cli
        li      r6, 0
.Lwait:
        addi    r6, r6, 1
        cmpi    r6, 20000                ; long past the first tick: it is pending, IF = 0
        jlt     .Lwait
        li      r1, 0x200
        push    r1
        popf
        li      r1, ticks
        ldw     r1, [r1]
        call    puthex
        call    putnl
        li      r0, 0
        ret
${TICKER}`);
    expect(native.output).toBe('00000001\n');
    expect(hvm.output).toBe(native.output);
    expect(trap.output).toBe('00000000\n');
    // the tick came while the guest had IF = 0: the monitor armed the interrupt window, and the
    // POPF opened it
    const s = hvm.domain.stats;
    expect(s.cpuExits[Exit.InterruptWindow]).toBe(1);
    expect(s.injectedInterrupts).toBe(1);
  });

  it("the kernel's IRET to ring 3 restores IF = 0 from its frame: user code does not get the tick (trap mode loses it)", () => {
    const { native, trap, hvm } = three(iretToRing3WithIfOff(30000, TICKER));
    expect(native.output).toBe('00000000\n');
    expect(hvm.output).toBe(native.output);
    expect(trap.output).not.toBe(native.output);
  });
});

describe('HLT and virtual interrupts', () => {
  it('HLT with interrupts on blocks the vCPU until the tick, which is injected through the guest IDT', () => {
    const { native, hvm } = three(`
test_main:
        call    arm_tick
        sti
        hlt
        cli
        li      r1, ticks
        ldw     r1, [r1]
        call    puthex
        call    putnl
        li      r0, 0
        ret
${TICKER}`);
    expect(native.output).toBe('00000001\n');
    expect(hvm.output).toBe(native.output);
    const s = hvm.domain.stats;
    expect(s.cpuExits[Exit.Hlt]).toBe(1);
    expect(s.loopExits.hlt).toBe(1);
    expect(s.injectedInterrupts).toBe(1);
    expect(hvm.idleCycles).toBeGreaterThan(0);
  });

  it('HLT with interrupts off halts the domain for good, as it halts the bare machine', () => {
    const { native, hvm } = three(HLT_INTERRUPTS_OFF);
    expect(native.result.reason).toBe('halted');
    expect([hvm.reason, hvm.detail]).toEqual(['halted', native.result.detail]);
  });

  it('HLT with nothing left to wake it ends the run as the bare machine ends it', () => {
    const { native, hvm } = three(HLT_NOTHING_TO_WAKE);
    expect(native.result.reason).toBe('halted');
    expect([hvm.reason, hvm.detail]).toEqual(['halted', native.result.detail]);
  });

  it('a triple fault stops the domain as it stops the bare machine', () => {
    const { native, hvm } = three(`
test_main:
        li      r1, 0
        lidt    r1, 0
        brk
        li      r0, 0
        ret
`);
    expect(native.result.reason).toBe('triple-fault');
    expect([hvm.reason, hvm.detail]).toEqual(['triple-fault', native.result.detail]);
    expect(hvm.domain.stats.cpuExits[Exit.TripleFault]).toBe(1);
  });
});
