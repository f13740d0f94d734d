// The vitest configuration Stryker's runner uses (npm run mutate, test/mutation/run.ts): the
// project's own configuration, limited to the suites that exercise the isolation-critical files
// in seconds - the PV, trap and HVM unit suites and the fixed-seed fuzz slices - and, when one
// file is mutated (XENOLITH_MUTATE_FILE, set by run.ts), to the suites of its mode. The kernel
// suites (usertests in every mode, several domains at once) cover the same code through a whole
// boot and would make each mutant cost minutes; npm test still runs them.
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.ts';

const SUITES: Record<string, string[]> = {
  'hypervisor/pv/': [
    'test/hypervisor/pv-{mmu,grants,events,hypercalls,traps,rules,experiment-crash,continuations,time-limits,console-input}.test.ts',
    'test/hypervisor/fuzz-pv.test.ts',
  ],
  // trap mode's shadow tables and emulation also serve bt's intercepted traps
  'hypervisor/trap/': ['test/hypervisor/trap-{shadow,emulate,reflect,hostile,critical,sched}.test.ts', 'test/hypervisor/bt.test.ts'],
  'hypervisor/hvm/': ['test/hypervisor/hvm-{ept,exits,costs,sched,fuzz}.test.ts'],
};

/**
 * Files whose own suites are enough (the mode's other suites reach them only through guests
 * that happen to signal events, seconds per mutant on a busy machine)
 */
const FILE_SUITES: Record<string, string[]> = {
  'hypervisor/pv/events.ts': [
    'test/hypervisor/pv-{events,hypercalls,traps,rules,time-limits,console-input,smp}.test.ts',
    'test/hypervisor/fuzz-pv.test.ts',
  ],
  'hypervisor/pv/grants.ts': [
    'test/hypervisor/pv-{grants,grant-copy,rules,mmu,experiment-crash}.test.ts',
    'test/hypervisor/fuzz-pv.test.ts',
    'test/hypervisor/fuzz-pv-model.test.ts',
  ],
  // the suites that call the page-type operations (mmu_update, mmuext_op, update_va_mapping,
  // grant mappings, vCPU initialise, continuations) and the model fuzzer that recomputes every
  // type and count. Left out: events, traps, time limits and console input, which reach
  // page-types.ts only through building a domain (each of these does too), and the random
  // hypercall fuzzer fuzz-pv.test.ts (38 s, a third of the whole set's time, covering nearly
  // every line: each survivor and timeout cost it again). docs/mutation.md: every survivor
  // was re-checked by hand against the suites left out.
  'hypervisor/pv/page-types.ts': [
    'test/hypervisor/pv-{mmu,grants,rules,continuations,hypercalls,smp,experiment-crash}.test.ts',
    'test/hypervisor/fuzz-pv-model.test.ts',
  ],
  // trap mode's own suites (each under 2 s), the traced shadow's (it fills by shadowRights) and
  // the hostile-guest fuzzers, whose invariant is that no shadow entry maps a frame the domain
  // does not own; bt.test.ts (6 s) reaches the shadow only as trap mode does
  'hypervisor/trap/shadow.ts': [
    'test/hypervisor/trap-{shadow,traced-shadow,emulate,reflect,hostile}.test.ts',
    'test/hypervisor/fuzz-trap.test.ts',
    'test/hypervisor/fuzz-trap-traced.test.ts',
  ],
  // the suites that make mmu_update, mmuext_op and update_va_mapping calls (page-types.ts's set:
  // the same operations reach both files) and the model fuzzer. Left out: the random hypercall
  // fuzzer fuzz-pv.test.ts (10 s, covering nearly every line) and pv-domains.test.ts (13 s of
  // whole kernel boots); docs/mutation.md: every survivor was re-checked by hand against them.
  'hypervisor/pv/mmu.ts': [
    'test/hypervisor/pv-{mmu,grants,rules,continuations,hypercalls,smp,experiment-crash}.test.ts',
    'test/hypervisor/fuzz-pv-model.test.ts',
  ],
  // trap mode's suites that run privileged guest instructions (each under 1 s) and the traced
  // fuzz slice. Left out: differential.test.ts (10 s) and fuzz-trap.test.ts (8 s), whose one
  // test each covers nearly every line (each surviving mutant would pay for them again), and
  // bt.test.ts (bt reaches the emulation as trap mode does); docs/mutation.md: every survivor
  // was re-checked by hand against them.
  'hypervisor/trap/emulate.ts': [
    'test/hypervisor/trap-{emulate,reflect,hostile,shadow,traced-shadow,demo}.test.ts',
    'test/hypervisor/modes-{critical,halt}.test.ts',
    'test/hypervisor/mode-state.test.ts',
    'test/hypervisor/fuzz-trap-traced.test.ts',
  ],
};

const file = process.env.XENOLITH_MUTATE_FILE ?? '';
const mode = Object.keys(SUITES).find((dir) => file.startsWith(dir));

// (not mergeConfig: it would append this include list to the project's, which takes every test)
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: FILE_SUITES[file] ?? (mode ? SUITES[mode]! : Object.values(SUITES).flat()),
  },
});
