#!/usr/bin/env node
// The `xenolith` command: runs the TypeScript CLI (cli/main.ts) from its bundle (bin/host-bundle.mjs:
// built from the sources on first use and again after any of them changes, so no build step is
// needed), or through tsx's ES module hooks where there is none (XENOLITH_BUNDLE=0, or a source
// that does not build). The repository's tsconfig.json (its 'xl32' path) applies wherever the
// command is run from.
import { importEntry } from './host-bundle.mjs';

await importEntry('cli/main.ts');
