// hvm mode's second translation stage: built from the domain's p2m in frames only the hypervisor
// owns, given back when the domain goes; and isolation - any guest access outside its memory (a
// load or store, its own page walk, an event delivery) is an EPT violation that kills that domain
// alone, while the hypervisor and the other domains go on untouched.
import { describe, expect, it } from 'vitest';
import { OWNER_HYPERVISOR } from '../../hypervisor/core/frames.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import type { Vcpu } from '../../hypervisor/core/vcpu.ts';
import { Ept, HvmMode, eptFramesFor, hvmReserveBytes, hvmDomain, hvmVcpu } from '../../hypervisor/hvm/index.ts';
import { Exit } from '../../machine/types.ts';
import { MiB, printer } from './fixtures/printers.ts';
import { GUEST_MEMORY, guestImage, runHvm, runNative } from './hvm-harness.ts';

const PAGE = 4096;

describe('the second stage', () => {
  it('maps every guest frame to the machine frame the p2m names, in frames only the hypervisor owns', () => {
    const hv = new Hypervisor({ memoryBytes: 16 * MiB });
    const mode = new HvmMode({ mmu: 'ept' });
    // a domain created and destroyed first makes the next one's machine frames come back in
    // reverse (the allocator reuses released frames first): the p2m is not the identity
    hv.destroyDomain(hv.createDomain(mode, { name: 'x', memoryBytes: 1 * MiB }));
    const d = hv.createDomain(mode, { name: 'd', memoryBytes: 5 * MiB }, { image: printer('A', 1) });
    const ept = hvmDomain(d).ept!;
    expect(ept.tables).toBe(2);
    expect(ept.frames.length).toBe(eptFramesFor(5 * MiB));
    for (const f of ept.frames) expect(hv.frames.owner[f]).toBe(OWNER_HYPERVISOR);
    expect(d.p2m[0]! > d.p2m[1]!).toBe(true);
    for (let gfn = 0; gfn < d.p2m.length; gfn++) expect(ept.translate(gfn * PAGE + 0x123)).toBe(d.p2m[gfn]! * PAGE + 0x123);
    // nothing beyond the domain's memory, nothing of the hypervisor's
    expect(ept.translate(5 * MiB)).toBe(-1);
    expect(ept.translate(0xfffff000)).toBe(-1);
    const mapped = new Set(Array.from(d.p2m));
    for (const f of ept.frames) expect(mapped.has(f)).toBe(false);
    // the vCPU's VMCS points at it
    expect(hvmVcpu(d.vcpus[0]!).vmcs.eptRoot).toBe(ept.root);
  });

  it('is given back to the machine when the domain is destroyed', () => {
    const hv = new Hypervisor({ memoryBytes: 16 * MiB });
    const free = hv.frames.freeFrames;
    const d = hv.createDomain(new HvmMode({ mmu: 'ept' }), { name: 'd', memoryBytes: 2 * MiB }, { image: printer('A', 1) });
    expect(hv.frames.freeFrames).toBe(free - 512 - eptFramesFor(2 * MiB));
    hv.destroyDomain(d);
    expect(hv.frames.freeFrames).toBe(free);
    expect(hv.frames.countOwned(OWNER_HYPERVISOR)).toBe(1);
  });

  it('a machine without room for the second stage refuses the domain and keeps nothing of it', () => {
    const hv = new Hypervisor({ memoryBytes: 2 * MiB + PAGE });
    expect(() => hv.createDomain(new HvmMode({ mmu: 'ept' }), { name: 'd', memoryBytes: 2 * MiB }, { image: printer('A', 1) })).toThrow(/no free machine frame/);
    expect(hv.frames.freeFrames).toBe(512);
    expect(hv.frames.countOwned(OWNER_HYPERVISOR)).toBe(1);
    expect(hv.domains).toEqual([]);
  });

  it('running out of frames after the directory, at the first table, gives the directory back too', () => {
    const hv = new Hypervisor({ memoryBytes: 2 * MiB + 2 * PAGE });
    expect(() => hv.createDomain(new HvmMode({ mmu: 'ept' }), { name: 'd', memoryBytes: 2 * MiB }, { image: printer('A', 1) })).toThrow(/no free machine frame/);
    expect(hv.frames.freeFrames).toBe(513);
    expect(hv.frames.countOwned(OWNER_HYPERVISOR)).toBe(1);
  });

  it('a p2m with holes: a hole has no entry, a directory slot with no frame behind it has no table, and each table is made once', () => {
    const hv = new Hypervisor({ memoryBytes: 16 * MiB });
    // guest frames 0..1023 all holes, 1024..1027 backed, 1028 a hole, 2048 backed (its table covers 2048..3071)
    const p2m = new Int32Array(2049).fill(-1);
    const backing = [1024, 1025, 1026, 1027, 2048];
    const mfns = backing.map(() => hv.frames.alloc(7));
    backing.forEach((gfn, k) => (p2m[gfn] = mfns[k]!));
    const free = hv.frames.freeFrames;
    const ept = new Ept(hv, p2m);
    expect(ept.tables).toBe(2);
    expect(hv.frames.freeFrames).toBe(free - 3);
    backing.forEach((gfn, k) => expect(ept.translate(gfn * PAGE + 0x44)).toBe(mfns[k]! * PAGE + 0x44));
    for (const gfn of [0, 1, 1023, 1028, 1029, 2047, 2049]) expect(ept.translate(gfn * PAGE)).toBe(-1);
    // the directory: slots 1 and 2 present, 0 and 3 not
    expect([0, 1, 2, 3].map((k) => hv.mem.read32(ept.root + k * 4) & 1)).toEqual([0, 1, 1, 0]);
    // a hole's entry in a table is zero (never a frame)
    const table1 = hv.mem.read32(ept.root + 4) & ~0xfff;
    expect(hv.mem.read32(table1 + 4 * 4)).toBe(0);
    expect(ept.setWritable(1028, false)).toBe(false);
    expect(ept.setWritable(5, false)).toBe(false);
    expect(ept.setWritable(1025, false)).toBe(true);
    expect(hv.mem.read32(table1 + 4) & 3).toBe(1);
    expect(ept.translate(1025 * PAGE)).toBe(mfns[1]! * PAGE);
    expect(ept.setWritable(1025, true)).toBe(true);
    expect(hv.mem.read32(table1 + 4)).toBe((mfns[1]! * PAGE) | 3);
    ept.destroy();
    expect(hv.frames.freeFrames).toBe(free);
  });

  it('translate and setWritable never follow an absent directory entry, whatever frame 0 holds', () => {
    const hv = new Hypervisor({ memoryBytes: 16 * MiB });
    const p2m = new Int32Array(2048).fill(-1);
    p2m[1024] = hv.frames.alloc(7);
    const ept = new Ept(hv, p2m);
    // frame 0 (the hypervisor's, what an absent entry's zero frame field names) made to look like a table
    for (let k = 0; k < 8; k++) hv.mem.write32(k * 4, (0x123000 | 3) >>> 0);
    expect(ept.translate(3 * PAGE)).toBe(-1);
    expect(ept.setWritable(3, true)).toBe(false);
    expect(hv.mem.read32(3 * 4)).toBe(0x123003);
    hv.mem.fill(0, 32, 0);
  });

  it('a domain with two vCPUs: one second stage for both, a VMCS each, vCPU 1 down until its guest starts it', () => {
    const hv = new Hypervisor({ memoryBytes: 16 * MiB });
    const d = hv.createDomain(new HvmMode({ mmu: 'ept' }), { name: 'd', memoryBytes: 2 * MiB, vcpus: 2 });
    const [v0, v1] = d.vcpus as [Vcpu, Vcpu];
    expect(hvmVcpu(v0).vmcs.eptRoot).toBe(hvmDomain(d).ept!.root);
    expect(hvmVcpu(v1).vmcs.eptRoot).toBe(hvmDomain(d).ept!.root);
    expect(hvmVcpu(v1).vmcs).not.toBe(hvmVcpu(v0).vmcs);
    expect([v0.up, v0.runState, v1.up, v1.runState]).toEqual([true, 'runnable', false, 'blocked']);
    // a down vCPU is never woken (an interrupt for it waits for its start-up)
    hv.wake(v1);
    expect(v1.runState).toBe('blocked');
    expect(d.devices!.apics).toHaveLength(2);
  });

  it('runHvmMode reserves what the second stage or a shadow needs beyond the guest, whichever is more', () => {
    const r = runHvm(printer('A', 2));
    expect(r.output).toBe('AA');
    // the guest's memory is small: the shadow's directory and 4 tables outnumber the second stage
    expect(r.hypervisor.frames.freeFrames).toBe(1 + 4 - eptFramesFor(GUEST_MEMORY));
    // frame 0 and the larger of the second stage (directory + 1 table) and a shadow (directory + 4 tables)
    expect(hvmReserveBytes(4 * MiB)).toBe((1 + 1 + 4) * PAGE);
    expect(hvmReserveBytes(64 * MiB)).toBe((1 + 1 + 16) * PAGE);
  });
});

