// `xenolith bench domains`: N small pv domains on one host (the daemon's Host, in-process, paced
// "as fast as possible"), each running the same CPU-bound workload (`spin`, the standard guest's
// busy loop). For each N: aggregate guest throughput (instructions per simulated cycle, and per
// wall-clock second, measured separately) against one domain alone, the machine memory and the
// host (process) memory per domain, and per-domain fairness (Jain's index over the instructions
// each domain retired in the measured window, and the least/most ratio). Timing lives here only.

import { Host } from '../daemon/host.ts';
import { validateDefinition } from '../daemon/definition.ts';
import { buildGuestKernel } from '../toolchain/guest-kernel.ts';
import { MAX_MACHINE_BYTES } from '../machine/memory.ts';
import { SLICE_CYCLES } from '../daemon/host.ts';
import { textTable } from './text-table.ts';

export interface DomainsBenchRow {
  domains: number;
  /** why this N could not run (it does not fit the machine), else null */
  error: string | null;
  /** guest instructions per simulated cycle, all domains together, in the measured window */
  simThroughput: number;
  /** simThroughput relative to one domain alone (1 = no loss) */
  simRatio: number;
  /** guest instructions per wall-clock second, all domains together */
  wallThroughput: number;
  wallRatio: number;
  /** machine memory per domain (its own frames and the hypervisor's frames for it), MiB */
  machineMiBPerDomain: number;
  /** growth of the process's resident memory per domain, MiB (measured, noisy) */
  hostMiBPerDomain: number;
  /** Jain's fairness index of the instructions per domain (1 = equal) */
  fairness: number;
  /** least / most instructions of a domain in the window */
  minMaxRatio: number;
  /** wall-clock seconds to boot the N domains */
  bootSeconds: number;
}

export interface DomainsBenchOptions {
  counts: number[];
  /** each domain's memory, MiB */
  memoryMiB: number;
  /** simulated cycles each domain gets in the measured window */
  windowCycles: number;
}

/** Each domain's share of the hypervisor's frames is at most this (shared info, rings, grant table). */
const HV_FRAMES_PER_DOMAIN_BOUND = 64;

function runOne(n: number, o: DomainsBenchOptions): DomainsBenchRow {
  const blank = { simThroughput: 0, simRatio: 0, wallThroughput: 0, wallRatio: 0, machineMiBPerDomain: 0, hostMiBPerDomain: 0, fairness: 0, minMaxRatio: 0, bootSeconds: 0 };
  const hostBytes = Math.min(MAX_MACHINE_BYTES, n * (o.memoryMiB * 1024 * 1024 + HV_FRAMES_PER_DOMAIN_BOUND * 4096) + 16 * 1024 * 1024);
  const rss0 = process.memoryUsage().rss;
  const host = new Host(null, { hostMemoryMiB: Math.ceil(hostBytes / (1024 * 1024)), pacing: 'fast', standardGuest: (arch) => buildGuestKernel({ arch }) });
  const names: string[] = [];
  const t0 = performance.now();
  try {
    for (let k = 0; k < n; k++) {
      const name = `d${k}`;
      names.push(name);
      host.define(validateDefinition({ name, mode: 'pv', memory: o.memoryMiB, cmdline: 'spin' }));
      host.start(name);
    }
  } catch (e) {
    host.shutdownAll();
    return { domains: n, error: `${names.length - 1} domains started, then: ${(e as Error).message}`, ...blank };
  }
  // boot: until every domain has retired instructions in user mode for a while (spin runs)
  const bootSteps = Math.ceil((n * 4_000_000) / SLICE_CYCLES);
  for (let k = 0; k < bootSteps; k++) host.step();
  const bootSeconds = (performance.now() - t0) / 1000;
  const before = new Map(host.list().map((d) => [d.name, d.instructions]));
  const m0 = host.machineStats()[0]!;
  const w0 = performance.now();
  const steps = Math.ceil((n * o.windowCycles) / SLICE_CYCLES);
  for (let k = 0; k < steps; k++) host.step();
  const wall = (performance.now() - w0) / 1000;
  const m1 = host.machineStats()[0]!;
  const per = host.list().map((d) => d.instructions - (before.get(d.name) ?? 0));
  const total = per.reduce((a, b) => a + b, 0);
  const sumSq = per.reduce((a, b) => a + b * b, 0);
  const rss1 = process.memoryUsage().rss;
  host.shutdownAll();
  return {
    domains: n,
    error: null,
    simThroughput: total / (m1.cycles - m0.cycles),
    simRatio: 1,
    wallThroughput: total / wall,
    wallRatio: 1,
    machineMiBPerDomain: (m1.usedFrames * 4096) / (1024 * 1024) / n,
    hostMiBPerDomain: Math.max(0, rss1 - rss0) / (1024 * 1024) / n,
    fairness: sumSq === 0 ? 0 : (total * total) / (n * sumSq),
    minMaxRatio: Math.min(...per) / Math.max(...per),
    bootSeconds,
  };
}

export function runDomainsBench(o: DomainsBenchOptions): DomainsBenchRow[] {
  const rows = o.counts.map((n) => runOne(n, o));
  const base = rows.find((r) => r.domains === 1 && r.error === null) ?? rows.find((r) => r.error === null);
  for (const r of rows) {
    if (!base || r.error !== null) continue;
    r.simRatio = r.simThroughput / base.simThroughput;
    r.wallRatio = r.wallThroughput / base.wallThroughput;
  }
  return rows;
}

const f = (x: number, d: number) => x.toFixed(d);

export function domainsTable(rows: DomainsBenchRow[]): string {
  return textTable(
    ['domains', 'insns/sim cycle', 'vs 1 (sim)', 'M insns/wall s', 'vs 1 (wall)', 'machine MiB/dom', 'host MiB/dom', 'fairness', 'min/max', 'boot s'],
    rows.map((r) =>
      r.error !== null
        ? [r.domains, r.error, '', '', '', '', '', '', '', '']
        : [r.domains, f(r.simThroughput, 4), f(r.simRatio, 3), f(r.wallThroughput / 1e6, 2), f(r.wallRatio, 3), f(r.machineMiBPerDomain, 2), f(r.hostMiBPerDomain, 2), f(r.fairness, 4), f(r.minMaxRatio, 3), f(r.bootSeconds, 1)],
    ),
  );
}
