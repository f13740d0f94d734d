// The entry of compare's worker threads: registers tsx's loader in this worker (loader hooks
// registered in the main thread do not reach worker threads), then hands the pool the task
// function of bench/compare-worker.ts.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { runTask } = await import('./compare-worker.ts');
export default runTask;
