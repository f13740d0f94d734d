// The archtest system call: observe, from inside the kernel, the sensitive operations whose
// answers a faithful virtual machine must preserve (Popek & Goldberg's equivalence). The guest
// test suite's critical-* tests call it; under trap-and-emulate the critical instructions behind
// the native probes do not trap, so the answers differ — which the comparison shows.
// Guest code (the TypeScript subset).

import { ArchTest, Err } from './abi.ts';
import {
  PvOp, pvHas, currentRing, irqsEnabled, trapTableCheck, irqSave, irqRestore, irqEnable, readCycles, clockMHz,
} from './pvops.ts';
import { uptime } from './trap.ts';

const enum Probe {
  /** timer ticks to wait for one to arrive before concluding interrupts stayed off */
  TICKS = 20,
}

/** After irqSave + irqRestore from an enabled state, does a timer tick still arrive? */
function tickAfterRestore(): number {
  irqEnable();
  const flags = irqSave();
  irqRestore(flags);
  const t0 = uptime();
  const c0 = readCycles();
  const budget = clockMHz() * 1000 * Probe.TICKS;
  let arrived = 0;
  while (readCycles() - c0 < budget) {
    if (uptime() !== t0) {
      arrived = 1;
      break;
    }
  }
  // Whatever the probe found, leave interrupts on, as the caller had them.
  irqEnable();
  return arrived;
}

/** archtest(op): the observation for ArchTest op; ENOSYS if the architecture has no probe. */
export function sysArchtest(op: number): number {
  switch (op) {
    case ArchTest.RING:
      return pvHas(PvOp.CURRENT_RING) ? currentRing() : Err.ENOSYS;
    case ArchTest.IRQS_OFF_VISIBLE: {
      if (!pvHas(PvOp.IRQS_ENABLED)) return Err.ENOSYS;
      const flags = irqSave();
      const on = irqsEnabled();
      irqRestore(flags);
      irqEnable();
      return on;
    }
    case ArchTest.IRQ_RESTORE:
      return tickAfterRestore();
    case ArchTest.TRAP_TABLE:
      return pvHas(PvOp.TRAP_TABLE_CHECK) ? trapTableCheck() : Err.ENOSYS;
    default:
      return Err.EINVAL;
  }
}
