// VPID across domains: two hvm domains time-share one CPU (`modern`: EPT, VPID). Every TLB entry
// belongs to the vCPU tag it was filled under (machine/mmu.ts); a world switch hides the outgoing
// guest's entries instead of flushing them, and its next VM entry brings them back, so a guest
// that runs again finds its translations. Untagged (the VMCS's vpid 0: a CPU without VPID), the
// switch and every entry and exit flush. Each guest stores its own letter at the same address and
// reads it back in a loop, counting the reads that return another value: an entry of the other
// domain's (the same virtual page, another machine frame) would give the other letter.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { HvmMode } from '../../hypervisor/hvm/mode.ts';
import { hvmVcpu } from '../../hypervisor/hvm/state.ts';
import { GUEST_MEMORY, guestImage } from './hvm-harness.ts';

const ROUNDS = 3000;
const SLICE = 5_000;

/** [0x100000] = letter; ROUNDS reads of it, counting those that differ; print the letter, and '!' if any differed */
const body = (letter: string) => `
test_main:
        li      r5, 0x100000
        li      r6, '${letter}'
        stw     [r5], r6
        li      r7, 0
        li      r8, 0
.Lloop:
        ldw     r2, [r5]
        cmp     r2, r6
        jeq     .Lsame
        addi    r8, r8, 1
.Lsame:
        addi    r7, r7, 1
        cmpi    r7, ${ROUNDS}
        jlt     .Lloop
        outb    UART_DATA, r6
        cmpi    r8, 0
        jeq     .Lclean
        li      r1, '!'
        outb    UART_DATA, r1
.Lclean:
        li      r0, 0
        ret
`;

const images = new Map(['A', 'B'].map((l) => [l, guestImage(body(l))]));

function run(tagged: boolean) {
  const hv = new Hypervisor({ memoryBytes: 3 * GUEST_MEMORY, profile: 'modern', scheduler: new RoundRobinScheduler(SLICE) });
  const doms = ['A', 'B'].map((l) => hv.createDomain(new HvmMode({ mmu: 'ept' }), { name: l, memoryBytes: GUEST_MEMORY }, { image: images.get(l)! }));
  const tags = doms.map((d) => hvmVcpu(d.vcpus[0]!).vmcs.vpid);
  if (!tagged) for (const d of doms) hvmVcpu(d.vcpus[0]!).vmcs.vpid = 0;
  hv.run({ maxCycles: 100_000_000 });
  const s = hv.cpu.stats;
  return { tags, out: doms.map((d) => d.consoleOutput()), switches: doms.reduce((n, d) => n + d.stats.worldSwitches, 0), exits: s.vmExits, misses: s.tlbMisses, flushes: s.tlbFlushes, cycles: hv.cpu.cycles };
}

let runs: { on: ReturnType<typeof run>; off: ReturnType<typeof run> } | null = null;
/** both runs, once for the file */
function both() {
  runs ??= { on: run(true), off: run(false) };
  return runs;
}

describe('VPID across domains: two hvm domains on one CPU', () => {
  it("tagged: each domain's entries survive the world switches to the other and back; untagged, every switch-in walks them again", () => {
    const { on, off } = both();
    expect(on.tags).toEqual([2, 3]);
    expect(off.out).toEqual(['A', 'B']);
    expect([on.switches, off.switches]).toEqual([16, 16]);
    // tagged: each guest walks the four pages it touches (code, stack, the IDT it fills, its
    // data) once, whatever runs between its slices; the one flush per world switch is root
    // mode's tag (the switch's CR3 load), none at the entries and exits
    expect([on.misses, on.flushes]).toEqual([8, on.switches]);
    // untagged: a flush at every entry and every exit besides the switch's, and each slice
    // walks the code and data pages again
    expect([off.misses, off.flushes]).toEqual([36, 2 * off.exits + off.switches]);
  });

  it('isolation: a domain never hits an entry tagged for the other (the same virtual page, kept in the TLB across switches)', () => {
    // after its first slice each guest's reads hit the TLB (8 misses above), with the other
    // guest's entry for the same page in the same set: a hit on it would read the other letter
    expect(both().on.out).toEqual(['A', 'B']);
  });
});
