import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Guest sources import the intrinsics module by its bare name; in Node they get its shim.
    alias: [{ find: /^xl32$/, replacement: fileURLToPath(new URL('./toolchain/lib/xl32.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
