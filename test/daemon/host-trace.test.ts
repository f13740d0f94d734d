// The host's traces (POST /domains/NAME/trace): a trace of the shared pv machine shows both its
// domains and the scheduler's switches between them, ends after its cycles, and is refused in one
// line for a native domain, a domain that is not running, and a second trace of the same machine.
import { describe, expect, it } from 'vitest';
import { Host, HostError } from '../../daemon/host.ts';
import { validateDefinition, type DomainDefinitionInput } from '../../daemon/definition.ts';
import { buildGuestKernel } from '../../toolchain/guest-kernel.ts';
import type { ChromeTrace } from '../../hypervisor/core/trace.ts';
import { PV } from './default-engine.ts';

function refusal(f: () => unknown): [number, string] {
  try {
    f();
  } catch (e) {
    if (e instanceof HostError) return [e.status, e.message];
    throw e;
  }
  throw new Error('not refused');
}

describe('host traces', () => {
  it('traces the shared pv machine: both domains, their run slices, hypercalls; then tracing is off again', async () => {
    let wall = 0;
    const host = new Host(null, { hostMemoryMiB: 64, pacing: 'fast', standardGuest: (arch) => buildGuestKernel({ arch }), now: () => wall });
    const define = (d: Partial<DomainDefinitionInput> & { name: string }) => host.define(validateDefinition({ mode: 'pv', memory: 8, ...d }));
    define({ name: 'a', console: { input: 'echo a\\n' } });
    define({ name: 'b', console: { input: 'echo b\\n' } });
    define({ name: 'n', mode: 'native' });
    host.start('a');
    host.start('b');
    expect(refusal(() => host.trace('n'))).toEqual([409, "domain 'n' is defined: a trace records a running domain"]);
    host.start('n');
    expect(refusal(() => host.trace('n'))).toEqual([409, "domain 'n' is native: it has no hypervisor whose exits, traps and hypercalls a trace would record"]);
    let done: ChromeTrace | null = null;
    void host.trace('a', 6_000_000, 100_000).then((t) => (done = t));
    expect(refusal(() => host.trace('b'))).toEqual([409, `a trace of the shared machine ${PV} is being taken; try again when it is done`]);
    for (let k = 0; k < 20 && done === null; k++) {
      host.step();
      await Promise.resolve();
    }
    const t = done as unknown as ChromeTrace;
    expect(t).not.toBe(null);
    expect(t.otherData.machine).toBe(PV);
    expect(t.otherData.toCycle - t.otherData.fromCycle).toBeGreaterThanOrEqual(6_000_000);
    expect(t.otherData.dropped).toBe(0);
    const threads = t.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args!.name);
    expect(threads).toEqual(['a (domain 1)', 'b (domain 2)']);
    const runs = t.traceEvents.filter((e) => e.name === 'run');
    expect(new Set(runs.map((e) => e.tid))).toEqual(new Set([1, 2]));
    expect(t.otherData.counts.switch).toBe(runs.length);
    const names = new Set(t.traceEvents.map((e) => e.name));
    for (const n of ['hypercall set_trap_table', 'hypercall event_channel_op', 'trap #PF', 'trap int 0x81', 'evtchn port 1', 'upcall', 'exit deadline']) expect(names).toContain(n);
    // a second trace of the machine may start now; one that cannot run its cycles ends after 2 s of wall time
    host.suspend('a');
    host.suspend('b');
    let idle: ChromeTrace | null = null;
    void host.trace('b', 1_000_000_000, 10).then((x) => (idle = x));
    host.step();
    await Promise.resolve();
    expect(idle).toBe(null);
    wall = 2000;
    host.step();
    await Promise.resolve();
    expect((idle as unknown as ChromeTrace).otherData.records).toBe(0);
  });
});
