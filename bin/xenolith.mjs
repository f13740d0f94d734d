#!/usr/bin/env node
// The `xenolith` command: runs the TypeScript CLI (cli/main.ts) from its bundle (bin/host-bundle.mjs:
// built from the sources on first use and again after any of them changes, so no build step is
// needed), or through tsx's ES module hooks where there is none (XENOLITH_BUNDLE=0, or a source
// that does not build). The repository's tsconfig.json (its 'xl32' path) applies wherever the
// command is run from.
import { importEntry } from './host-bundle.mjs';

try {
  await importEntry('cli/main.ts');
} catch (e) {
  // a bug in xenolith (its own errors are one line, printed by the CLI): the stack, and where it
  // points when it is the bundle's
  process.exitCode = 1;
  console.error(e);
  if (e !== null && typeof e === 'object' && e.fromBundle === true) {
    console.error("xenolith: the stack above is in the command's bundle; XENOLITH_BUNDLE=0 runs the sources, whose lines a stack then names");
  }
}
