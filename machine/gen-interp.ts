// npm run gen:interp: rewrite the generated regions of machine/cpu.ts from machine/semantics.ts.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { applyRegions } from './semantics.ts';

const path = fileURLToPath(new URL('./cpu.ts', import.meta.url));
const before = readFileSync(path, 'utf8');
const after = applyRegions(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'machine/cpu.ts: generated regions up to date' : 'machine/cpu.ts: generated regions rewritten');
