import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Guest sources import the intrinsics module by its bare name; in Node they get its shim.
    alias: [{ find: /^xl32$/, replacement: fileURLToPath(new URL('./toolchain/lib/xl32.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // the deep suites (long fuzz and scale runs) run under vitest.deep.config.ts only
    exclude: [...configDefaults.exclude, 'test/**/*.deep.test.ts'],
    testTimeout: 60_000,
    // setup hooks build guest kernels (seconds when the build cache is cold, many times that on a
    // loaded 2-core machine); vitest's 10 s default would fail them and skip their tests
    hookTimeout: 120_000,
    // the run's temporary files under one folder, removed at its end (test/global-setup.ts)
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // a worker per core: vitest 4 runs one fewer by default, so a single worker on a 2-core host,
    // where two run the suite in about 15% less wall time (`npx vitest run --maxWorkers=N`,
    // alternating on this 2-core host: 195, 162 and 158 s with one worker against 160, 140 and 141
    // with two)
    maxWorkers: availableParallelism(),
    // one module graph per worker, not per file: the files share the compiler, the machine and the
    // guest-kernel build cache instead of importing them ~110 times (the suite's wall time halves on
    // 2 cores). Tests keep no state in modules that another file could see.
    isolate: false,
    // each worker's V8 compiles on one background thread, not four: with a worker per core, four
    // compiler threads each took the cores from the workers' own main threads, which then ran the
    // generated code still waiting for its optimized version longer (a process's first boots of
    // bt: about 1.0 -> 0.75 s; the suite's wall time 157 -> 139 s on 2 cores; docs/engine.md, "The
    // twenty-second round")
    execArgv: ['--v8-pool-size=1'],
  },
});
