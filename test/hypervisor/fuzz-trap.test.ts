// Hostile-guest fuzzing of trap-and-emulate: random code words, biased toward what reaches the
// monitor (privileged instructions, I/O to random ports, MOVCR, LIDT with random bases, IRET with
// random frames, INT n, HYPERCALL, loads and stores anywhere, jumps anywhere), run as the kernel of
// a trap-mode domain next to a well-behaved domain. Whatever the hostile guest does: run() returns,
// the hostile domain keeps running or is stopped with a reason, every machine frame has exactly
// one owner, no shadow entry maps anything but the domain's own frames, everything is given back
// when the domains are destroyed, and the other domain prints exactly what it prints alone.
// The generator, the invariants and the suite are in fixtures/hostile.ts (shared with bt-fuzz).

import { TrapMode } from '../../hypervisor/trap/index.ts';
import { shadowFuzzSuite } from './fixtures/hostile.ts';

shadowFuzzSuite('trap mode: a hostile guest next to a well-behaved one', () => new TrapMode());
