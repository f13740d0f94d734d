// The caching shadow MMU (`--shadow traced`): a shadow per guest address space, kept across CR3
// loads and kept coherent by tracing the guest's page tables. Every run is checked against the
// native run of the same guest (the oracle), and the mechanism by its events: trace faults (guest
// writes to a traced table), address-space hits and misses at CR3 loads, refills.
import { describe, expect, it } from 'vitest';
import { trapVcpu } from '../../hypervisor/trap/index.ts';
import { TracedShadowMmu } from '../../hypervisor/trap/traced-shadow.ts';
import { switches, WRITE_OTHER_SPACE, WRITE_TRACED_TABLE } from './fixtures/traced-guests.ts';
import { guestImage, runNative, runTrap } from './trap-harness.ts';

function traced(body: string) {
  const image = guestImage(body);
  const native = runNative(image);
  const trap = runTrap(image, { trap: { shadow: 'traced' } });
  const flush = runTrap(image);
  expect(trap.output).toBe(native.output);
  expect(flush.output).toBe(native.output);
  return { native, trap, flush, shadow: trapVcpu(trap.domain.vcpus[0]!).shadow as TracedShadowMmu };
}

describe('trap mode: the traced (caching) shadow MMU', () => {
  it('switching between two address spaces keeps both shadows: refills do not grow with the switches, every load after the first of each space is a hit', () => {
    const one = traced(switches(1));
    const ten = traced(switches(10));
    expect(ten.native.output).toBe(`${'bbbbbbbb aaaaaaaa '.repeat(10)}\n`);
    const s1 = one.trap.domain.stats;
    const s10 = ten.trap.domain.stats;
    // 9 more round trips: 18 more CR3 loads, all hits; not one more hidden fault
    expect(s10.shadowSpaceHits - s1.shadowSpaceHits).toBe(18);
    expect(s10.shadowSpaceMisses).toBe(s1.shadowSpaceMisses);
    expect(s10.hiddenFaults).toBe(s1.hiddenFaults);
    expect(ten.shadow.spacesKept).toBe(2);
    // the flushing shadow refills X, the code and the stack after every load
    const f1 = one.flush.domain.stats;
    const f10 = ten.flush.domain.stats;
    expect(f10.shadowFlushes - f1.shadowFlushes).toBe(18);
    expect(f10.hiddenFaults - f1.hiddenFaults).toBeGreaterThanOrEqual(18 * 3);
    expect(s1.traceFaults).toBe(s10.traceFaults);
  });

  it('a write to a traced table faults once and the frame goes out of sync: the change is invisible until INVLPG, as natively', () => {
    const { native, trap, shadow } = traced(WRITE_TRACED_TABLE);
    expect(native.output).toBe('aaaaaaaa aaaaaaaa bbbbbbbb \n');
    expect(trap.domain.stats.traceFaults).toBe(1);
    expect(trap.domain.stats.shadowInvlpgs).toBe(1);
    // page_directory is still traced; page_table is out of sync until the next CR3 load
    expect(shadow.framesTraced).toBe(1);
  });

  it("a write to another space's traced table is seen when that space is loaded again (the load drops what was derived from it)", () => {
    const { native, trap } = traced(WRITE_OTHER_SPACE);
    expect(native.output).toBe('bbbbbbbb aaaaaaaa \n');
    expect(trap.domain.stats.traceFaults).toBe(1);
  });

  it('gives its frames back when the domain goes', () => {
    const { trap, shadow } = traced(switches(2));
    expect(shadow.framesHeld).toBeGreaterThan(2);
    const hv = trap.hypervisor;
    const before = hv.frames.freeFrames;
    const held = shadow.framesHeld;
    hv.destroyDomain(trap.domain);
    expect(hv.frames.freeFrames - before).toBeGreaterThanOrEqual(held);
  });
});
