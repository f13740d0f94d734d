#!/usr/bin/env node
// The `xenolith` command: registers tsx's loader in this process and imports the TypeScript CLI,
// so no build step is needed and `npx xenolith` is one process. The repository's tsconfig.json
// (its 'xl32' path) applies wherever the command is run from.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../cli/main.ts');
