// The hypervisor core: the machine-frame allocator, guest-physical memory through the p2m,
// domain creation and destruction, the boot loader's domain form, the round-robin scheduler, and
// the outer exit loop driven by a scripted mode (the Mode contract every mode implements).
import { describe, expect, it } from 'vitest';
import { Hypervisor, DomainCreateError } from '../../hypervisor/core/hypervisor.ts';
import { FrameAllocator, OutOfFramesError, OWNER_FREE, OWNER_HYPERVISOR } from '../../hypervisor/core/frames.ts';
import { GuestMemory } from '../../hypervisor/core/guest-memory.ts';
import { loadBoot } from '../../hypervisor/core/loader.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { Vcpu } from '../../hypervisor/core/vcpu.ts';
import { bootNative, BOOT_INFO_ADDR } from '../../hypervisor/boot/native.ts';
import { Machine } from '../../machine/machine.ts';
import { MemoryRangeError, PhysicalMemory } from '../../machine/memory.ts';
import { ImageArch } from '../../machine/image.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import { TrapMode } from '../../hypervisor/trap/index.ts';
import { ScriptMode } from './core-harness.ts';

const MiB = 1024 * 1024;

describe('FrameAllocator', () => {
  it('hands out frames in ascending order above the reserved ones and records the owner', () => {
    const fa = new FrameAllocator(64 * 4096, 4);
    expect(fa.freeFrames).toBe(60);
    expect([fa.alloc(7), fa.alloc(7), fa.alloc(OWNER_HYPERVISOR)]).toEqual([4, 5, 6]);
    expect(Array.from(fa.owner.subarray(0, 8))).toEqual([OWNER_HYPERVISOR, OWNER_HYPERVISOR, OWNER_HYPERVISOR, OWNER_HYPERVISOR, 7, 7, OWNER_HYPERVISOR, OWNER_FREE]);
    expect(fa.countOwned(7)).toBe(2);
  });

  it('refuses to release a frame on behalf of someone who does not own it', () => {
    const fa = new FrameAllocator(16 * 4096, 1);
    const f = fa.alloc(1);
    expect(() => fa.release(f, 2)).toThrow(/not owned by 2/);
    fa.release(f, 1);
    expect(() => fa.release(f, 1)).toThrow(/not owned by 1/);
  });

  it('allocMany takes nothing when it cannot take everything; released frames are reused first', () => {
    const fa = new FrameAllocator(8 * 4096, 1);
    expect(() => fa.allocMany(3, 8)).toThrow(OutOfFramesError);
    expect(fa.freeFrames).toBe(7);
    const got = fa.allocMany(3, 3);
    expect(Array.from(got)).toEqual([1, 2, 3]);
    fa.release(2, 3);
    expect(fa.alloc(4)).toBe(2);
    expect(fa.releaseAll(3)).toBe(2);
    expect(fa.freeFrames).toBe(6);
  });

  it('allocMany says which frames were handed out before (they may hold an owner\'s data) and which never were', () => {
    const fa = new FrameAllocator(8 * 4096, 1);
    const dirty = new Uint8Array(4).fill(7);
    expect(Array.from(fa.allocMany(3, 2, dirty))).toEqual([1, 2]);
    expect(Array.from(dirty.subarray(0, 2))).toEqual([0, 0]);
    fa.release(2, 3);
    expect(fa.alloc(4)).toBe(2); // handed out again: no longer pristine
    fa.release(2, 4);
    fa.release(1, 3);
    // LIFO: 1 then 2 (both used before), then 3 and 4 (never)
    expect(Array.from(fa.allocMany(5, 4, dirty))).toEqual([1, 2, 3, 4]);
    expect(Array.from(dirty)).toEqual([1, 1, 0, 0]);
  });
});

