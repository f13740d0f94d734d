// The hostile-guest fuzzing of fuzz-trap.test.ts under hvm mode on shadow paging with the caching
// shadow (`--mmu shadow --shadow traced`): the same generator (its kernels turn paging on through
// their own tables and write them at random) and the same invariants (no hypervisor crash, one
// owner per frame, no shadow entry outside the domain's frames, everything given back, the other
// domain's output as alone), the shadow's events reaching the monitor as CR3-load, INVLPG and
// page-fault exits. 12 runs here; 150 in fuzz-hvm-traced.deep.test.ts.
import { HvmMode } from '../../hypervisor/hvm/index.ts';
import { hvmPairSlices, shadowFuzzSuite, tableWritingArb } from './fixtures/hostile.ts';

shadowFuzzSuite('hvm mode on shadow paging, traced shadow: a hostile guest next to a well-behaved one', () => new HvmMode({ mmu: 'shadow', shadow: 'traced' }), 12, tableWritingArb, hvmPairSlices());
