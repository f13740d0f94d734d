// Mutation testing of the isolation-critical files (issue 9): Stryker changes one operator,
// condition or constant at a time and checks that some test fails. Run it with `npm run mutate`
// (test/mutation/run.ts: one Stryker run per file, incremental, under a time cap), never in CI.
// Reports go to reports/mutation/ (gitignored); docs/mutation.md says how to read them.

/** the files whose rules keep a guest to itself */
export const ISOLATION_CRITICAL = [
  'hypervisor/pv/page-types.ts',
  'hypervisor/pv/grants.ts',
  'hypervisor/pv/mmu.ts',
  'hypervisor/pv/events.ts',
  'hypervisor/trap/shadow.ts',
  'hypervisor/trap/emulate.ts',
  'hypervisor/hvm/ept.ts',
];

// test/mutation/run.ts runs one file at a time (XENOLITH_MUTATE_FILE), each with its own
// incremental file and report, so a run stopped by the time cap keeps every finished file.
const one = process.env.XENOLITH_MUTATE_FILE;
const tag = one ? one.replace(/^.*\//, '').replace(/\.ts$/, '') : 'all';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.ts', related: false },
  mutate: one ? [one] : ISOLATION_CRITICAL,
  // run only the tests that execute a mutant's code (each test's coverage, from the dry run)
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: `reports/mutation/${tag}.incremental.json`,
  // the machine has two cores
  concurrency: 2,
  // a mutant that makes a guest loop forever is a timeout (counted as detected), not a hang
  timeoutMS: 20_000,
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 15,
  // a constant's initializer runs once per module load: re-running every test for it costs hours
  ignoreStatic: true,
  // xenolith-log (test/mutation/result-log.mjs): each mutant's result as soon as it is known
  appendPlugins: ['./test/mutation/result-log.mjs'],
  reporters: ['clear-text', 'progress', 'html', 'json', 'xenolith-log'],
  htmlReporter: { fileName: `reports/mutation/${tag}.html` },
  jsonReporter: { fileName: `reports/mutation/${tag}.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  thresholds: { high: 90, low: 85, break: null },
};
