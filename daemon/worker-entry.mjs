// The daemon's host thread entry: registers tsx's loader in this worker (loader hooks registered
// in the main thread do not reach worker threads) and imports the TypeScript host loop.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('./worker.ts');
