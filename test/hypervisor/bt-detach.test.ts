// A hypervisor that outlives its bt domains keeps nothing of them: destroying a bt domain takes
// the CPU's code-store marks of its frames away (whoever gets the frames next stores into them as
// into any frame), and a bt mode whose last domain is gone leaves the CPU's list of bt modes, so
// its hooks are called no more and nothing holds it (one mode object per domain, as callers make
// them, no longer piles up on a long-lived hypervisor).
import { describe, expect, it } from 'vitest';
import { BtMode, btCache, btModesOn } from '../../hypervisor/bt/mode.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import type { Domain } from '../../hypervisor/core/domain.ts';
import { TrapMode } from '../../hypervisor/trap/mode.ts';
import { GUEST_MEMORY, guestImage } from './trap-harness.ts';

const LOOP = `
test_main:
        li      r3, 50
.Lloop:
        call    bump
        addi    r3, r3, -1
        cmpi    r3, 0
        jgt     .Lloop
        li      r0, 0
        ret
bump:
        addi    r4, r4, 1
        ret
`;

const RESERVE = 2 * 1024 * 1024;

function boot(hv: Hypervisor, mode: BtMode | TrapMode, name: string): Domain {
  return hv.createDomain(mode, { name, memoryBytes: GUEST_MEMORY }, { image: guestImage(LOOP) });
}

/** The machine frames of `d` the CPU marks for the code-store hook. */
function marked(hv: Hypervisor, d: Domain): number[] {
  return [...d.memory.p2m].filter((f) => hv.cpu.codeFrameMarked(f));
}

describe('a destroyed bt domain leaves nothing on its hypervisor', () => {
  it('its frames lose their code-store marks; a live bt domain keeps its own', () => {
    const hv = new Hypervisor({ memoryBytes: 3 * GUEST_MEMORY + RESERVE });
    const a = boot(hv, new BtMode(), 'a');
    const b = boot(hv, new BtMode(), 'b');
    const r = hv.run({ maxCycles: 50_000_000 });
    expect(r.reason).toBe('all-stopped');
    expect([a.stopReason, b.stopReason]).toEqual(['poweroff', 'poweroff']);
    expect(btCache(a).stats.translations).toBeGreaterThan(0);
    const aFrames = marked(hv, a);
    const bFrames = marked(hv, b);
    expect(aFrames.length).toBeGreaterThan(0);
    expect(bFrames.length).toBe(aFrames.length);
    hv.destroyDomain(a);
    expect(aFrames.filter((f) => hv.cpu.codeFrameMarked(f))).toEqual([]);
    expect(marked(hv, b)).toEqual(bFrames);
  });

  it('a bt mode leaves the CPU list when its last domain is destroyed, not before, and comes back with a new one', () => {
    const hv = new Hypervisor({ memoryBytes: 3 * GUEST_MEMORY + RESERVE });
    const shared = new BtMode();
    const other = new BtMode();
    /** the CPU's bt modes by name (compared as names: a failing match prints no mode's whole state) */
    const listed = (): string[] => btModesOn(hv.cpu).map((m) => (m === shared ? 'shared' : m === other ? 'other' : 'another'));
    const a = boot(hv, shared, 'a');
    const b = boot(hv, shared, 'b');
    const c = boot(hv, other, 'c');
    expect(listed()).toEqual(['shared', 'other']);
    hv.run({ maxCycles: 50_000_000 });
    hv.destroyDomain(a);
    expect(listed()).toEqual(['shared', 'other']);
    hv.destroyDomain(b);
    expect(listed()).toEqual(['other']);
    // attached again with a new domain: it runs as the first did, and is listed again
    const d = boot(hv, shared, 'd');
    expect(listed()).toEqual(['other', 'shared']);
    hv.run({ maxCycles: 50_000_000 });
    expect([d.stopReason, d.stopStatus]).toEqual(['poweroff', 0]);
    expect(btCache(d).stats.translations).toBeGreaterThan(0);
    expect(marked(hv, d).length).toBeGreaterThan(0);
    hv.destroyDomain(c);
    hv.destroyDomain(d);
    expect(listed()).toEqual([]);
  });

  it('a trap domain on the frames a bt domain had runs with no code-store mark on them', () => {
    const hv = new Hypervisor({ memoryBytes: GUEST_MEMORY + RESERVE });
    const a = boot(hv, new BtMode(), 'a');
    hv.run({ maxCycles: 50_000_000 });
    const held = marked(hv, a);
    expect(held.length).toBeGreaterThan(0);
    hv.destroyDomain(a);
    const t = boot(hv, new TrapMode(), 't');
    // the allocator gave the trap domain the frames the bt domain's code was in
    expect(held.every((f) => t.memory.p2m.includes(f))).toBe(true);
    hv.run({ maxCycles: 50_000_000 });
    expect([t.stopReason, t.stopStatus]).toEqual(['poweroff', 0]);
    expect(marked(hv, t)).toEqual([]);
    expect(btModesOn(hv.cpu).length).toBe(0);
  });
});
