// The archtest system call: observe, from inside the kernel, the sensitive operations whose
// answers a faithful virtual machine must preserve (Popek & Goldberg's equivalence). The guest
// test suite's critical-* tests call it; under trap-and-emulate the critical instructions behind
// the native probes do not trap, so the answers differ — which the comparison shows. Two more
// probes every mode must answer as the bare machine does: condition bits across kernel traps and
// interrupts (an IRET that drops them sends a compare-then-branch the wrong way), and the
// address of present supervisor-only kernel code, which the suite's kernelread test reads from
// user mode (it must fault).
// Guest code (the TypeScript subset).

import { pushf, popf, addressOf } from 'xl32';
import { ArchTest, Err } from './abi.ts';
import { divideFaultReady, faultingDivide } from './nanobench.ts';
import {
  PvOp, pvHas, currentRing, irqsEnabled, trapTableCheck, irqSave, irqRestore, irqEnable, readCycles, clockMHz,
} from './pvops.ts';
import { localTicks } from './smp.ts';

const enum Probe {
  /** timer ticks to wait for one to arrive before concluding interrupts stayed off */
  TICKS = 20,
  /** timer ticks the condition-bit probe runs for */
  COND_TICKS = 8,
}

/**
 * The condition bits of FLAGS (machine/isa.ts Flag: Z, LT, B). Not sensitive state: POPF sets
 * them and PUSHF shows them at every ring, so kernel/ reads and writes them directly under both
 * architectures (the IF bit is written back as PUSHF showed it, so no IF change is attempted).
 */
const enum Cond {
  ALL = 7,
}

/** After irqSave + irqRestore from an enabled state, does a timer tick still arrive? */
function tickAfterRestore(): number {
  irqEnable();
  const flags = irqSave();
  irqRestore(flags);
  const t0 = localTicks();
  const c0 = readCycles();
  const budget = clockMHz() * 1000 * Probe.TICKS;
  let arrived = 0;
  while (readCycles() - c0 < budget) {
    if (localTicks() !== t0) {
      arrived = 1;
      break;
    }
  }
  // Whatever the probe found, leave interrupts on, as the caller had them.
  irqEnable();
  return arrived;
}

/**
 * Every combination of condition bits, each set with POPF and read back with PUSHF, with nothing
 * between them but the POPF's block boundary, where a pending interrupt is taken: 0 if all
 * survived, else nonzero. No branch in between, so each POPF is one of the few boundaries of the
 * caller's loop and most interrupts arrive right after one.
 */
function condPairs(): number {
  const f = pushf() & ~Cond.ALL;
  let bad = 0;
  popf(f | 0);
  bad = bad | (pushf() & Cond.ALL);
  popf(f | 1);
  bad = bad | ((pushf() & Cond.ALL) ^ 1);
  popf(f | 2);
  bad = bad | ((pushf() & Cond.ALL) ^ 2);
  popf(f | 3);
  bad = bad | ((pushf() & Cond.ALL) ^ 3);
  popf(f | 4);
  bad = bad | ((pushf() & Cond.ALL) ^ 4);
  popf(f | 5);
  bad = bad | ((pushf() & Cond.ALL) ^ 5);
  popf(f | 6);
  bad = bad | ((pushf() & Cond.ALL) ^ 6);
  popf(f | 7);
  bad = bad | ((pushf() & Cond.ALL) ^ 7);
  return bad;
}

/**
 * Whether the condition bits survive kernel traps: set with POPF, read back with PUSHF after a
 * kernel divide fault (fixed up by the trap handler, whose own compares change the bits, and
 * returned from by IRET, which must restore them) for each combination; then, for
 * Probe.COND_TICKS timer ticks with interrupts on, across whatever interrupts arrive between
 * POPF and PUSHF (condPairs). 1: they always survived; 0: they did not.
 */
function condAcrossTraps(): number {
  if (!divideFaultReady()) return Err.ENOSYS;
  let bits = 0;
  while (bits <= Cond.ALL) {
    popf((pushf() & ~Cond.ALL) | bits);
    faultingDivide(bits, 0);
    const got = pushf() & Cond.ALL;
    if (got !== bits) return 0;
    bits = bits + 1;
  }
  irqEnable();
  const t0 = localTicks();
  const c0 = readCycles();
  const budget = clockMHz() * 1000 * Probe.TICKS;
  while (localTicks() - t0 < Probe.COND_TICKS && readCycles() - c0 < budget) {
    if (condPairs() !== 0) return 0;
  }
  return 1;
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
    case ArchTest.COND_ACROSS_TRAPS:
      return condAcrossTraps();
    case ArchTest.KERNEL_TEXT:
      return addressOf(sysArchtest);
    default:
      return Err.EINVAL;
  }
}
