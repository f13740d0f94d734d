// The daemon-domain recording of host-record.test.ts (trap, native there) for bt and hvm.
import { describe, it } from 'vitest';
import { recordAndReplayDomain } from './host-record-session.ts';

describe('recording a daemon domain, bt and hvm', () => {
  it.each(['bt', 'hvm'] as const)('%s, ended by shutdown: run --replay repeats its console output and final cycle', async (mode) => {
    await recordAndReplayDomain(mode, 'shutdown', 'guest');
  });
});
