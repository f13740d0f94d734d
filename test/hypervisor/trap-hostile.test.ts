// Trap mode against guests that go after the hypervisor's shared resources rather than its rules:
// a guest that touches every 4 MiB of its address space (so its shadow wants 1,024 page tables) on
// a machine with a few spare frames, and a guest that programs a one-cycle periodic timer. Each
// may only slow itself down: the hypervisor never throws, and the other domain finishes as alone.

import { describe, expect, it } from 'vitest';
import { DomainCreateError, Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { OWNER_HYPERVISOR } from '../../hypervisor/core/frames.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { MIN_TIMER_PERIOD_CYCLES } from '../../hypervisor/devices/model.ts';
import { TrapMode, trapVcpu } from '../../hypervisor/trap/index.ts';
import { RESERVED_TABLES } from '../../hypervisor/trap/shadow.ts';
import { guestImage, runTrap } from './trap-harness.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Every page-directory entry names one page table (an identity map of 1 MiB); then one load in each 4 MiB. */
const EVERY_REGION = guestImage(`
test_main:
        li      r1, page_table
        li      r3, 0
.Lmap:
        shli    r4, r3, 12
        ori     r4, r4, PTE_P | PTE_W
        shli    r5, r3, 2
        add     r5, r5, r1
        stw     [r5], r4
        addi    r3, r3, 1
        cmpi    r3, 256
        jlt     .Lmap
        li      r2, page_directory
        ori     r4, r1, PTE_P | PTE_W
        li      r3, 0
.Ldir:
        shli    r5, r3, 2
        add     r5, r5, r2
        stw     [r5], r4
        addi    r3, r3, 1
        cmpi    r3, 1024
        jlt     .Ldir
        movcr   cr3, r2
        li      r4, 3
        movcr   cr0, r4
        li      r3, 0
        li      r7, 0
.Ltouch:
        shli    r5, r3, 22
        ldw     r6, [r5 + msg]
        add     r7, r7, r6
        addi    r3, r3, 1
        cmpi    r3, 1024
        jlt     .Ltouch
        li      r1, msg
        call    puts
        mov     r0, r7
        ret
msg:    .asciz  "every region\\n"
`);

/** A well-behaved guest: some work, a line of output, power-off 5. */
const QUIET = guestImage(`
test_main:
        li      r3, 0
        li      r4, 200000
.Lsum:
        addi    r3, r3, 1
        cmp     r3, r4
        jlt     .Lsum
        li      r1, msg
        call    puts
        li      r0, 5
        ret
msg:    .asciz  "quiet\\n"
`);

describe('trap mode: a guest that wants more shadow tables than the machine has', () => {
  it('recycles its own shadow instead of failing, and finishes; the other domain finishes as it does alone', () => {
    const alone = runTrap(QUIET, { memoryBytes: MiB });
    // room for both domains and their shadows' reserves, plus 16 frames
    const spare = 16;
    const hv = new Hypervisor({ memoryBytes: 2 * MiB + 4096 * (1 + 2 * (1 + RESERVED_TABLES) + spare), scheduler: new RoundRobinScheduler(50_000) });
    const mode = new TrapMode();
    const quiet = hv.createDomain(mode, { name: 'quiet', memoryBytes: MiB }, { image: QUIET });
    const greedy = hv.createDomain(mode, { name: 'greedy', memoryBytes: MiB }, { image: EVERY_REGION });
    expect(hv.run({ maxCycles: 200_000_000 }).reason).toBe('all-stopped');
    expect([greedy.stopReason, greedy.consoleOutput()]).toEqual(['poweroff', 'every region\n']);
    // each of the 1,024 loads read the same word: "ever" of "every region"
    expect(greedy.stopStatus).toBe(Math.imul(0x72657665, 1024) >>> 0);
    expect(greedy.stats.shadowRecycles).toBeGreaterThan(0);
    expect(quiet.stats.shadowRecycles).toBe(0);
    expect([quiet.stopReason, quiet.stopStatus, quiet.consoleOutput()]).toEqual(['poweroff', alone.status, alone.output]);
    // the shadows hold what they took; the rest is free
    const held = [quiet, greedy].reduce((n, d) => n + trapVcpu(d.vcpus[0]!).shadow.framesHeld, 0);
    expect(hv.frames.countOwned(OWNER_HYPERVISOR)).toBe(1 + held);
    hv.destroyDomain(greedy);
    hv.destroyDomain(quiet);
    expect(hv.frames.freeFrames).toBe(hv.frames.frames - 1);
  });

  it('a domain is refused, with a message and nothing left behind, when no frame is left for its shadow', () => {
    const hv = new Hypervisor({ memoryBytes: MiB + 4096 * (1 + RESERVED_TABLES) });
    const free = hv.frames.freeFrames;
    expect(() => hv.createDomain(new TrapMode(), { name: 'tight', memoryBytes: MiB }, { image: QUIET })).toThrow(DomainCreateError);
    expect(() => hv.createDomain(new TrapMode(), { name: 'tight', memoryBytes: MiB }, { image: QUIET })).toThrow(
      `domain 'tight': no machine memory left for its shadow page tables (${1 + RESERVED_TABLES} frames of 4 KiB)`,
    );
    expect(hv.frames.freeFrames).toBe(free);
    expect(hv.domains).toEqual([]);
  });
});

describe('trap mode: a guest that programs a one-cycle periodic timer', () => {
  it('gets one expiry per MIN_TIMER_PERIOD_CYCLES, and the other domain finishes as it does alone', () => {
    const storm = guestImage(`
test_main:
        li      r2, 1
        out     TIMER_PERIOD, r2
        li      r2, 3
        out     TIMER_CONTROL, r2
.Lspin: jmp     .Lspin
`);
    const alone = runTrap(QUIET, { memoryBytes: MiB });
    const hv = new Hypervisor({ memoryBytes: 8 * MiB });
    const mode = new TrapMode();
    const a = hv.createDomain(mode, { name: 'storm', memoryBytes: MiB }, { image: storm });
    const b = hv.createDomain(mode, { name: 'quiet', memoryBytes: MiB }, { image: QUIET });
    const t0 = hv.cpu.cycles;
    for (let k = 0; k < 50 && !b.stopped; k++) hv.run({ maxCycles: 1_000_000 });
    const cycles = hv.cpu.cycles - t0;
    expect([b.stopReason, b.stopStatus, b.consoleOutput()]).toEqual(['poweroff', alone.status, alone.output]);
    const ticks = a.devices!.timer.expirations;
    expect(ticks).toBeGreaterThan(0);
    expect(ticks).toBeLessThanOrEqual(Math.ceil(cycles / MIN_TIMER_PERIOD_CYCLES));
    // what the guest wrote still reads back
    expect(a.devices!.timer.read(0x40, 4)).toBe(1);
  });
});
