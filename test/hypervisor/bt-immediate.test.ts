// A store into the extension word of a translated long instruction (li's immediate): bt runs the
// new immediate, as the bare machine does. A unit records its instructions' opcode words only and
// checks those before each one runs, so such a store does not drop the unit - harmless while bt
// runs ident instructions with the CPU's own step (it reads the instruction from memory each
// time); a translation that bakes the immediate in must check the extension word too.

import { describe, expect, it } from 'vitest';
import { assemble } from '../../toolchain/asm/index.ts';
import { Machine } from '../../machine/machine.ts';
import { runImageInMode } from '../../hypervisor/index.ts';
import { btCache } from '../../hypervisor/bt/index.ts';

// f returns its li's immediate; after the first call the caller rewrites that immediate to 0x42
const SOURCE = `
        .arch bare
        .org 0x1000
_start:
        li      sp, 0x2000
        li      r5, 3
.Lloop:
        call    f
        mov     r6, r3
        li      r1, f
        li      r2, 0x42
        stw     [r1 + 4], r2
        addi    r5, r5, -1
        cmpi    r5, 0
        jne     .Lloop
        mov     r0, r6
        out     0x501, r0
        hlt
f:
        li      r3, 1
        ret
`;

describe('bt and a rewritten immediate', () => {
  it('runs the new immediate as the bare machine does (the unit is kept: its opcode words did not change)', () => {
    const image = assemble(SOURCE, 'imm.s').image;
    const m = new Machine({});
    m.loadImage(image);
    expect(m.run({ maxCycles: 1_000_000 }).status).toBe(0x42);
    const r = runImageInMode('bt', image, { memoryBytes: 1 << 20, maxCycles: 10_000_000 });
    expect([r.reason, r.status]).toEqual(['poweroff', 0x42]);
    expect([btCache(r.domain).stats.invalidations, btCache(r.domain).stats.translations]).toEqual([0, 5]);
  });
});
