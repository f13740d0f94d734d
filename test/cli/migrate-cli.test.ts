// `xenolith migrate` and `xenolith bench migrate`: their refusals before anything runs are one
// line each (the migration itself: test/daemon/migrate*.test.ts).
import { describe, expect, it } from 'vitest';
import { xenolith } from './run-in-process.ts';

describe('xenolith migrate: one-line refusals', () => {
  it("needs the destination's token, a link that makes sense, and a mode bench migrate has", async () => {
    const saved = process.env.XENOLITH_MIGRATE_TOKEN;
    delete process.env.XENOLITH_MIGRATE_TOKEN;
    try {
      const noToken = await xenolith('migrate', 'g', '--to', 'http://127.0.0.1:1', '--state-dir', '/nonexistent-xenolith-state');
      expect([noToken.status, noToken.stderr]).toEqual([2, "xenolith: migrate needs the destination daemon's token: --token T (the contents of its STATE_DIR/token) or $XENOLITH_MIGRATE_TOKEN\n"]);
      const badLink = await xenolith('migrate', 'g', '--to', 'http://127.0.0.1:1', '--token', 't', '--link-mbps', 'fast');
      expect([badLink.status, badLink.stderr]).toEqual([2, 'xenolith: --link-mbps must be a positive number, not "fast"\n']);
    } finally {
      if (saved !== undefined) process.env.XENOLITH_MIGRATE_TOKEN = saved;
    }
    const mode = await xenolith('bench', 'migrate', '--mode', 'hvm-ept');
    expect([mode.status, mode.stderr]).toEqual([2, 'xenolith: --mode must be one of pv, trap, bt, hvm, native for bench migrate (not "hvm-ept")\n']);
  });
});
