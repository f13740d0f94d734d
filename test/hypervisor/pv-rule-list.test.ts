// The rule list itself (pv-rules.ts), checked without running `npm run check:rules`: each rule's
// removal must be possible - its source text found exactly once in its file (a second copy of the
// line elsewhere made one rule impossible to remove once) - and its ids unique, so the full
// check can run every rule.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULE_LIST } from './pv-rules.ts';

describe('the pv validation rule list', () => {
  it('names each rule once, and each rule removal is one exact edit of its source', () => {
    expect(new Set(RULE_LIST.map((r) => r.id)).size).toBe(RULE_LIST.length);
    const ambiguous = RULE_LIST.filter((r) => readFileSync(r.file, 'utf8').split(r.find).length !== 2).map((r) => r.id);
    expect(ambiguous).toEqual([]);
  });

  it('names a test file that exists and holds a test of the named title\'s last words', () => {
    const missing = RULE_LIST.filter((r) => {
      const src = readFileSync(r.testFile, 'utf8');
      // the test's full name is its describe titles and its own title: the own title is in the file
      return !r.test.split(' ').slice(-4).every((w) => src.includes(w.replace(/[,:]$/, '')));
    }).map((r) => r.id);
    expect(missing).toEqual([]);
  });
});
