// The daemon-domain recording of host-record.test.ts (trap, native there) for bt and hvm, and a
// trap domain of two vCPUs and a native domain of two CPUs (its header says smp: 2).
import { describe, it } from 'vitest';
import { recordAndReplayDomain } from './host-record-session.ts';

describe('recording a daemon domain, bt and hvm', () => {
  it.each(['bt', 'hvm'] as const)('%s, ended by shutdown: run --replay repeats its console output and final cycle', async (mode) => {
    await recordAndReplayDomain(mode, 'shutdown', 'guest');
  });

  it('trap, two vCPUs, ended by shutdown: the header keeps them (run --smp 2) and run --replay repeats its console output and final cycle', async () => {
    await recordAndReplayDomain('trap', 'shutdown', 'guest', 2);
  });

  it('native, two CPUs, ended by destroy: the header keeps them (run --smp 2) and run --replay repeats its console output and final cycle', async () => {
    await recordAndReplayDomain('native', 'destroy', 'left', 2);
  });
});