describe('isolation: an access outside the domain memory is an EPT violation that kills only that domain', () => {
  /** A domain of 2 MiB running `body` next to a printer domain; the hypervisor run to the end. */
  function nextToPrinter(body: string) {
    const hv = new Hypervisor({ memoryBytes: 16 * MiB, scheduler: new RoundRobinScheduler(100_000) });
    const mode = new HvmMode({ mmu: 'ept' });
    const bad = hv.createDomain(mode, { name: 'bad', memoryBytes: 2 * MiB }, { image: guestImage(body) });
    const good = hv.createDomain(mode, { name: 'good', memoryBytes: 2 * MiB }, { image: printer('B', 10) });
    const goodEpt = hvmDomain(good).ept!;
    const before = hv.mem.u8.slice(goodEpt.root, goodEpt.root + PAGE);
    const res = hv.run({ maxCycles: 50_000_000 });
    expect(res.reason).toBe('all-stopped');
    expect([good.stopReason, good.stopStatus, good.consoleOutput()]).toEqual(['poweroff', 0, 'BBBBBBBBBB']);
    expect(hv.mem.u8.slice(goodEpt.root, goodEpt.root + PAGE)).toEqual(before);
    expect(bad.stopReason).toBe('crashed');
    expect(bad.stats.cpuExits[Exit.EptViolation]).toBe(1);
    return bad;
  }

  it('a store beyond the memory (where the bare machine has open bus)', () => {
    const body = `
test_main:
        li      r2, 'a'
        outb    UART_DATA, r2
        li      r1, 0x300000
        li      r2, 0x1234
        stw     [r1], r2
        ldw     r1, [r1]
        call    puthex
        li      r0, 0
        ret
`;
    // the bare machine of 2 MiB drops the store and reads all ones
    expect(runNative(guestImage(body), { memoryBytes: 2 * MiB }).output).toBe('affffffff');
    const bad = nextToPrinter(body);
    expect(bad.consoleOutput()).toBe('a');
    expect(bad.stopDetail).toMatch(/^guest-physical address 0x00300000 lies outside the domain's memory \(512 frames\) at pc 0x[0-9a-f]{8} \(EPT violation, write\)$/);
  });

  it("the guest's own page table mapping a page beyond its memory", () => {
    const bad = nextToPrinter(`
test_main:
        call    paging_on               ; identity-maps 4 MiB: half of it is not the domain's
        li      r1, 0x3ff000
        ldw     r1, [r1]
        li      r0, 0
        ret
`);
    expect(bad.stopDetail).toMatch(/^guest-physical address 0x003ff000 lies outside .* \(EPT violation, read\)$/);
  });

  it('a page directory beyond its memory: the guest page walk itself faults in the second stage', () => {
    const bad = nextToPrinter(`
test_main:
        li      r1, 0x800000
        movcr   cr3, r1
        li      r1, 3
        movcr   cr0, r1
        li      r0, 0
        ret
`);
    expect(bad.stopDetail).toMatch(/^guest-physical address 0x00800[0-9a-f]{3} lies outside /);
  });

  it('an event delivery onto a stack beyond its memory', () => {
    const bad = nextToPrinter(`
test_main:
        li      sp, 0x300000
        int     0x80
        li      r0, 0
        ret
`);
    expect(bad.stopDetail).toMatch(/^guest-physical address 0x002fff[0-9a-f]{2} lies outside .* \(EPT violation, write\)$/);
  });
});
