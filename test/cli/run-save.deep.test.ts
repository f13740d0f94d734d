// run --save-at / --restore of a run with --hypercalls whose guest calls the added hypercall on
// both sides of the save (examples/hypercall-experiment): the handler module is loaded again at
// restore and the two halves are the uninterrupted run. Deep: a compile and three runs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { xenolith } from './run-in-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'xenolith-save-deep-'));
const counts = (stderr: string) => ({ cycles: /^cycles: (\d+)$/m.exec(stderr)?.[1], instructions: /^instructions: (\d+)$/m.exec(stderr)?.[1] });

describe('run --save-at, then run --restore (deep)', () => {
  test('--hypercalls: the handler module is loaded again at restore, and the two halves are the uninterrupted run', async () => {
    const img = join(dir, 'experiment.img');
    expect((await xenolith('compile', 'examples/hypercall-experiment/guest.ts', '--arch', 'pv', '--no-type-check', '-o', img)).status).toBe(0);
    const common = ['--mode', 'pv', '--memory', '4', '--hypercalls', 'examples/hypercall-experiment/handler.ts', img];
    const u = await xenolith('run', ...common, '--stats');
    expect(u.stdout).toContain('checksum 16384 bytes: guest');
    const file = join(dir, 'hypercalls.xls');
    const s = await xenolith('run', ...common, '--save-at', String(Math.floor(Number(counts(u.stderr).cycles) / 2)), file);
    expect(s.status).toBe(0);
    const r = await xenolith('run', '--restore', file, '--stats');
    expect(r.stdout).toContain('checksum');
    expect(s.stdout + r.stdout).toBe(u.stdout);
    expect(counts(r.stderr)).toEqual(counts(u.stderr));
    expect(r.status).toBe(u.status);
  });

});
