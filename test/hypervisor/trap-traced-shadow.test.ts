// The caching shadow MMU (`--shadow traced`): a shadow per guest address space, kept across CR3
// loads and kept coherent by tracing the guest's page tables. Every run is checked against the
// native run of the same guest (the oracle), and the mechanism by its events: trace faults (guest
// writes to a traced table), address-space hits and misses at CR3 loads, refills.
import { describe, expect, it } from 'vitest';
import { trapVcpu } from '../../hypervisor/trap/index.ts';
import { TracedShadowMmu } from '../../hypervisor/trap/traced-shadow.ts';
import { guestImage, runNative, runTrap } from './trap-harness.ts';

const X = `
        X = 0x003f7000
        B = 0x003f6000
        .func readx
readx:                                  ; print [X]
        li      r1, X
        ldw     r1, [r1]
        call    puthex
        call    putsp
        ret
        .endfunc
        .func seed
seed:                                   ; [A] = 0xaaaaaaaa, [B] = 0xbbbbbbbb
        li      r1, X
        li      r2, 0xaaaaaaaa
        stw     [r1], r2
        li      r1, B
        li      r2, 0xbbbbbbbb
        stw     [r1], r2
        ret
        .endfunc
        .func space2                    ; page_directory2 -> page_table2 = page_table, but X -> B
space2:
        li      r1, page_table
        li      r2, page_table2
        li      r3, 0
.Lcopy:
        ldw     r4, [r1]
        stw     [r2], r4
        addi    r1, r1, 4
        addi    r2, r2, 4
        addi    r3, r3, 1
        cmpi    r3, 1024
        jlt     .Lcopy
        li      r1, page_table2 + (X >> 12) * 4
        li      r2, B | PTE_P | PTE_W | PTE_U
        stw     [r1], r2
        li      r1, page_directory2
        li      r2, page_table2 | PTE_P | PTE_W | PTE_U
        stw     [r1], r2
        ret
        .endfunc
`;

/** Switch between the two spaces `n` times each way, reading X in each. */
const switches = (n: number) => `
test_main:
        call    paging_on
        call    seed
        call    space2
        li      r7, 0
.Lswitch:
        li      r1, page_directory2
        movcr   cr3, r1
        call    readx
        li      r1, page_directory
        movcr   cr3, r1
        call    readx
        addi    r7, r7, 1
        cmpi    r7, ${n}
        jlt     .Lswitch
        call    putnl
        li      r0, 0
        ret
${X}`;

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
    const { native, trap, shadow } = traced(`
test_main:
        call    paging_on
        call    seed
        call    readx
        li      r1, page_table + (X >> 12) * 4
        li      r2, B | PTE_P | PTE_W | PTE_U
        stw     [r1], r2                ; X -> B, no INVLPG
        li      r1, page_table + (X >> 12) * 4 + 4
        stw     [r1], r2                ; a second write to the same table: no fault
        call    readx
        li      r1, X
        invlpg  r1
        call    readx
        call    putnl
        li      r0, 0
        ret
${X}`);
    expect(native.output).toBe('aaaaaaaa aaaaaaaa bbbbbbbb \n');
    expect(trap.domain.stats.traceFaults).toBe(1);
    expect(trap.domain.stats.shadowInvlpgs).toBe(1);
    // page_directory is still traced; page_table is out of sync until the next CR3 load
    expect(shadow.framesTraced).toBe(1);
  });

  it("a write to another space's traced table is seen when that space is loaded again (the load drops what was derived from it)", () => {
    const { native, trap } = traced(`
test_main:
        call    paging_on
        call    seed
        call    space2
        li      r1, page_directory2
        movcr   cr3, r1
        call    readx                   ; B, and page_table2 is traced
        li      r1, page_directory
        movcr   cr3, r1
        li      r1, page_table2 + (X >> 12) * 4
        li      r2, X | PTE_P | PTE_W | PTE_U
        stw     [r1], r2                ; space 2: X -> A again, written from space 1
        li      r1, page_directory2
        movcr   cr3, r1
        call    readx                   ; A
        call    putnl
        li      r0, 0
        ret
${X}`);
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
