// The deep suites: long fuzz and scale runs (`npm run test:deep`), kept out of `npm test`.
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

const deep = mergeConfig(base, defineConfig({ test: { include: ['test/**/*.deep.test.ts'], testTimeout: 600_000 } }));
// the base config excludes the deep suites; here they are the point
deep.test!.include = ['test/**/*.deep.test.ts'];
deep.test!.exclude = [...configDefaults.exclude];
export default deep;
