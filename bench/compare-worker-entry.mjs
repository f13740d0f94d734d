// The entry of compare's worker threads: loads bench/compare-worker.ts from its bundle, or through
// tsx's loader registered in this worker (loader hooks registered in the main thread do not reach
// worker threads): bin/host-bundle.mjs. Hands the pool the task function.
import { importEntry } from '../bin/host-bundle.mjs';

const { runTask } = await importEntry('bench/compare-worker.ts');
export default runTask;
