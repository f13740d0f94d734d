// Trap delivery for PV guests: set_trap_table's checks (no handler may claim ring 0), the real
// IDT the hypervisor builds from it, exceptions bounced to the guest's handlers with the virtual
// IF in the frame and the fault address in vcpu_info, event upcalls, and the system-call fast
// path: INT 0x80 from ring 3 reaches the guest kernel without entering the hypervisor.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Hc, TrapFlags, Upcall } from '../../hypercalls/numbers.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { Exit } from '../../machine/types.ts';
import { Ev } from '../../machine/ledger.ts';
import { asmGuest, compiledGuest, hc, loadVcpu, pvDomain, pvHypervisor, scratch, spinGuest, w32 } from './pv-helpers.ts';

/** Write a trap table at the domain's scratch page: [vector, flags, ring, address] per entry, then the terminator. */
function trapTable(t: ReturnType<typeof pvHypervisor>, d: ReturnType<typeof pvDomain>, entries: number[][]): number {
  const s = scratch(t.mode, d);
  [...entries, [0, 0, 0, 0]].forEach((e, k) => e.forEach((v, j) => w32(d, s + k * 16 + j * 4, v)));
  return hc(t.hv, t.mode, d, Hc.SET_TRAP_TABLE, s);
}

describe('pv trap tables', () => {
  it('refuses handlers at ring 0, bad vectors, flags and addresses; a refused table changes nothing', () => {
    const t = pvHypervisor();
    const d = pvDomain(t.hv, t.mode, 'a', spinGuest());
    expect(trapTable(t, d, [[14, TrapFlags.MASK_EVENTS, 1, 0x100000]])).toBe(0);
    expect(trapTable(t, d, [[13, 0, 0, 0x100000]])).toBe(HcErr.EPERM);
    expect(trapTable(t, d, [[13, 0, 2, 0x100000]])).toBe(HcErr.EINVAL);
    expect(trapTable(t, d, [[256, 0, 1, 0x100000]])).toBe(HcErr.EINVAL);
    expect(trapTable(t, d, [[Upcall.VECTOR, 0, 1, 0x100000]])).toBe(HcErr.EINVAL);
    expect(trapTable(t, d, [[13, 8, 1, 0x100000]])).toBe(HcErr.EINVAL);
    expect(trapTable(t, d, [[13, 0, 1, 0xffc00010]])).toBe(HcErr.EPERM);
    expect(hc(t.hv, t.mode, d, Hc.SET_TRAP_TABLE, 0x800000)).toBe(HcErr.EFAULT); // beyond its memory
    expect(hc(t.hv, t.mode, d, Hc.SET_CALLBACKS, 0xffc00000, 0)).toBe(HcErr.EPERM);
    // the first table is still the one in force
    const pd = t.mode.pv(d);
    expect([pd.trapAddress[14], pd.trapAddress[13]]).toEqual([0x100000, 0]);
    // a table address of 0 clears every handler
    expect(hc(t.hv, t.mode, d, Hc.SET_TRAP_TABLE, 0)).toBe(0);
    expect(pd.trapAddress[14]).toBe(0);
  });

  it('writes the table into the real IDT as ring-1 gates; the system call is not intercepted unless it masks events', () => {
    const t = pvHypervisor();
    const d = pvDomain(t.hv, t.mode, 'a', spinGuest());
    expect(trapTable(t, d, [[0x80, 3, 1, 0x100040], [14, TrapFlags.MASK_EVENTS, 1, 0x100080]])).toBe(0);
    const idt = t.mode.pv(d).idtMfn * 4096;
    // gate word 1: present, DPL in bits 1..2, ring 1 in bits 3..4, trap gate (bit 5)
    expect([t.hv.mem.read32(idt + 0x80 * 8), t.hv.mem.read32(idt + 0x80 * 8 + 4)]).toEqual([0x100040, 1 | (3 << 1) | (1 << 3) | 32]);
    expect([t.hv.mem.read32(idt + 14 * 8), t.hv.mem.read32(idt + 14 * 8 + 4)]).toEqual([0x100080, 1 | (1 << 3) | 32]);
    expect(t.hv.mem.read32(idt + 13 * 8 + 4)).toBe(0);
    expect(t.hv.cpu.interceptVector[0x80]).toBe(0);
    expect(t.hv.cpu.interceptVector[14]).toBe(1);
    expect(trapTable(t, d, [[0x80, 3 | TrapFlags.MASK_EVENTS, 1, 0x100040]])).toBe(0);
    expect(t.hv.cpu.interceptVector[0x80]).toBe(1);
    // another domain's vCPU brings its own table (and fast path) with it
    const e = pvDomain(t.hv, t.mode, 'b', spinGuest());
    expect(trapTable(t, e, [[0x80, 3, 1, 0x100040]])).toBe(0);
    expect(t.hv.cpu.interceptVector[0x80]).toBe(0);
    loadVcpu(t.hv, d.vcpus[0]!);
    expect(t.hv.cpu.interceptVector[0x80]).toBe(1);
  });

  it('takes INT 0x80 from ring 3 straight to the guest kernel; a hypercall from ring 3 is a #GP bounced to the guest', () => {
    const t = pvHypervisor();
    const d = pvDomain(t.hv, t.mode, 'fast', asmGuest(`
_start:
  li r1, req            ; let ring 3 use 0..4 MiB: the directory entry gets U (mmu_update)
  li r2, 0x1000
  ldw r3, [r2 + 32]     ; start_info PT_BASE: the directory (virtual = pseudo-physical)
  ldw r7, [r2 + 44]     ; start_info MFN_LIST: the machine frame of each pseudo-physical one
  shri r5, r3, 12
  shli r5, r5, 2
  add r5, r7, r5
  ldw r5, [r5 + 0]
  shli r5, r5, 12       ; the directory's machine address: what the request names
  stw [r1 + 0], r5
  ldw r4, [r3 + 0]
  ori r4, r4, 4
  stw [r1 + 4], r4
  li r0, 1              ; mmu_update(req, 1, 0)
  li r2, 1
  li r3, 0
  hypercall
  li r0, 14             ; update_va_mapping: the user code page, user read-only
  li r1, 0x101000
  ldw r2, [r7 + 0x404]  ; machine frame of pseudo-physical frame 0x101
  shli r2, r2, 12
  ori r2, r2, 0x25
  li r3, 2
  hypercall
  li r0, 14             ; and a user stack page
  li r1, 0x1f0000
  ldw r2, [r7 + 0x7c0]  ; frame 0x1f0
  shli r2, r2, 12
  ori r2, r2, 0x67
  li r3, 2
  hypercall
  li r0, 0              ; set_trap_table
  li r1, traps
  hypercall
  li r0, 3              ; stack_switch: the ring-1 stack for traps from ring 3
  li r1, 0x107ff0
  hypercall
  li r9, 0
  li r1, 0x1f1000       ; iret to ring 3: sp, flags, cs, pc
  push r1
  li r1, 0x200
  push r1
  li r1, 3
  push r1
  li r1, user
  push r1
  iret
syscall:                ; ring 1: count and return
  addi r9, r9, 1
  addi sp, sp, 8
  iret
gp:
  li r0, 6              ; sched_op(SHUTDOWN, POWEROFF, system calls seen)
  li r1, 2
  li r2, 0
  mov r3, r9
  hypercall
req:
  .word 0, 0
traps:
  .word 0x80, 3, 1, syscall
  .word 13, 4, 1, gp
  .word 0, 0, 0, 0
  .org 0x101000
user:
  int 0x80
  int 0x80
  int 0x80
  int 0x80
  int 0x80
  hypercall`));
    const run = t.hv.run({ maxCycles: 10_000_000 });
    expect(run.reason).toBe('all-stopped');
    expect([d.stopReason, d.stopStatus, d.stopDetail]).toEqual(['poweroff', 5, '']);
    // five system calls delivered by the CPU through the real IDT, none intercepted
    expect(t.hv.cpu.stats.delivered[0x80]).toBe(5);
    expect(d.stats.traps[0x80]).toBe(0);
    expect(d.stats.cpuExits[Exit.Exception]).toBe(0);
    // the ring-3 hypercall: a #GP bounced to the guest's handler (error 0)
    expect(d.stats.traps[13]).toBe(1);
    expect(d.stats.reflected[13]).toBe(1);
    expect([d.stats.hypercalls[Hc.MMU_UPDATE], d.stats.hypercalls[Hc.UPDATE_VA_MAPPING], d.stats.hypercalls[Hc.SET_TRAP_TABLE], d.stats.hypercalls[Hc.STACK_SWITCH], d.stats.hypercalls[Hc.SCHED_OP]]).toEqual([1, 2, 1, 1, 1]);
  });

  it('bounces exceptions with the virtual IF in the frame and the fault address in vcpu_info, and delivers upcalls', () => {
    const t = pvHypervisor();
    const file = fileURLToPath(new URL('../guest-programs/pv/traps-events.ts', import.meta.url));
    const d = pvDomain(t.hv, t.mode, 'traps', compiledGuest(file));
    const run = t.hv.run({ maxCycles: 100_000_000 });
    expect(run.reason).toBe('all-stopped');
    expect(d.consoleOutput().split('\n')).toEqual([
      // events are masked at boot, so the virtual IF in each exception frame is 0
      'trap: vector 0 error 0 cs 1 if 0 mask 1',
      'after the divide',
      'trap: vector 14 error 0 cs 1 if 0 mask 1 cr2 0',
      'after the fault',
      // sched_op(block) unmasked events; the upcall's frame shows IF 1 and the mask is set on entry
      'upcall: vector 240 error 0 cs 1 if 1 mask 1 timer 1',
      'blocked until the timer; mask 1',
      '',
    ]);
    expect([d.stopReason, d.stopStatus]).toEqual(['poweroff', 1]);
    expect(t.mode.pv(d).stats.upcalls).toBe(1);
    expect([d.stats.reflected[0], d.stats.reflected[14]]).toEqual([1, 1]);
    // it slept 1 ms of simulated time (3 GHz) waiting for the timer
    expect(run.idleCycles).toBeGreaterThan(2_990_000);
    expect(run.idleCycles).toBeLessThan(3_000_000);
  });

  it("an upcall on a hypercall's return is folded into it (the bounce alone); one while the guest runs is an interrupt, a bounce and an IRET", () => {
    const t = pvHypervisor();
    const file = fileURLToPath(new URL('../guest-programs/pv/upcall-paths.ts', import.meta.url));
    const d = pvDomain(t.hv, t.mode, 'upcalls', compiledGuest(file));
    t.hv.run({ maxCycles: 100_000_000 });
    expect([d.stopReason, d.stopStatus]).toEqual(['poweroff', 2]);
    const pv = t.mode.pv(d).stats;
    expect([pv.upcalls, pv.foldedUpcalls]).toEqual([2, 1]);
    // no exception is bounced in this guest: every bounce is an upcall, and only the running one
    // entered the hypervisor by an interrupt and left by an IRET of its own
    const ev = t.hv.cpu.evCount;
    expect(d.stats.traps.reduce((a, b) => a + b, 0)).toBe(0);
    expect([ev[Ev.PvBounce], ev[Ev.TrapDelivery], ev[Ev.InterceptReturn]]).toEqual([2, 1, 1]);
  });

  it('crashes a domain whose kernel stack cannot take a bounced frame; the other domain is untouched', () => {
    const t = pvHypervisor();
    const bad = pvDomain(t.hv, t.mode, 'bad', asmGuest(`
_start:
  li r0, 0
  li r1, traps
  hypercall
  li sp, 0x0ff0         ; page 0 is not mapped
  brk
traps:
  .word 3, 3, 1, _start
  .word 0, 0, 0, 0`));
    const good = pvDomain(t.hv, t.mode, 'good', spinGuest());
    t.hv.run({ maxCycles: 5_000_000 });
    expect(bad.stopReason).toBe('crashed');
    expect(bad.stopDetail).toBe("cannot deliver vector 3: the guest's stack (sp 0xff0, kernel stack 0x0) does not take the frame");
    expect(good.stopped).toBe(false);
    expect(good.stats.runCycles).toBeGreaterThan(2_000_000);
  });
});
