// `xenolith bench migrate`: live-migrate a domain running a memory-writing guest (bench/
// migrate-guest.ts: a small writable working set in a larger memory, no timer; for a pv domain,
// the default, bench/migrate-pv-guest.ts: the same loop in ring 3, so the domain is at a quiet
// point whenever the stop-and-copy comes) from one host to
// another over loopback TCP through the destination's token-checked migration endpoint (the
// protocol of daemon/migration/, the hosts in-process), and compare the run with an uninterrupted
// one of the same guest: `identical` when the console output, the instructions and the
// instructions' own cycles are equal, every cost-ledger kind is equal but the migration's own -
// one log-dirty fault and its entry and return per fault taken, the TLB walks the dropped write
// permissions cause, the downtime as idle time - and the cycle counts differ by exactly those.
// A pv domain leaves its shared machine behind: its ledger is the source machine's up to the
// stop-and-copy plus the destination machine's, and its cycles are its own clock (the machine's
// cycles plus its TSC offset), on which the downtime passes (its machines never idle for it).
// Timing (wall ms of the downtime) is measured here, never in tests.

import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Host } from '../daemon/host.ts';
import { validateDefinition } from '../daemon/definition.ts';
import { acceptMigrationUpgrade, isMigrationUpgrade } from '../daemon/migration/endpoint.ts';
import { Channel, DEST_TIMEOUT_MS } from '../daemon/migration/channel.ts';
import type { MigrationReport } from '../daemon/migration/source.ts';
import { Ev, EV_KINDS, EV_NAMES } from '../machine/ledger.ts';
import type { Cpu } from '../machine/cpu.ts';
import { PvMode } from '../hypervisor/pv/mode.ts';
import type { LinkModel } from '../hypervisor/migration/precopy.ts';
import { migrateGuest, MIGRATE_GUEST, type MigrateGuestShape } from './migrate-guest.ts';
import { migratePvGuest } from './migrate-pv-guest.ts';
import { textTable } from './text-table.ts';

export const MIGRATE_MODES = ['pv', 'trap', 'bt', 'hvm', 'native'] as const;
export type MigrateMode = (typeof MIGRATE_MODES)[number];

export interface MigrateBenchOptions {
  mode?: MigrateMode;
  memoryMiB?: number;
  link?: LinkModel;
  shape?: MigrateGuestShape;
  /** simulated cycles the guest runs on the source before the migration begins */
  startCycles?: number;
  /** CPUs (native) or vCPUs (trap, bt, hvm): the guest runs on CPU 0, the others stay idle */
  vcpus?: number;
}

/** 10 Gbit/s, 0.05 ms: the bench's link. */
export const BENCH_LINK: LinkModel = { bytesPerSecond: 1_250_000_000, latencyMs: 0.05 };

/** Where the migrated run's cycles went beyond the uninterrupted run's. */
export interface MigrationCost {
  /** log-dirty faults taken, and their cycles (the handler, its entry and return) */
  logDirtyFaults: number;
  faultCycles: number;
  /** extra TLB/second-stage/monitor walk references (write permissions dropped at each clean), and their cycles */
  extraWalks: number;
  walkCycles: number;
  /** the downtime, idled on the destination */
  downtimeCycles: number;
  /** the sum: what the cycle counts must differ by */
  cycles: number;
}

export interface MigrateBenchResult {
  mode: MigrateMode;
  memoryMiB: number;
  /** pages the guest writes per pass */
  workingSetPages: number;
  link: LinkModel;
  rounds: MigrationReport['rounds'];
  stopReason: MigrationReport['stopReason'];
  stopAndCopyPages: number;
  stateBytes: number;
  pagesSent: number;
  downtimeCycles: number;
  downtimeMs: number;
  wallDowntimeMs: number;
  identical: boolean;
  /** why not identical (empty when it is) */
  differences: string[];
  /** the source's domain after the migration: 'shut off migrated' */
  source: string;
  reference: { cycles: number; instructions: number };
  migrated: { cycles: number; instructions: number };
  cost: MigrationCost;
}

