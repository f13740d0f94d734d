// VPID (AMD's ASID): on a CPU that tags TLB entries with the guest they belong to, VM entries and
// exits keep the guest's translations; without a tag (first-generation VT-x) both flush the TLB.
// The same guest on the same profile, once tagged and once with the tag forced off.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { HvmMode } from '../../hypervisor/hvm/mode.ts';
import { hvmVcpu } from '../../hypervisor/hvm/state.ts';
import { getProfile } from '../../machine/costs.ts';
import { GUEST_MEMORY, guestImage } from './hvm-harness.ts';

// 20 port writes (each an I/O exit), each after loads from the same two pages
const BODY = `
test_main:
        li      r7, 0
        li      r5, 0x100000
.Lloop:
        ldw     r2, [r5 + 0]
        ldw     r2, [r5 + 4096]
        li      r2, 'x'
        outb    UART_DATA, r2
        addi    r7, r7, 1
        cmpi    r7, 20
        jlt     .Lloop
        li      r0, 0
        ret
`;

function run(profile: string, mmu: 'ept' | 'shadow', untag: boolean) {
  const hv = new Hypervisor({ memoryBytes: 2 * GUEST_MEMORY, profile });
  const d = hv.createDomain(new HvmMode({ mmu }), { name: 'guest', memoryBytes: GUEST_MEMORY }, { image: guestImage(BODY) });
  const vmcs = hvmVcpu(d.vcpus[0]!).vmcs;
  const tag = vmcs.vpid;
  if (untag) vmcs.vpid = 0;
  hv.run({ maxCycles: 50_000_000 });
  return { tag, id: d.id, out: d.consoleOutput(), stop: d.stopReason, exits: hv.cpu.stats.vmExits, misses: hv.cpu.stats.tlbMisses, flushes: hv.cpu.stats.tlbFlushes, cycles: hv.cpu.cycles };
}

describe('VPID-tagged TLB entries', () => {
  it("only the modern profile's CPU has VPID (ASID); hvm tags each domain with its id + 1 there", () => {
    expect(['p4-2003', 'p4-2006-vtx', 'core2-2006-vtx', 'modern'].map((p) => getProfile(p).vpid)).toEqual([false, false, false, true]);
    const r = run('modern', 'ept', false);
    expect(r.tag).toBe(r.id + 1);
    expect(run('p4-2006-vtx', 'shadow', false).tag).toBe(0);
  });

  for (const mmu of ['ept', 'shadow'] as const) {
    it(`${mmu}: tagged, the guest's translations survive its exits; untagged, every entry and exit flushes and the pages are walked again`, () => {
      const tagged = run('modern', mmu, false);
      const untagged = run('modern', mmu, true);
      for (const r of [tagged, untagged]) expect([r.out, r.stop, r.exits]).toEqual(['x'.repeat(20), 'poweroff', tagged.exits]);
      expect(tagged.exits).toBeGreaterThanOrEqual(21);
      // untagged: one flush at each entry and each exit at least
      expect(untagged.flushes).toBeGreaterThanOrEqual(2 * untagged.exits);
      // tagged: no flush from entries and exits (those left are the guest's own CR writes and the world switch)
      expect(tagged.flushes).toBeLessThan(10);
      // after each exit the untagged guest walks its two data pages again at least
      expect(untagged.misses - tagged.misses).toBeGreaterThanOrEqual(2 * 20);
      expect(tagged.cycles).toBeLessThan(untagged.cycles);
    });
  }
});
