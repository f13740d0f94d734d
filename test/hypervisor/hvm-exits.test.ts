// What exits under hvm mode and what does not, on small bare-metal kernels run on the bare
// machine, under trap-and-emulate and under hardware assist: I/O exits to the device model with
// exact counts and costs, CPUID and HYPERCALL always exit, and the privileged instructions run
// natively in non-root mode. (The critical instructions: modes-critical.test.ts; HLT:
// modes-halt.test.ts.)
import { describe, expect, it } from 'vitest';
import { DomainStats } from '../../hypervisor/core/stats.ts';
import { getProfile, VMCS_READS_PER_EXIT } from '../../machine/costs.ts';
import { CPUID_VENDOR, Op } from '../../machine/isa.ts';
import { Exit } from '../../machine/types.ts';
import { puthexOutput } from './fixtures/small-guest.ts';
import { guestImage, runHvm, runNative, three } from './hvm-harness.ts';

const P4 = getProfile('p4-2003');

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

  it('each exit costs exactly a VM exit, the monitor path with its VMREADs, the device model and a VM entry in place of the bus access (plus second-stage walks)', () => {
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
    // the exiting IN/OUT never reaches the bus: it costs an ALU op, the device model answers it
    const expected = n * (P4.vmExit + exitPath + P4.deviceModel + P4.vmEntry - (P4.ioPort - P4.alu)) + (P4.monitorTrap + P4.cr3Write) + misses * 2 * P4.eptWalkLevel;
    expect(h.cycles - native.result.cycles).toBe(expected);
    expect(h.domain.stats.monitorCycles).toBe(n * (exitPath + P4.deviceModel) + P4.monitorTrap + P4.cr3Write);
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
    const vendor = puthexOutput(CPUID_VENDOR);
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
});