/** The ledger kinds a log-dirty fault is charged as (one each per fault on its mode's path). */
const FAULT_PATH = [Ev.TrapDelivery, Ev.InterceptReturn, Ev.VmExit, Ev.VmEntry, Ev.HvmExitPath];
const WALKS = [Ev.TlbWalk, Ev.EptWalk, Ev.MonitorWalk];

interface RunEnd {
  output: string;
  cycles: number;
  baseCycles: number;
  instructions: number;
  evCount: Float64Array;
  evUnit: Float64Array;
  stop: string | null;
}

function makeHost(mode: MigrateMode, shape: MigrateGuestShape, out: { text: string }): Host {
  return new Host(null, {
    hostMemoryMiB: 64,
    pacing: 'fast',
    loadKernel: () => (mode === 'pv' ? migratePvGuest(shape) : migrateGuest(shape)),
    // a pv kernel file boots with the standard guest's initrd: this guest has none
    ...(mode === 'pv' ? { standardGuest: () => ({ kernel: migratePvGuest(shape), initrd: new Uint8Array(0) }) } : {}),
    onConsole: (_name, bytes) => (out.text += Buffer.from(bytes).toString('latin1')),
  });
}

function define(host: Host, mode: MigrateMode, memoryMiB: number, vcpus: number): void {
  host.define(validateDefinition({ name: 'mig', mode, memory: memoryMiB, kernel: '/bench/migrate-guest', on_poweroff: 'preserve', ...(mode === 'hvm' ? { profile: 'core2-2006-vtx' } : {}), ...(vcpus > 1 ? { vcpus } : {}) }));
}

function cpuOf(host: Host): Cpu {
  const l = host.live('mig');
  return l.hv ? l.hv.cpu : l.bare!.cpu;
}

/** The domain's own clock: its machine's cycles, or for a pv domain the shared machine's plus the domain's TSC offset (what its RDTSC and system time read). */
function clockOf(host: Host): number {
  const l = host.live('mig');
  const cpu = cpuOf(host);
  return l.domain && l.domain.mode instanceof PvMode ? cpu.cycles + l.domain.mode.pv(l.domain).tscOffset : cpu.cycles;
}

function runToEnd(host: Host, out: { text: string }): RunEnd {
  for (let k = 0; host.dominfo('mig').status === 'running'; k++) {
    if (k > 100_000) throw new Error('bench migrate: the guest did not end');
    host.step();
  }
  const cpu = cpuOf(host);
  const info = host.dominfo('mig');
  return { output: out.text, cycles: clockOf(host), baseCycles: cpu.baseCycles, instructions: cpu.instructions, evCount: Float64Array.from(cpu.evCount), evUnit: Float64Array.from(cpu.evUnit), stop: `${info.stopReason} ${info.stopStatus}` };
}

