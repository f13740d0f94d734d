// Issue 9 item 8: a hypercall handler added through the experiment API (docs/hypercalls.md
// "Adding a hypercall") that throws crashes the calling domain, with a message naming the
// hypercall, never the host; the other domains run on, and a multicall that reaches it stops there.
import { describe, expect, it } from 'vitest';
import { Hc } from '../../hypercalls/numbers.ts';
import { asmGuest, pvDomain, pvHypervisor } from './pv-helpers.ts';

const BOOM = 41; // in Hc.EXPERIMENT_FIRST..EXPERIMENT_LAST

/** A domain that prints "ok\n" after a short loop and powers off with status 3. */
const WORKER = asmGuest(`
_start:
  li r5, 20000
.Lspin:
  addi r5, r5, -1
  cmpi r5, 0
  jne .Lspin
  li r0, 18             ; console_io(WRITE, 3, msg)
  li r1, 0
  li r2, 3
  li r3, msg
  hypercall
  li r0, 6              ; sched_op(SHUTDOWN, POWEROFF, 3)
  li r1, 2
  li r2, 0
  li r3, 3
  hypercall
.Lhang:
  jmp .Lhang
msg:
  .ascii "ok\\n"`);

function withBoom() {
  const { hv, mode } = pvHypervisor();
  let calls = 0;
  mode.table.register(BOOM, 'boom', (_ctx, a1) => {
    calls++;
    throw new Error(`experiment bug (arg ${a1})`);
  });
  return { hv, mode, calls: () => calls };
}

describe('a throwing experiment hypercall', () => {
  it('crashes only the caller, naming the hypercall; the other domain finishes its work', () => {
    const t = withBoom();
    const bad = pvDomain(t.hv, t.mode, 'bad', asmGuest(`
_start:
  li r0, ${BOOM}
  li r1, 77
  hypercall
  li r0, 18             ; never reached: console_io(WRITE, 5, msg)
  li r1, 0
  li r2, 5
  li r3, msg
  hypercall
.Lhang:
  jmp .Lhang
msg:
  .ascii "after"`));
    const good = pvDomain(t.hv, t.mode, 'good', WORKER);
    const res = t.hv.run({ maxCycles: 50_000_000 });
    expect(res.reason).toBe('all-stopped');
    expect(t.calls()).toBe(1);
    expect([bad.stopReason, bad.stopDetail]).toEqual(['crashed', "hypercall 41 'boom' failed in the hypervisor: experiment bug (arg 77)"]);
    expect(bad.consoleOutput()).toBe('');
    expect([good.stopReason, good.stopStatus, good.consoleOutput()]).toEqual(['poweroff', 3, 'ok\n']);
  });

  it('inside a multicall: the entries after it never run and the domain is crashed the same way', () => {
    const t = withBoom();
    // multicall of [boom(5), console_io(WRITE, 5, msg)]
    const bad = pvDomain(t.hv, t.mode, 'bad', asmGuest(`
_start:
  li r0, ${Hc.MULTICALL}
  li r1, calls
  li r2, 2
  hypercall
.Lhang:
  jmp .Lhang
calls:
  .word ${BOOM}, 0, 5, 0, 0, 0, 0
  .word 18, 0, 0, 5, msg, 0, 0
msg:
  .ascii "after"`));
    const good = pvDomain(t.hv, t.mode, 'good', WORKER);
    t.hv.run({ maxCycles: 50_000_000 });
    expect([bad.stopReason, bad.stopDetail]).toEqual(['crashed', "hypercall 41 'boom' failed in the hypervisor: experiment bug (arg 5)"]);
    expect(bad.consoleOutput()).toBe('');
    expect(t.mode.pv(bad).stats.multicalled[18]).toBe(0);
    expect([good.stopReason, good.consoleOutput()]).toEqual(['poweroff', 'ok\n']);
  });
});
