// `run --disk FILE`: the guest's writes reach the file when the run ends, in every mode;
// `--snapshot` keeps them in a throw-away overlay and leaves the file as it was.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { xenolith } from './run-in-process.ts';

function diskFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'xl-disk-')), 'disk.img');
  const bytes = new Uint8Array(64 * 512);
  bytes.set(new TextEncoder().encode('from the host'), 512);
  writeFileSync(path, bytes);
  return path;
}

const sector = (path: string, n: number) => readFileSync(path).subarray(n * 512, n * 512 + 512);
const text = (b: Uint8Array) => new TextDecoder().decode(b.subarray(0, b.indexOf(0)));

describe('xenolith run --disk', () => {
  for (const mode of ['native', 'pv']) {
    it(`--mode ${mode}: a sector the guest writes is in the file after the run, the rest as it was`, async () => {
      const path = diskFile();
      const before = readFileSync(path);
      const r = await xenolith('run', '--mode', mode, '--disk', path, '--input', 'disk read 1\\ndisk write 2 written by the guest');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('$ disk read 1\nfrom the host\n');
      expect(text(sector(path, 2))).toBe('written by the guest');
      const after = readFileSync(path);
      after.fill(0, 1024, 1536);
      expect(after.equals(before)).toBe(true);
    });
  }

  it('the next run reads what the last one wrote (trap mode)', async () => {
    const path = diskFile();
    await xenolith('run', '--disk', path, '--input', 'disk write 3 kept across runs');
    const r = await xenolith('run', '--mode', 'trap', '--disk', path, '--input', 'disk read 3');
    expect(r.stdout).toContain('$ disk read 3\nkept across runs\n');
  });

  it('--snapshot: the guest reads its own writes during the run, and the file is untouched', async () => {
    const path = diskFile();
    const before = readFileSync(path);
    const r = await xenolith('run', '--disk', path, '--snapshot', '--input', 'disk write 2 only in the overlay\\ndisk read 2');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('$ disk read 2\nonly in the overlay\n');
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('a run that does not write leaves the file alone; --snapshot without --disk is refused', async () => {
    const path = diskFile();
    writeFileSync(path, readFileSync(path)); // same bytes, fresh mtime
    const { mtimeMs } = await import('node:fs').then((fs) => fs.statSync(path));
    await xenolith('run', '--disk', path, '--input', 'disk read 1');
    expect((await import('node:fs')).statSync(path).mtimeMs).toBe(mtimeMs);
    const r = await xenolith('run', '--snapshot', '--input', '');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('xenolith: --snapshot applies to a --disk file; there is none\n');
  });
});
