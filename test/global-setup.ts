// Every temporary file and folder the tests make goes under one folder per test run, removed when
// the run ends: the workers (forked after this runs) inherit TMPDIR, so os.tmpdir() - and every
// mkdtemp of the tests, the daemons they start and the browser - points into it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'xlt-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    rmSync(dir, { recursive: true, force: true });
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  };
}
