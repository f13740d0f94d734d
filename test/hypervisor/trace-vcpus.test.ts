// Tracepoints on a domain of several vCPUs: every record carries the vCPU it happened on (the one
// on the real CPU: Hypervisor sets TraceBuffer.vcpuNow when it puts one there), an event-channel
// record the vCPU its port notifies, and the Chrome export gives each vCPU but 0 a thread of its own.
import { describe, expect, it } from 'vitest';
import { bootPvKernel } from './pv-harness.ts';
import { TRACE_KINDS, TraceBuffer, toChromeTrace, traceRecords, vcpuThread } from '../../hypervisor/core/trace.ts';
import { Hc, VcpuCmd } from '../../hypercalls/numbers.ts';
import type { HcHandler } from '../../hypervisor/pv/hypercalls.ts';

describe('tracepoints tagged with the vCPU', () => {
  it('the pv kernel on two vCPUs: each record names its vCPU, vcpu_op calls as the hypercall table saw them', () => {
    const trace = { buf: null as TraceBuffer | null };
    /** the vCPU of each vcpu_op call, as the hypercall's context (not the trace) says */
    const vcpuOps: number[] = [];
    const cmds: number[] = [];
    const r = bootPvKernel({
      input: 'nproc\nexit\n', vcpus: 2, seed: 2,
      setup: ({ hv, mode }) => {
        trace.buf = new TraceBuffer(hv.cpu, 1 << 16);
        hv.setTrace(trace.buf);
        const e = mode.table.entries[Hc.VCPU_OP]!;
        const inner: HcHandler = e.handler;
        mode.table.entries[Hc.VCPU_OP] = { name: e.name, handler: (ctx, a1, a2, a3, a4, a5) => {
          vcpuOps.push(ctx.vcpu.id);
          cmds.push(a1);
          return inner(ctx, a1, a2, a3, a4, a5);
        } };
      },
    });
    expect(r.output).toContain('$ nproc\n2\n');
    const t = trace.buf!;
    expect(t.dropped).toBe(0);
    const recs = traceRecords(t);
    // vCPU 0 starts its timer, initialises and starts vCPU 1; vCPU 1 starts its own periodic timer
    expect(vcpuOps).toEqual([0, 0, 0, 1]);
    expect(cmds).toEqual([VcpuCmd.SET_PERIODIC_TIMER, VcpuCmd.INITIALISE, VcpuCmd.UP, VcpuCmd.SET_PERIODIC_TIMER]);
    expect(recs.filter((x) => x.kind === 'hypercall' && x.a === Hc.VCPU_OP).map((x) => x.vcpu)).toEqual(vcpuOps);
    // a switch record's vCPU is the one it puts on the CPU
    for (const x of recs.filter((y) => y.kind === 'switch')) expect(x.vcpu).toBe(x.a);
    // an event is tagged with the vCPU its port notifies (vCPU 1's IPI and timer ports)
    const notify = r.mode.pv(r.domain).events.notifyVcpu;
    for (const x of recs.filter((y) => y.kind === 'event')) expect(x.vcpu).toBe(notify[x.a]);
    // records of each kind by vCPU (this run's, seed 2)
    const by = (v: number) => Object.fromEntries(TRACE_KINDS.map((k) => [k, recs.filter((x) => x.vcpu === v && x.kind === k).length]));
    expect([by(0), by(1)]).toEqual([
      { exit: 135, trap: 9, hypercall: 80, event: 4, interrupt: 3, switch: 1 },
      { exit: 58, trap: 3, hypercall: 35, event: 2, interrupt: 2, switch: 1 },
    ]);
    // the Chrome export: vCPU 1's records on a thread of its own
    const chrome = toChromeTrace(t, { clockMHz: 3000, domains: new Map([[r.domain.id, 'pv']]) });
    const threads = chrome.traceEvents.filter((x) => x.name === 'thread_name').map((x) => [x.tid, x.args!.name]);
    expect(threads).toEqual([[r.domain.id, `pv (domain ${r.domain.id})`], [vcpuThread(r.domain.id, 1), `pv (domain ${r.domain.id}) vCPU 1`]]);
    expect(chrome.traceEvents.filter((x) => x.tid === vcpuThread(r.domain.id, 1) && x.ph !== 'M').length).toBe(recs.filter((x) => x.vcpu === 1 && x.kind !== 'switch').length + recs.filter((x) => x.kind === 'switch' && x.a === 1).length);
  });
});
