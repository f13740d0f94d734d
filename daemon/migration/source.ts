// The source's side of a live migration (Clark et al., NSDI 2005; docs/migration.md): hello,
// log-dirty on, pre-copy rounds (round 1 every page, each later round the pages dirtied while the
// last one was on the wire) with the link's time modelled in simulated cycles and Xen's stop rules
// (hypervisor/migration/precopy.ts), then stop-and-copy: the domain stops, its last dirty pages
// and the rest of its state (a save file whose domain pages are left out: they went in the rounds)
// go, and after the destination's commit the source's copy is destroyed. Any failure before the
// destination has committed - a refusal, a dropped connection, a dead destination, a silent one -
// ends with the domain running here as before. Host code; drives a daemon/host.ts domain through
// OutgoingDomain.

import { PAGE_BYTES, PreCopyPlanner, XEN_STOP_RULES, transferCycles, type LinkModel, type RoundRecord, type StopReason, type StopRules } from '../../hypervisor/migration/precopy.ts';
import type { Channel } from './channel.ts';
import { MigrationError, PAGES_PER_BATCH } from './wire.ts';

/** What the migration needs of the domain being sent (the host gives it; daemon/host.ts). */
export interface OutgoingDomain {
  name: string;
  definition: Record<string, unknown>;
  mode: 'native' | 'pv' | 'trap' | 'bt' | 'hvm';
  /** the domain's pseudo-physical frames */
  pages: number;
  clockMHz: number;
  /** false: no hypervisor tracks its writes (native): everything goes in the stop-and-copy */
  tracksDirty: boolean;
  /** the pages' bytes, 4096 each, in the list's order (copied now) */
  readPages(pfns: readonly number[]): Uint8Array;
  enableLogDirty(): void;
  /** let the guest run `cycles` (a round on the wire); a one-line reason if it stopped meanwhile */
  run(cycles: number): string | null;
  /** the frames written since the last call (or enable), cleaned */
  peekAndClean(): number[];
  /**
   * stop its vCPUs (stop-and-copy begins); log-dirty off. The faults it took while on, and the
   * frames written since the last peek (a domain of a shared machine runs between the rounds too).
   */
  stop(): { faults: number; dirtied: number[] };
  /** the rest of its state: a save file without the domain's pages */
  captureState(): Uint8Array;
  /** the migration is off before the commit: log-dirty off (if on), running as before (whatever step it failed at) */
  resume(): void;
  /** the destination runs it now: the source's copy goes */
  giveUp(): void;
}

export interface MigrationReport {
  name: string;
  rounds: RoundRecord[];
  stopReason: StopReason | 'no-log-dirty';
  /** pages in the stop-and-copy */
  stopAndCopyPages: number;
  /** bytes of the state (the save file without the pages) */
  stateBytes: number;
  /** pages sent in all, the stop-and-copy's included */
  pagesSent: number;
  downtimeCycles: number;
  /** simulated downtime in ms (downtimeCycles at the clock) */
  downtimeMs: number;
  /** wall time from the source's stop to the destination's commit, ms */
  wallDowntimeMs: number;
  /** log-dirty faults the guest took */
  logDirtyFaults: number;
}

export interface MigrateOptions {
  link: LinkModel;
  rules?: StopRules;
  /** wall clock in ms */
  now?: () => number;
}

/** 1 Gbit/s, 0.1 ms: the default link (Clark et al. measured on gigabit Ethernet). */
export const DEFAULT_LINK: LinkModel = { bytesPerSecond: 125_000_000, latencyMs: 0.1 };

/** A round's guest time is run in slices of this many cycles, the host's other work between them. */
export const ROUND_SLICE_CYCLES = 3_000_000;

/**
 * Run the guest `cycles` in slices, yielding to the event loop between them (a long round must not
 * hold the daemon's host thread: its API and other machines go on meanwhile). The sliced run is the
 * same run: the machine's results do not depend on where run() calls end.
 */
async function runSliced(d: OutgoingDomain, cycles: number): Promise<string | null> {
  for (let left = cycles; left > 0; left -= ROUND_SLICE_CYCLES) {
    const why = d.run(Math.min(ROUND_SLICE_CYCLES, left));
    if (why !== null) return why;
    if (left > ROUND_SLICE_CYCLES) await new Promise((r) => setImmediate(r));
  }
  return null;
}

