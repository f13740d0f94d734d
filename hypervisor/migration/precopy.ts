// Pre-copy live migration's round logic and its link, in simulated time: a pure module (no
// sockets, no domain) for the migration protocol to drive. Clark et al., NSDI 2005: round 1
// sends every page, round i the pages dirtied while round i-1 was on the wire (log-dirty,
// hypervisor/core/log-dirty.ts); then the domain is paused and the last dirty set goes with the
// CPU state (stop-and-copy). Xen's save code ends the pre-copy rounds at the first of: a round
// limit (29), a cap on the pages sent in all (3x the domain's), or a round that sent under 50
// pages (docs: /work/shared/REFERENCE.md's "Live migration"). The link's time is modelled, so the
// rounds and the downtime never depend on the host's TCP speed.

/** A network link between source and destination, in simulated time. */
export interface LinkModel {
  /** bytes per second of simulated time */
  bytesPerSecond: number;
  /** one-way latency in milliseconds of simulated time (paid once per transfer) */
  latencyMs: number;
}

/** Xen's stop rules (xc_domain_save's defaults). */
export interface StopRules {
  /** at most this many pre-copy rounds */
  maxRounds: number;
  /** stop once more than maxFactor x the domain's pages have been sent in all */
  maxFactor: number;
  /** stop after a round that sent fewer than this many pages */
  smallRoundPages: number;
}

export const XEN_STOP_RULES: StopRules = { maxRounds: 29, maxFactor: 3, smallRoundPages: 50 };

export const PAGE_BYTES = 4096;

/** Why pre-copy stopped (the rule that fired first, in Xen's order of tests). */
export type StopReason = 'round-limit' | 'small-round' | 'sent-cap';

/** A bad link or rule set: one line. */
export class PreCopyError extends Error {
  override name = 'PreCopyError';
}

function checkLink(link: LinkModel): void {
  if (!(Number.isFinite(link.bytesPerSecond) && link.bytesPerSecond > 0)) throw new PreCopyError(`link bandwidth must be a positive number of bytes per second (got ${link.bytesPerSecond})`);
  if (!(Number.isFinite(link.latencyMs) && link.latencyMs >= 0)) throw new PreCopyError(`link latency must be a number of milliseconds >= 0 (got ${link.latencyMs})`);
}

/** Simulated cycles to move `bytes` over the link at `clockMHz`: the latency plus bytes / bandwidth, rounded up. */
export function transferCycles(link: LinkModel, bytes: number, clockMHz: number): number {
  checkLink(link);
  const cyclesPerSecond = clockMHz * 1_000_000;
  return Math.ceil((link.latencyMs / 1000) * cyclesPerSecond + (bytes * cyclesPerSecond) / link.bytesPerSecond);
}

/** One pre-copy round, as reported (`bench migrate`'s rows). */
export interface RoundRecord {
  /** 1-based */
  round: number;
  pagesSent: number;
  /** pages the guest dirtied while this round was on the wire (the next round's pages) */
  pagesDirtied: number;
  /** the round's transfer time in simulated cycles */
  cycles: number;
}

/**
 * The stop rules as a state machine: after each round, record what it sent and what was
 * dirtied meanwhile; it says whether to go on or to stop and copy.
 */
export class PreCopyPlanner {
  readonly rounds: RoundRecord[] = [];
  totalSent = 0;
  stopReason: StopReason | null = null;

  constructor(
    /** the domain's pages */
    readonly pages: number,
    readonly rules: StopRules = XEN_STOP_RULES,
  ) {
    if (!(Number.isInteger(pages) && pages > 0)) throw new PreCopyError(`a domain to migrate has a positive whole number of pages (got ${pages})`);
    if (!(Number.isInteger(rules.maxRounds) && rules.maxRounds >= 1)) throw new PreCopyError(`maxRounds must be a whole number >= 1 (got ${rules.maxRounds})`);
    if (!(rules.maxFactor > 0)) throw new PreCopyError(`maxFactor must be positive (got ${rules.maxFactor})`);
  }

  /** The round that comes next (1-based). */
  get nextRound(): number {
    return this.rounds.length + 1;
  }

  /** Record a finished round; 'stop-and-copy' once a stop rule fires (Xen's tests, in its order). */
  afterRound(pagesSent: number, pagesDirtied: number, cycles: number): 'continue' | 'stop-and-copy' {
    if (this.stopReason !== null) throw new PreCopyError('pre-copy has already stopped');
    const round = this.nextRound;
    this.rounds.push({ round, pagesSent, pagesDirtied, cycles });
    this.totalSent += pagesSent;
    const r = this.rules;
    if (round >= r.maxRounds) this.stopReason = 'round-limit';
    else if (pagesSent < r.smallRoundPages) this.stopReason = 'small-round';
    else if (this.totalSent > this.pages * r.maxFactor) this.stopReason = 'sent-cap';
    return this.stopReason === null ? 'continue' : 'stop-and-copy';
  }
}

/** What a whole pre-copy migration did, in simulated time. */
export interface PreCopyResult {
  rounds: RoundRecord[];
  stopReason: StopReason;
  /** pages sent while the domain was paused (the last dirty set) */
  stopAndCopyPages: number;
  /** the domain's downtime: the stop-and-copy transfer (pages and CPU/device state), in cycles */
  downtimeCycles: number;
  /** pages sent in all, the stop-and-copy included */
  pagesSent: number;
}

export interface PreCopyRun {
  pages: number;
  link: LinkModel;
  clockMHz: number;
  /** bytes of the state sent with the last pages (CPU, devices, the hypervisor's bookkeeping) */
  stateBytes: number;
  /**
   * Let the guest run `cycles` simulated cycles (the round's transfer time) and return the
   * pseudo-physical frames it dirtied meanwhile (a log-dirty peek-and-clean).
   */
  runGuest: (cycles: number) => readonly number[];
  rules?: StopRules;
}

/**
 * Drive pre-copy to its end: round 1 sends every page, each later round the frames dirtied while
 * the previous one was on the wire, until a stop rule fires; the last dirty set and the state are
 * then the downtime.
 */
export function runPreCopy(o: PreCopyRun): PreCopyResult {
  const planner = new PreCopyPlanner(o.pages, o.rules);
  let toSend = o.pages;
  for (;;) {
    const cycles = transferCycles(o.link, toSend * PAGE_BYTES, o.clockMHz);
    const dirtied = o.runGuest(cycles).length;
    const next = planner.afterRound(toSend, dirtied, cycles);
    toSend = dirtied;
    if (next === 'stop-and-copy') break;
  }
  const downtimeCycles = transferCycles(o.link, toSend * PAGE_BYTES + o.stateBytes, o.clockMHz);
  return { rounds: planner.rounds, stopReason: planner.stopReason!, stopAndCopyPages: toSend, downtimeCycles, pagesSent: planner.totalSent + toSend };
}