describe('GuestMemory (guest-physical memory through the p2m)', () => {
  const mem = new PhysicalMemory(16 * 4096);
  // guest frames 0..3 live in machine frames 9, 5, 12, 2: not contiguous, not in order
  const gm = new GuestMemory(mem, Int32Array.from([9, 5, 12, 2]));

  it('translates guest-physical to machine addresses, and nothing beyond the quota', () => {
    expect(gm.size).toBe(4 * 4096);
    expect(gm.machineAddress(0x1004)).toBe(5 * 4096 + 4);
    expect(gm.machineAddress(0x3fff)).toBe(2 * 4096 + 0xfff);
    expect(gm.machineAddress(0x4000)).toBe(-1);
  });

  it('writes and reads across a page boundary into two unrelated machine frames', () => {
    const data = Uint8Array.from({ length: 16 }, (_, k) => k + 1);
    expect(gm.writeBytes(0x1ff8, data)).toBe(true);
    expect(Array.from(mem.u8.subarray(5 * 4096 + 0xff8, 5 * 4096 + 0x1000))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(mem.u8.subarray(12 * 4096, 12 * 4096 + 8))).toEqual([9, 10, 11, 12, 13, 14, 15, 16]);
    expect(Array.from(gm.readBytes(0x1ff8, 16)!)).toEqual(Array.from(data));
    expect(gm.read32(0x1ffe)).toBe(0x0a090807);
  });

  it('refuses ranges beyond the quota without writing anything; reads there are open bus', () => {
    expect(gm.writeBytes(0x3ffe, new Uint8Array(4))).toBe(false);
    expect(gm.readBytes(0x3ffe, 4)).toBeNull();
    expect(gm.read8(0x4000)).toBe(0xff);
    expect(gm.read32(0x4000)).toBe(0xffffffff);
    expect(() => gm.loadImage({ entry: 0, arch: ImageArch.Bare, symbols: [], notes: {}, segments: [{ vaddr: 0x3000, paddr: 0x3000, memBytes: 0x2000, flags: 7, data: new Uint8Array(4) }] })).toThrow(
      MemoryRangeError,
    );
  });
});

describe('Hypervisor: domains', () => {
  it('gives a domain its quota of zeroed machine frames, owned by it, and takes them back on destroy', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB });
    const mode = new ScriptMode();
    const d1 = hv.createDomain(mode, { name: 'one', memoryBytes: MiB });
    expect(d1.id).toBe(1);
    expect(d1.quotaFrames).toBe(256);
    expect(d1.p2m[0]).toBe(1); // frame 0 is the hypervisor's
    for (const f of d1.p2m) expect(hv.frames.owner[f]).toBe(d1.id);
    d1.memory.writeBytes(0, new Uint8Array(4096).fill(0xee));
    const frames = Array.from(d1.p2m);
    hv.destroyDomain(d1);
    expect(hv.frames.countOwned(1)).toBe(0);
    expect(hv.domains).toHaveLength(0);
    // the same frames, reused by the next domain, are zero again: nothing leaks between domains
    const d2 = hv.createDomain(mode, { name: 'two', memoryBytes: MiB });
    expect(d2.id).toBe(2);
    expect(Array.from(d2.p2m).sort((a, b) => a - b)).toEqual(frames.sort((a, b) => a - b));
    expect(d2.memory.readBytes(0, 4096)!.every((b) => b === 0)).toBe(true);
    expect(mode.calls).toEqual(['attach', 'create one', 'destroy one', 'create two']);
  });

  it('refuses a domain larger than the free machine memory, or of a size that is not whole pages', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB });
    const mode = new ScriptMode();
    expect(() => hv.createDomain(mode, { name: 'big', memoryBytes: 4 * MiB })).toThrow(DomainCreateError);
    expect(() => hv.createDomain(mode, { name: 'big', memoryBytes: 4 * MiB })).toThrow("domain 'big': 4096 KiB requested, but only 4092 KiB of machine memory is free");
    expect(() => hv.createDomain(mode, { name: 'odd', memoryBytes: 1000 })).toThrow(/multiple of 4 KiB/);
    expect(hv.frames.freeFrames).toBe(1023);
  });

  it('builds a kernel in a domain exactly as the bare boot loader does on a machine of the same size', () => {
    const { kernel, initrd } = buildGuestKernel({ arch: 'native' });
    const m = new Machine({ memoryBytes: 8 * MiB });
    const layout = bootNative(m, { kernel, initrd, cmdline: 'usertests cow' });
    const hv = new Hypervisor({ memoryBytes: 16 * MiB });
    const d = hv.createDomain(new ScriptMode(), { name: 'k', memoryBytes: 8 * MiB });
    const v = d.vcpus[0]!;
    expect(loadBoot(d, v, { kernel, initrd, cmdline: 'usertests cow' })).toEqual(layout);
    expect(Array.from(d.memory.readBytes(BOOT_INFO_ADDR, 4096)!)).toEqual(Array.from(m.mem.u8.subarray(BOOT_INFO_ADDR, BOOT_INFO_ADDR + 4096)));
    expect(Array.from(d.memory.readBytes(layout.initrdAddr, initrd.length)!)).toEqual(Array.from(initrd));
    expect(v.arch.pc).toBe(kernel.entry);
    expect(v.arch.regs.slice(1, 5)).toEqual(Array.from(m.cpu.regs.subarray(1, 5)));
    expect([v.arch.cpl, v.arch.flags, v.arch.cr0]).toEqual([0, 0, 0]);
  });
});

