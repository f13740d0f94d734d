// Several hvm domains on the one real CPU: the round-robin scheduler time-slices them (a vCPU
// taken off the CPU in non-root mode leaves it through an exit), a domain blocked in HLT gives the
// CPU to the others, an hvm domain shares the CPU with a trap-mode one, and the interleaving is
// deterministic.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../hypervisor/core/hypervisor.ts';
import { RoundRobinScheduler } from '../../hypervisor/core/scheduler.ts';
import { HvmMode } from '../../hypervisor/hvm/index.ts';
import { TrapMode } from '../../hypervisor/trap/index.ts';
import type { Mode } from '../../hypervisor/core/mode.ts';
import { Exit } from '../../machine/types.ts';
import { guestImage } from './hvm-harness.ts';

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

function twoPrinters(slice: number, modes: [Mode, Mode] = [new HvmMode(), new HvmMode()]) {
  const hv = new Hypervisor({ memoryBytes: 16 * MiB, scheduler: new RoundRobinScheduler(slice) });
  const log: string[] = [];
  const a = hv.createDomain(modes[0], { name: 'a', memoryBytes: 2 * MiB, onOutput: (b) => log.push(String.fromCharCode(b)) }, { image: printer('A', 10) });
  const b = hv.createDomain(modes[1], { name: 'b', memoryBytes: 2 * MiB, onOutput: (c) => log.push(String.fromCharCode(c)) }, { image: printer('B', 10) });
  const res = hv.run({ maxCycles: 50_000_000 });
  return { hv, a, b, log: log.join(''), res };
}

const switches = (log: string) => [...log].filter((c, k) => k > 0 && c !== log[k - 1]).length;

describe('hvm mode: several domains on one CPU', () => {
  it('two domains are time-sliced round robin and both finish with their own consoles', () => {
    const { a, b, log, res, hv } = twoPrinters(100_000);
    expect(res.reason).toBe('all-stopped');
    expect(a.consoleOutput()).toBe('AAAAAAAAAA');
    expect(b.consoleOutput()).toBe('BBBBBBBBBB');
    expect(switches(log)).toBeGreaterThanOrEqual(8);
    expect(Math.abs(a.stats.runCycles - b.stats.runCycles) / Math.max(a.stats.runCycles, b.stats.runCycles)).toBeLessThan(0.1);
    // a vCPU preempted at the end of its slice leaves non-root mode through an exit
    for (const d of [a, b]) {
      expect(d.stats.worldSwitches).toBeGreaterThan(5);
      expect(d.stats.cpuExits[Exit.ExternalInterrupt]).toBeGreaterThanOrEqual(d.stats.worldSwitches - 1);
    }
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
    expect(y.b.stats.summary()).toEqual(x.b.stats.summary());
  });

  it('shares the CPU with a trap-mode domain: each mode sets its own CPU hooks at every switch', () => {
    const { a, b, log, res } = twoPrinters(100_000, [new HvmMode(), new TrapMode()]);
    expect(res.reason).toBe('all-stopped');
    expect([a.consoleOutput(), b.consoleOutput()]).toEqual(['AAAAAAAAAA', 'BBBBBBBBBB']);
    expect(switches(log)).toBeGreaterThanOrEqual(8);
    // the hvm domain never trapped; the trap domain never took a VM exit
    expect(a.stats.traps.reduce((s, n) => s + n, 0)).toBe(0);
    expect(b.stats.cpuExits[Exit.Io]).toBe(0);
    expect(b.stats.traps[13]).toBeGreaterThan(0);
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
    const mode = new HvmMode();
    const z = hv.createDomain(mode, { name: 'z', memoryBytes: 2 * MiB, onOutput: (c) => log.push(String.fromCharCode(c)) }, { image: sleeper });
    const p = hv.createDomain(mode, { name: 'p', memoryBytes: 2 * MiB, onOutput: (c) => log.push(String.fromCharCode(c)) }, { image: printer('P', 10) });
    const res = hv.run({ maxCycles: 50_000_000 });
    expect(res.reason).toBe('all-stopped');
    expect(log.join('')).toBe('PPPPPPPPPPZ');
    expect(z.stats.loopExits.hlt).toBe(1);
    expect(z.stats.injectedInterrupts).toBe(1);
    expect(z.stats.runCycles).toBeLessThan(p.stats.runCycles);
    expect(hv.idleCycles).toBeGreaterThan(0);
  });
});
