// hvm mode's counters in words, for `--stats` and the monitor: VM exits by reason (the domain's
// cpuExits, Intel numbering), injected interrupts, the second stage's size or the shadow's events. Reads only.

import { Exit, EXIT_NAMES } from '../../machine/types.ts';
import type { Domain } from '../core/domain.ts';
import { TracedShadowMmu } from '../trap/traced-shadow.ts';
import { HvmDomainState, HvmVcpu } from './state.ts';
import { HvmMode } from './mode.ts';

/** The VM exit reasons hvm mode can see, by name (machine/types.ts Exit). */
export const HVM_EXIT_NAMES: readonly (readonly [string, number])[] = [
  Exit.Io, Exit.Hlt, Exit.Cpuid, Exit.Hypercall, Exit.InterruptWindow, Exit.ExternalInterrupt, Exit.EptViolation, Exit.CrAccess, Exit.Invlpg, Exit.Pause, Exit.TripleFault, Exit.Exception,
].map((x) => [EXIT_NAMES[x], x] as const);

/** VM exits of an hvm domain by reason name (zero counts included), and their total. */
export function hvmExitCounts(domain: Domain): { total: number; byReason: Record<string, number> } {
  const byReason: Record<string, number> = {};
  let total = 0;
  for (const [name, reason] of HVM_EXIT_NAMES) {
    const n = domain.stats.cpuExits[reason]!;
    byReason[name] = n;
    total += n;
  }
  return { total, byReason };
}

/** Lines for `--stats`: exits by reason, injected interrupts, monitor cycles, the second stage. */
export function formatHvmStats(domain: Domain): string {
  const { total, byReason } = hvmExitCounts(domain);
  const reasons = Object.entries(byReason)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  const s = domain.stats;
  const lines = [
    `vm exits: ${total}${reasons ? ` (${reasons})` : ''}`,
    `injected interrupts: ${s.injectedInterrupts}`,
    `monitor cycles: ${s.monitorCycles}`,
  ];
  const ple = pleLine(domain);
  if (ple !== null) lines.push(ple);
  const state = domain.modeState instanceof HvmDomainState ? domain.modeState : null;
  if (state?.ept) lines.push(`second stage: ${state.ept.tables} tables + 1 directory`);
  else if (state) {
    lines.push(`shadow paging: ${s.hiddenFaults} hidden faults, ${s.trueFaults} true faults, ${s.shadowFlushes} flushes, ${s.shadowInvlpgs} invlpgs`);
    const v = domain.vcpus[0]?.modeState;
    if (v instanceof HvmVcpu && v.shadow?.shadow instanceof TracedShadowMmu) {
      lines.push(`traced shadow: ${s.traceFaults} trace faults, ${s.shadowSpaceHits} address-space hits, ${s.shadowSpaceMisses} misses${s.traceDmaWrites > 0 ? `, ${s.traceDmaWrites} DMA writes into traced tables` : ''}`);
    }
  }
  return lines.join('\n');
}

/** The pause-loop exiting line of `--stats` and the monitor's `info mode` (null without --ple). */
export function pleLine(domain: Domain): string | null {
  const ple = domain.mode instanceof HvmMode ? domain.mode.ple : null;
  if (ple === null) return null;
  const s = domain.stats;
  const perVcpu = domain.vcpus.map((v) => (v.modeState instanceof HvmVcpu ? v.modeState.vmcs.exitCounts[Exit.Pause]! : 0));
  return `pause-loop exiting (--ple, gap ${ple.gap}, window ${ple.window} cycles): ${s.cpuExits[Exit.Pause]!} exits${perVcpu.length > 1 ? ` (by vCPU: ${perVcpu.join(', ')})` : ''}, ${s.yieldsToOthers} gave the physical CPU to another vCPU`;
}
