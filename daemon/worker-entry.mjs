// The daemon's host thread entry: loads the TypeScript host loop from its bundle, or through tsx's
// loader registered in this worker (loader hooks registered in the main thread do not reach
// worker threads): bin/host-bundle.mjs.
import { importEntry } from '../bin/host-bundle.mjs';

await importEntry('daemon/worker.ts');
