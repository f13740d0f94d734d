// The tracepoints (hypervisor/core/trace.ts): exact record sequences of tiny pv guests, the
// bound and its dropped count, the Chrome Trace Event export, and that a trace counts what the
// DomainStats counters (--stats) count.
import { describe, expect, it } from 'vitest';
import { TraceBuffer, toChromeTrace, traceRecords } from '../../hypervisor/core/trace.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { asmGuest, pvDomain, pvHypervisor, spinGuest } from './pv-helpers.ts';

/** console_io(WRITE, "hi\n"), bind the timer VIRQ, a one-shot timer, block until it fires, power off 3. */
const TIMER_GUEST = asmGuest(`
_start:
  li r0, 18             ; console_io(WRITE, 3, msg)
  li r1, 0
  li r2, 3
  li r3, msg
  hypercall
  li r0, 16             ; event_channel_op(BIND_VIRQ, {TIMER, vcpu 0, port})
  li r1, 2
  li r2, bind
  hypercall
  li r0, 15             ; set_timer_op(10 us of system time)
  li r1, 10000
  li r2, 0
  hypercall
  li r0, 6              ; sched_op(BLOCK): woken by the timer's port
  li r1, 1
  hypercall
  li r0, 6              ; sched_op(SHUTDOWN, POWEROFF, 3)
  li r1, 2
  li r2, 0
  li r3, 3
  hypercall
.Lhang:
  jmp .Lhang
msg:
  .ascii "hi\\n"
  .align 4
bind:
  .word 0, 0, 0`);

