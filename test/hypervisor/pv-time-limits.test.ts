// Issue 9 item 5: a timer at 2^64-1 ns used to make the idle loop jump the cycle counter past
// 2^53, where adding an instruction's cycles no longer changes it, so a slice never ended. Now
// simulated time ends at END_OF_TIME (2^52 cycles): a timer beyond it never fires, every run
// stops there at the latest, and up to there a guest's cycles are exactly what they are at the
// start of time.
import { describe, expect, it } from 'vitest';
import { END_OF_TIME, END_OF_TIME_DETAIL } from '../../machine/clock.ts';
import { Hc } from '../../hypercalls/numbers.ts';
import { cyclesAt } from '../../hypervisor/pv/time.ts';
import { asmGuest, pvDomain, pvHypervisor } from './pv-helpers.ts';

const TWO32 = 2 ** 32;

/**
 * A system time `cycles` before the end of time, in ns, rounded down to a multiple of 256 (near
 * 2^60 ns doubles are 256 apart), with its set_timer_op words.
 */
function nsBeforeEnd(clockMHz: number, cycles: number): { ns: number; lo: number; hi: number } {
  const ns = Math.floor(((END_OF_TIME - cycles) * 1000) / clockMHz / 256) * 256;
  const hi = Math.floor(ns / TWO32);
  return { ns, lo: ns - hi * TWO32, hi };
}

/** Bind VIRQ TIMER, arm set_timer_op at hi:lo ns, block; once woken, count down r5 and power off with status 9. */
function timerGuest(lo: number, hi: number, loops = 1000): ReturnType<typeof asmGuest> {
  return asmGuest(`
_start:
  li r0, ${Hc.EVENT_CHANNEL_OP}   ; event_channel_op(BIND_VIRQ, {TIMER, vcpu 0, port})
  li r1, 2
  li r2, bind
  hypercall
  li r0, ${Hc.SET_TIMER_OP}
  li r1, ${lo >>> 0}
  li r2, ${hi >>> 0}
  hypercall
  li r0, ${Hc.SCHED_OP}           ; sched_op(BLOCK)
  li r1, 1
  hypercall
  li r5, ${loops}
.Lcount:
  addi r5, r5, -1
  cmpi r5, 0
  jne .Lcount
  li r0, ${Hc.SCHED_OP}           ; sched_op(SHUTDOWN, POWEROFF, 9)
  li r1, 2
  li r2, 0
  li r3, 9
  hypercall
.Lhang:
  jmp .Lhang
bind:
  .word 0, 0, 0`);
}

/** A domain that counts down and powers off with status 3. */
const WORKER = asmGuest(`
_start:
  li r5, 5000
.Lspin:
  addi r5, r5, -1
  cmpi r5, 0
  jne .Lspin
  li r0, 6
  li r1, 2
  li r2, 0
  li r3, 3
  hypercall
.Lhang:
  jmp .Lhang`);

describe('the end of simulated time', () => {
  it('a timer at 2^64-1 ns never fires: with no cycle limit the run ends when nothing else can happen, its clock exact', () => {
    const { hv, mode } = pvHypervisor();
    const attacker = pvDomain(hv, mode, 'attacker', timerGuest(0xffffffff, 0xffffffff));
    const worker = pvDomain(hv, mode, 'worker', WORKER);
    const res = hv.run();
    expect([res.reason, res.detail]).toEqual(['deadlock', 'every vCPU is blocked and no device event is left that could wake one']);
    expect([worker.stopReason, worker.stopStatus]).toEqual(['poweroff', 3]);
    expect([attacker.stopped, attacker.vcpus[0]!.runState]).toEqual([false, 'blocked']);
    expect(hv.cpu.cycles).toBe(res.cycles);
    expect(res.cycles).toBeLessThan(100_000_000);
    expect(res.idleCycles).toBe(0);
  });

  it('a guest woken just before the end runs exactly the cycles it runs at the start', () => {
    const clock = (fireNs: number, lo: number, hi: number) => {
      const { hv, mode } = pvHypervisor();
      const d = pvDomain(hv, mode, 'sleeper', timerGuest(lo, hi));
      const res = hv.run();
      expect([res.reason, d.stopReason, d.stopStatus]).toEqual(['all-stopped', 'poweroff', 9]);
      return { after: hv.cpu.cycles - cyclesAt(mode.host, fireNs), end: hv.cpu.cycles };
    };
    const early = clock(TWO32, 0, 1); // about 4.3 s of system time
    const l = nsBeforeEnd(pvHypervisor().hv.profile.clockMHz, 1_000_000);
    const late = clock(l.ns, l.lo, l.hi);
    expect(late.end).toBeLessThan(END_OF_TIME);
    expect(late.after).toBe(early.after);
  });

  it('a run with no cycle limit stops at the end of time, and a later run at once', () => {
    const { hv, mode } = pvHypervisor();
    // a timer that fires about 10,000 cycles before the end wakes a guest that counts far longer
    const l = nsBeforeEnd(hv.profile.clockMHz, 10_000);
    pvDomain(hv, mode, 'late', timerGuest(l.lo, l.hi, 1_000_000));
    const res = hv.run();
    expect([res.reason, res.detail]).toEqual(['limit', END_OF_TIME_DETAIL]);
    expect(hv.cpu.cycles).toBeGreaterThanOrEqual(END_OF_TIME);
    expect(hv.cpu.cycles - END_OF_TIME).toBeLessThan(1000); // the last block's overshoot
    const again = hv.run({ maxCycles: 1_000_000 });
    expect([again.reason, again.cycles]).toEqual(['limit', 0]);
  });

  it('refuses a cycle limit that is not a whole number of cycles', () => {
    const { hv } = pvHypervisor();
    expect(() => hv.run({ maxCycles: -1 })).toThrow('maxCycles must be a whole number >= 0, not -1');
    expect(() => hv.run({ maxCycles: Number.NaN })).toThrow('maxCycles must be a whole number >= 0, not NaN');
    expect(() => hv.run({ maxCycles: 1.5 })).toThrow('maxCycles must be a whole number >= 0, not 1.5');
  });
});
