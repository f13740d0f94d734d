// bt's compiled code keeps the translator's page memo (machine/semantics.ts txTlbMemo: the last
// page each kind of access hit, in locals of the function), as the machine's translations do:
// an access to the page the last access of its kind hit takes the remembered entry without
// reading the TLB, and a refill inside the function empties every memo. The simulation is the
// interpreter's either way; only the host's TLB reads differ.
import { describe, expect, it } from 'vitest';
import { BtMode, btCache, btStatsSummary } from '../../hypervisor/bt/index.ts';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { withTranslatorLimits, type Engine } from '../../machine/translator.ts';
import { passesGuest } from './fixtures/bt-small.ts';

/** Boot image in a bt domain on engine (bt compiles a unit at its second entry), counting the compiled code's TLB hit checks. */
function boot(image: ReturnType<typeof passesGuest>, engine: Engine) {
  return withTranslatorLimits({ threshold: 2, unitHeat: 1 }, () => {
    const hv = new Hypervisor({ memoryBytes: 8 * 1024 * 1024, engine });
    const d = hv.createDomain(new BtMode(), { name: 'k', memoryBytes: 4 * 1024 * 1024 }, { image });
    const seen = { finds: 0 };
    if (engine === 'translator') {
      // the context's `find`, which the compiled code takes at its entry
      const ctx = hv.cpu.useTranslator().ctx;
      const find = ctx.find as (t: Int32Array, s: number, g: number) => number;
      ctx.find = (t: Int32Array, s: number, g: number) => {
        seen.finds++;
        return find(t, s, g);
      };
    }
    expect(hv.run({ maxCycles: 50_000_000 }).reason).toBe('all-stopped');
    const h = btCache(d).host;
    return {
      sim: { status: d.stopStatus, output: d.consoleOutput(), cycles: hv.cpu.cycles, instructions: hv.cpu.instructions, bt: btStatsSummary(d), ledger: Array.from(hv.cpu.evCount) },
      finds: seen.finds,
      chainInstructions: h.chainInstructions,
      chainCalls: h.chainCalls,
    };
  });
}

/** The guest on both engines: the same simulation (status 40: every pass ran), and the translator's counts. */
function agreeing(body: string, setup = '') {
  const image = passesGuest(body, { setup, sp: 0x10000, file: 'tlb-memo.s' });
  const i = boot(image, 'interpreter');
  const t = boot(image, 'translator');
  expect(i.sim.status).toBe(40);
  expect(t.sim).toEqual(i.sim);
  return t;
}

describe("bt's compiled code keeps the page memo", () => {
  it('a loop pushing, popping, loading and storing reads the TLB once per kind of access and call, not once per access', () => {
    // per pass four pushes and four pops (the stack page: a kind for reads, one for writes) and
    // two loads of a global (its base loaded by LI in the unit: a kind of its own)
    const t = agreeing(`        push    r1
        push    r2
        push    r1
        push    r2
        pop     r3
        pop     r4
        pop     r3
        pop     r4
        li      r6, 0x20000
        ldw     r5, [r6]
        ldw     r7, [r6 + 4]
        addi    r2, r2, 1`);
    // 38 of the 40 passes in compiled code (10 accesses each, 380 or more TLB reads without the
    // memo); with it each call of the compiled function reads the TLB once per kind of access, 3
    // (the rest: the first passes, before the unit was compiled whole)
    expect(t.chainInstructions).toBeGreaterThanOrEqual(38 * 15);
    expect(t.finds).toBeGreaterThanOrEqual(3 * t.chainCalls);
    expect(t.finds).toBeLessThanOrEqual(3 * t.chainCalls + 10);
    expect(t.finds).toBeLessThan(38 * 10);
  });

  it('a refill inside compiled code empties every memo: a store whose page loads evicted from the TLB walks again, as in the interpreter', () => {
    // each pass stores into 0x48000, then loads from four other pages of the same TLB set (each
    // a refill: the fifth page evicts the first), then stores into 0x48000 again: the TLB misses
    // there and the walk is charged; a memo kept across the refills would hit, and the cycles
    // and the cost ledger differ from the interpreter's
    const t = agreeing(
      `        stw     [r6], r1
        ldw     r5, [r7]
        ldw     r5, [r8]
        ldw     r5, [r9]
        ldw     r5, [r10]
        stw     [r6 + 4], r1
        addi    r2, r2, 1`,
      `        li      r6, 0x48000
        li      r7, 0x88000
        li      r8, 0xc8000
        li      r9, 0x108000
        li      r10, 0x148000`,
    );
    expect(t.chainInstructions).toBeGreaterThan(30 * 9);
    // every pass refills five times, each refill empties the memos: the store after them reads
    // the TLB again (at least once a pass)
    expect(t.finds).toBeGreaterThanOrEqual(40);
  });
});
