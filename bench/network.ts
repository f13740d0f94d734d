// `xenolith bench network`: netbench under each mode, against the peer simulated in the host (the
// baseline) and against udpecho in a second domain on a bridge (bench/runners.ts runBridged: pv
// as two domains of one hypervisor, the other modes as two machines in lockstep). Simulated
// figures are exact; the wall time of each run is measured here, beside its baseline from the same
// run, and so is the switch's work (frames forwarded and flooded, and late ones). Timing lives
// here only.

import { BRIDGE_CMDLINE, NETBENCH_CMDLINE, parseNetbench } from './compare.ts';
import { RUNNERS, type GuestRun, type ModeName } from './runners.ts';
import { textTable } from './text-table.ts';

const RTT = 'udp round trip, 64 bytes (us)';
const KBS = 'udp send throughput (KB/s)';

export interface NetworkBenchRow {
  mode: ModeName;
  /** against the simulated peer: mean round trip (simulated us), send throughput (KB/s), wall ms of the run */
  peerRttUs: number | null;
  peerKBs: number | null;
  peerWallMs: number;
  /** domain to domain over the bridge: the same figures */
  bridgedRttUs: number | null;
  bridgedKBs: number | null;
  bridgedWallMs: number;
  /** the switch: frames forwarded to one learned port, flooded, delivered late */
  forwarded: number;
  flooded: number;
  late: number;
  /** both domains of the bridged run powered off, and the peer run too */
  ok: boolean;
}

/** Run both netbench runs per mode (the peer's first: it is the baseline). */
export function runNetworkBench(modes: readonly ModeName[], opts: { profile?: string; maxCycles?: number } = {}): NetworkBenchRow[] {
  const spec = { profile: opts.profile ?? 'p4-2003', maxCycles: opts.maxCycles ?? 20_000_000_000 };
  return modes.map((mode) => {
    const peer: GuestRun = RUNNERS[mode]({ ...spec, cmdline: NETBENCH_CMDLINE, net: true });
    const bridged: GuestRun = RUNNERS[mode]({ ...spec, cmdline: BRIDGE_CMDLINE, bridge: true });
    const p = parseNetbench(peer.console);
    const b = parseNetbench(bridged.console);
    const sw = bridged.bridge?.switch;
    return {
      mode,
      peerRttUs: p.get(RTT) ?? null,
      peerKBs: p.get(KBS) ?? null,
      peerWallMs: peer.wallMs,
      bridgedRttUs: b.get(RTT) ?? null,
      bridgedKBs: b.get(KBS) ?? null,
      bridgedWallMs: bridged.wallMs,
      forwarded: sw?.forwarded ?? 0,
      flooded: sw?.flooded ?? 0,
      late: sw?.late ?? 0,
      ok: peer.stopped === 'poweroff' && peer.status === 0 && bridged.stopped === 'poweroff' && bridged.status === 0 && bridged.bridge?.peerStopped === 'poweroff',
    };
  });
}

export function networkTable(rows: readonly NetworkBenchRow[]): string {
  const f = (v: number | null) => (v === null ? 'n/a' : String(v));
  return textTable(
    ['mode', 'peer rtt us', 'peer KB/s', 'peer wall ms', 'bridged rtt us', 'bridged KB/s', 'bridged wall ms', 'vs peer (wall)', 'frames switched', 'late'],
    rows.map((r) => [
      r.ok ? r.mode : `${r.mode} (FAILED)`,
      f(r.peerRttUs),
      f(r.peerKBs),
      r.peerWallMs.toFixed(0),
      f(r.bridgedRttUs),
      f(r.bridgedKBs),
      r.bridgedWallMs.toFixed(0),
      r.peerWallMs > 0 ? `${(r.bridgedWallMs / r.peerWallMs).toFixed(2)}x` : '-',
      `${r.forwarded} + ${r.flooded} flooded`,
      r.late,
    ]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}
