// The BVT scheduler: CPU shares in proportion to weights, measured over a long run of spinning
// domains; no credit for sleeping; yield; warp for a woken domain.
import { describe, expect, it } from 'vitest';
import { BvtScheduler } from '../../hypervisor/pv/bvt.ts';
import { asmGuest, pvDomain, pvHypervisor, spinGuest } from './pv-helpers.ts';

function shares(weights: number[], cycles: number) {
  const sched = new BvtScheduler();
  const { hv, mode } = pvHypervisor({ scheduler: sched });
  const ds = weights.map((w, k) => {
    const d = pvDomain(hv, mode, `spin${k}`, spinGuest());
    sched.setParams(d.id, { weight: w });
    return d;
  });
  const run = hv.run({ maxCycles: cycles });
  const total = ds.reduce((s, d) => s + d.stats.runCycles, 0);
  return { run, share: ds.map((d) => d.stats.runCycles / total), ds, sched };
}

describe('pv proportional-share scheduler (BVT)', () => {
  it('gives three domains CPU in proportion to weights 1:2:3, within a few percent', () => {
    const { run, share } = shares([1, 2, 3], 600_000_000);
    expect(run.reason).toBe('limit');
    const want = [1 / 6, 2 / 6, 3 / 6];
    share.forEach((s, k) => expect(Math.abs(s - want[k]!) / want[k]!).toBeLessThan(0.03));
  });

  it('gives equal weights equal shares, and a domain of weight 4 four times a domain of weight 1', () => {
    const eq = shares([5, 5, 5, 5], 400_000_000).share;
    eq.forEach((s) => expect(Math.abs(s - 0.25) / 0.25).toBeLessThan(0.03));
    const [lo, hi] = shares([1, 4], 500_000_000).share;
    expect(Math.abs(hi! / lo! - 4) / 4).toBeLessThan(0.03);
  });

  it('is deterministic: the same domains and weights give the same cycle counts', () => {
    const a = shares([1, 3], 100_000_000).ds.map((d) => d.stats.runCycles);
    const b = shares([1, 3], 100_000_000).ds.map((d) => d.stats.runCycles);
    expect(a).toEqual(b);
  });

  it('gives a domain that slept no credit for it: on waking it starts at the scheduler virtual time', () => {
    const sched = new BvtScheduler();
    const { hv, mode } = pvHypervisor({ scheduler: sched });
    const spinner = pvDomain(hv, mode, 'spin', spinGuest());
    // sleeps 10 ms (set_timer_op + block, no callback: the pending timer port wakes it), then spins
    const sleeper = pvDomain(hv, mode, 'sleeper', asmGuest(`
_start:
  li r0, 16             ; event_channel_op(BIND_VIRQ, {TIMER, vcpu 0, port})
  li r1, 2
  li r2, bind
  hypercall
  li r0, 15             ; set_timer_op(10 ms of system time)
  li r1, 10000000
  li r2, 0
  hypercall
  li r0, 6              ; sched_op(BLOCK)
  li r1, 1
  hypercall
spin:
  jmp spin
bind:
  .word 0, 0, 0`));
    hv.run({ maxCycles: 30_000_000 });
    // it slept for the first 10 ms (30M cycles at 3 GHz) while the spinner ran ...
    expect(sleeper.stats.runCycles).toBeLessThan(1_000_000);
    const a0 = spinner.stats.runCycles;
    const b0 = sleeper.stats.runCycles;
    hv.run({ maxCycles: 300_000_000 });
    // ... and from then on it shares equally instead of catching up on what it missed
    const da = spinner.stats.runCycles - a0;
    const db = sleeper.stats.runCycles - b0;
    expect(Math.abs(db / (da + db) - 0.5)).toBeLessThan(0.015);
    expect(sched.virtualTime(sleeper.vcpus[0]!)).toBeGreaterThan(0);
  });

  it('lets a domain that yields fall behind every other runnable domain', () => {
    const sched = new BvtScheduler(30_000_000);
    const { hv, mode } = pvHypervisor({ scheduler: sched });
    const yielder = pvDomain(hv, mode, 'yielder', asmGuest(`
_start:
  li r0, 6              ; sched_op(YIELD), forever
  li r1, 0
  hypercall
  jmp _start`));
    const spinner = pvDomain(hv, mode, 'spin', spinGuest());
    hv.run({ maxCycles: 100_000_000 });
    expect(yielder.stats.runCycles).toBeLessThan(spinner.stats.runCycles / 10);
  });

  it('with several physical CPUs, a yield gives up the yielder\'s own physical CPU (its scheduler, not physical CPU 0\'s)', () => {
    // domains are pinned in creation order: a and c on physical CPU 0, b and the yielder on 1
    const { hv, mode } = pvHypervisor({ pcpus: 2 });
    const spin = ['a', 'b', 'c'].map((n) => pvDomain(hv, mode, n, spinGuest()));
    const yielder = pvDomain(hv, mode, 'yielder', asmGuest(`
_start:
  li r0, 6              ; sched_op(YIELD), forever
  li r1, 0
  hypercall
  jmp _start`));
    expect([...spin, yielder].map((d) => d.vcpus[0]!.pcpu)).toEqual([0, 1, 0, 1]);
    expect(hv.run({ maxCycles: 30_000_000 }).reason).toBe('limit');
    // b has physical CPU 1 but for the yielder's few instructions after each of its 8 slices
    // began (with the yield asked of physical CPU 0's scheduler - a queue the yielder is not in -
    // it did nothing: b had 15,000,000 cycles and the yielder 12,003,950); a and c share CPU 0
    expect(yielder.stats.runCycles).toBe(12_566);
    expect(yielder.stats.hypercalls[6]).toBe(8);
    expect(spin.map((d) => d.stats.runCycles)).toEqual([15_000_000, 27_000_000, 14_988_100]);
  });
});

describe('BVT warp', () => {
  /** a stand-in vCPU: the scheduler looks only at its domain id and run state */
  const fake = (id: number) => ({ domain: { id }, runState: 'runnable' }) as unknown as import('../../hypervisor/core/vcpu.ts').Vcpu;

  it('runs a woken domain with a warp ahead of equals, for at most its warp limit', () => {
    const s = new BvtScheduler(1000);
    const [a, b, io] = [fake(1), fake(2), fake(3)];
    s.setParams(3, { weight: 1, warp: 1_000_000, warpLimitCycles: 5000, unwarpCycles: 0 });
    for (const v of [a, b, io]) s.add(v);
    s.block(io);
    // a and b run a while; io sleeps
    for (let k = 0; k < 10; k++) {
      const v = s.pick(k * 10_000)!;
      s.account(v, 10_000);
    }
    s.wake(io);
    expect(s.pick(100_000)).toBe(io);
    s.account(io, 4000);
    expect(s.pick(104_000)).toBe(io);
    s.account(io, 2000); // the warp is used up: back to plain virtual time
    expect(s.pick(106_000)).not.toBe(io);
  });

  it('without a warp a woken domain starts at the smallest runnable virtual time', () => {
    const s = new BvtScheduler(1000);
    const [a, b, io] = [fake(1), fake(2), fake(3)];
    for (const v of [a, b, io]) s.add(v);
    s.block(io);
    for (let k = 0; k < 10; k++) s.account(s.pick(k * 10_000)!, 10_000);
    s.wake(io);
    // io starts at the smallest runnable virtual time, which it ties; the current one keeps the CPU
    expect(s.virtualTime(io)).toBe(Math.min(s.virtualTime(a), s.virtualTime(b)));
  });
});
