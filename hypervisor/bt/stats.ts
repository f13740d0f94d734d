// Binary translation's counters in words, for `--stats` and the comparison: the translation
// cache (units, instructions, size, invalidations), callouts and inline rewrites by instruction,
// lookups (indirect and dispatch) and chained entries, and the cycles each part was charged.
// Reads only.

import { OPS } from '../../machine/isa.ts';
import type { Domain } from '../core/domain.ts';
import { btCache } from './mode.ts';

/** The bt counters of a domain as a plain object (callouts and inline rewrites by mnemonic). */
export function btStatsSummary(domain: Domain): {
  translations: number;
  translatedInsns: number;
  uncachedInsns: number;
  cacheUnits: number;
  cacheBoundUnits: number;
  cacheBytes: number;
  flushes: number;
  flushedUnits: number;
  unitsRun: number;
  chained: number;
  indirectLookups: number;
  dispatchLookups: number;
  invalidations: number;
  callouts: Record<string, number>;
  /** `--bt-adaptive` (undefined without it): stores retranslated as store callouts, the stores those made, and how many wrote a traced page table */
  adaptive?: { retranslations: number; emulatedStores: number; emulatedTraceStores: number };
  inlined: Record<string, number>;
  translateCycles: number;
  calloutCycles: number;
  lookupCycles: number;
} {
  const c = btCache(domain);
  const s = c.stats;
  const byName = (a: Float64Array): Record<string, number> => {
    const out: Record<string, number> = {};
    for (let op = 0; op < 256; op++) if (a[op]! > 0) out[OPS[op]?.mnemonic ?? `op${op}`] = a[op]!;
    return out;
  };
  return {
    translations: s.translations,
    translatedInsns: s.translatedInsns,
    uncachedInsns: s.uncachedInsns,
    cacheUnits: c.size,
    cacheBoundUnits: c.maxUnits,
    cacheBytes: c.estimatedBytes,
    flushes: s.flushes,
    flushedUnits: s.flushedUnits,
    unitsRun: s.unitsRun,
    chained: s.chained,
    indirectLookups: s.indirectLookups,
    dispatchLookups: s.dispatchLookups,
    invalidations: s.invalidations,
    callouts: byName(s.callouts),
    ...(c.adaptive ? { adaptive: { retranslations: s.retranslations, emulatedStores: s.emulatedStores, emulatedTraceStores: s.emulatedTraceStores } } : {}),
    inlined: byName(s.inlined),
    translateCycles: s.translateCycles,
    calloutCycles: s.calloutCycles,
    lookupCycles: s.lookupCycles,
  };
}

/** Lines for `--stats`. */
export function formatBtStats(domain: Domain): string {
  const b = btStatsSummary(domain);
  const list = (r: Record<string, number>) => {
    const e = Object.entries(r);
    return e.length === 0 ? 'none' : e.map(([k, n]) => `${k} ${n}`).join(', ');
  };
  const total = (r: Record<string, number>) => Object.values(r).reduce((a, n) => a + n, 0);
  const s = domain.stats;
  return [
    `translations: ${b.translations} units, ${b.translatedInsns} instructions (${b.invalidations} units invalidated)${b.uncachedInsns > 0 ? `; ${b.uncachedInsns} at unaligned pcs, uncached` : ''}`,
    `translation cache: ${b.cacheUnits} of at most ${b.cacheBoundUnits} units, about ${Math.ceil(b.cacheBytes / 1024)} KiB of host heap (estimated); ${b.flushes} flushes when full (${b.flushedUnits} units dropped)`,
    `units run: ${b.unitsRun} (${b.chained} chained, ${b.dispatchLookups} dispatch lookups, ${b.indirectLookups} indirect lookups)`,
    `callouts: ${total(b.callouts)} (${list(b.callouts)})`,
    ...(b.adaptive
      ? [`adaptive retranslation: ${b.adaptive.retranslations} stores retranslated as callouts; ${b.adaptive.emulatedStores} stores emulated (${b.adaptive.emulatedTraceStores} into traced page tables: trace faults avoided)`]
      : []),
    `inline rewrites: ${total(b.inlined)} (${list(b.inlined)})`,
    `cycles: translation ${b.translateCycles}, callouts ${b.calloutCycles}, lookups ${b.lookupCycles}; monitor total ${s.monitorCycles}`,
    `traps: ${s.traps.reduce((a, n) => a + n, 0)} (shadow faults ${s.hiddenFaults} hidden, ${s.trueFaults} true), injected interrupts ${s.injectedInterrupts}, I/O exits ${s.loopExits.io ?? 0}`,
  ].join('\n');
}
