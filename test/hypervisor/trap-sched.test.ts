// Several trap-mode domains on the one real CPU: the round-robin scheduler time-slices them, a
// domain blocked in HLT gives the CPU to the others, the CPU idles only when every vCPU waits, and
// the interleaving is deterministic.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { TrapMode } from '../../hypervisor/trap/index.ts';
import { both, guestImage } from './trap-harness.ts';

/** Print `letter` `count` times, ~80,000 cycles of computation apart. */
function printer(letter: string, count: number) {
  return guestImage(`
test_main:
        li      r7, 0
.Lloop:
        li      r6, 0
.Lbusy:
        addi    r6, r6, 1
        cmpi    r6, 20000
        jlt     .Lbusy
        li      r2, '${letter}'
        outb    UART_DATA, r2
        addi    r7, r7, 1
        cmpi    r7, ${count}
        jlt     .Lloop
        li      r0, 0
        ret
`);
}

const MiB = 1024 * 1024;

function twoPrinters(slice: number) {
  const hv = new Hypervisor({ memoryBytes: 16 * MiB, scheduler: new RoundRobinScheduler(slice) });
  const log: string[] = [];
  const mode = new TrapMode();
  const a = hv.createDomain(mode, { name: 'a', memoryBytes: 2 * MiB, onOutput: (b) => log.push(String.fromCharCode(b)) }, { image: printer('A', 10) });
  const b = hv.createDomain(mode, { name: 'b', memoryBytes: 2 * MiB, onOutput: (c) => log.push(String.fromCharCode(c)) }, { image: printer('B', 10) });
  const res = hv.run({ maxCycles: 50_000_000 });
  return { hv, a, b, log: log.join(''), res };
}

describe('trap mode: several domains on one CPU', () => {
  it('two domains are time-sliced round robin and both finish with their own consoles', () => {
    const { a, b, log, res, hv } = twoPrinters(100_000);
    expect(res.reason).toBe('all-stopped');
    expect(a.consoleOutput()).toBe('AAAAAAAAAA');
    expect(b.consoleOutput()).toBe('BBBBBBBBBB');
    // interleaved on the one console stream, not one after the other
    const switches = [...log].filter((c, k) => k > 0 && c !== log[k - 1]).length;
    expect(switches).toBeGreaterThanOrEqual(8);
    // each got about the same CPU time
    expect(Math.abs(a.stats.runCycles - b.stats.runCycles) / Math.max(a.stats.runCycles, b.stats.runCycles)).toBeLessThan(0.1);
    expect(a.stats.worldSwitches).toBeGreaterThan(5);
    expect(b.stats.worldSwitches).toBeGreaterThan(5);
    expect(hv.idleCycles).toBe(0);
  });

  it('a longer slice interleaves more coarsely', () => {
    const fine = twoPrinters(100_000);
    const coarse = twoPrinters(400_000);
    expect(coarse.log).not.toBe(fine.log);
    expect(coarse.a.stats.worldSwitches).toBeLessThan(fine.a.stats.worldSwitches);
  });

  it('is deterministic: the same interleaving, cycle for cycle', () => {
    const x = twoPrinters(100_000);
    const y = twoPrinters(100_000);
    expect(y.log).toBe(x.log);
    expect(y.res.cycles).toBe(x.res.cycles);
    expect(y.a.stats.summary()).toEqual(x.a.stats.summary());
  });

  it('a domain blocked in HLT gives the CPU away; the CPU idles only when both wait', () => {
    const sleeper = guestImage(`
test_main:
        li      r1, 32
        li      r2, on_tick
        li      r3, GATE_KINT
        call    set_gate
        li      r1, 32
        outb    PIC_BASE, r1
        li      r1, 0xfffe
        out     PIC_MASK, r1
        li      r1, 2000000
        out     TIMER_PERIOD, r1
        li      r1, 1
        out     TIMER_CONTROL, r1
        sti
        hlt
        li      r2, 'Z'
        outb    UART_DATA, r2
        li      r0, 0
        ret
on_tick:
        li      r1, PIC_EOI
        outb    PIC_CMD, r1
        addi    sp, sp, 8
        iret
`);
    const hv = new Hypervisor({ memoryBytes: 16 * MiB, scheduler: new RoundRobinScheduler(100_000) });
    const log: string[] = [];
    const mode = new TrapMode();
    const z = hv.createDomain(mode, { name: 'z', memoryBytes: 2 * MiB, onOutput: (c) => log.push(String.fromCharCode(c)) }, { image: sleeper });
    const p = hv.createDomain(mode, { name: 'p', memoryBytes: 2 * MiB, onOutput: (c) => log.push(String.fromCharCode(c)) }, { image: printer('P', 10) });
    const res = hv.run({ maxCycles: 50_000_000 });
    expect(res.reason).toBe('all-stopped');
    // ~800,000 cycles of printing happen while Z sleeps; Z's tick comes 2,000,000 cycles in
    expect(log.join('')).toBe('PPPPPPPPPPZ');
    expect(z.stats.loopExits.hlt).toBe(1);
    expect(z.stats.runCycles).toBeLessThan(p.stats.runCycles);
    // after P finished, nothing was runnable until Z's tick
    expect(hv.idleCycles).toBeGreaterThan(0);
    expect(res.idleCycles).toBe(hv.idleCycles);
  });

  it('HLT with nothing left to wake it ends the run as the bare machine ends it', () => {
    const { native, trap } = both(`
test_main:
        sti
        hlt
        li      r0, 0
        ret
`);
    expect(native.result.reason).toBe('halted');
    expect(trap.reason).toBe('halted');
    expect(trap.detail).toBe(native.result.detail);
  });
});
