// Save and restore against the oracle of the uninterrupted run: a run saved at any cycle and
// restored onto a fresh machine ends with exactly the console output, cycle count and instruction
// count of the run that was never stopped, in every mode (hvm with both translations, and on the
// traced shadow, whose per-address-space shadows are saved with the rest of the graph). A few save
// points per mode here (the property over the save cycle); many in save-restore.deep.test.ts.
// Also: a bad file is refused with one line and leaves the restoring machine untouched.
import { describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { loadSaveFile, restoreRun, saveRun } from '../../hypervisor/save/state.ts';
import { HEADER_BYTES, SAVE_VERSION, SaveFormatError, readSaveFile, writeSaveFile } from '../../hypervisor/save/format.ts';
import { VARIANTS, bootGuest, runToEnd } from './save-harness.ts';
import { ORACLE_INPUT, checkSavePoints } from './save-oracle.ts';

describe('a restored run ends as the uninterrupted one', () => {
  // the traced shadow: hvm's here, trap's through the command (test/cli/run-save.test.ts), all three in the deep suite
  for (const v of [...VARIANTS, 'hvm-traced'] as const) {
    test(`${v}: at two save cycles drawn over the run`, () => {
      checkSavePoints(v, 2, 12);
    });
  }
});

const meta = (cycles: number) => ({ setup: {}, cycles, counters: {}, vcpus: [] });

test('bt under the translator engine: a save taken while its units hold compiled code restores and ends as the uninterrupted run', () => {
  const ref = bootGuest('bt', ORACLE_INPUT, 4 << 20, 1, 'translator');
  runToEnd(ref);
  const a = bootGuest('bt', ORACLE_INPUT, 4 << 20, 1, 'translator');
  a.run(Math.floor(ref.cycles() * 0.9));
  // host-side caches that are not state: the mode's translator and its units' compiled runs
  const bt = (a.root as unknown as { attached: Set<{ tx: unknown }> }).attached;
  expect([...bt.values()].some((m) => m.tx !== null && m.tx !== undefined)).toBe(true);
  const file = saveRun(a.mode, a.root, meta(a.cycles()));
  const b = bootGuest('bt', ORACLE_INPUT, 4 << 20, 1, 'translator');
  restoreRun(loadSaveFile(file), b.root);
  runToEnd(b);
  expect([b.cycles(), b.instructions(), b.output()]).toEqual([ref.cycles(), ref.instructions(), ref.output()]);
});

test('the restored machine is the saved one: saving it again gives the same bytes', () => {
  const a = bootGuest('pv', ORACLE_INPUT);
  a.run(1_000_000);
  const file = saveRun(a.mode, a.root, meta(a.cycles()));
  const b = bootGuest('pv', ORACLE_INPUT);
  restoreRun(loadSaveFile(file), b.root);
  expect([b.cycles(), b.instructions(), b.output()]).toEqual([a.cycles(), a.instructions(), a.output()]);
  expect(Buffer.from(saveRun(b.mode, b.root, meta(b.cycles()))).equals(Buffer.from(file))).toBe(true);
});

describe('a bad save file is refused with one line, and nothing is restored', () => {
  const a = bootGuest('trap', ORACLE_INPUT);
  a.run(500_000);
  const good = saveRun(a.mode, a.root, meta(a.cycles()));
  const refusal = (bytes: Uint8Array): string => {
    try {
      loadSaveFile(bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(SaveFormatError);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error('accepted');
  };
  const withChecksum = (f: Uint8Array): Uint8Array => {
    const h = createHash('sha256');
    h.update(f.subarray(0, HEADER_BYTES - 32));
    h.update(f.subarray(HEADER_BYTES));
    f.set(h.digest(), HEADER_BYTES - 32);
    return f;
  };

  test('the good file reads', () => {
    expect(readSaveFile(good).mode).toBe('trap');
    expect([...readSaveFile(good).sections.keys()]).toEqual(['META', 'GRPH', 'BLOB']);
  });
  test('not a save file', () => {
    expect(refusal(new TextEncoder().encode('#!/bin/sh\necho this is not a save file of anything at all\n'))).toBe('not a xenolith save file (bad magic)');
  });
  test('truncated, at any length', () => {
    expect(refusal(good.subarray(0, 10))).toBe(`truncated: 10 bytes, shorter than the ${HEADER_BYTES}-byte header`);
    const cut = good.length - 100;
    expect(refusal(good.subarray(0, cut))).toBe(`truncated: the header promises ${good.length - HEADER_BYTES} bytes of state, the file has ${cut - HEADER_BYTES}`);
  });
  test('a flipped byte anywhere in the state', () => {
    for (const at of [HEADER_BYTES, HEADER_BYTES + 1000, good.length - 1]) {
      const bad = good.slice();
      bad[at]! ^= 0x40;
      expect(refusal(bad)).toBe('checksum mismatch: the file is corrupt or was changed');
    }
  });
  test('a header changed (mode) without fixing the checksum', () => {
    const bad = good.slice();
    bad[10] = 1; // pv
    expect(refusal(bad)).toBe('checksum mismatch: the file is corrupt or was changed');
  });
  test('another version, even with a good checksum', () => {
    const bad = good.slice();
    new DataView(bad.buffer).setUint16(8, SAVE_VERSION + 1, true);
    expect(refusal(withChecksum(bad))).toBe(`save format version ${SAVE_VERSION + 1}; this build reads version ${SAVE_VERSION}`);
  });
  test('trailing bytes', () => {
    const bad = new Uint8Array(good.length + 3);
    bad.set(good);
    expect(refusal(bad)).toBe('3 bytes of trailing data after the state');
  });
  test('a well-formed file whose sections are not a saved run', () => {
    expect(refusal(writeSaveFile('pv', [{ tag: 'META', bytes: new TextEncoder().encode('{}') }]))).toBe('section META lacks setup, cycles or vcpus');
  });
  test('a file of another mode does not fit the machine, and the machine is left as it was', () => {
    const p = bootGuest('pv', ORACLE_INPUT);
    p.run(500_000);
    const pvFile = loadSaveFile(saveRun(p.mode, p.root, meta(p.cycles())));
    const t = bootGuest('trap', ORACLE_INPUT);
    expect(() => restoreRun(pvFile, t.root)).toThrow(/^the state does not fit this machine: /);
    // untouched: it runs exactly as a fresh trap machine does
    const fresh = bootGuest('trap', ORACLE_INPUT);
    runToEnd(t);
    runToEnd(fresh);
    expect([t.cycles(), t.output()]).toEqual([fresh.cycles(), fresh.output()]);
  });
});