/** Compare a migrated run with the uninterrupted one: the differences (none: identical) and the accounted cost. */
export function compareRuns(ref: RunEnd, mig: RunEnd, report: MigrationReport, downtimeOnClock = false): { differences: string[]; cost: MigrationCost } {
  const differences: string[] = [];
  if (mig.output !== ref.output) differences.push('console output differs');
  if (mig.stop !== ref.stop) differences.push(`ended ${mig.stop}, the uninterrupted run ${ref.stop}`);
  if (mig.instructions !== ref.instructions) differences.push(`instructions ${mig.instructions} vs ${ref.instructions}`);
  if (mig.baseCycles !== ref.baseCycles) differences.push(`the instructions' own cycles ${mig.baseCycles} vs ${ref.baseCycles}`);
  const d = (k: number) => mig.evCount[k]! - ref.evCount[k]!;
  const faults = d(Ev.LogDirtyFault);
  if (faults !== report.logDirtyFaults) differences.push(`${faults} log-dirty faults in the ledger; the migration counted ${report.logDirtyFaults}`);
  let faultCycles = faults * mig.evUnit[Ev.LogDirtyFault]!;
  for (const k of FAULT_PATH) {
    if (d(k) !== 0 && d(k) !== faults) differences.push(`${EV_NAMES[k]}: ${d(k)} more, not one per log-dirty fault (${faults})`);
    faultCycles += d(k) * mig.evUnit[k]!;
  }
  let extraWalks = 0;
  let walkCycles = 0;
  for (const k of WALKS) {
    if (d(k) < 0) differences.push(`${EV_NAMES[k]}: ${-d(k)} fewer`);
    extraWalks += d(k);
    walkCycles += d(k) * mig.evUnit[k]!;
  }
  // the downtime: idled on the destination machine, or for a pv domain (whose shared machine runs
  // others meanwhile) passed on the domain's own clock, its machine never idled for it
  const idle = downtimeOnClock ? 0 : report.downtimeCycles;
  if (d(Ev.Idle) !== idle) differences.push(`${d(Ev.Idle)} more idle cycles; the downtime ${downtimeOnClock ? 'passes on the domain\'s clock (0 expected)' : `is ${report.downtimeCycles}`}`);
  const skip = new Set<number>([Ev.LogDirtyFault, Ev.Idle, ...FAULT_PATH, ...WALKS]);
  for (let k = 0; k < EV_KINDS; k++) if (!skip.has(k) && d(k) !== 0) differences.push(`${EV_NAMES[k]}: ${d(k) > 0 ? `${d(k)} more` : `${-d(k)} fewer`}`);
  const cost: MigrationCost = { logDirtyFaults: faults, faultCycles, extraWalks, walkCycles, downtimeCycles: report.downtimeCycles, cycles: faultCycles + walkCycles + report.downtimeCycles };
  if (mig.cycles - ref.cycles !== cost.cycles) differences.push(`the cycles differ by ${mig.cycles - ref.cycles}; the accounted cost is ${cost.cycles}`);
  return { differences, cost };
}

