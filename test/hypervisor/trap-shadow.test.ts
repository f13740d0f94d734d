// Shadow paging in trap mode: the shadow tables behave exactly as the hardware TLB (a changed PTE
// is invisible until INVLPG or a CR3 write), hidden faults are filled silently and counted apart
// from true faults, the guest's A/D bits are kept as the hardware keeps them, CR0.WP = 0 is
// emulated, and a guest can reach no machine frame outside its p2m.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { OWNER_FREE, OWNER_HYPERVISOR, OutOfFramesError } from '../../hypervisor/core/frames.ts';
import { TrapMode, trapVcpu } from '../../hypervisor/trap/index.ts';
import { RESERVED_TABLES, ShadowMmu } from '../../hypervisor/trap/shadow.ts';
import { GUEST_MEMORY, both, guestImage, runNative, runTrap } from './trap-harness.ts';
import { runBtMode } from '../../hypervisor/bt/index.ts';
import { READX_SEED } from './fixtures/traced-guests.ts';
import { copyPage } from './fixtures/small-guest.ts';

/** X (0x003f7000, TLB slot 0xf7: nothing else the test touches shares it) starts mapped to frame A = X. */
const REMAP = READX_SEED;

describe('trap mode: shadow page tables', () => {
  it('a PTE change without INVLPG stays invisible; after INVLPG it is seen', () => {
    const { native, trap } = both(`
test_main:
        call    paging_on
        call    seed
        call    readx
        li      r1, page_table + (X >> 12) * 4
        li      r2, B | PTE_P | PTE_W | PTE_U
        stw     [r1], r2                ; X -> B, no INVLPG
        call    readx
        li      r1, X
        invlpg  r1
        call    readx
        call    putnl
        li      r0, 0
        ret
${REMAP}`);
    expect(native.output).toBe('aaaaaaaa aaaaaaaa bbbbbbbb \n');
    expect(trap.output).toBe(native.output);
    expect(trap.domain.stats.shadowInvlpgs).toBe(1);
  });

  it('a CR3 switch shows the other address space; switching back shows the first again', () => {
    const { native, trap } = both(`
test_main:
        call    paging_on
        call    seed
        ; page_table2 = page_table, but X -> B
${copyPage('page_table', 'page_table2')}
        li      r1, page_table2 + (X >> 12) * 4
        li      r2, B | PTE_P | PTE_W | PTE_U
        stw     [r1], r2
        li      r1, page_directory2
        li      r2, page_table2 | PTE_P | PTE_W | PTE_U
        stw     [r1], r2
        call    readx
        li      r1, page_directory2
        movcr   cr3, r1
        call    readx
        li      r1, page_directory
        movcr   cr3, r1
        call    readx
        call    putnl
        li      r0, 0
        ret
${REMAP}`);
    expect(native.output).toBe('aaaaaaaa bbbbbbbb aaaaaaaa \n');
    expect(trap.output).toBe(native.output);
    // paging_on's CR3 and CR0 writes, then two switches
    expect(trap.domain.stats.shadowFlushes).toBe(4);
  });

  it('hidden and true faults are counted exactly: 5 first reads, 1 first write to a clean page, 1 true fault', () => {
    const body = (touches: number) => `
test_main:
        call    paging_on
        li      r7, ${touches}
        li      r6, 0
        li      r8, 0x00300000
.Ltouch:
        cmp     r6, r7
        jge     .Ltouched
        ldw     r1, [r8]                ; first read of a fresh page: a hidden fault
        addi    r8, r8, 4096
        addi    r6, r6, 1
        jmp     .Ltouch
.Ltouched:
        cmpi    r7, 0
        jeq     .Lno_write
        li      r8, 0x00300000
        stw     [r8], r7                ; first write to a page read before (clean): hidden again
.Lno_write:
        li      r1, page_table + 0x300 * 4
        ldw     r1, [r1]                ; its PTE: A and D as the hardware leaves them
        andi    r1, r1, PTE_A | PTE_D
        call    puthex
        li      r1, page_table + 0x301 * 4
        ldw     r1, [r1]
        andi    r1, r1, PTE_A | PTE_D
        call    puthex
        call    putnl
        li      r1, 0x00800000
        ldw     r1, [r1]                ; not mapped: a true fault, reported by the prelude
`;
    const base = runTrap(guestImage(body(0)));
    const image = guestImage(body(5));
    const five = runTrap(image);
    expect(five.output.split('\n')[0]).toBe('0000006000000020');
    expect(five.output).toBe(runNative(image).output);
    expect(base.output.split('\n')[0]).toBe('0000000000000000');
    expect(five.domain.stats.hiddenFaults - base.domain.stats.hiddenFaults).toBe(6);
    expect(five.domain.stats.shadowFills - base.domain.stats.shadowFills).toBe(6);
    expect(five.domain.stats.trueFaults).toBe(1);
    expect(base.domain.stats.trueFaults).toBe(1);
    expect(five.domain.stats.reflected[14]).toBe(1);
  });

  it('a clean page is shadowed read-only until the first write, which sets D in the guest PTE', () => {
    const image = guestImage(`
test_main:
        call    paging_on
        li      r8, 0x00300000
        ldw     r1, [r8]
        li      r0, 0
        ret
`);
    const trap = runTrap(image);
    const t = trapVcpu(trap.domain.vcpus[0]!);
    const spte = t.shadow.entry(0x00300000);
    expect(spte & 1).toBe(1); // present
    expect(spte & 2).toBe(0); // not writable: the guest PTE is clean
    expect(spte & 4).toBe(4); // user, as the guest says
    expect((spte & ~0xfff) >>> 0).toBe(trap.domain.memory.machineAddress(0x00300000));
    // a 4 MiB region the guest never touched has no shadow table: its entries read 0
    expect(t.shadow.entry(0x00c00000)).toBe(0);
  });

  it('a kernel read of a read-only page (CR0.WP = 1) fills a read-only entry: the write after it is a true fault', () => {
    const { native, trap } = both(`
test_main:
        call    paging_on
        li      r1, page_table + 0x300 * 4
        li      r2, 0x00300000 | PTE_P | PTE_U
        stw     [r1], r2
        li      r1, 0x00300000
        invlpg  r1
        ldw     r5, [r1]                ; a supervisor read: the shadow entry is filled
        li      r2, 0x5a5a5a5a
        stw     [r1], r2                ; #PF present|write, WP being set
        li      r0, 0
        ret
`);
    expect(native.output).toMatch(/^trap 0000000e 00000003 /);
    expect(trap.output).toBe(native.output);
    expect(trap.domain.stats.trueFaults).toBe(1);
  });

  it('a page the kernel has read (its shadow entry filled) stays supervisor-only: a ring-3 read of it is a true fault', () => {
    const { native, trap } = both(`
test_main:
        call    paging_on
        li      r1, page_table + 0x300 * 4
        li      r2, 0x00300000 | PTE_P | PTE_W
        stw     [r1], r2                ; supervisor-only
        li      r1, 0x00300000
        invlpg  r1
        ldw     r5, [r1]                ; the kernel reads it: the shadow entry is filled
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        li      r1, 0x00300000
        ldw     r5, [r1]                ; #PF present|user
        li      r0, 0
        ret
`);
    expect(native.output).toMatch(/^trap 0000000e 00000005 /);
    expect(trap.output).toBe(native.output);
  });

  it('a kernel write to a user page fills a user, writable entry: a ring-3 read or write of it after takes no hidden fault', () => {
    // the same program, with the ring-3 access to 0x00300000 or a register move in its place
    const body = (access: string) => `
test_main:
        call    paging_on
        li      r1, 0x00300000          ; user and writable (paging_on), clean
        li      r2, 0x5a5a5a5a
        stw     [r1], r2                ; the kernel's first write: one hidden fault, D set
        li      r1, trap_hook
        li      r2, on_fault
        stw     [r1], r2
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        li      r1, 0x00300000
        ${access}
        hlt                             ; #GP in ring 3: the kernel prints r5
on_fault:
        mov     r1, r5
        call    puthex
        call    putnl
        jmp     .Lp_report
`;
    const none = guestImage(body('mov     r5, r2'));
    const base = runTrap(none);
    expect(base.output).toBe(runNative(none).output);
    // the entry the kernel's write filled is already usable from ring 3
    expect(trapVcpu(base.domain.vcpus[0]!).shadow.entry(0x00300000) & 7).toBe(7);
    const accesses: [string, string][] = [
      ['ldw     r5, [r1]', '5a5a5a5a'],
      ['stw     [r1], r1\n        ldw     r5, [r1]', '00300000'],
    ];
    for (const [access, read] of accesses) {
      const image = guestImage(body(access));
      const trap = runTrap(image);
      expect(trap.output).toBe(runNative(image).output);
      expect(trap.output.startsWith(`${read}\ntrap 0000000d `)).toBe(true);
      expect(trap.domain.stats.hiddenFaults).toBe(base.domain.stats.hiddenFaults);
      expect(trap.domain.stats.trueFaults).toBe(base.domain.stats.trueFaults);
    }
  });

  it('a shadow that runs out of frames while taking its spare tables fails with the allocator\'s error and gives back what it took', () => {
    const hv = new Hypervisor({ memoryBytes: 2 * 1024 * 1024 });
    const d = hv.createDomain(new TrapMode(), { name: 'a', memoryBytes: 1024 * 1024 }, { image: guestImage('test_main:\n        li      r0, 0\n        ret\n') });
    const t = trapVcpu(d.vcpus[0]!);
    // leave room for the directory and two of the RESERVED_TABLES spares (a second vCPU's shadow would need them all)
    while (hv.frames.freeFrames > 3) hv.frames.alloc(7);
    const held = hv.frames.countOwned(OWNER_HYPERVISOR);
    expect(() => new ShadowMmu(hv, hv.cpu, t.walker, d.stats)).toThrow(new OutOfFramesError('no free machine frame left'));
    expect(hv.frames.freeFrames).toBe(3);
    expect(hv.frames.countOwned(OWNER_HYPERVISOR)).toBe(held);
  });

  it('a refilled shadow entry leaves the TLBs as the bare machine\'s walk does: code keeps coming from the old frame of a page moved without INVLPG', () => {
    // page P's PTE moves to Q (a copy of P whose marker says 2) with no INVLPG, then the kernel's
    // first write to P: the bare machine's walk refills the data TLB (P -> Q) and leaves the
    // one-entry instruction TLB on the old frame until pc leaves the page, so the marker says 1.
    // The shadow's refill must not drop more than that walk does (it once did an INVLPG: 2).
    const image = guestImage(`
Q = 0x00300000
test_main:
        call    paging_on
${copyPage('P', 'Q')}
        li      r1, alt
        li      r2, Q + (marker - P)
        ldw     r4, [r1]
        stw     [r2], r4
        ldw     r4, [r1 + 4]            ; (li is two words: the opcode and its immediate)
        stw     [r2 + 4], r4
        jmp     P
alt:    li      r1, 2
        .align  4096
P:
        li      r1, page_table + (P >> 12) * 4
        li      r2, Q | PTE_P | PTE_W | PTE_U
        stw     [r1], r2                ; P -> Q, no INVLPG
        li      r1, pdata
        stw     [r1], r0                ; the first write to P (clean): a walk, a hidden fault under trap
marker: li      r1, 1
        call    puthex
        call    putnl
        li      r0, 0
        ret
pdata:  .word   0
        .align  4096
`);
    expect(runNative(image).output).toBe('00000001\n');
    for (const shadow of ['flush', 'traced'] as const) {
      const trap = runTrap(image, { trap: { shadow } });
      expect([shadow, trap.output]).toEqual([shadow, '00000001\n']);
      expect([shadow, runBtMode(image, { memoryBytes: GUEST_MEMORY, maxCycles: 50_000_000, bt: { shadow } }).output]).toEqual([shadow, '00000001\n']);
    }
  });

  it('a true fault on an instruction fetch carries the fetch bit in its error code, as on the bare machine', () => {
    const { native, trap } = both(`
test_main:
        call    paging_on
        li      r1, 0x00800000          ; not mapped
        jmpr    r1
`);
    expect(native.output).toMatch(/^trap 0000000e 00000010 /);
    expect(trap.output).toBe(native.output);
  });

  it('a shadow holds its directory and RESERVED_TABLES spare tables from creation, before any fill', () => {
    const hv = new Hypervisor({ memoryBytes: 8 * 1024 * 1024 });
    const free = hv.frames.freeFrames;
    const d = hv.createDomain(new TrapMode(), { name: 'a', memoryBytes: 1024 * 1024 }, { image: guestImage('test_main:\n        li      r0, 0\n        ret\n') });
    const shadow = trapVcpu(d.vcpus[0]!).shadow;
    expect([shadow.tablesInUse, shadow.framesHeld]).toEqual([0, 1 + RESERVED_TABLES]);
    expect(free - hv.frames.freeFrames).toBe(256 + 1 + RESERVED_TABLES);
  });

  it('with free frames, each 4 MiB region touched gets a table of its own beyond the reserved ones: nothing recycled', () => {
    // guest paging off: the shadow maps guest-physical pages, one table per 4 MiB region touched
    const image = guestImage(`
test_main:
        li      r8, 0x00400000
        li      r6, 0
.Ltouch:
        ldw     r1, [r8]
        li      r2, 0x00400000
        add     r8, r8, r2
        addi    r6, r6, 1
        cmpi    r6, 5
        jlt     .Ltouch
        li      r0, 0
        ret
`);
    const trap = runTrap(image, { memoryBytes: 24 * 1024 * 1024 });
    expect(trap.reason).toBe('poweroff');
    const shadow = trapVcpu(trap.domain.vcpus[0]!).shadow;
    // region 0 (the image) and the five touched: six tables, two of them allocated past the reserve
    expect([shadow.tablesInUse, shadow.framesHeld]).toEqual([6, 7]);
    expect([trap.domain.stats.shadowTables, trap.domain.stats.shadowRecycles]).toEqual([6, 0]);
    // a flush (a CR3 or CR0 write) empties the directory and keeps every table as a zeroed spare
    shadow.flush();
    const mem = trap.hypervisor.mem;
    expect(Array.from(mem.i32.subarray(shadow.root >>> 2, (shadow.root >>> 2) + 1024)).every((e) => e === 0)).toBe(true);
    expect([shadow.tablesInUse, shadow.framesHeld]).toEqual([0, 7]);
  });

  it('with guest paging off the shadow maps guest-physical pages through the p2m, not the identity', () => {
    const image = guestImage(`
test_main:
        li      r1, 0x00300000
        li      r2, 0xcafebabe
        stw     [r1], r2
        li      r0, 0
        ret
`);
    const trap = runTrap(image);
    const mem = trap.domain.memory;
    const ma = mem.machineAddress(0x00300000);
    expect(ma).not.toBe(0x00300000);
    expect(trap.hypervisor.mem.read32(ma)).toBe(0xcafebabe);
    expect(mem.read32(0x00300000)).toBe(0xcafebabe);
    expect(trap.hypervisor.frames.owner[ma >>> 12]).toBe(trap.domain.id);
  });

  it('CR0.WP = 0 is emulated with the real WP kept on: the kernel writes a read-only page, ring 3 still cannot', () => {
    const { native, trap } = both(`
test_main:
        call    paging_on
        li      r1, 1                   ; PG without WP
        movcr   cr0, r1
        li      r1, page_table + 0x300 * 4
        li      r2, 0x00300000 | PTE_P | PTE_U
        stw     [r1], r2
        li      r1, 0x00300000
        invlpg  r1
        li      r2, 0x5a5a5a5a
        stw     [r1], r2                ; allowed: supervisor write with WP = 0
        li      r1, trap_hook
        li      r2, on_fault
        stw     [r1], r2
        li      r1, user
        li      r2, ustack_top
        call    enter_user
user:
        li      r1, 0x00300000
        ldw     r5, [r1]                ; readable from ring 3
        stw     [r1], r5                ; but not writable: #PF present|write|user
on_fault:
        mov     r1, r5                  ; what ring 3 read
        call    puthex
        call    putnl
        jmp     .Lp_report
`);
    expect(native.output).toMatch(/^5a5a5a5a\ntrap 0000000e 00000007 /);
    expect(trap.output).toBe(native.output);
    expect(trap.hypervisor.vcpuState(trap.domain.vcpus[0]!).cr0).toBe(3);
  });

  it('a guest mapping a guest-physical frame beyond its quota is killed; the hypervisor and the other domain go on', () => {
    // 1 MiB of memory; paging_on maps 4 MiB, so 0x00200000 is a mapping of a frame it does not have
    const bad = guestImage(`
test_main:
        call    paging_on
        li      r1, 0x00200000
        ldw     r1, [r1]
        li      r0, 0
        ret
`);
    const good = guestImage(`
test_main:
        li      r1, msg
        call    puts
        li      r0, 9
        ret
msg:    .asciz "still here\\n"
`);
    const hv = new Hypervisor({ memoryBytes: 8 * 1024 * 1024 });
    const d1 = hv.createDomain(new TrapMode(), { name: 'bad', memoryBytes: 1024 * 1024 }, { image: bad });
    const d2 = hv.createDomain(new TrapMode(), { name: 'good', memoryBytes: 1024 * 1024 }, { image: good });
    const d2frames = Array.from(d2.p2m);
    const before = Array.from(hv.mem.u8.subarray(d2frames[1]! * 4096, d2frames[1]! * 4096 + 64));
    expect(hv.run({ maxCycles: 20_000_000 }).reason).toBe('all-stopped');
    expect(d1.stopReason).toBe('crashed');
    expect(d1.stopDetail).toMatch(/^guest-physical address 0x00200000 lies outside the domain's memory \(256 frames\) at pc 0x[0-9a-f]{8}$/);
    expect(d2.stopReason).toBe('poweroff');
    expect(d2.stopStatus).toBe(9);
    expect(d2.consoleOutput()).toBe('still here\n');
    // the code page of the other domain is as its image put it
    expect(Array.from(hv.mem.u8.subarray(d2frames[1]! * 4096, d2frames[1]! * 4096 + 64))).toEqual(before);
    // every frame is owned by exactly one party: domain 1 owns exactly its p2m
    const owned = [...hv.frames.owner.entries()].filter(([, o]) => o === d1.id).map(([f]) => f);
    expect(owned).toEqual(Array.from(d1.p2m));
    hv.destroyDomain(d1);
    expect(hv.frames.countOwned(d1.id)).toBe(0);
    expect(hv.frames.owner.every((o) => o === OWNER_FREE || o === OWNER_HYPERVISOR || o === d2.id)).toBe(true);
  });

  it('with paging off too, an access beyond the quota kills the domain (the bare machine would read open bus)', () => {
    const image = guestImage(`
test_main:
        li      r1, 0x00180000
        ldw     r1, [r1]
        call    puthex
        call    putnl
        li      r0, 0
        ret
`);
    expect(runNative(image, { memoryBytes: 1024 * 1024 }).output).toBe('ffffffff\n');
    const trap = runTrap(image, { memoryBytes: 1024 * 1024 });
    expect(trap.reason).toBe('crashed');
    expect(trap.detail).toMatch(/^guest-physical address 0x00180000 lies outside/);
  });
});
