// Time for PV guests: system time (ns since the machine started, from the one cycle counter; a
// domain restored on another machine keeps its own: PvDomain.tscOffset, added to the TSC too), the
// per-vCPU time record in the shared-info page (a TSC stamp, the system time at it and the scale,
// versioned so a reader can tell it raced an update), and the virtual timers: set_timer_op's
// one-shot deadline and vcpu_op's periodic timer, both raising VIRQ TIMER.
// Touches vcpu_info time records and the hypervisor's event queue.

import { END_OF_TIME } from '../../machine/clock.ts';
import { deferred, registerDeferred } from '../../machine/deferred.ts';
import { HcErr } from '../../hypercalls/errors.ts';
import { Virq } from '../../hypercalls/numbers.ts';
import { VcpuTime, VcpuInfo } from '../../hypercalls/structs.ts';
import type { HcCtx } from './context.ts';
import { sendVirq, vcpuInfoAddr } from './events.ts';
import type { PvDomain, PvHost, PvVcpu } from './state.ts';

const TWO32 = 4294967296;

/** The scale a guest multiplies TSC deltas by: ns = ((delta << shift) * mul) / 2^32. */
export function timeScale(clockMHz: number): { mul: number; shift: number } {
  let shift = 0;
  let ratio = 1000 / clockMHz; // ns per cycle
  while (ratio >= 1) {
    ratio /= 2;
    shift++;
  }
  return { mul: Math.floor(ratio * TWO32), shift };
}

/** System time in ns at cycle count `cycles`. */
export function systemTimeNs(host: PvHost, cycles: number): number {
  return Math.floor((cycles * 1000) / host.platform.profile.clockMHz);
}

/** The first cycle at or after system time `ns`. */
export function cyclesAt(host: PvHost, ns: number): number {
  return Math.ceil((ns * host.platform.profile.clockMHz) / 1000);
}

/** Restamp vCPU k's time record (version odd while writing). */
export function updateTime(host: PvHost, d: PvDomain, k: number): void {
  const i32 = host.mem.i32;
  const t = (vcpuInfoAddr(d, k) + VcpuInfo.TIME) >>> 2;
  const cycles = host.cpu.cycles + d.tscOffset;
  const ns = systemTimeNs(host, cycles);
  const { mul, shift } = timeScale(host.platform.profile.clockMHz);
  const v = i32[t + VcpuTime.VERSION / 4]!;
  i32[t + VcpuTime.VERSION / 4] = (v | 1) + (v & 1 ? 2 : 0);
  i32[t + VcpuTime.TSC_TIMESTAMP / 4] = cycles % TWO32;
  i32[t + VcpuTime.TSC_TIMESTAMP / 4 + 1] = Math.floor(cycles / TWO32);
  i32[t + VcpuTime.SYSTEM_TIME / 4] = ns % TWO32;
  i32[t + VcpuTime.SYSTEM_TIME / 4 + 1] = Math.floor(ns / TWO32);
  i32[t + VcpuTime.TSC_TO_SYSTEM_MUL / 4] = mul | 0;
  i32[t + VcpuTime.TSC_SHIFT / 4] = shift;
  i32[t + VcpuTime.VERSION / 4] = (i32[t + VcpuTime.VERSION / 4]! + 1) | 0;
}

function timerFired(host: PvHost, d: PvDomain, pv: PvVcpu): void {
  pv.timerHandle = -1;
  updateTime(host, d, pv.vcpu.id);
  sendVirq(d, Virq.TIMER);
}

/**
 * Schedule a host event at `cycle` (never in the past), making the running vCPU stop for it. A
 * cycle past the end of simulated time (machine/clock.ts END_OF_TIME) is never reached: nothing
 * is scheduled (-1), so a far timeout (set_timer_op at 2^64-1 ns) cannot pull the idle clock
 * past where its arithmetic is exact; the timer simply never fires. (Xen's do_set_timer_op
 * special-cases far timeouts too: beyond 2^50 ns ahead it fires in 100 ms instead, a workaround
 * for guests that wrapped their jiffies; we have no such guests and keep the guest's meaning.)
 */
function scheduleAt(host: PvHost, cycle: number, fn: () => void): number {
  if (cycle > END_OF_TIME) return -1;
  const at = Math.max(cycle, host.cpu.cycles);
  const h = host.platform.events.schedule(at, fn);
  host.cpu.shortenDeadline(at);
  return h;
}

/** set_timer_op(lo, hi): VIRQ TIMER at system time hi:lo ns (at once if already past); 0 cancels. */
export function setTimerOp(ctx: HcCtx, lo: number, hi: number): number {
  const host = ctx.host;
  const pv = ctx.pv;
  if (pv.timerHandle >= 0) {
    host.platform.events.cancel(pv.timerHandle);
    pv.timerHandle = -1;
  }
  if (lo === 0 && hi === 0) return 0;
  const ns = (hi >>> 0) * TWO32 + (lo >>> 0);
  const d = ctx.d;
  pv.timerHandle = scheduleAt(host, cyclesAt(host, ns) - d.tscOffset, deferred(null, 'pv.timerFired', host, d, pv));
  return 0;
}

/** Start (periodNs > 0) or stop the periodic timer: VIRQ TIMER every periodNs of system time. */
export function setPeriodicTimer(host: PvHost, d: PvDomain, pv: PvVcpu, periodNs: number): number {
  if (pv.periodicHandle >= 0) {
    host.platform.events.cancel(pv.periodicHandle);
    pv.periodicHandle = -1;
  }
  pv.periodCycles = 0;
  if (periodNs === 0) return 0;
  if (periodNs < 0) return HcErr.EINVAL;
  const period = cyclesAt(host, periodNs);
  // a period shorter than a world switch would starve everything else
  if (period < 1000) return HcErr.EINVAL;
  pv.periodCycles = period;
  periodicTick(host, d, pv, host.cpu.cycles + period, period);
  return 0;
}

/** Arm the periodic timer's next expiry at `at` (a deferred call: saved with the event queue). */
function periodicTick(host: PvHost, d: PvDomain, pv: PvVcpu, at: number, period: number): void {
  pv.periodicHandle = scheduleAt(host, at, deferred(null, 'pv.periodicFired', host, d, pv, at, period));
}

function periodicFired(host: PvHost, d: PvDomain, pv: PvVcpu, at: number, period: number): void {
  pv.periodicHandle = -1;
  if (d.domain.stopped) return; // a stopped domain's timer dies with it
  updateTime(host, d, pv.vcpu.id);
  sendVirq(d, Virq.TIMER);
  if (pv.periodCycles === period) periodicTick(host, d, pv, at + period, period);
}

registerDeferred('pv.timerFired', timerFired);
registerDeferred('pv.periodicFired', periodicFired);

/** Cancel a vCPU's timers (its domain is going away). */
export function stopTimers(host: PvHost, pv: PvVcpu): void {
  if (pv.timerHandle >= 0) host.platform.events.cancel(pv.timerHandle);
  if (pv.periodicHandle >= 0) host.platform.events.cancel(pv.periodicHandle);
  pv.timerHandle = pv.periodicHandle = -1;
  pv.periodCycles = 0;
}
