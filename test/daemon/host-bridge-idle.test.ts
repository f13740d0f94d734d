// Idle skipping across a daemon bridge (hypervisor/net/bridge.ts earliestSend): a machine blocked
// in HLT holds the others on its bridge back only to its next event (plus the latency), so two
// idle bridged domains advance in steps of the guest's timer tick rather than of the bridge
// latency; and traffic between them arrives at the very cycles of the strict lockstep run.
import { describe, expect, it } from 'vitest';
import { Host } from '../../daemon/host.ts';
import { validateDefinition } from '../../daemon/definition.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';

const SECOND = 3_000_000_000; // p4-2003: 3.0 GHz

function bridged(idleSkip: boolean, a: { cmdline?: string; input?: string }) {
  const out: Record<string, string> = {};
  const host = new Host(null, {
    pacing: 'fast',
    bridgeIdleSkip: idleSkip,
    standardGuest: (arch) => buildGuestKernel({ arch }),
    onConsole: (name, bytes) => (out[name] = (out[name] ?? '') + Buffer.from(bytes).toString('latin1')),
  });
  host.define(validateDefinition({ name: 'b', mode: 'native', memory: 8, cmdline: 'udpecho 7 9', bridge: 'br0', ip: '10.0.2.16' }));
  host.define(validateDefinition({ name: 'a', mode: 'native', memory: 8, bridge: 'br0', ...(a.cmdline ? { cmdline: a.cmdline } : {}), ...(a.input ? { console: { input: a.input } } : {}) }));
  host.start('b');
  host.start('a');
  return { host, out };
}

describe('idle machines on a daemon bridge', () => {
  it('two domains blocked in udpecho advance a second of simulated time in a few thousand steps', () => {
    /** steps from both guests listening to both machines `span` cycles further */
    const steps = (idleSkip: boolean, span: number) => {
      const { host, out } = bridged(idleSkip, { cmdline: 'udpecho 9' });
      const least = () => Math.min(host.dominfo('a').cycles, host.dominfo('b').cycles);
      try {
        for (let k = 0; k < 100_000 && !((out.a ?? '').includes('listening on udp port 9') && (out.b ?? '').includes('listening on udp port 7')); k++) host.step();
        const until = least() + span;
        let k = 0;
        for (; least() < until && k < 10_000_000; k++) host.step();
        return k;
      } finally {
        host.shutdownAll();
      }
    };
    // strict lockstep: each run at most ~the latency past the other machine (about 510 cycles a
    // step), 588 steps for a tenth of a millisecond, so some 5.9 million for the second; skipping:
    // a few runs per timer tick (1000 Hz) of each machine
    expect(steps(false, SECOND / 10_000)).toBe(588);
    expect(steps(true, SECOND)).toBe(7014);
  });

  it('netbench between them: the same figures as the strict lockstep run', () => {
    const figures = (idleSkip: boolean) => {
      const { host, out } = bridged(idleSkip, { input: 'netbench 8 1472 10.0.2.16\n' });
      try {
        let k = 0;
        for (; k < 2_000_000 && !(out.a ?? '').includes('KB/s'); k++) host.step();
        return { lines: (out.a ?? '').split('\n').filter((l) => l.startsWith('netbench:')), counters: host.bridgeCounters('br0'), steps: k };
      } finally {
        host.shutdownAll();
      }
    };
    const strict = figures(false);
    const skip = figures(true);
    expect(strict.lines).toEqual([expect.stringMatching(/^netbench: udp round trip \(64 bytes, 8 times\): \d+ us$/), expect.stringMatching(/^netbench: udp send \(8 x 1472 bytes\): \d+ us, \d+ KB\/s$/)]);
    expect(skip.lines).toEqual(strict.lines);
    expect(skip.counters).toEqual(strict.counters);
    expect(strict.counters.late).toBe(0);
    // the idle waits (b before the first datagram, a between bursts) are skipped
    expect([strict.steps, skip.steps]).toEqual([6475, 2317]);
  });
});