/** Run the guest uninterrupted, then migrated; the figures and the comparison. */
export async function runMigrateBench(o: MigrateBenchOptions = {}): Promise<MigrateBenchResult> {
  const mode = o.mode ?? 'pv';
  const memoryMiB = o.memoryMiB ?? 4;
  const link = o.link ?? BENCH_LINK;
  const shape = o.shape ?? MIGRATE_GUEST;
  const startCycles = o.startCycles ?? 1_000_000;

  const refOut = { text: '' };
  const ref = makeHost(mode, shape, refOut);
  define(ref, mode, memoryMiB, o.vcpus ?? 1);
  ref.start('mig');
  const refEnd = runToEnd(ref, refOut);

  // the source runs the guest a while; the destination answers on a loopback HTTP port
  const srcOut = { text: '' };
  const dstOut = { text: '' };
  const src = makeHost(mode, shape, srcOut);
  const dst = makeHost(mode, shape, dstOut);
  define(src, mode, memoryMiB, o.vcpus ?? 1);
  src.start('mig');
  while (cpuOf(src).cycles < startCycles && src.dominfo('mig').status === 'running') src.step(Math.min(300_000, startCycles - cpuOf(src).cycles + 1));
  // a pv domain leaves its machine behind (the shared machine runs on without it): its run is the
  // source machine's part up to the stop-and-copy and the destination machine's after
  const srcCpu = mode === 'pv' ? cpuOf(src) : null;
  const token = randomBytes(16).toString('hex');
  const server = createServer((_req, res) => res.writeHead(404).end());
  let landing: Promise<string> | null = null;
  server.on('upgrade', (req, sock, head) => {
    if (!isMigrationUpgrade(req)) return void sock.destroy();
    const t = acceptMigrationUpgrade(req, sock, new Uint8Array(head), Buffer.from(token));
    if (t) landing = dst.incoming(new Channel(t, 'the source', DEST_TIMEOUT_MS));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  let report: MigrationReport;
  try {
    report = await src.migrateTo('mig', url, token, { link });
    await landing;
  } finally {
    server.close();
  }
  const left = src.dominfo('mig');
  const migEnd = runToEnd(dst, dstOut);
  if (srcCpu !== null) {
    // the domain's clock went on from the source's (plus the downtime): migEnd.cycles has it whole
    migEnd.baseCycles += srcCpu.baseCycles;
    migEnd.instructions += srcCpu.instructions;
    for (let k = 0; k < EV_KINDS; k++) migEnd.evCount[k] += srcCpu.evCount[k]!;
  }
  // the console as the guest wrote it: what it printed on the source, then on the destination
  migEnd.output = srcOut.text + dstOut.text;
  const { differences, cost } = compareRuns(refEnd, migEnd, report, mode === 'pv');
  return {
    mode,
    memoryMiB,
    workingSetPages: shape.pages,
    link,
    rounds: report.rounds,
    stopReason: report.stopReason,
    stopAndCopyPages: report.stopAndCopyPages,
    stateBytes: report.stateBytes,
    pagesSent: report.pagesSent,
    downtimeCycles: report.downtimeCycles,
    downtimeMs: report.downtimeMs,
    wallDowntimeMs: report.wallDowntimeMs,
    identical: differences.length === 0,
    differences,
    source: `${left.status} ${left.stopReason}`,
    reference: { cycles: refEnd.cycles, instructions: refEnd.instructions },
    migrated: { cycles: migEnd.cycles, instructions: migEnd.instructions },
    cost,
  };
}

/** The rounds as a table and the stop-and-copy's figures (`migrate` and `bench migrate` print it). */
export function migrationReportText(r: MigrationReport): string {
  const table = textTable(
    ['round', 'pages sent', 'pages dirtied', 'sim. cycles'],
    [...r.rounds.map((x) => [String(x.round), String(x.pagesSent), String(x.pagesDirtied), String(x.cycles)]), ['stop-and-copy', String(r.stopAndCopyPages), '-', String(r.downtimeCycles)]],
    ['left', 'right', 'right', 'right'],
  );
  return [
    table,
    `pre-copy stopped: ${r.stopReason}; state ${r.stateBytes} bytes with the last ${r.stopAndCopyPages} pages`,
    `downtime: ${r.downtimeMs.toFixed(3)} ms simulated (${r.downtimeCycles} cycles), ${r.wallDowntimeMs.toFixed(1)} ms wall`,
    `pages sent: ${r.pagesSent}; log-dirty faults: ${r.logDirtyFaults}`,
  ].join('\n');
}

export function migrateBenchText(r: MigrateBenchResult): string {
  const c = r.cost;
  return [
    `bench migrate: a ${r.memoryMiB} MiB ${r.mode} domain writing ${r.workingSetPages} pages per pass, over a ${((r.link.bytesPerSecond * 8) / 1e6).toFixed(0)} Mbit/s link (${r.link.latencyMs} ms latency), simulated`,
    migrationReportText({ name: 'mig', ...r, logDirtyFaults: c.logDirtyFaults }),
    `identical: ${r.identical}${r.identical ? '' : ` (${r.differences.join('; ')})`}`,
    `  uninterrupted ${r.reference.cycles} cycles, ${r.reference.instructions} instructions; migrated ${r.migrated.cycles} cycles, ${r.migrated.instructions} instructions`,
    `  accounted: ${c.logDirtyFaults} log-dirty faults ${c.faultCycles} cycles + ${c.extraWalks} walk references ${c.walkCycles} cycles + downtime ${c.downtimeCycles} cycles = ${c.cycles}`,
  ].join('\n');
}