describe('Hypervisor: a domain that cannot be built', () => {
  it('leaves no frame, domain or scheduler entry behind (here: an image larger than its memory)', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB });
    const free = hv.frames.freeFrames;
    const image = { entry: 0, arch: ImageArch.Bare, symbols: [], notes: {}, segments: [{ vaddr: 0, paddr: 0, memBytes: 2 * MiB, flags: 7, data: new Uint8Array(4) }] };
    expect(() => hv.createDomain(new TrapMode(), { name: 'big', memoryBytes: MiB }, { image })).toThrow(MemoryRangeError);
    expect(hv.frames.freeFrames).toBe(free);
    expect(hv.domains).toHaveLength(0);
    expect(hv.run().reason).toBe('all-stopped');
  });

  it('trap mode refuses a domain of several vCPUs with traced shadows (they follow one vCPU\'s page-table writes)', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB });
    expect(() => hv.createDomain(new TrapMode({ shadow: 'traced' }), { name: 'smp', memoryBytes: MiB, vcpus: 2 })).toThrow("domain 'smp': traced shadows follow one vCPU's page-table writes; a domain with 2 vCPUs needs --shadow flush");
    expect(hv.frames.freeFrames).toBe(1023);
  });
});

describe('RoundRobinScheduler', () => {
  it('runs the head until its slice is used, then rotates; blocking and waking move vCPUs out and in', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB });
    const d = hv.createDomain(new ScriptMode(), { name: 'd', memoryBytes: 4096 * 4, vcpus: 3 });
    const [a, b, c] = d.vcpus as [Vcpu, Vcpu, Vcpu];
    const s = new RoundRobinScheduler(100);
    s.add(a);
    s.add(b);
    s.add(c);
    expect(s.pick(0)).toBe(a);
    expect(s.budget(a)).toBe(100);
    s.account(a, 60);
    expect(s.pick(0)).toBe(a);
    expect(s.budget(a)).toBe(40);
    s.account(a, 40);
    expect(s.pick(0)).toBe(b);
    s.block(b); // b blocks: c is next, with a whole slice
    expect(s.pick(0)).toBe(c);
    expect(s.budget(c)).toBe(100);
    s.wake(b);
    expect(s.runnable().map((v) => v.label)).toEqual(['d1v2', 'd1v0', 'd1v1']);
    s.remove(c);
    s.remove(a);
    s.remove(b);
    expect(s.pick(0)).toBeNull();
  });
});

