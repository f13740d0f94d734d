// The hostile-guest fuzzing of fuzz-trap.test.ts with the caching shadow (`--shadow traced`): the
// same invariants (no hypervisor crash, one owner per frame, no shadow entry outside the domain's
// frames, everything given back, the other domain's output as alone), with shadows kept per
// address space and the guest's random page-table writes traced. 12 runs here (the flushing
// shadow's suite covers the rest of the monitor); 150 in fuzz-trap-traced.deep.test.ts.
import { TrapMode } from '../../hypervisor/trap/index.ts';
import { shadowFuzzSuite, tableWritingArb } from './fixtures/hostile.ts';

shadowFuzzSuite('trap mode, traced shadow: a hostile guest next to a well-behaved one', () => new TrapMode({ shadow: 'traced' }), 12, tableWritingArb);
