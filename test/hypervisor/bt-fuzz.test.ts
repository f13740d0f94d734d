// Hostile-guest fuzzing of binary translation: the trap-mode fuzz suite (fixtures/hostile.ts,
// shared with fuzz-trap.test.ts) run with BtMode. Random code words, biased toward what reaches
// the monitor, run as the kernel of a bt domain next to a well-behaved domain; whatever the hostile
// guest does, run() returns, frame ownership and the shadows stay sound, everything is given back
// on destroy, and the other domain prints exactly what it prints alone.
// Under bt every word of the hostile kernel is translated before it runs (units at random and
// unaligned addresses, units overwritten by the guest's own stores, IRET and callouts with
// random frames and operands). The well-behaved domain's reference is its run alone under trap
// mode: its console has no timing in it, so it is the same under every mode.

import { BtMode } from '../../hypervisor/bt/index.ts';
import { shadowFuzzSuite } from './fixtures/hostile.ts';

shadowFuzzSuite('bt mode: a hostile kernel, translated, next to a well-behaved one', () => new BtMode());