describe('Hypervisor: the outer exit loop', () => {
  it('hands I/O exits to the device model, completes an IN at the next run, and stops at shutdown', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB });
    const mode = new ScriptMode();
    const d = hv.createDomain(mode, { name: 'io', memoryBytes: 64 * 1024 });
    mode.scripts.set('d1v0', [
      { cycles: 100, reason: 'io', port: 0x3f8, size: 1, isWrite: true, data: 0x68 },
      { cycles: 100, reason: 'io', port: 0x3f8, size: 1, isWrite: true, data: 0x69 },
      { cycles: 100, reason: 'io', port: 0x3fd, size: 1, isWrite: false, reg: 3 },
      { cycles: 100, reason: 'io', port: 0x9999, size: 4, isWrite: false, reg: 3 },
      { cycles: 100, reason: 'shutdown', data: 4 },
    ]);
    const res = hv.run();
    expect(res.reason).toBe('all-stopped');
    expect(d.consoleOutput()).toBe('hi');
    // LSR: transmitter empty and idle; an unmapped port reads all ones
    expect(mode.completedIns.get('d1v0')).toEqual([0x60, 0xffffffff]);
    expect(d.stopReason).toBe('poweroff');
    expect(d.stopStatus).toBe(4);
    expect(d.stats.loopExits).toMatchObject({ io: 4, shutdown: 1 });
    expect(d.stats.ioByPort()).toEqual([
      { port: 0x3f8, reads: 0, writes: 2 },
      { port: 0x3fd, reads: 1, writes: 0 },
      { port: 0x9999, reads: 1, writes: 0 },
    ]);
    expect(mode.calls).toEqual(['attach', 'create io', 'load d1v0', 'unload d1v0']);
  });

  it('a vCPU exiting with HLT blocks; with nothing left to wake it the run ends in deadlock', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB });
    const mode = new ScriptMode();
    const d = hv.createDomain(mode, { name: 'idle', memoryBytes: 64 * 1024 });
    mode.scripts.set('d1v0', [{ cycles: 10, reason: 'hlt' }]);
    const res = hv.run();
    expect(res.reason).toBe('deadlock');
    expect(d.vcpus[0]!.runState).toBe('blocked');
    expect(d.stopped).toBe(false);
  });

  it('never runs a vCPU past the next device event, and stops at maxCycles', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB });
    const mode = new ScriptMode();
    const d = hv.createDomain(mode, { name: 'long', memoryBytes: 64 * 1024 });
    const fired: number[] = [];
    hv.events.schedule(5000, () => fired.push(hv.cpu.cycles));
    mode.scripts.set('d1v0', [{ cycles: 1_000_000, reason: 'hlt' }]);
    const res = hv.run({ maxCycles: 20_000 });
    expect(res.reason).toBe('limit');
    expect(fired).toEqual([5000]);
    expect(hv.cpu.cycles).toBe(20_000);
    expect(d.stats.loopExits.deadline).toBeGreaterThanOrEqual(2);
  });

  it('time-slices two domains round robin by cycles', () => {
    const hv = new Hypervisor({ memoryBytes: 4 * MiB, scheduler: new RoundRobinScheduler(1000) });
    const mode = new ScriptMode();
    const a = hv.createDomain(mode, { name: 'a', memoryBytes: 64 * 1024 });
    const b = hv.createDomain(mode, { name: 'b', memoryBytes: 64 * 1024 });
    mode.scripts.set('d1v0', [{ cycles: 3000, reason: 'shutdown' }]);
    mode.scripts.set('d2v0', [{ cycles: 3000, reason: 'shutdown' }]);
    expect(hv.run().reason).toBe('all-stopped');
    expect(mode.calls.filter((c) => c.startsWith('load'))).toEqual(['load d1v0', 'load d2v0', 'load d1v0', 'load d2v0', 'load d1v0', 'load d2v0']);
    expect(a.stats.worldSwitches).toBe(3);
    expect(b.stats.worldSwitches).toBe(3);
  });
});