/** Send `pfns`' pages as a round's batches. */
function sendPages(ch: Channel, d: OutgoingDomain, round: number, pfns: readonly number[]): void {
  for (let at = 0; at < pfns.length; at += PAGES_PER_BATCH) {
    const batch = pfns.slice(at, at + PAGES_PER_BATCH);
    ch.send({ type: 'pages', round, pfns: batch }, d.readPages(batch));
  }
}

/**
 * Migrate `d` over `ch` (connected to the destination's migration endpoint). Resolves with the
 * figures once the destination runs the domain; rejects with one MigrationError line, the domain
 * running here, if anything fails before the destination committed.
 */
export async function migrateOut(d: OutgoingDomain, ch: Channel, o: MigrateOptions): Promise<MigrationReport> {
  const now = o.now ?? (() => performance.now());
  const rules = o.rules ?? XEN_STOP_RULES;
  let committed = false;
  try {
    ch.send({ type: 'hello', name: d.name, definition: d.definition, mode: d.mode, pages: d.pages, link: o.link, clockMHz: d.clockMHz });
    await ch.expect('welcome');
    const planner = new PreCopyPlanner(d.pages, rules);
    const all = Array.from({ length: d.pages }, (_, k) => k);
    let toSend: number[] = all;
    if (d.tracksDirty) {
      d.enableLogDirty();
      for (;;) {
        const round = planner.nextRound;
        sendPages(ch, d, round, toSend);
        ch.send({ type: 'round-end', round, pagesSent: toSend.length });
        // the guest runs while the round is on the wire (simulated time), then the dirty set
        const cycles = transferCycles(o.link, toSend.length * PAGE_BYTES, d.clockMHz);
        const why = await runSliced(d, cycles);
        if (why !== null) throw new MigrationError(`domain '${d.name}' stopped during pre-copy round ${round} (${why})`);
        const dirtied = d.peekAndClean();
        const ok = await ch.expect('round-ok');
        if (ok.msg.round !== round || ok.msg.pagesHeld !== toSend.length) throw new MigrationError(`the destination acknowledged round ${ok.msg.round} with ${ok.msg.pagesHeld} pages; round ${round} sent ${toSend.length}`);
        const next = planner.afterRound(toSend.length, dirtied.length, cycles);
        toSend = dirtied;
        if (next === 'stop-and-copy') break;
      }
    }
    // stop-and-copy: the domain stops; the last dirty pages and the state go
    const wall0 = now();
    const stopped = d.stop();
    const faults = stopped.faults;
    if (stopped.dirtied.length > 0) toSend = [...new Set([...toSend, ...stopped.dirtied])].sort((x, y) => x - y);
    const state = d.captureState();
    const downtimeCycles = transferCycles(o.link, toSend.length * PAGE_BYTES + state.length, d.clockMHz);
    const bin = new Uint8Array(toSend.length * PAGE_BYTES + state.length);
    bin.set(d.readPages(toSend), 0);
    bin.set(state, toSend.length * PAGE_BYTES);
    ch.send({ type: 'state', pfns: toSend, stateBytes: state.length, downtimeCycles, rounds: planner.rounds }, bin);
    await ch.expect('state-ok');
    ch.send({ type: 'commit' });
    await ch.expect('committed');
    committed = true;
    d.giveUp();
    ch.send({ type: 'done' });
    const wallDowntimeMs = now() - wall0;
    ch.close();
    const pagesSent = planner.totalSent + toSend.length;
    return {
      name: d.name,
      rounds: planner.rounds,
      stopReason: d.tracksDirty ? planner.stopReason! : 'no-log-dirty',
      stopAndCopyPages: toSend.length,
      stateBytes: state.length,
      pagesSent,
      downtimeCycles,
      downtimeMs: downtimeCycles / (d.clockMHz * 1000),
      wallDowntimeMs,
      logDirtyFaults: faults,
    };
  } catch (e) {
    const err = e instanceof MigrationError ? e : new MigrationError(e instanceof Error ? e.message : String(e));
    if (!committed) {
      d.resume();
      ch.abort(err.message);
    } else ch.close();
    throw err;
  }
}
