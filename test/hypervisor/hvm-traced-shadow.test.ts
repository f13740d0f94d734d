// hvm mode on shadow paging (`--mmu shadow`, first-generation VT-x) with the caching shadow
// (`--shadow traced`): the trap mode's TracedShadowMmu behind CR3-load, INVLPG and page-fault
// exits. A CR3-load exit switches the real CR3 to the space's kept shadow directory; a guest write
// to a traced page table is a page-fault exit (a trace fault). Each run is checked against the
// native run of the same guest (the oracle) and the flushing shadow's, and the mechanism by its
// events: exits by reason, trace faults, address-space hits and misses, refills.
import { describe, expect, it } from 'vitest';
import { hvmVcpu } from '../../hypervisor/hvm/index.ts';
import { TracedShadowMmu } from '../../hypervisor/trap/traced-shadow.ts';
import { Exit } from '../../machine/types.ts';
import { switches, WRITE_OTHER_SPACE, WRITE_TRACED_TABLE } from './fixtures/traced-guests.ts';
import { guestImage, runHvm, runNative } from './hvm-harness.ts';

function traced(body: string) {
  const image = guestImage(body);
  const native = runNative(image);
  const hvm = runHvm(image, { hvm: { mmu: 'shadow', shadow: 'traced' } });
  const flush = runHvm(image, { hvm: { mmu: 'shadow' } });
  expect(hvm.output).toBe(native.output);
  expect(flush.output).toBe(native.output);
  return { native, hvm, flush, s: hvm.domain.stats, shadow: hvmVcpu(hvm.domain.vcpus[0]!).shadow!.shadow as TracedShadowMmu };
}

describe('hvm mode on shadow paging: the traced (caching) shadow MMU', () => {
  it('switching between two address spaces: each CR3 load is one control-register exit that switches shadows; refills do not grow with the switches', () => {
    const one = traced(switches(1));
    const ten = traced(switches(10));
    expect(ten.native.output).toBe(`${'bbbbbbbb aaaaaaaa '.repeat(10)}\n`);
    const [s1, s10] = [one.s, ten.s];
    // paging_on (a CR3 load with paging off, then the CR0 write) and one round trip: 4 exits; the
    // load of the first space is the one miss, every later load a hit
    expect([s1.cpuExits[Exit.CrAccess], s1.shadowSpaceHits, s1.shadowSpaceMisses, s1.shadowFlushes]).toEqual([4, 2, 1, 1]);
    // 9 more round trips: 18 more CR3-load exits, all hits; not one more page-fault exit
    expect(s10.cpuExits[Exit.CrAccess]! - s1.cpuExits[Exit.CrAccess]!).toBe(18);
    expect([s10.shadowSpaceHits - s1.shadowSpaceHits, s10.shadowSpaceMisses, s10.shadowFlushes]).toEqual([18, 1, 1]);
    expect([s1.hiddenFaults, s10.hiddenFaults, s10.cpuExits[Exit.Exception]]).toEqual([16, 16, 16]);
    expect([s1.traceFaults, s10.traceFaults]).toEqual([0, 0]);
    expect(ten.shadow.spacesKept).toBe(2);
    // the flushing shadow drops everything at each load and refills X, the code and the stack
    const [f1, f10] = [one.flush.domain.stats, ten.flush.domain.stats];
    expect(f10.shadowFlushes - f1.shadowFlushes).toBe(18);
    expect(f10.hiddenFaults - f1.hiddenFaults).toBeGreaterThanOrEqual(18 * 3);
    expect(f10.cpuExits[Exit.CrAccess]).toBe(s10.cpuExits[Exit.CrAccess]);
  });

  it('a write to a traced table is one page-fault exit and the frame goes out of sync: the change is invisible until INVLPG, as natively', () => {
    const { native, s, shadow } = traced(WRITE_TRACED_TABLE);
    expect(native.output).toBe('aaaaaaaa aaaaaaaa bbbbbbbb \n');
    expect([s.traceFaults, s.shadowInvlpgs, s.cpuExits[Exit.Invlpg]]).toEqual([1, 1, 1]);
    // the trace fault is a hidden fault (its page-fault exit is resumed, the guest never sees it)
    expect([s.cpuExits[Exit.Exception], s.hiddenFaults, s.trueFaults, s.reflected[14]]).toEqual([13, 13, 0, 0]);
    // page_directory is still traced; page_table is out of sync until the next CR3 load
    expect(shadow.framesTraced).toBe(1);
  });

  it("a write to another space's traced table is seen when that space is loaded again", () => {
    const { native, s } = traced(WRITE_OTHER_SPACE);
    expect(native.output).toBe('bbbbbbbb aaaaaaaa \n');
    expect([s.traceFaults, s.shadowSpaceHits, s.shadowSpaceMisses]).toEqual([1, 3, 1]);
  });

  it('gives its frames back when the domain goes', () => {
    const { hvm, shadow } = traced(switches(2));
    const hv = hvm.hypervisor;
    const before = hv.frames.freeFrames;
    const held = shadow.framesHeld;
    // the first directory and the four reserved spares: the second directory and each space's
    // one table were taken from the spares (one left)
    expect([shadow.spacesKept, shadow.tablesInUse, held]).toEqual([2, 2, 1 + 4]);
    hv.destroyDomain(hvm.domain);
    expect(hv.frames.freeFrames - before).toBe(held + hvm.domain.quotaFrames);
  });
});