describe('trace buffer', () => {
  it('records a tiny pv guest: the switch onto it, each hypercall exit and call, the timer port set pending', () => {
    const { hv, mode } = pvHypervisor();
    const trace = new TraceBuffer(hv.cpu, 64);
    hv.setTrace(trace);
    const d = pvDomain(hv, mode, 'tiny', TIMER_GUEST);
    const res = hv.run({ maxCycles: 10_000_000 });
    expect(res.reason).toBe('all-stopped');
    expect(d.stopStatus).toBe(3);
    const recs = traceRecords(trace).map((r) => `${r.kind} ${r.a}${r.kind === 'hypercall' ? ` +${r.b}` : ''}`);
    expect(recs).toMatchInlineSnapshot(`
      [
        "switch 0",
        "exit 18",
        "hypercall 18 +1530",
        "exit 18",
        "hypercall 16 +1530",
        "exit 18",
        "hypercall 15 +1530",
        "exit 18",
        "hypercall 6 +1530",
        "event 2",
        "exit 18",
        "hypercall 6 +960",
      ]
    `);
    expect(trace.dropped).toBe(0);
    // the trace counts what the counters count
    const counts = trace.countByKind(d.id);
    const sum = (t: Float64Array) => t.reduce((x, y) => x + y, 0);
    expect(counts.exit).toBe(sum(d.stats.cpuExits));
    expect(counts.hypercall).toBe(sum(d.stats.hypercalls));
    expect(counts.trap).toBe(sum(d.stats.traps));
    expect(counts.switch).toBe(d.stats.worldSwitches);
    expect(counts.event).toBe(mode.pv(d).stats.eventsPending);
    expect(counts.interrupt).toBe(mode.pv(d).stats.upcalls);
  });

  it('the scheduler switches between two spinning domains, with the cycle of each switch', () => {
    const { hv, mode } = pvHypervisor({ scheduler: new RoundRobinScheduler(100_000) });
    const a = pvDomain(hv, mode, 'a', spinGuest());
    const b = pvDomain(hv, mode, 'b', spinGuest());
    const trace = new TraceBuffer(hv.cpu, 16);
    hv.setTrace(trace);
    const c0 = hv.cpu.cycles;
    hv.run({ maxCycles: 450_000 });
    const recs = traceRecords(trace).filter((r) => r.kind === 'switch');
    expect(recs.map((r) => [r.dom, r.cycle - c0])).toMatchInlineSnapshot(`
      [
        [
          1,
          0,
        ],
        [
          2,
          101190,
        ],
        [
          1,
          202380,
        ],
        [
          2,
          303570,
        ],
        [
          1,
          404760,
        ],
      ]
    `);
    expect([a.id, b.id]).toEqual([1, 2]);
  });

  it('a trace begun while a vCPU runs opens with its run slice; a blocked or paused one gets none', () => {
    const { hv, mode } = pvHypervisor();
    const a = pvDomain(hv, mode, 'a', spinGuest());
    hv.run({ maxCycles: 50_000 });
    const t1 = new TraceBuffer(hv.cpu, 4);
    hv.setTrace(t1);
    expect(traceRecords(t1)).toEqual([{ kind: 'switch', cycle: hv.cpu.cycles, dom: a.id, vcpu: 0, a: 0, b: 0 }]);
    hv.pauseDomain(a);
    const t2 = new TraceBuffer(hv.cpu, 4);
    hv.setTrace(t2);
    expect(t2.length).toBe(0);
  });

  it('is bounded: records past the capacity are dropped and counted', () => {
    const { hv, mode } = pvHypervisor();
    const trace = new TraceBuffer(hv.cpu, 3);
    hv.setTrace(trace);
    pvDomain(hv, mode, 'tiny', TIMER_GUEST);
    hv.run({ maxCycles: 10_000_000 });
    expect([trace.length, trace.dropped]).toMatchInlineSnapshot(`
      [
        3,
        9,
      ]
    `);
    expect(traceRecords(trace).map((r) => r.kind)).toEqual(['switch', 'exit', 'hypercall']);
  });

  it('tracing off: a domain created before and after setTrace(null) writes nothing', () => {
    const { hv, mode } = pvHypervisor();
    const trace = new TraceBuffer(hv.cpu, 8);
    hv.setTrace(trace);
    const d = pvDomain(hv, mode, 'tiny', TIMER_GUEST);
    hv.setTrace(null);
    expect(d.stats.trace).toBe(null);
    hv.run({ maxCycles: 10_000_000 });
    expect(trace.length).toBe(0);
  });

  it('refuses a capacity out of range in one line', () => {
    expect(() => new TraceBuffer({ cycles: 0 }, 0)).toThrow('trace buffer: capacity must be a whole number from 1 to 4194304 records (got 0)');
  });

  it('exports the Chrome Trace Event format: thread per domain, run slices, hypercalls with durations, instants', () => {
    const clock = { cycles: 0 };
    const t = new TraceBuffer(clock, 8);
    t.recordAt(5 /* switch */, 3000, 1, 0, 0);
    t.recordAt(0 /* exit */, 4500, 1, 18, 0);
    t.recordAt(2 /* hypercall */, 4500, 1, 18, 600);
    t.recordAt(3 /* event */, 6000, 1, 4, 0);
    t.recordAt(4 /* interrupt */, 6300, 1, -1, 0);
    t.recordAt(5 /* switch */, 9000, 2, 0, 0);
    clock.cycles = 12000;
    const j = toChromeTrace(t, { clockMHz: 3000, domains: new Map([[1, 'web'], [2, 'db']]), machine: 'pv:p4-2003', hypercallName: (nr) => (nr === 18 ? 'console_io' : `hc${nr}`) });
    expect(j).toMatchInlineSnapshot(`
      {
        "displayTimeUnit": "ns",
        "otherData": {
          "capacity": 8,
          "clockMHz": 3000,
          "counts": {
            "event": 1,
            "exit": 1,
            "hypercall": 1,
            "interrupt": 1,
            "switch": 2,
            "trap": 0,
          },
          "dropped": 0,
          "fromCycle": 3000,
          "machine": "pv:p4-2003",
          "records": 6,
          "toCycle": 12000,
        },
        "traceEvents": [
          {
            "args": {
              "name": "pv:p4-2003",
            },
            "name": "process_name",
            "ph": "M",
            "pid": 1,
            "tid": 0,
          },
          {
            "args": {
              "name": "web (domain 1)",
            },
            "name": "thread_name",
            "ph": "M",
            "pid": 1,
            "tid": 1,
          },
          {
            "args": {
              "name": "db (domain 2)",
            },
            "name": "thread_name",
            "ph": "M",
            "pid": 1,
            "tid": 2,
          },
          {
            "args": {
              "cycle": 4500,
              "exit": 18,
            },
            "cat": "exit",
            "name": "exit hypercall",
            "ph": "i",
            "pid": 1,
            "s": "t",
            "tid": 1,
            "ts": 0.5,
          },
          {
            "args": {
              "cycle": 4500,
              "cycles": 600,
              "nr": 18,
            },
            "cat": "hypercall",
            "dur": 0.2,
            "name": "hypercall console_io",
            "ph": "X",
            "pid": 1,
            "tid": 1,
            "ts": 0.5,
          },
          {
            "args": {
              "cycle": 6000,
              "port": 4,
            },
            "cat": "event",
            "name": "evtchn port 4",
            "ph": "i",
            "pid": 1,
            "s": "t",
            "tid": 1,
            "ts": 1,
          },
          {
            "args": {
              "cycle": 6300,
              "vector": -1,
            },
            "cat": "interrupt",
            "name": "upcall",
            "ph": "i",
            "pid": 1,
            "s": "t",
            "tid": 1,
            "ts": 1.1,
          },
          {
            "args": {
              "cycle": 3000,
              "cycles": 6000,
              "vcpu": 0,
            },
            "cat": "switch",
            "dur": 2,
            "name": "run",
            "ph": "X",
            "pid": 1,
            "tid": 1,
            "ts": 0,
          },
          {
            "args": {
              "cycle": 9000,
              "cycles": 3000,
              "vcpu": 0,
            },
            "cat": "switch",
            "dur": 1,
            "name": "run",
            "ph": "X",
            "pid": 1,
            "tid": 2,
            "ts": 2,
          },
        ],
      }
    `);
  });
});
