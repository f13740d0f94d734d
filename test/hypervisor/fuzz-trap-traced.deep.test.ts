// The hostile-guest fuzzing of fuzz-trap.test.ts with the caching shadow (`--shadow traced`): the
// same invariants (no hypervisor crash, one owner per frame, no shadow entry outside the domain's
// frames, everything given back, the other domain's output as alone), with shadows kept per
// address space and the guest's random page-table writes traced. 150 runs (npm run test:deep).
import { TrapMode } from '../../hypervisor/trap/index.ts';
import { shadowFuzzSuite, tableWritingArb } from './fixtures/hostile.ts';

shadowFuzzSuite('trap mode, traced shadow (deep): a hostile guest next to a well-behaved one', () => new TrapMode({ shadow: 'traced' }), 150, tableWritingArb);
