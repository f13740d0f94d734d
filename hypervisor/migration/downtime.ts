// A migrated domain's downtime on its new machine: the simulated time its stop-and-copy took on
// the link (precopy.ts), passed with the domain not running - the machine idles, its devices'
// events come due in order (a timer's interrupt waits for the vCPU, as during any pause). The
// guest sees the time go by, as a real migrated guest sees its clock jump; nothing else.
// Host code; touches the CPU's clock and ledger (Ev.Idle) and the event queue only.

import type { Cpu } from '../../machine/cpu.ts';
import { Ev } from '../../machine/ledger.ts';
import type { EventQueue } from '../../machine/clock.ts';

/** A machine whose clock can idle: the bare Machine or a Hypervisor. */
export interface IdleMachine {
  readonly cpu: Cpu;
  readonly events: EventQueue;
  idleCycles: number;
}

/** Idle `cycles` simulated cycles without running any vCPU, running the device events due meanwhile. */
export function idleFor(m: IdleMachine, cycles: number): void {
  const end = m.cpu.cycles + cycles;
  for (;;) {
    m.events.runDue();
    const next = Math.min(m.events.nextDeadline(), end);
    if (next > m.cpu.cycles) {
      const n = next - m.cpu.cycles;
      m.cpu.charge(Ev.Idle, n);
      m.idleCycles += n;
    }
    if (m.cpu.cycles >= end) return;
  }
}
