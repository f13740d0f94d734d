// The hostile-guest fuzzing of fuzz-hvm-traced.test.ts, 150 runs (npm run test:deep): hvm mode on
// shadow paging with the caching shadow, the same invariants as under trap mode.
import { HvmMode } from '../../hypervisor/hvm/index.ts';
import { hvmPairSlices, shadowFuzzSuite, tableWritingArb } from './fixtures/hostile.ts';

shadowFuzzSuite('hvm mode on shadow paging, traced shadow (deep): a hostile guest next to a well-behaved one', () => new HvmMode({ mmu: 'shadow', shadow: 'traced' }), 150, tableWritingArb, hvmPairSlices());
