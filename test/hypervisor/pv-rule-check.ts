// `npm run check:rules [-- --only id,id]`: for each PV validation rule in pv-rules.ts, remove it
// (the listed source edit), run its test, expect that test to fail, and put the source back.
// Prints the rule -> test table (markdown) with the outcome; exit status 1 if a removal went
// unnoticed or an edit no longer applies. Edits only files of this worktree, restored even on ^C.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RULE_LIST, type Rule } from './pv-rules.ts';

const only = (() => {
  const k = process.argv.indexOf('--only');
  return k > 0 ? new Set(process.argv[k + 1]!.split(',')) : null;
})();

let restore: (() => void) | null = null;
process.on('SIGINT', () => {
  restore?.();
  process.exit(130);
});

const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** 'caught', 'NOT CAUGHT', or why the check could not be made. */
function check(r: Rule): string {
  const original = readFileSync(r.file, 'utf8');
  const at = original.indexOf(r.find);
  if (at < 0) return 'edit not found';
  if (original.indexOf(r.find, at + 1) >= 0) return 'edit not unique';
  restore = () => writeFileSync(r.file, original);
  try {
    writeFileSync(r.file, original.slice(0, at) + (r.replace ?? '') + original.slice(at + r.find.length));
    // vitest's own entry under this Node (npx would add a second or two to each of ~100 runs)
    const run = spawnSync(process.execPath, [VITEST, 'run', r.testFile, '-t', `^${escape(r.test)}$`], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    // eslint-disable-next-line no-control-regex
    const out = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    if (/Tests\s+1 failed/.test(out)) return 'caught';
    if (/Tests\s+1 passed/.test(out)) return 'NOT CAUGHT';
    return `test did not run: ${out.split('\n').find((l) => /Error|No test/.test(l)) ?? 'see vitest'}`;
  } finally {
    restore();
    restore = null;
  }
}

const rows = ['| rule | where | test | removed: |', '|---|---|---|---|'];
let bad = 0;
for (const r of RULE_LIST) {
  if (only && !only.has(r.id)) continue;
  const outcome = check(r);
  if (outcome !== 'caught') bad++;
  rows.push(`| ${r.id}: ${r.rule} | ${r.file} | ${r.testFile.replace('test/hypervisor/', '')}: "${r.test}" | ${outcome} |`);
  process.stderr.write(`${r.id}: ${outcome}\n`);
}
process.stdout.write(`${rows.join('\n')}\n`);
process.exitCode = bad > 0 ? 1 : 0;
