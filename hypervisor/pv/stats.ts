// Per-domain PV statistics as a report: hypercalls by number with calls, cycles, failures and
// calls made inside multicalls, events, exceptions bounced to the guest, page-table work, and the
// notifications on the console and block rings. What
// `xenolith run --mode pv --stats` prints; the numbers come from DomainStats (core) and PvStats.
// Pure formatting.

import type { NetBackCounts } from './netback.ts';
import type { Domain } from '../core/domain.ts';
import type { PvMode } from './mode.ts';

const VECTOR_NAMES: Record<number, string> = {
  0: 'divide error', 3: 'breakpoint', 6: 'invalid opcode', 8: 'double fault', 13: 'general protection', 14: 'page fault',
  0x80: 'system call', 0x81: 'int 0x81',
};

export interface PvHypercallRow {
  nr: number;
  name: string;
  /** entries into the hypervisor with this number */
  calls: number;
  /** cycles from the HYPERCALL to the return, multicall entries included in the multicall's */
  cycles: number;
  failed: number;
  /** calls made as entries of a multicall */
  batched: number;
}

export interface PvStatsReport {
  domain: number;
  name: string;
  runCycles: number;
  hypervisorCycles: number;
  instructions: number;
  hypercalls: PvHypercallRow[];
  eventsPending: number;
  upcalls: number;
  /** upcalls delivered on a hypercall's return path (folded into its return) */
  foldedUpcalls: number;
  bounced: { vector: number; name: string; count: number }[];
  mmuRequests: number;
  pins: number;
  blkNotifyIn: number;
  blkNotifyOut: number;
  console: { notifyIn: number; notifyOut: number; heldOff: number; bytesOut: number; bytesIn: number };
  /** the network back end (a domain with a network only): frames each way, how received ones came (copy or flip), drops, notifications */
  net?: NetBackCounts & { notifyIn: number; notifyOut: number };
}

export function pvStatsReport(mode: PvMode, domain: Domain): PvStatsReport {
  const s = domain.stats;
  const pv = mode.pv(domain).stats;
  const net = mode.pv(domain).net;
  const hypercalls: PvHypercallRow[] = [];
  s.hypercalls.forEach((calls, nr) => {
    const batched = pv.multicalled[nr]!;
    if (calls > 0 || batched > 0) hypercalls.push({ nr, name: mode.table.name(nr), calls, cycles: s.hypercallCycles[nr]!, failed: pv.failed[nr]!, batched });
  });
  const bounced: PvStatsReport['bounced'] = [];
  pv.bounced.forEach((count, vector) => {
    if (count > 0) bounced.push({ vector, name: VECTOR_NAMES[vector] ?? `vector ${vector}`, count });
  });
  return {
    domain: domain.id,
    name: domain.name,
    runCycles: s.runCycles,
    hypervisorCycles: s.monitorCycles,
    instructions: s.instructions,
    hypercalls,
    eventsPending: pv.eventsPending,
    upcalls: pv.upcalls,
    foldedUpcalls: pv.foldedUpcalls,
    bounced,
    mmuRequests: pv.mmuRequests,
    pins: pv.pins,
    blkNotifyIn: pv.blkNotifyIn,
    blkNotifyOut: pv.blkNotifyOut,
    console: { notifyIn: pv.consoleNotifyIn, notifyOut: pv.consoleNotifyOut, heldOff: pv.consoleHeldOff, bytesOut: pv.consoleBytesOut, bytesIn: pv.consoleBytesIn },
    ...(net ? { net: { ...net.counts, notifyIn: pv.netNotifyIn, notifyOut: pv.netNotifyOut } } : {}),
  };
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);

/** The report as text (one table of hypercalls, then one line per other counter). */
export function formatPvStats(mode: PvMode, domain: Domain): string {
  const r = pvStatsReport(mode, domain);
  const pct = r.runCycles > 0 ? ((100 * r.hypervisorCycles) / r.runCycles).toFixed(1) : '0.0';
  const lines = [
    `domain ${r.domain} (${r.name}), pv: ${r.runCycles} cycles, ${r.instructions} instructions; hypervisor software ${r.hypervisorCycles} cycles (${pct}%)`,
    `  hypercall              calls     cycles  cycles/call  failed  in multicalls`,
  ];
  let calls = 0;
  let cycles = 0;
  for (const h of r.hypercalls) {
    calls += h.calls;
    cycles += h.cycles;
    const per = h.calls > 0 ? Math.round(h.cycles / h.calls) : 0;
    lines.push(`  ${pad(h.nr, 2)} ${h.name.padEnd(18)} ${pad(h.calls, 7)} ${pad(h.cycles, 10)} ${pad(per, 12)} ${pad(h.failed, 7)} ${pad(h.batched, 14)}`);
  }
  lines.push(`     ${'total'.padEnd(18)} ${pad(calls, 7)} ${pad(cycles, 10)}`);
  lines.push(`  events: ${r.eventsPending} set pending, ${r.upcalls} upcalls`);
  lines.push(`  bounced to the guest: ${r.bounced.length === 0 ? 'none' : r.bounced.map((b) => `${b.name} ${b.count}`).join(', ')}`);
  lines.push(`  page tables: ${r.mmuRequests} entries written, ${r.pins} pins`);
  const c = r.console;
  lines.push(`  console ring: ${c.bytesOut} bytes out, ${c.bytesIn} in; ${c.notifyIn} notifications in, ${c.notifyOut} out, ${c.heldOff} held off`);
  const pv = mode.pv(domain).stats;
  if (pv.continuations > 0) lines.push(`  long hypercalls: ${pv.continuations} continuations; at most ${pv.maxStepWork} page-table entries checked in one entry`);
  if (r.blkNotifyIn + r.blkNotifyOut > 0) lines.push(`  block ring: ${r.blkNotifyIn} notifications in, ${r.blkNotifyOut} out`);
  lines.push(...formatNetLines(mode, domain, r));
  return lines.join('\n') + '\n';
}

/** The network back end's lines of the report (none for a domain without a network). */
export function formatNetLines(mode: PvMode, domain: Domain, r: PvStatsReport = pvStatsReport(mode, domain)): string[] {
  const n = r.net;
  if (!n) return [];
  const unit = mode.pv(domain).host.costs;
  return [
    `  network rings: ${n.txFrames} frames sent (${n.txErrors} refused), ${n.rxCopies + n.rxFlips} received (${n.rxNoBuffer} with no buffer, ${n.rxErrors} refused); ${n.notifyIn} notifications in, ${n.notifyOut} out`,
    `  grant copy: ${n.copyLines} lines of 64 bytes, ${n.copyLines * unit.grantCopyLine} cycles (${n.rxCopies} frames received by copy); grant transfer: ${n.rxFlips} page flips, ${n.rxFlips * unit.pageFlip} cycles`,
  ];
}
