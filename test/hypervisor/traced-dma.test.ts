// A device's DMA into a page table the traced shadow (`--shadow traced`) write-protects: the
// guest reads a disk block over the upper part of its own page table (X's entry changed in the
// block), waits for the completion, reloads CR3 as a kernel must after changing a mapping, and
// reads X. The CPU's stores to a traced table fault; the disk's do not, so the DMA path reports
// them (PhysicalMemory.tracedTables, TracedShadowMmu.hostWrite) and the table goes out of sync as
// at a trace fault. Without that the kept shadow still maps X to its old page and the guest reads
// it after the CR3 load, where the bare machine walks the new entry. Each run is checked against
// the native run of the same guest (console, and the faults it reports) under trap, bt and hvm
// on shadow paging.
import { describe, expect, it } from 'vitest';
import { runBtMode } from '../../hypervisor/bt/index.ts';
import { runHvmMode } from '../../hypervisor/hvm/index.ts';
import type { GuestRunOptions, GuestRunResult } from '../../hypervisor/run.ts';
import { runTrapMode } from '../../hypervisor/trap/index.ts';
import { Machine } from '../../machine/machine.ts';
import { X } from './fixtures/traced-guests.ts';
import { GUEST_MEMORY, guestImage } from './trap-harness.ts';

const XVA = 0x003f7000;
const BVA = 0x003f6000;
/** the disk block lands on the page table's entries 0x380..0x3ff (the last 512 bytes of the table) */
const FIRST = 0x380;

/** A disk whose sector 0 holds page-table entries FIRST.. as paging_on writes them (identity, P|W|U), with X's replaced by `xEntry`. */
function disk(xEntry: number): Uint8Array {
  const d = new Uint8Array(4096);
  const v = new DataView(d.buffer);
  for (let k = 0; k < 128; k++) v.setUint32(k * 4, ((FIRST + k) << 12) | 7, true);
  v.setUint32(((XVA >>> 12) - FIRST) * 4, xEntry, true);
  return d;
}

/** dma_read: read sector 0 by DMA to r1 and wait for its completion (polling, interrupts off). */
const DMA_READ = `
        .func dma_read
dma_read:
        li      r2, 0
        out     0x1f0, r2               ; BLK_SECTOR
        li      r2, 1
        out     0x1f1, r2               ; BLK_COUNT
        out     0x1f2, r1               ; BLK_ADDR: the page table itself
        li      r2, 1 | (5 << 8)
        out     0x1f3, r2               ; BLK_COMMAND: read, tag 5
        li      r4, 0xffffffff
.Lwait:
        in      r3, 0x1f5               ; BLK_COMPLETE
        cmp     r3, r4
        jeq     .Lwait
        ret
        .endfunc
`;

/** readx (X traced: its table is), the disk read over page_table's upper half, CR3 reload, readx. */
const DMA_INTO_TABLE = `
test_main:
        call    paging_on
        call    seed
        call    readx                   ; A: page_table is traced now
        li      r1, page_table + ${FIRST * 4}
        call    dma_read                ; X -> B, written by the disk
        li      r1, page_directory
        movcr   cr3, r1                 ; the kernel's flush after changing a mapping
        call    readx                   ; natively B
        call    putnl
        li      r0, 0
        ret
${DMA_READ}${X}`;

/** Space 2 (X -> B) loaded and read (page_table2 traced), back in space 1 the disk rewrites page_table2's X -> A, space 2 again. */
const DMA_OTHER_SPACE = `
test_main:
        call    paging_on
        call    seed
        call    space2
        li      r1, page_directory2
        movcr   cr3, r1
        call    readx                   ; B, and page_table2 is traced
        li      r1, page_directory
        movcr   cr3, r1
        li      r1, page_table2 + ${FIRST * 4}
        call    dma_read                ; space 2: X -> A again, written by the disk
        li      r1, page_directory2
        movcr   cr3, r1
        call    readx                   ; natively A: space 2's kept shadow must not be used as it was
        call    putnl
        li      r0, 0
        ret
${DMA_READ}${X}`;

type Runner = (opts: GuestRunOptions) => GuestRunResult;
const MODES: [string, Runner][] = [
  ['trap', (o) => runTrapMode(image, { ...o, trap: { shadow: 'traced' } })],
  ['bt', (o) => runBtMode(image, { ...o, bt: { shadow: 'traced' } })],
  ['hvm', (o) => runHvmMode(image, { ...o, profile: 'p4-2006-vtx', hvm: { mmu: 'shadow', shadow: 'traced' } })],
];
const images = new Map<string, ReturnType<typeof guestImage>>();
/** each body assembled once */
const imageOf = (body: string) => images.get(body) ?? images.set(body, guestImage(body)).get(body)!;
let image = imageOf(DMA_INTO_TABLE);

function native(d: Uint8Array): string {
  const m = new Machine({ memoryBytes: GUEST_MEMORY, disk: d });
  m.loadImage(image);
  m.run({ maxCycles: 50_000_000 });
  return m.consoleOutput();
}

function check(body: string, d: Uint8Array, expected: string): void {
  image = imageOf(body);
  const want = native(d);
  expect(want).toBe(expected);
  for (const [mode, run] of MODES) {
    const r = run({ memoryBytes: GUEST_MEMORY, maxCycles: 50_000_000, disk: d });
    expect([mode, r.output]).toEqual([mode, want]);
    // the disk's write reached the tracer once: the table went out of sync without a trace fault
    expect([mode, r.domain.stats.traceDmaWrites, r.domain.stats.traceFaults]).toEqual([mode, 1, 0]);
  }
}

describe('DMA into a traced page table (--shadow traced: trap, bt, hvm on shadow paging)', () => {
  it('a disk block read over the current space traced table: the mapping the DMA wrote is seen after the CR3 load, as natively', () => {
    check(DMA_INTO_TABLE, disk(BVA | 7), 'aaaaaaaa bbbbbbbb \n');
  });

  it('the DMA unmaps X: the page fault after the CR3 load is the native one (the same frame reported)', () => {
    image = imageOf(DMA_INTO_TABLE);
    const want = native(disk(0));
    // the prelude's trap_entry reports vector 14, error 0 (not present, read, supervisor) at readx's load, cr2 = X
    expect(want).toMatch(/^aaaaaaaa trap 0000000e 00000000 [0-9a-f]{8} 00000000 [0-9a-f]{8} [0-9a-f]{8} 003f7000\n$/);
    check(DMA_INTO_TABLE, disk(0), want);
  });

  it("a disk block read over another space's traced table: that space's kept shadow is not used stale when it is loaded again", () => {
    check(DMA_OTHER_SPACE, disk(XVA | 7), 'bbbbbbbb aaaaaaaa \n');
  });

  it('DMA into a page that is not a traced table is not reported (trap)', () => {
    // the same read into B's page (data, never a table): no write is reported, the console is native's
    const body = DMA_INTO_TABLE.replace(`li      r1, page_table + ${FIRST * 4}`, `li      r1, ${BVA}`);
    image = imageOf(body);
    const d = disk(BVA | 7);
    const want = native(d);
    expect(want).toBe('aaaaaaaa aaaaaaaa \n');
    const r = MODES[0]![1]({ memoryBytes: GUEST_MEMORY, maxCycles: 50_000_000, disk: d });
    expect([r.output, r.domain.stats.traceDmaWrites]).toEqual([want, 0]);
  });
});
