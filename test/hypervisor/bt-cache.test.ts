// The bound on binary translation's cache (issue 9, item 3): a small kernel that executes every
// word of its memory - each word a RET, so each is a one-instruction unit - keeps its domain's
// cache within the bound by whole-cache flushes, prints what the bare machine prints, and leaves
// another bt domain's cache alone; the native kernel's suite gives the bare machine's console with
// a cache so small that it is flushed all the time.
import { describe, expect, it } from 'vitest';
import { BtMode, btCache, btStatsSummary, formatBtStats, runBtMode, DEFAULT_CACHE_UNITS, TranslationCache } from '../../hypervisor/bt/index.ts';
import { UNIT_HOST_BYTES, UNIT_HOST_BYTES_PER_INSN, UNIT_MAX_INSNS } from '../../hypervisor/bt/cache.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import type { Image } from '../../machine/image.ts';
import { Machine } from '../../machine/machine.ts';
import { assemble } from '../../toolchain/asm/index.ts';
import { buildNativeKernel, runKernelNatively, runKernelUnder } from './fixtures/native-kernel.ts';

const MEMORY = 1024 * 1024;
/** first and end word of the RET sled */
const SLED = 0x3000;
const SLED_END = 0xf0000;
const SLED_WORDS = (SLED_END - SLED) / 4;

/** Fill [SLED, end) with RET, call every word of it `passes` times, power off with the number of calls. */
function sledKernel(end: number, passes: number): Image {
  return assemble(`
        .arch bare
        .org 0x1000
_start:
        li      sp, 0xff000
        li      r1, ${SLED}
        li      r2, ${end}
        li      r5, 0x4d
.Lfill:
        stw     [r1], r5
        addi    r1, r1, 4
        cmp     r1, r2
        jb      .Lfill
        li      r3, 0
        li      r6, ${passes}
.Lpass:
        li      r1, ${SLED}
.Lcall:
        callr   r1
        addi    r3, r3, 1
        addi    r1, r1, 4
        cmp     r1, r2
        jb      .Lcall
        addi    r6, r6, -1
        cmpi    r6, 0
        jne     .Lpass
        li      r5, 0x2e
        outb    0x3f8, r5
        out     0x501, r3
        hlt
`, 'sled.s').image;
}

/** every word of the domain's memory but the kernel's page, its stack and a few spare, twice */
const SLED_KERNEL = sledKernel(SLED_END, 2);

function sledNatively(): { status: number; output: string; instructions: number } {
  const m = new Machine({ memoryBytes: MEMORY });
  m.loadImage(SLED_KERNEL);
  const r = m.run({ maxCycles: 200_000_000 });
  return { status: r.status, output: m.consoleOutput(), instructions: r.instructions };
}

describe('the bt translation cache is bounded per domain', () => {
  it('a kernel that executes every word of its memory stays within the bound, by whole-cache flushes, and runs as on the bare machine', () => {
    const native = sledNatively();
    expect(native.status).toBe(2 * SLED_WORDS);
    const bound = 4096;
    const hv = new Hypervisor({ memoryBytes: 2 * MEMORY + 64 * 4096 });
    const d = hv.createDomain(new BtMode({ cacheUnits: bound }), { name: 'sled', memoryBytes: MEMORY }, { image: SLED_KERNEL });
    const cache = btCache(d);
    for (let k = 0; k < 4000 && !d.stopped; k++) {
      hv.run({ maxCycles: 500_000 });
      expect(cache.size).toBeLessThanOrEqual(bound);
      expect(cache.estimatedBytes).toBeLessThanOrEqual(bound * (UNIT_HOST_BYTES + UNIT_HOST_BYTES_PER_INSN * UNIT_MAX_INSNS));
    }
    expect([d.stopReason, d.stopStatus, d.consoleOutput()]).toEqual(['poweroff', native.status, native.output]);
    const s = btStatsSummary(d);
    // every sled word is a unit of its own, translated again on the second pass (the first pass's
    // units were flushed long before); plus the kernel's own few units, re-translated after each flush
    expect(s.translations - s.flushedUnits - s.cacheUnits).toBe(0);
    expect(s.flushes).toBe(Math.floor((s.translations - 1) / bound));
    expect(s.translations).toBeGreaterThan(2 * SLED_WORDS);
    expect(s.invalidations).toBe(0);
    expect(formatBtStats(d)).toContain(`translation cache: ${s.cacheUnits} of at most ${bound} units, about ${Math.ceil(cache.estimatedBytes / 1024)} KiB of host heap (estimated); ${s.flushes} flushes when full`);
  });

  it('the default bound holds too, and a flush in one domain leaves the other domain\'s cache alone', () => {
    const hv = new Hypervisor({ memoryBytes: 3 * MEMORY + 128 * 4096, scheduler: new RoundRobinScheduler(50_000) });
    const mode = new BtMode();
    const words = 2 * DEFAULT_CACHE_UNITS + 100;
    const sled = hv.createDomain(mode, { name: 'sled', memoryBytes: MEMORY }, { image: sledKernel(SLED + 4 * words, 1) });
    const small = hv.createDomain(mode, { name: 'small', memoryBytes: MEMORY }, { image: sledKernel(SLED + 64, 2) });
    hv.run({ maxCycles: 2_000_000_000 });
    expect([sled.stopReason, sled.stopStatus]).toEqual(['poweroff', words]);
    expect([small.stopReason, small.stopStatus]).toEqual(['poweroff', 2 * 16]);
    expect(btCache(sled).size).toBeLessThanOrEqual(DEFAULT_CACHE_UNITS);
    const s = btStatsSummary(sled);
    expect(s.cacheBoundUnits).toBe(DEFAULT_CACHE_UNITS);
    expect(s.flushes).toBe(Math.floor((s.translations - 1) / DEFAULT_CACHE_UNITS));
    expect(s.flushes).toBeGreaterThan(0);
    expect(btStatsSummary(small)).toMatchObject({ flushes: 0, flushedUnits: 0 });
  });

  it('the native kernel\'s suite gives the bare machine\'s console with a cache of 8 units, flushed all the time', () => {
    const opts = { cmdline: 'usertests getpid forkwait cow pipe execargs userfault critical-popf' };
    const native = runKernelNatively(opts);
    const bt = runKernelUnder((boot, o) => runBtMode(boot, { ...o, bt: { cacheUnits: 8 } }), opts);
    expect(bt.output).toBe(native.output);
    expect(bt.output).toMatch(/^usertests: 7 passed, 0 failed$/m);
    const s = btStatsSummary(bt.domain);
    expect(s.cacheUnits).toBeLessThanOrEqual(8);
    expect(s.flushes).toBe(Math.floor((s.translations - 1 - s.invalidations) / 8));
  });

  it('refuses a bound that is not a positive whole number of units', () => {
    const m32 = new Int32Array(1024);
    for (const bad of [0, -1, 1.5, NaN]) expect(() => new TranslationCache(m32, new Uint8Array(1), bad)).toThrow(/the bound must be a positive whole number of units/);
  });
});

buildNativeKernel();
