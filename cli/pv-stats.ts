// `run --mode pv --stats`: the pv domain's statistics (hypervisor/pv/stats.ts's report) as text,
// with the hypercall table aligned by cli-table3 (bench/text-table.ts) as the CLI's other tables.
// Host code (CLI).
import type { Domain, PvMode } from '../hypervisor/index.ts';
import { formatNetLines, pvStatsReport } from '../hypervisor/pv/stats.ts';
import { textTable } from '../bench/text-table.ts';

export function formatPvStatsTable(mode: PvMode, domain: Domain): string {
  const r = pvStatsReport(mode, domain);
  const pct = r.runCycles > 0 ? ((100 * r.hypervisorCycles) / r.runCycles).toFixed(1) : '0.0';
  let calls = 0;
  let cycles = 0;
  const rows: (string | number)[][] = r.hypercalls.map((h) => {
    calls += h.calls;
    cycles += h.cycles;
    return [h.nr, h.name, h.calls, h.cycles, h.calls > 0 ? Math.round(h.cycles / h.calls) : 0, h.failed, h.batched];
  });
  rows.push(['', 'total', calls, cycles, '', '', '']);
  const table = textTable(['nr', 'hypercall', 'calls', 'cycles', 'cycles/call', 'failed', 'in multicalls'], rows, ['right', 'left', 'right', 'right', 'right', 'right', 'right']);
  const c = r.console;
  const pv = mode.pv(domain).stats;
  const lines = [
    `domain ${r.domain} (${r.name}), pv: ${r.runCycles} cycles, ${r.instructions} instructions; hypervisor software ${r.hypervisorCycles} cycles (${pct}%)`,
    ...table.split('\n').map((l) => `  ${l}`),
    `  events: ${r.eventsPending} set pending, ${r.upcalls} upcalls`,
    `  bounced to the guest: ${r.bounced.length === 0 ? 'none' : r.bounced.map((b) => `${b.name} ${b.count}`).join(', ')}`,
    `  page tables: ${r.mmuRequests} entries written, ${r.pins} pins`,
    `  console ring: ${c.bytesOut} bytes out, ${c.bytesIn} in; ${c.notifyIn} notifications in, ${c.notifyOut} out, ${c.heldOff} held off`,
  ];
  if (pv.continuations > 0) lines.push(`  long hypercalls: ${pv.continuations} continuations; at most ${pv.maxStepWork} page-table entries checked in one entry`);
  if (r.blkNotifyIn + r.blkNotifyOut > 0) lines.push(`  block ring: ${r.blkNotifyIn} notifications in, ${r.blkNotifyOut} out`);
  lines.push(...formatNetLines(mode, domain, r));
  lines.push(...formatVcpuLines(mode, domain));
  return lines.join('\n') + '\n';
}

/**
 * A domain of several vCPUs: each one's run, blocked and offline cycles, the yields its spinning
 * locks made and the cycles they had spun (lock-holder preemption's waste, as the guest measured
 * it up to each yield), and the TLB flushes other vCPUs asked of it (TLB_FLUSH_MULTI, INVLPG_MULTI).
 */
export function formatVcpuLines(mode: PvMode, domain: Domain): string[] {
  const d = mode.pv(domain);
  if (d.vcpus.length < 2) return [];
  return d.vcpus.map((v) =>
    `  vcpu ${v.vcpu.id}: ${v.online ? 'up' : 'down'}, run ${v.vcpu.runCycles} cycles, blocked ${v.blockedCycles}, offline ${v.offlineCycles}; ` +
    `spin yields ${v.spinYields} (${v.spinCycles} cycles spun before them); TLB flushes asked by others ${v.remoteFlushes}, by itself ${v.localFlushes}`);
}
