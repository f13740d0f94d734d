#!/usr/bin/env node
// The `xenolith` command: registers tsx's loader in this process and imports the TypeScript CLI,
// so no build step is needed and `npx xenolith` is one process.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
